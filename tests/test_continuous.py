"""Off-policy continuous control: bounds, target tracking, entropy tuning, NAF's advantage, a short run."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlcheck.cli import main
from rlcheck.core.actions import to_env_action
from rlcheck.core.budget import Budget
from rlcheck.core.errors import RLCheckError
from rlcheck.engine import run_method
from rlcheck.envs import make_env
from rlcheck.methods.naf import advantage, lower_triangular
from rlcheck.methods.offpolicy import polyak
from rlcheck.registry import default_config, get_method

SMALL = dict(hidden_sizes="32,32", learning_starts="50", batch_size="32")


def _one_iteration_after_learning_starts(algo, **overrides):
    env, method = make_env("Pendulum-v1"), get_method(algo)
    config = default_config(method, env, {**SMALL, **overrides})
    budget = Budget(1000, 1, 1)
    state = method.init(jax.random.PRNGKey(0), env, config, budget)
    step = jax.jit(lambda s: method.iterate(s, env, config, budget)[0])
    for _ in range(60):  # past learning_starts
        state = step(state)
    return env, method, config, budget, state, step


def test_actions_are_rescaled_into_the_env_bounds():
    env = dataclasses.replace(make_env("Pendulum-v1"), action_low=np.array([-2.0], np.float32), action_high=np.array([3.0], np.float32))
    np.testing.assert_allclose(to_env_action(env, jnp.array([[-1.0], [0.0], [1.0], [7.0]]))[:, 0], [-2.0, 0.5, 3.0, 3.0])


@pytest.mark.parametrize("algo", ["sac", "td3", "ddpg", "naf"])
def test_actions_respect_bounds_in_training_and_evaluation(algo):
    env, method, config, budget, state, _ = _one_iteration_after_learning_starts(algo)
    stored = np.asarray(state.collector.replay.action[: int(state.collector.replay.size)])
    assert np.all(np.abs(stored) <= 1.0) and stored.std() > 0
    wild_obs = 100.0 * jax.random.normal(jax.random.PRNGKey(1), (256,) + env.obs_shape)
    acted = np.asarray(method.act(state, env, config, wild_obs))
    assert np.all(acted >= env.action_low - 1e-6) and np.all(acted <= env.action_high + 1e-6)


def test_polyak_tracks_at_the_set_rate():
    target, online = {"w": jnp.zeros(3)}, {"w": jnp.ones(3)}
    for k in range(1, 4):
        target = polyak(target, online, 0.1)
        np.testing.assert_allclose(target["w"], 1 - 0.9**k, rtol=1e-6)


@pytest.mark.parametrize(("algo", "attr_pairs"), [
    ("sac", [("target_critic", "critic")]),
    ("naf", [("target_params", "params")]),
])
def test_target_networks_track_online_networks_with_tau(algo, attr_pairs):
    env, method, config, budget, state, step = _one_iteration_after_learning_starts(algo, tau="0.25")
    new = step(state)
    for target_name, online_name in attr_pairs:
        expected = polyak(getattr(state, target_name), getattr(new, online_name), 0.25)
        for a, b in zip(jax.tree.leaves(getattr(new, target_name)), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_td3_updates_targets_only_every_policy_delay():
    env, method, config, budget, state, step = _one_iteration_after_learning_starts("td3", tau="0.5")
    changes = []
    for _ in range(4):
        new = step(state)
        changes.append(not np.allclose(jax.tree.leaves(new.target_actor)[0], jax.tree.leaves(state.target_actor)[0]))
        state = new
    assert changes in ([True, False, True, False], [False, True, False, True])


@pytest.mark.parametrize(("scale", "direction"), [(5.0, -1), (-5.0, +1)])
def test_entropy_tuning_moves_alpha_toward_its_target(scale, direction):
    # target entropy -5: the policy's entropy is above it, so alpha must fall; target +5: alpha must rise.
    env, method, config, budget, state, step = _one_iteration_after_learning_starts("sac", target_entropy_scale=str(scale))
    before = float(jnp.exp(state.log_alpha))
    for _ in range(20):
        state = step(state)
    after = float(jnp.exp(state.log_alpha))
    assert np.sign(after - before) == direction


def test_naf_advantage_is_maximal_at_mu():
    key = jax.random.PRNGKey(0)
    L = lower_triangular(jax.random.normal(key, (6,)), 3)
    mu = jnp.array([0.2, -0.5, 0.9])
    assert float(advantage(mu, L, mu)) == 0.0
    others = mu + jax.random.normal(jax.random.PRNGKey(1), (1000, 3))
    assert np.all(np.asarray(advantage(mu, L, others)) < 0)
    P = L @ L.T
    assert np.all(np.linalg.eigvalsh(np.asarray(P)) > 0)


def test_short_sac_pendulum_run_beats_random():
    env, method = make_env("Pendulum-v1"), get_method("sac")
    config = default_config(method, env, {"hidden_sizes": "64,64", "learning_starts": "500"})
    trace = run_method(method, env, [config], [0, 1], Budget(4000, 2, 5)).trace
    initial, final = trace.eval_returns[:, 0].mean(-1), trace.eval_returns[:, -1].mean(-1)
    assert np.all(final > -700) and np.all(final > initial + 300), (initial, final)  # random: about -1200


@pytest.mark.parametrize("algo", ["sac", "td3", "ddpg", "naf"])
def test_discrete_env_is_refused(tmp_path, capsys, algo):
    code = main(["train", "--env", "CartPole-v1", "--algo", algo, "--steps", "1000", "--seeds", "1", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "continuous (Box) actions" in err and "Traceback" not in err


def test_unbounded_actions_are_refused():
    env = dataclasses.replace(make_env("Pendulum-v1"), action_low=np.array([-np.inf], np.float32))
    with pytest.raises(RLCheckError, match="unbounded actions"):
        get_method("sac").check(env)


def test_replay_over_the_memory_cap_is_refused_before_allocating(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RLCHECK_MEMORY_CAP_GB", "0.01")
    code = main(["train", "--env", "Pendulum-v1", "--algo", "sac", "--steps", "200000", "--seeds", "10", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err  # train is a one-method study: its one job fails, recorded, exit 4
    assert code == 4 and "memory cap" in err and "buffer_size" in err and "GB" in err
    assert not (tmp_path / "jobs").exists()  # refused before anything was trained
