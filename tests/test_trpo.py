"""TRPO: its solver and trust region on known answers, and learning on CartPole."""

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck.core.budget import Budget
from rlcheck.engine.runner import run_method
from rlcheck.envs import make_env
from rlcheck.methods.trpo import conjugate_gradient, kl_divergence
from rlcheck.registry import default_config, get_method


def test_conjugate_gradient_solves_a_known_system():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(6, 6))
    a = m @ m.T + 6 * np.eye(6)
    b = rng.normal(size=6)
    x = conjugate_gradient(lambda v: jnp.asarray(a) @ v, jnp.asarray(b), iters=6)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), rtol=1e-4, atol=1e-5)


def test_kl_divergence_matches_closed_forms():
    logits_old, logits_new = jnp.array([[0.0, 1.0, 2.0]]), jnp.array([[1.0, 0.0, 0.0]])
    p, q = jax.nn.softmax(logits_old), jax.nn.softmax(logits_new)
    np.testing.assert_allclose(kl_divergence(logits_old, None, logits_new, None), jnp.sum(p * jnp.log(p / q), -1), rtol=1e-5)
    mu0, mu1, s0, s1 = 0.0, 1.0, 0.5, 2.0  # KL(N(0, 0.5^2) || N(1, 2^2)) in closed form
    expected = np.log(s1 / s0) + (s0**2 + (mu0 - mu1) ** 2) / (2 * s1**2) - 0.5
    got = kl_divergence(jnp.array([[mu0]]), jnp.log(jnp.array([[s0]])), jnp.array([[mu1]]), jnp.log(jnp.array([[s1]])))
    np.testing.assert_allclose(got, [expected], rtol=1e-5)


def test_trpo_learns_cartpole_within_its_trust_region():
    env = make_env("CartPole-v1")
    method = get_method("trpo")
    result = run_method(method, env, [default_config(method, env)], [0, 1], Budget(40_960, 4, 5))
    returns = result.trace.eval_returns.mean(-1)
    assert np.all(returns[:, -1] > 4 * returns[:, 0]) and np.all(returns[:, -1] > 150)
    kl = result.trace.diagnostics["kl"][:, 1:]
    assert np.all(kl <= 0.01 + 1e-6) and np.all(result.trace.diagnostics["step_accepted"][:, 1:] > 0.5)
