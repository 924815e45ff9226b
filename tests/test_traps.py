"""Trap environments: the info contract, jit/vmap, and the returns each scripted behaviour earns
(the trap pays on the trap variant and stops paying on the -fixed one)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlcheck.core.errors import RLCheckError
from rlcheck.envs import make_env
from rlcheck.envs.traps import TRAPS, make_trap, make_trap_env, trap_names
from rlcheck.envs.traps._base import rollout

NAMES = trap_names()


def _action(spec, i):
    if spec.discrete:
        return jnp.int32(i % spec.num_actions)
    return jnp.full((spec.num_actions,), (-1.0, 0.3, 1.0)[i % 3], jnp.float32)


def test_names_and_registry():
    assert set(TRAPS) == {"pit-corridor", "side-target-race", "flip-block", "flipped-runner", "biased-catch",
                          "sensor-tile"}
    assert len(NAMES) == 12
    for info in TRAPS.values():
        algo, overrides, budget = info.trained_by
        assert algo in ("dqn", "ppo", "sac") and isinstance(overrides, dict) and budget > 0
        assert info.description and info.intended_check


@pytest.mark.parametrize("name", ["trap/nope", "trap/pit-corridor-fixd", "trap/"])
def test_unknown_trap_names_every_trap(name):
    with pytest.raises(RLCheckError) as err:
        make_env(name)
    assert "trap/pit-corridor" in str(err.value) and "trap/sensor-tile-fixed" in str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_spec_and_info_contract_under_jit_and_vmap(name):
    spec = make_env(name)
    assert spec.name == name and spec.true_objective == "true_objective"
    assert spec.max_episode_steps <= 200 and spec.env.name == name
    n = 4
    obs, state = jax.vmap(spec.env.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(0), n), spec.params)
    assert obs.shape == (n, *spec.obs_shape) and obs.dtype == jnp.float32
    step = jax.jit(jax.vmap(spec.env.step, in_axes=(0, 0, 0, None)))
    keys = None
    for i in range(30):
        actions = jnp.stack([_action(spec, i + j) for j in range(n)])
        obs, state, reward, term, trunc, info = step(jax.random.split(jax.random.PRNGKey(i + 1), n), state, actions,
                                                     spec.params)
        assert obs.shape == (n, *spec.obs_shape) and obs.dtype == jnp.float32
        assert reward.dtype == jnp.float32 and reward.shape == (n,)
        assert info["true_objective"].dtype == jnp.float32 and info["is_success"].dtype == jnp.bool_
        parts = sorted(k for k in info if k.startswith("reward_"))
        for k in parts + [k for k in info if k.startswith("descriptor_")]:
            assert info[k].dtype == jnp.float32 and info[k].shape == (n,), k
        if parts:  # the components sum to the reward
            np.testing.assert_allclose(sum(info[k] for k in parts), reward, atol=1e-6)
        # success only on a step that ends the episode
        assert not np.any(np.asarray(info["is_success"]) & ~np.asarray(term | trunc))
        this = sorted(k for k in info if k != "final_observation")
        assert keys is None or this == keys
        keys = this


# (trap variant: trap behaviour's return, intended behaviour's return), then the same on -fixed
EXPECTED = {
    "pit-corridor": ((-1.0, -8.0), (-21.0, -8.0)),
    "side-target-race": ((50.0, 11.0), (1.0, 11.0)),
    "flip-block": ((0.99, 0.97), (-0.01, 0.97)),
    "flipped-runner": ((169.35, 208.15), (-5.25, 208.15)),
    "biased-catch": ((6.0, 10.0), (-6.0, 10.0)),
    "sensor-tile": ((100.0, 89.25), (2.25, 89.25)),
}


@pytest.mark.parametrize("base", list(EXPECTED))
def test_scripted_returns_trap_pays_and_fixed_removes_it(base):
    for fixed, (trap_ret, intended_ret) in zip((False, True), EXPECTED[base], strict=True):
        env = make_trap_env(f"trap/{base}" + ("-fixed" if fixed else ""))
        episodes = 400 if base == "biased-catch" else 4
        trap = rollout(env, env.default_params, env.trap_policy, jax.random.PRNGKey(1), episodes)
        good = rollout(env, env.default_params, env.intended_policy, jax.random.PRNGKey(2), episodes)
        tol = 0.6 if base == "biased-catch" else 0.1
        assert abs(float(trap["return"].mean()) - trap_ret) < tol, (fixed, trap)
        assert abs(float(good["return"].mean()) - intended_ret) < tol, (fixed, good)
        # the intended behaviour does the real task; the trap behaviour does far less of it
        assert bool(good["success"].all())
        assert float(trap["true_return"].mean()) < 0.9 * float(good["true_return"].mean())
        if fixed:  # the negative control: the intended behaviour is now the better one
            assert float(good["return"].mean()) > float(trap["return"].mean())
        elif base not in ("flipped-runner", "biased-catch"):  # the trap is the proxy optimum here; the runner's
            # flipped gait is a local optimum and always-right a collapse, both worse than the intended behaviour
            assert float(trap["return"].mean()) > float(good["return"].mean())


def test_pit_corridor_dynamics():
    env = make_trap_env("trap/pit-corridor")
    p = env.default_params
    obs, s = env.reset(jax.random.PRNGKey(0), p)
    assert int(obs.argmax()) == 1
    _, s2, r, term, trunc, info = env.step(jax.random.PRNGKey(0), s, 0, p)
    assert bool(term) and float(r) == -1.0 and not bool(info["is_success"]) and float(info["true_objective"]) == 0
    fixed = make_trap_env("trap/pit-corridor-fixed")
    _, _, r, term, _, info = fixed.step(jax.random.PRNGKey(0), s, 0, p)
    assert bool(term) and float(r) == -21.0 and float(info["reward_pit"]) == -20.0


def test_side_target_respawns_only_in_the_trap():
    for name, expected in (("trap/side-target-race", [1.0, 0.0, 1.0, 0.0, 1.0]),
                           ("trap/side-target-race-fixed", [1.0, 0.0, 0.0, 0.0, 0.0])):
        env = make_trap_env(name)
        p = env.default_params
        _, s = env.reset_env(jax.random.PRNGKey(0), p)
        got = []
        for a in (1, 0, 1, 0, 1):
            _, s, r, _, info = env.step_env(jax.random.PRNGKey(0), s, a, p)
            got.append(float(info["reward_target"]))
        assert got == expected, name


def test_flip_block_wrong_action_drops_the_block():
    env = make_trap_env("trap/flip-block-fixed")
    p = env.default_params
    _, s = env.reset_env(jax.random.PRNGKey(0), p)
    _, s, _, term, _ = env.step_env(jax.random.PRNGKey(0), s, 0, p)  # grasp
    _, s, _, term, _ = env.step_env(jax.random.PRNGKey(0), s, 0, p)  # wrong: should lift
    assert int(s.stage) == 0 and not bool(term)
    _, _, r, term, info = env.step_env(jax.random.PRNGKey(0), s, 3, p)  # flip: ends, pays nothing when fixed
    assert bool(term) and float(info["reward_height"]) == 0.0 and float(info["descriptor_flipped"]) == 1.0


def test_flipped_runner_getting_up_is_costly_and_descriptor_marks_flipped():
    env = make_trap_env("trap/flipped-runner")
    p = env.default_params
    _, s = env.reset_env(jax.random.PRNGKey(0), p)
    s = dataclasses.replace(s, posture=jnp.float32(-1.0))
    steps = 0
    while float(s.posture) < 0.5 and steps < 100:  # full torque from on its back to upright
        _, s, r, _, info = env.step_env(jax.random.PRNGKey(0), s, jnp.array([0.0, 1.0]), p)
        steps += 1
    assert 20 <= steps <= 40
    # random actions do not get it up again
    s = dataclasses.replace(s, posture=jnp.float32(-1.0))
    for i in range(100):
        a = jax.random.uniform(jax.random.PRNGKey(i), (2,), minval=-1.0, maxval=1.0)
        _, s, _, _, info = env.step_env(jax.random.PRNGKey(0), s, a, p)
        assert float(s.posture) < -0.5 and float(info["descriptor_flipped"]) == 1.0
        assert float(info["true_objective"]) == 0.0


def test_biased_catch_spawns():
    for name, right in (("trap/biased-catch", 0.8), ("trap/biased-catch-fixed", 0.2)):
        env = make_trap_env(name)
        cols = jax.jit(jax.vmap(lambda k, e=env: e.spawn(k, e.default_params)))(jax.random.split(jax.random.PRNGKey(0), 4000))
        assert abs(float((cols == 4).mean()) - right) < 0.03, name
        assert int(cols.min()) == 0 and int(cols.max()) == 4


def test_sensor_tile_reading_and_quality():
    env = make_trap_env("trap/sensor-tile")
    p = env.default_params
    _, s = env.reset_env(jax.random.PRNGKey(0), p)
    _, s, r, _, info = env.step_env(jax.random.PRNGKey(0), s, 0, p)  # onto the sensor
    assert float(r) == 1.0 and abs(float(info["true_objective"]) - 0.45) < 1e-6
    fixed = make_trap_env("trap/sensor-tile-fixed")
    _, s = fixed.reset_env(jax.random.PRNGKey(0), p)
    _, s, r, _, info = fixed.step_env(jax.random.PRNGKey(0), s, 0, p)
    assert abs(float(r) - 0.45) < 1e-6


def test_make_trap_is_an_envspec_learners_accept():
    spec = make_trap("trap/flipped-runner")
    assert not spec.discrete and spec.num_actions == 2
    np.testing.assert_array_equal(spec.action_low, [-1.0, -1.0])
    assert make_trap("trap/biased-catch").num_actions == 3
