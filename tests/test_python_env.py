"""Python (Gymnasium) envs: naming, preflight, the host-loop driver's autoreset semantics, and a
user's env class trained end to end to a report."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlcheck.cli import main
from rlcheck.envs import make_env, vector
from rlcheck.envs.host import HostEnv


def test_names_resolve_to_the_right_backend():
    assert not isinstance(make_env("CartPole-v1").env, HostEnv)  # gymnax provides it: JAX
    assert not isinstance(make_env("gymnax:CartPole-v1").env, HostEnv)
    env = make_env("gymnasium:CartPole-v1")
    assert isinstance(env.env, HostEnv) and env.max_episode_steps == 500 and env.reward_threshold == 475
    assert env.task == "CartPole-v1"  # per-env defaults are shared
    user = make_env("user_envs:GoRight", {"length": 4})
    assert isinstance(user.env, HostEnv) and user.discrete and user.num_actions == 2
    assert any("time limit" in w for w in user.warnings)  # registered without one: we add 1000


def test_same_step_autoreset_keeps_terminated_and_truncated_apart():
    env = make_env("user_envs:Countdown", {"end": 3})
    reset = jax.jit(lambda k: vector.reset(env, k, 2))
    step = jax.jit(lambda s, a: vector.step(env, jax.random.PRNGKey(0), s, a))
    obs, state = reset(jax.random.PRNGKey(0))
    assert obs.tolist() == [[0.0], [0.0]]
    for t in (1, 2):
        obs, state, reward, terminated, truncated, final = step(state, jnp.array([1, 0]))
        assert obs[:, 0].tolist() == [t, t] and reward.tolist() == [1.0, 0.0] and not terminated.any()
    obs, state, reward, terminated, truncated, final = step(state, jnp.array([1, 1]))
    assert terminated.all() and not truncated.any()
    assert final[:, 0].tolist() == [3.0, 3.0] and obs[:, 0].tolist() == [0.0, 0.0]  # next episode's first obs

    short = make_env("CountdownShort-v0")  # a 2-step time limit cuts the 3-step episode: truncated
    obs, state = jax.jit(lambda k: vector.reset(short, k, 1))(jax.random.PRNGKey(1))
    for _ in range(2):
        obs, state, _, terminated, truncated, final = jax.jit(lambda s: vector.step(short, None, s, jnp.array([0])))(state)
    assert truncated.tolist() == [True] and terminated.tolist() == [False] and final[0, 0] == 2.0 and obs[0, 0] == 0.0


def test_vmapped_seeds_get_their_own_copies_and_a_resumed_state_is_adopted():
    env = make_env("user_envs:Countdown", {"end": 5})
    obs, state = jax.jit(jax.vmap(lambda k: vector.reset(env, k, 3)))(jax.random.split(jax.random.PRNGKey(0), 4))
    assert obs.shape == (4, 3, 1) and len(set(np.asarray(state.slots).ravel().tolist())) == 12
    other = make_env("gymnasium:CartPole-v1")  # a different HostEnv: another process, as after --resume
    foreign = state.replace(owner=jnp.full_like(state.owner, other.env.owner))
    out = jax.jit(jax.vmap(lambda s: vector.step(env, None, s, jnp.array([1, 1, 1]))))(foreign)
    assert np.asarray(out[4]).all() and not np.asarray(out[3]).any()  # fresh copies: the cut episode is truncated


def test_saved_copies_continue_their_episodes_in_another_process():
    """A checkpoint's snapshot of the training copies, restored by a HostEnv of another process, steps on
    exactly as the original copies do (random starts and all); without it the cut episodes restart."""
    spec = make_env("gymnasium:CartPole-v1")
    host = spec.env
    _, slots = host._host_reset("train", np.arange(4))
    owners, t = np.full(4, host.owner, np.int32), np.zeros(4, np.int32)
    for _ in range(7):
        host._host_step(slots, owners, t, np.array([0, 1, 0, 1]))
    blob = host.snapshot()
    later = HostEnv(host.name, host.make, host.obs_shape, host.obs_dtype, host.action_shape, host.discrete)
    later.restore(blob)  # the resumed process: a new owner id, the saved state's old ids
    fresh = HostEnv(host.name, host.make, host.obs_shape, host.obs_dtype, host.action_shape, host.discrete)
    for step in range(30):
        actions = np.array([step % 2, 1, 0, (step // 3) % 2])
        want = host._host_step(slots, owners, t, actions)
        got = later._host_step(slots, owners, t, actions)
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a, b)
    restarted = fresh._host_step(slots, owners, t, np.array([0, 1, 0, 1]))
    assert restarted[3].all()  # no snapshot: the cut episodes count as truncated and start afresh


def test_training_on_a_python_env_matches_the_seed_and_learns(tmp_path):
    from rlcheck import api

    kw = dict(env="user_envs:GoRight", algo="ppo", steps=4096, num_evals=2, eval_episodes=4,
              overrides={"num_envs": 4, "num_steps": 64})
    first = api.train(seeds=[0, 1], out=tmp_path / "both", **kw)
    again = api.train(seeds=[1], out=tmp_path / "alone", **kw)
    finals = first.methods[0].finals
    assert again.methods[0].seeds[0].final_return == pytest.approx(finals[1])  # reproducible alone
    assert min(finals) >= 9.0  # optimal is 10 - 0.1 * 4 = 9.6 (or 9.7 from the second cell)


def test_a_user_env_class_runs_end_to_end_to_a_report(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["check", "user_envs:GoRight", "--env-kwargs", "length=4", "--methods", "ppo,ars,mpc",
                 "--seeds", "2", "--budget", "16384", "--threshold", "9", "--num-evals", "2", "--eval-episodes", "4",
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env"] == "user_envs:GoRight" and "gymnasium" in summary["env_backend"]
    assert any("time limit" in w for w in summary["env_warnings"])
    assert {m["name"] for m in summary["methods"]} == {"ppo", "ars", "mpc"}  # MPC from a verified deepcopy
    assert not summary["skipped"]
    html = (out / "report.html").read_text()
    assert "Preflight warnings" in html and "host loop" in html


BAD_ENVS = [
    ("user_envs:RaisesInStep", "the sensor broke", 3),
    ("user_envs:WrongObservationShape", "observation of shape (3,)", 3),
    ("user_envs:OldStepApi", "returned 4 values", 3),
    ("user_envs:UnboundedActions", "infinite bounds", 3),
    ("no_such_package.envs:Env", "cannot import module 'no_such_package.envs'", 3),
    ("user_envs:NoSuchClass", "has no environment class", 3),
    ("MissingPackage-v0", "No module named 'no_such_package'", 3),  # registered, entry point not installed
    ("ALE/NoSuchGame-v5", "Unknown environment", 3),
]


@pytest.mark.parametrize("name,message,exit_code", BAD_ENVS)
def test_bad_envs_give_one_clear_error(tmp_path, capsys, name, message, exit_code):
    import user_envs  # noqa: F401  (registers MissingPackage-v0)

    code = main(["check", name, "--methods", "ppo", "--budget", "1024", "--threshold", "1", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == exit_code and message in err and name in err and "Traceback" not in err


def test_an_env_that_fails_mid_training_loses_only_its_job(tmp_path, capsys):
    import user_envs

    user_envs.FailsLate.total = 0
    out = tmp_path / "study"
    code = main(["check", "user_envs:FailsLate", "--methods", "ppo,dqn", "--seeds", "1", "--budget", "1024",
                 "--threshold", "1", "--num-evals", "1", "--eval-episodes", "2", "--out", str(out), "--quiet",
                 "--set", "dqn.learning_starts=100",  # below the budget (at its default DQN is refused up front)
                 "--no-audit", "--tune", "0"])  # the lint's probes, or a search, would use up the env's steps
    assert code == 4  # some jobs failed; the others are written and reported
    summary = json.loads((out / "summary.json").read_text())
    # preflight (~250 steps) and PPO (1024 + short evaluations) stay under 1800 steps; DQN crosses it
    assert [m["name"] for m in summary["methods"]] == ["ppo"]
    (failed,) = summary["failed_jobs"]
    assert failed["method"] == "dqn" and "the sensor broke" in failed["error"] and "FailsLate" in failed["error"]
