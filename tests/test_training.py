"""Shapes, determinism, vmapped == sequential, sweeps, and a short run that clearly beats random."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlcheck.core.budget import Budget
from rlcheck.core.config import expand_sweep
from rlcheck.engine import run_method
from rlcheck.envs import make_env
from rlcheck.methods.loop import train
from rlcheck.registry import default_config, get_method


def _setup(algo, env_name="CartPole-v1", **overrides):
    env = make_env(env_name)
    method = get_method(algo)
    return env, method, default_config(method, env, overrides)


SHORT = {"ppo": ({}, Budget(8_192, 4, 3)), "dqn": ({"learning_starts": 500}, Budget(4_000, 4, 3))}


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_trace_shapes_and_exact_step_counts(algo):
    overrides, budget = SHORT[algo]
    env, method, config = _setup(algo, **overrides)
    result = run_method(method, env, [config], [0, 1, 2], budget)
    tr = result.trace
    per_iter = method.steps_per_iteration(config)
    assert tr.env_steps.shape == (3, 5) and tr.eval_returns.shape == (3, 5, 3)
    assert tr.train_returns.shape == (3, 5)
    assert tr.env_steps[0, 0] == 0 and np.all(np.diff(tr.env_steps[0]) > 0)
    assert np.all(tr.env_steps % per_iter == 0) and tr.env_steps[0, -1] <= budget.env_steps
    assert tr.env_steps[0, -1] > budget.env_steps - per_iter  # every whole iteration of the budget is used
    assert np.all(tr.model_calls == 0)
    assert all(v.shape == (3, 5) for v in tr.diagnostics.values())
    # the final policy is also evaluated as it acts in training (sampled / epsilon-greedy), for the audit
    sampled = tr.diagnostics["eval_return_stochastic"]
    assert np.isnan(sampled[:, :-1]).all() and np.isfinite(sampled[:, -1]).all() and (sampled[:, -1] >= 1).all()


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_determinism_and_vmapped_equals_sequential(algo):
    overrides, budget = SHORT[algo]
    env, method, config = _setup(algo, **overrides)
    batch = run_method(method, env, [config], [0, 1, 2, 3], budget).trace
    again = run_method(method, env, [config], [0, 1, 2, 3], budget).trace
    singles = [run_method(method, env, [config], [s], budget).trace for s in range(4)]
    np.testing.assert_array_equal(batch.eval_returns, again.eval_returns)  # same seed, same trace
    np.testing.assert_array_equal(batch.diagnostics["td_loss" if algo == "dqn" else "value_loss"],
                                  again.diagnostics["td_loss" if algo == "dqn" else "value_loss"])
    seq_returns = np.concatenate([s.eval_returns for s in singles])
    np.testing.assert_array_equal(batch.eval_returns, seq_returns)  # vmapped run == one by one
    for k, v in batch.diagnostics.items():  # losses agree to float rounding (batched vs single matmuls)
        np.testing.assert_allclose(v, np.concatenate([s.diagnostics[k] for s in singles]), rtol=1e-3, atol=1e-5)
    assert not np.array_equal(batch.eval_returns[0], batch.eval_returns[1])  # different seeds differ


def test_pure_train_matches_chunked_engine():
    overrides, budget = SHORT["ppo"]
    env, method, config = _setup("ppo", **overrides)
    pure = jax.jit(lambda k: train(method, k, env, config, budget))(jax.random.PRNGKey(3))
    chunked = run_method(method, env, [config], [3], budget).trace
    np.testing.assert_array_equal(np.asarray(pure.env_steps), chunked.env_steps[0])
    np.testing.assert_array_equal(np.asarray(pure.eval_returns), chunked.eval_returns[0])


def test_sweep_over_learning_rate_runs_in_one_program():
    env, method, config = _setup("ppo")
    configs = expand_sweep(config, {"learning_rate": ["1e-9", "2.5e-4"]})
    result = run_method(method, env, configs, [0, 1], Budget(20_480, 2, 5))
    assert result.config_ids == [0, 0, 1, 1] and result.seeds == [0, 1, 0, 1]
    final = result.trace.eval_returns[:, -1].mean(-1)
    assert final[2:].mean() > final[:2].mean() + 50  # lr ~ 0 does not learn; the default does


def test_short_ppo_cartpole_beats_random_clearly():
    env, method, config = _setup("ppo")
    result = run_method(method, env, [config], [0, 1, 2], Budget(40_960, 4, 10))
    final = result.trace.eval_returns[:, -1].mean(-1)
    initial = result.trace.eval_returns[:, 0].mean(-1)
    assert np.median(final) > 150, final  # a random/untrained policy scores about 10-25
    assert np.all(final > initial)


def test_short_dqn_cartpole_beats_random_clearly():
    env, method, config = _setup("dqn", learning_starts=1000, exploration_fraction=0.2)
    result = run_method(method, env, [config], [0, 1], Budget(40_000, 4, 10))
    assert np.max(result.trace.eval_returns[:, 1:].mean(-1)) > 100


def test_continuous_ppo_and_image_observations_run():
    for name in ["Pendulum-v1", "Breakout-MinAtar"]:
        env, method, config = _setup("ppo", name, num_envs=4, num_steps=32, num_minibatches=2)
        result = run_method(method, env, [config], [0, 1], Budget(256, 1, 2))
        assert np.all(np.isfinite(result.trace.eval_returns))


def test_a_factorised_categorical_is_the_product_of_its_parts():
    import itertools

    from rlcheck.methods import networks as nets

    factors = (3, 2, 4)
    logits = jax.random.normal(jax.random.PRNGKey(3), (sum(factors),))
    parts = [jax.nn.softmax(p) for p in jnp.split(logits, [3, 5])]
    joint = np.array([float(parts[0][a] * parts[1][b] * parts[2][c]) for a, b, c in itertools.product(*map(range, factors))])
    logp = np.array([float(nets.log_prob(logits, None, jnp.int32(i), factors)) for i in range(24)])
    np.testing.assert_allclose(np.exp(logp), joint, rtol=1e-5)  # joint index i = (a, b, c), last part fastest
    np.testing.assert_allclose(float(nets.entropy(logits, None, factors)), -(joint * np.log(joint)).sum(), rtol=1e-5)
    assert int(nets.deterministic_action(logits, None, factors)) == int(np.argmax(joint))
    draws = jax.vmap(lambda k: nets.sample_action(k, logits, None, factors))(jax.random.split(jax.random.PRNGKey(0), 40_000))
    np.testing.assert_allclose(np.bincount(np.asarray(draws), minlength=24) / 40_000, joint, atol=0.01)
    other = jax.random.normal(jax.random.PRNGKey(4), (sum(factors),))
    q = np.exp([float(nets.log_prob(other, None, jnp.int32(i), factors)) for i in range(24)])
    np.testing.assert_allclose(float(nets.categorical_kl(logits, other, factors)), (joint * np.log(joint / q)).sum(), rtol=1e-4)


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
@pytest.mark.parametrize("env_name", ["CartPole-v1", "gymnasium:CartPole-v1"])
def test_evaluation_never_starts_where_training_did(algo, env_name, monkeypatch):
    """Issue 20, item 5: evaluation episodes that share seeds with training replay the starts the policy
    trained on. Every start state of training (first resets and auto-resets) and of evaluation is logged
    as it happens; none is shared. The only repeat allowed is the designed one: the final policy's
    deterministic and sampled evaluations start from the same states, so their gap is paired."""
    from rlcheck.envs import vector

    starts: dict[str, list] = {"train": [], "eval": []}

    def log(site):
        return lambda obs, where: starts[site].extend(tuple(np.round(np.asarray(o, np.float64), 6).tolist())
                                                      for o, w in zip(np.asarray(obs), np.asarray(where), strict=True) if w)

    reset, step, step_info = vector.reset, vector.step, vector.step_info

    def logged_reset(env, key, num_envs, site="train"):
        obs, state = reset(env, key, num_envs, site)
        jax.debug.callback(log(site), obs, jnp.ones(num_envs, bool))
        return obs, state

    def logged_step(env, key, state, actions):  # the training hot path
        out = step(env, key, state, actions)
        jax.debug.callback(log("train"), out[0], out[3] | out[4])
        return out

    def logged_step_info(env, key, state, actions, info_keys):  # evaluation
        out = step_info(env, key, state, actions, info_keys)
        jax.debug.callback(log("eval"), out[0], out[3] | out[4])
        return out

    monkeypatch.setattr(vector, "reset", logged_reset)
    monkeypatch.setattr(vector, "step", logged_step)
    monkeypatch.setattr(vector, "step_info", logged_step_info)
    overrides = {"num_envs": 4, "num_steps": 32} if algo == "ppo" else {"learning_starts": 100}
    env, method, config = _setup(algo, env_name, **overrides)
    run_method(method, env, [config], [0], Budget(2_048 if algo == "ppo" else 1_000, 3, 5))
    jax.effects_barrier()
    assert len(starts["train"]) >= 8 and len(starts["eval"]) >= 20
    assert not set(starts["train"]) & set(starts["eval"])
