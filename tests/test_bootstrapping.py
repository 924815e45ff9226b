"""Termination vs truncation: truncation bootstraps from the final observation, termination does not."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tiny_envs import ConstantReward, Params

from rlcheck.core.budget import Budget
from rlcheck.envs import spec_from_gymnax
from rlcheck.methods.dqn import DQN, DQNConfig
from rlcheck.methods.ppo import gae
from rlcheck.methods.replay import Replay

GAMMA = 0.9


def test_gae_bootstraps_truncation_but_not_termination():
    # one env, 3 steps, rewards 1, values 2, 3, 4 and 5 for the final observation; lambda = 1.
    reward = jnp.ones((3, 1))
    value = jnp.array([[2.0], [3.0], [4.0]])
    next_value = jnp.array([[3.0], [4.0], [5.0]])
    ended = jnp.array([[False], [False], [True]])
    truncated_adv = gae(reward, value, next_value, jnp.zeros_like(ended), ended, GAMMA, 1.0)
    terminated_adv = gae(reward, value, next_value, ended, ended, GAMMA, 1.0)
    # A_0 = 1 + g + g^2 + g^3 * V(final) - V(s_0), with V(final) = 5 if truncated, 0 if terminated
    np.testing.assert_allclose(truncated_adv[0, 0], 1 + GAMMA + GAMMA**2 + GAMMA**3 * 5 - 2, rtol=1e-6)
    np.testing.assert_allclose(terminated_adv[0, 0], 1 + GAMMA + GAMMA**2 - 2, rtol=1e-6)


def test_gae_cuts_the_trace_at_episode_end():
    reward = jnp.array([[1.0], [100.0]])
    zeros = jnp.zeros((2, 1))
    ended = jnp.array([[True], [False]])  # episode ends after step 0; step 1 belongs to the next
    adv = gae(reward, zeros, zeros, ended, ended, GAMMA, 1.0)
    assert float(adv[0, 0]) == pytest.approx(1.0)


def test_replay_n_step_stops_at_episode_end_and_bootstraps_only_past_truncation():
    replay = Replay.create(8, 1, jnp.zeros(1), jnp.int32(0))
    # steps: rewards 1,2,4; episode truncated after the 2nd step (done, not terminated)
    for t, (r, term, done) in enumerate([(1.0, False, False), (2.0, False, True), (4.0, True, True)]):
        replay = replay.add(jnp.array([[float(t)]]), jnp.array([0]), jnp.array([r]), jnp.array([term]),
                            jnp.array([done]), jnp.array([[float(t) + 0.5]]))
    obs, _, ret, boot_obs, boot_disc = replay.sample(jax.random.PRNGKey(0), 256, 3, jnp.float32(GAMMA))
    for o, r, bo, bd in zip(np.asarray(obs)[:, 0], np.asarray(ret), np.asarray(boot_obs)[:, 0], np.asarray(boot_disc), strict=True):
        assert o == 0.0  # only start 0 has 3 written steps
        np.testing.assert_allclose(r, 1 + GAMMA * 2, rtol=1e-6)  # stops at the truncation
        assert bo == 1.5  # bootstraps from the final observation of the truncated episode
        np.testing.assert_allclose(bd, GAMMA**2, rtol=1e-6)
    obs, _, ret, _, boot_disc = replay.sample(jax.random.PRNGKey(1), 64, 1, jnp.float32(GAMMA))
    terminal = np.asarray(obs)[:, 0] == 2.0
    assert terminal.any()
    assert np.all(np.asarray(boot_disc)[terminal] == 0.0)  # no bootstrap past a termination


def _learned_q0(params: Params) -> float:
    env = spec_from_gymnax("ConstantReward", ConstantReward(), params)
    method = DQN()
    # lr 1e-3 and batch 128: with 3e-3 and 64 the learned value sits about 0.7 above the fixed point
    # (SGD noise plus the max over actions), too close to the tolerance.
    config = DQNConfig(gamma=GAMMA, learning_rate=1e-3, learning_starts=200, exploration_fraction=0.0,
                       target_update_interval=100, num_envs=4, buffer_size=2000, batch_size=128,
                       hidden_sizes=(32, 32), max_grad_norm=100.0)
    budget = Budget(12_000, 1, 1)
    state = method.init(jax.random.PRNGKey(0), env, config, budget)
    step = jax.jit(lambda s: jax.lax.scan(lambda s, _: method.iterate(s, env, config, budget), s, None, length=3000)[0])
    state = step(state)
    q = method.network(env, config).apply(state.params, jnp.array([0.0, 1.0]))
    return float(q[0])


def test_dqn_learns_the_known_value_with_truncation():
    # Only a time limit: the task goes on forever, so V = 1 / (1 - gamma) = 10.
    assert _learned_q0(Params(max_steps_in_episode=10)) == pytest.approx(10.0, abs=0.6)


def test_dqn_learns_the_known_value_with_termination():
    # A real end after 10 steps: V(0) = (1 - gamma^10) / (1 - gamma) = 6.513.
    expected = (1 - GAMMA**10) / (1 - GAMMA)
    assert _learned_q0(Params(max_steps_in_episode=1000, terminate_at=10)) == pytest.approx(expected, abs=0.5)
