"""NAF (Gu et al. 2016, "Continuous Deep Q-Learning with Model-based Acceleration"):
Q(s, a) = V(s) + A(s, a), with A(s, a) = -1/2 (a - mu(s))^T P(s) (a - mu(s)) and P = L L^T, L lower
triangular with a positive (exponentiated) diagonal. The greedy action is mu(s); the TD target uses
V of a Polyak-averaged target network. Exploration adds Gaussian or Ornstein-Uhlenbeck noise to mu;
the loop is methods/offpolicy.py's.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.offpolicy import Collector, NoisyConfig, NoisyExploration, fused_adam, polyak


@struct.dataclass
class NAFConfig(NoisyConfig):
    """The NAF paper's low-dimensional settings: Adam 1e-3, batch 100, tau 0.001, 200x200 ReLU, OU noise 0.3."""

    learning_rate: float = numeric(1e-3, "Adam step size")
    tau: float = numeric(0.001, "target Polyak rate per update")
    batch_size: int = static(100, "minibatch size")
    learning_starts: int = static(1_000, "env steps of random actions before learning")
    hidden_sizes: tuple[int, ...] = static((200, 200), "hidden layer widths")
    exploration_noise: float = numeric(0.3, "OU sigma (or normal std), in [-1, 1] action units")
    ou_dt: float = numeric(1.0, "Ornstein-Uhlenbeck time step")
    noise_type: str = static("ou", "exploration noise: normal or ou")


DEFAULTS: dict[str, dict[str, Any]] = {
    # The NAF paper's low-dimensional settings (200x200 ReLU, batch 100, tau 0.001, lr 1e-3, OU noise).
    "Pendulum-v1": {},
}


def tril_size(n: int) -> int:
    return n * (n + 1) // 2


class NAFNet(nets.ActionHead):
    @nn.compact
    def __call__(self, obs):
        n = self.action_dim
        h = nets.MLP(self.hidden_sizes[:-1], self.hidden_sizes[-1], self.activation)(obs)
        h = nets.ACTIVATIONS[self.activation](h)
        value = nn.Dense(1)(h)[..., 0]
        mu = jnp.tanh(nn.Dense(n)(h))
        entries = nn.Dense(tril_size(n), kernel_init=nn.initializers.variance_scaling(0.01, "fan_in", "uniform"))(h)
        return value, mu, lower_triangular(entries, n)


def lower_triangular(entries: jax.Array, n: int) -> jax.Array:
    """[..., n(n+1)/2] -> [..., n, n] lower-triangular L with exp() on the diagonal (so P = L L^T > 0).
    Built with a constant 0/1 placement matrix, not a scatter: a matmul is cheap under vmap."""
    rows, cols = np.tril_indices(n)
    entries = jnp.where(jnp.asarray(rows == cols), jnp.exp(entries), entries)
    placement = np.zeros((len(rows), n * n), np.float32)
    placement[np.arange(len(rows)), rows * n + cols] = 1.0
    return (entries @ placement).reshape(entries.shape[:-1] + (n, n))


def advantage(mu: jax.Array, L: jax.Array, action: jax.Array) -> jax.Array:
    """A(s, a) = -1/2 ||L^T (a - mu)||^2 = -1/2 (a - mu)^T L L^T (a - mu); maximal (zero) at a = mu."""
    v = jnp.einsum("...ji,...j->...i", L, action - mu)
    return -0.5 * jnp.sum(v**2, axis=-1)


@struct.dataclass
class NAFState:
    params: Any
    target_params: Any
    opt_state: Any
    noise: jax.Array
    collector: Collector
    key: jax.Array


class NAF(NoisyExploration):
    name = "naf"
    Config = NAFConfig
    defaults = DEFAULTS
    trains = ("params", "target_params", "opt_state")

    def network(self, env: EnvSpec, config: NAFConfig) -> NAFNet:
        return NAFNet(env.num_actions, config.hidden_sizes, config.activation)

    def init(self, key: jax.Array, env: EnvSpec, config: NAFConfig, budget: Budget) -> NAFState:
        self.check(env)
        key, net_key, env_key = jax.random.split(key, 3)
        params = self.network(env, config).init(net_key, jnp.zeros((1,) + env.obs_shape))
        return NAFState(
            params=params, target_params=params, opt_state=fused_adam(config.learning_rate).init(params),
            noise=jnp.zeros((config.num_envs, env.num_actions)),
            collector=Collector.create(env_key, env, config.num_envs, config.buffer_size, budget), key=key,
        )

    def greedy(self, state: NAFState, env: EnvSpec, config: NAFConfig, obs: jax.Array) -> jax.Array:
        return self.network(env, config).apply(state.params, obs)[1]  # mu(s)

    def update(self, state: NAFState, col: Collector, env: EnvSpec, config: NAFConfig, budget: Budget):
        """TD regression of Q = V + A toward r + gamma V_target(s'), then the target's Polyak step."""
        net = self.network(env, config)
        opt = fused_adam(config.learning_rate)

        def step(carry, key):
            params, target_params, opt_state = carry
            obs, action, reward, next_obs, discount = col.replay.sample(key, config.batch_size, 1, config.gamma)
            next_value, _, _ = net.apply(target_params, next_obs)
            target = jax.lax.stop_gradient(reward + discount * next_value)

            def loss_fn(p):
                value, mu, L = net.apply(p, obs)
                q = value + advantage(mu, L, action)
                return jnp.mean((q - target) ** 2), q.mean()

            (loss, q_mean), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            return (params, polyak(target_params, params, config.tau), opt_state), dict(td_loss=loss, q_mean=q_mean)

        return step
