"""Rainbow's parts on known answers: the C51 projection, proportional prioritised sampling, noisy
layers, dueling heads, the Nature CNN's patch form, and Rainbow learning CartPole."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlcheck.core.budget import Budget
from rlcheck.envs import make_env
from rlcheck.methods import networks as nets
from rlcheck.methods.dqn import DQNConfig, project_distribution
from rlcheck.methods.replay import Replay
from rlcheck.registry import default_config, get_method


def test_c51_projection_splits_mass_between_neighbouring_atoms():
    config = DQNConfig(num_atoms=5, v_min=0.0, v_max=4.0)  # atoms 0, 1, 2, 3, 4
    p = jnp.array([[0.25, 0.25, 0.25, 0.25, 0.0]])
    assert np.allclose(project_distribution(jnp.arange(5.0)[None], p, config), p)  # on the support: unchanged
    shifted = project_distribution(jnp.arange(5.0)[None] + 0.5, p, config)  # halfway: half to each side
    assert np.allclose(shifted, [[0.125, 0.25, 0.25, 0.25, 0.125]])
    clipped = project_distribution(jnp.full((1, 5), 9.0), p, config)  # beyond v_max: all on the top atom
    assert np.allclose(clipped, [[0, 0, 0, 0, 1.0]])
    r = 1.3 + 0.9 * jnp.arange(5.0)[None]
    out = project_distribution(r, p, config)
    assert float(out.sum()) == pytest.approx(1.0) and float((out @ jnp.arange(5.0))[0]) == pytest.approx(float((p @ r[0])[0]))  # mean kept


def test_prioritised_sampling_is_proportional_to_priority_to_the_alpha():
    replay = Replay.create(4, 1, jnp.zeros(2), jnp.int32(0))
    for _ in range(4):
        replay = replay.add(jnp.zeros((1, 2)), jnp.zeros(1, jnp.int32), jnp.zeros(1), jnp.zeros(1, bool), jnp.zeros(1, bool), jnp.zeros((1, 2)))
    replay = replay.set_priority(jnp.arange(4), jnp.zeros(4, jnp.int32), jnp.array([1.0, 4.0, 9.0, 16.0]))
    start, _, probability = replay.sample_indices(jax.random.PRNGKey(0), 40_000, 1, jnp.float32(0.5))
    expected = np.array([1, 2, 3, 4]) / 10  # sqrt of the priorities, normalised
    assert np.allclose(np.bincount(np.asarray(start), minlength=4) / 40_000, expected, atol=0.01)
    assert np.allclose(probability, expected[np.asarray(start)])
    uniform, _, _ = replay.sample_indices(jax.random.PRNGKey(0), 40_000, 1)
    assert np.allclose(np.bincount(np.asarray(uniform), minlength=4) / 40_000, 0.25, atol=0.01)


def test_new_transitions_get_the_largest_priority_recorded_so_far():
    def add(replay):
        return replay.add(jnp.zeros((1, 2)), jnp.zeros(1, jnp.int32), jnp.zeros(1), jnp.zeros(1, bool),
                          jnp.zeros(1, bool), jnp.zeros((1, 2)))

    replay = add(Replay.create(3, 1, jnp.zeros(2), jnp.int32(0)))
    assert float(replay.priority[0, 0]) == 1.0  # nothing recorded yet: priority 1
    replay = replay.set_priority(jnp.array([0]), jnp.array([0]), jnp.array([5.0]))
    replay = replay.set_priority(jnp.array([0]), jnp.array([0]), jnp.array([0.5]))  # lowered again
    replay = add(replay)
    assert float(replay.priority[1, 0]) == 5.0  # the running max, not the current largest (0.5)
    replay = add(add(replay))  # the ring wraps over the slot that held 5.0
    assert float(replay.priority[0, 0]) == 5.0 and float(replay.max_priority) == 5.0


def test_noisy_and_dueling_heads():
    net = nets.QNetwork((16,), 3, dueling=True, noisy=True)
    x = jnp.ones((2, 4))
    params = net.init({"params": jax.random.PRNGKey(0), "noise": jax.random.PRNGKey(1)}, x)
    mean_q = net.apply(params, x, False)
    assert np.allclose(mean_q, net.apply(params, x, False))  # no noise: deterministic
    a = net.apply(params, x, True, rngs={"noise": jax.random.PRNGKey(2)})
    b = net.apply(params, x, True, rngs={"noise": jax.random.PRNGKey(3)})
    assert not np.allclose(a, b) and not np.allclose(a, mean_q)
    plain = nets.QNetwork((16,), 3, dueling=True, num_atoms=5)
    out = plain.apply(plain.init(jax.random.PRNGKey(0), x), x)
    assert out.shape == (2, 3, 5)


def test_nature_cnn_patches_equal_a_convolution():
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 20, 20, 3))
    kernel = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 3, 8))
    conv = jax.lax.conv_general_dilated(x, kernel, (2, 2), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    patches = jax.lax.conv_general_dilated_patches(x, (4, 4), (2, 2), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    weights = jnp.transpose(kernel, (2, 0, 1, 3)).reshape(-1, 8)  # patches are ordered (channel, row, col)
    assert np.allclose(patches @ weights, conv, atol=1e-4)
    frames = jnp.zeros((3, 4, 84, 84), jnp.uint8)  # Gymnasium's channels-first frame stack
    features = nets.NatureCNN().apply(nets.NatureCNN().init(jax.random.PRNGKey(0), frames), frames)
    assert features.shape == (3, 7 * 7 * 64)


def test_rainbow_learns_cartpole():
    from rlcheck.engine import run_method

    env = make_env("CartPole-v1")
    rainbow = get_method("rainbow")
    config = default_config(rainbow, env)
    assert config.distributional and config.dueling and config.noisy and config.prioritized and config.n_step == 3
    result = run_method(rainbow, env, [config], [0], Budget(20_000, 4, 5))
    returns = result.trace.eval_returns.mean(-1)[0]
    assert returns[-2:].mean() > 60, returns  # untrained about 9; random play about 22
