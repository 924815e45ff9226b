"""Planners on pure-Python envs through a verified copy of the env's state (envs/state_copy.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rlcheck import registry
from rlcheck.baselines.planner import play_on_host
from rlcheck.core.budget import Budget
from rlcheck.core.errors import NotApplicable
from rlcheck.engine import run_method
from rlcheck.envs import make_env
from rlcheck.envs.state_copy import DeepCopy, state_copy


def _run(name: str, env_name: str, overrides: dict, episodes: int = 3):
    env = make_env(env_name)
    method = registry.get_method(name)
    method.check(env)
    config = registry.default_config(method, env, overrides)
    return run_method(method, env, [config], [0], Budget(1, 1, episodes))


def test_a_pure_python_env_is_copied_by_a_verified_deepcopy():
    env = make_env("user_envs:GoRight-v0")
    assert isinstance(state_copy(env, "UCT"), DeepCopy)


def test_uct_plans_on_a_pure_python_env():
    result = _run("uct", "user_envs:GoRight-v0", {"num_simulations": 16, "rollout_steps": 10})
    returns = result.trace.eval_returns.reshape(-1)
    assert np.all(returns > 5) and returns.mean() > 8  # reaches the goal each time, in few steps (random play: rarely)
    assert result.trace.diagnostics["eval_model_calls_per_episode"][0, 0] > 0


def test_mpc_plans_on_pure_python_envs_discrete_and_continuous():
    discrete = _run("mpc", "user_envs:GoRight-v0", {"num_samples": 16, "horizon": 8})
    assert discrete.trace.eval_returns.mean() > 9.0
    continuous = _run("mpc", "user_envs:PointMass-v0", {"num_samples": 32, "horizon": 15})
    zero_action = make_env("user_envs:PointMass-v0").env.make()
    baseline = []
    for seed in range(3):
        zero_action.reset(seed=seed)  # the planner's evaluation episodes of seed 0
        baseline.append(sum(zero_action.step(np.zeros(1, np.float32))[1] for _ in range(60)))
    assert continuous.trace.eval_returns.mean() > 0.5 * np.mean(baseline)  # at least halves the cost of doing nothing


def test_an_env_whose_copies_diverge_is_refused_with_the_reason():
    env = make_env("user_envs:HiddenGlobalState")
    for name in ("uct", "mpc"):
        with pytest.raises(NotApplicable, match="diverged from the real env.*a global"):
            registry.get_method(name).check(env)


def test_box2d_copies_are_refused_not_trusted():
    with pytest.raises(NotApplicable, match="cannot be stepped|diverged"):
        registry.get_method("uct").check(make_env("LunarLander-v3"))


def test_lqr_balances_mujocos_inverted_pendulum_from_its_set_state():
    pytest.importorskip("mujoco")
    env = make_env("InvertedPendulum-v5")
    registry.get("lqr").check(env)
    method = registry.get_method("lqr")
    result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(1_000, 1, 3))
    assert (result.trace.eval_returns == 1000.0).all()  # upright for every one of the 1000 steps
    assert result.trace.model_calls[0, 0] == 2 * (4 + 1)  # the linearisation's central differences


def test_lqr_runs_on_a_users_simulator_with_a_state_vector_and_is_refused_without_one():
    from rlcheck.baselines.lqr import EQUILIBRIA, Equilibrium, register_equilibrium

    register_equilibrium("user_envs:PointMassWithState-v0", Equilibrium((), (0.0, 0.0), 0.0, q=(1.0, 0.1), r=0.1))
    try:
        env = make_env("user_envs:PointMassWithState-v0")
        method = registry.get_method("lqr")
        result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(1_000, 1, 4))
        idle = [play_on_host(env, e, lambda real, obs: (np.zeros(1, np.float32), 0))[0] for e in range(4)]  # same starts
        assert (result.trace.eval_returns[0, 0] > np.asarray(idle) / 2).all()  # pushes the mass home, every episode
        with pytest.raises(NotApplicable, match="no equilibrium|none is known"):
            registry.get("lqr").check(make_env("user_envs:PointMass-v0"))
    finally:
        EQUILIBRIA.pop("user_envs:PointMassWithState-v0")
