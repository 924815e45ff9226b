"""Atari (ALE) with its standard wrappers, and MuJoCo, through the host loop."""

import numpy as np
import pytest

from rlcheck.core.budget import Budget
from rlcheck.envs import make_env
from rlcheck.registry import default_config, get_method


def test_atari_train_copies_clip_rewards_and_end_on_a_lost_life_eval_copies_do_not():
    pytest.importorskip("ale_py")
    env = make_env("ALE/Breakout-v5")
    assert env.obs_shape == (4, 84, 84) and env.env.obs_dtype == np.uint8 and env.discrete and env.num_actions == 4
    assert env.max_episode_steps == 27_000
    lengths = {}
    for site, make in (("train", env.env.make), ("eval", env.env.make_eval)):
        copy = make()
        copy.reset(seed=0)
        rng, rewards = np.random.default_rng(0), []
        for t in range(5000):
            _, reward, terminated, truncated, info = copy.step(int(rng.integers(4)))
            rewards.append(reward)
            if terminated or truncated:
                break
        lengths[site] = (t + 1, info["lives"])
        assert max(rewards) <= 1.0 if site == "train" else True
    assert lengths["train"][1] == 4  # the first lost life ends a training episode
    assert lengths["eval"][1] == 0 and lengths["eval"][0] > lengths["train"][0]  # a whole game


def test_ppo_trains_on_atari_frames_with_the_nature_cnn():
    pytest.importorskip("ale_py")
    from rlcheck.engine import run_method

    env = make_env("ALE/Breakout-v5")
    ppo = get_method("ppo")
    config = default_config(ppo, env, {"num_envs": "2", "num_steps": "32", "num_minibatches": "2"})
    result = run_method(ppo, env, [config], [0], Budget(128, 1, 1))
    assert result.trace.env_steps.tolist() == [[0, 128]]
    assert np.all(np.isfinite(result.trace.eval_returns)) and not np.isnan(result.trace.diagnostics["value_loss"][0, -1])


def test_sac_on_halfcheetah_through_gymnasium():
    pytest.importorskip("mujoco")
    from rlcheck.engine import run_method

    env = make_env("HalfCheetah-v5")
    assert env.obs_shape == (17,) and not env.discrete and env.num_actions == 6 and env.max_episode_steps == 1000
    sac = get_method("sac")
    config = default_config(sac, env, {"hidden_sizes": "32,32", "batch_size": "32"})
    result = run_method(sac, env, [config], [0, 1], Budget(400, 1, 1))
    assert result.trace.env_steps[:, -1].tolist() == [400, 400]
    returns = result.trace.eval_returns[:, -1, 0]
    assert np.all(np.isfinite(returns)) and returns[0] != returns[1]  # seeds differ


def test_mpc_plans_on_mujoco_through_save_and_restore():
    pytest.importorskip("mujoco")
    from rlcheck.baselines.mpc import MPC, MPCConfig
    from rlcheck.core.errors import NotApplicable
    from rlcheck.engine import run_method

    env = make_env("Reacher-v5")
    result = run_method(MPC(), env, [MPCConfig(num_samples=16, horizon=8)], [0], Budget(1, 1, 2))
    returns = result.trace.eval_returns[0, 0]
    assert returns.mean() > -25  # a random policy averages about -43 (reference_scores.csv)
    assert result.trace.env_steps.max() == 0
    assert result.trace.diagnostics["eval_model_calls_per_episode"][0, 0] == 50 * 16 * 8  # 50 steps x samples x horizon
    measured = result.trace.behaviour  # the same behaviour scalars as a compiled evaluation's
    assert measured["episode_length"][0, 0] == 50 and measured["terminated_share"][0, 0] == 0
    assert 0 < measured["action_std/0"][0, 0] and 0 <= measured["action_saturation"][0, 0] <= 1
    with pytest.raises(NotApplicable, match="diverged"):  # a Python env whose copies do not replay (tests/test_state_copy.py)
        MPC().check(make_env("user_envs:HiddenGlobalState"))


def test_tree_search_on_atari_through_clone_and_restore():
    pytest.importorskip("ale_py")
    from rlcheck.baselines.mcts import MCTS
    from rlcheck.baselines.uct import UCT, UCTConfig
    from rlcheck.core.errors import NotApplicable
    from rlcheck.engine import run_method

    env = make_env("ALE/Breakout-v5")
    with pytest.raises(NotApplicable, match="use uct"):  # Gumbel MuZero needs a JAX env; UCT is its own method
        MCTS().check(env)
    config = UCTConfig(num_simulations=4, rollout_steps=5, max_steps=30)
    result = run_method(UCT(), env, [config], [0], Budget(1, 1, 1))
    diagnostics = result.trace.diagnostics
    assert diagnostics["eval_steps_per_episode"][0, 0] == 30  # the cap on a game is honoured
    # every simulation steps at least one expansion and at most the rollout more, 4 frames each
    calls = diagnostics["eval_model_calls_per_episode"][0, 0]
    assert 30 * 4 * 1 <= calls <= 30 * 4 * (config.max_depth + 5) * 4
    assert result.trace.env_steps.max() == 0 and result.trace.eval_returns[0, 0, 0] >= 0
    measured = result.trace.behaviour
    shares = [measured[f"action_share/{a}"][0, 0] for a in range(env.num_actions)]
    assert measured["episode_length"][0, 0] == 30 and sum(shares) == pytest.approx(1.0)
    with pytest.raises(NotApplicable, match="diverged"):  # not Atari, and its copies do not replay
        UCT().check(make_env("user_envs:HiddenGlobalState"))


def test_host_mpc_on_halfcheetah_records_the_posture_descriptor():
    pytest.importorskip("mujoco")
    import dataclasses

    from rlcheck.baselines.mpc import MPC, MPCConfig
    from rlcheck.engine import run_method

    env = dataclasses.replace(make_env("HalfCheetah-v5"), descriptors="rlcheck.envs.descriptors:cheetah_posture")
    result = run_method(MPC(), env, [MPCConfig(num_samples=4, horizon=3)], [0], Budget(1, 1, 1))
    measured = result.trace.behaviour
    # turns is the signed net rotation per step: not zero, since the torso moves under any plan
    assert 0 <= measured["user/upside_down"][0, 0] <= 1 and measured["user/turns"][0, 0] != 0
    assert measured["episode_length"][0, 0] == 1000
