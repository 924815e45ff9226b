"""Small networks shared by the learners (orthogonal init, as in CleanRL and PureJaxRL)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}


def _dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale), bias_init=nn.initializers.zeros)


class MLP(nn.Module):
    """Flattens the observation, then hidden layers, then a linear head of `out_dim`."""

    hidden_sizes: Sequence[int]
    out_dim: int
    activation: str = "tanh"
    out_scale: float = 1.0
    obs_ndim: int = 1  # trailing observation axes to flatten (3 for MinAtar's 10x10xC grids)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        x = x.reshape(x.shape[:-self.obs_ndim] + (-1,)) if self.obs_ndim > 1 else x
        x = x.astype(jnp.float32)
        for size in self.hidden_sizes:
            x = act(_dense(size, np.sqrt(2))(x))
        return _dense(self.out_dim, self.out_scale)(x)


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs. Discrete: logits. Continuous: Gaussian mean and a state-independent log-std."""

    action_dim: int
    discrete: bool
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    obs_ndim: int = 1

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array | None, jax.Array]:
        actor_out = MLP(self.hidden_sizes, self.action_dim, self.activation, 0.01, self.obs_ndim)(obs)
        value = MLP(self.hidden_sizes, 1, self.activation, 1.0, self.obs_ndim)(obs)[..., 0]
        if self.discrete:
            return actor_out, None, value
        log_std = self.param("log_std", nn.initializers.zeros, (self.action_dim,))
        return actor_out, jnp.broadcast_to(log_std, actor_out.shape), value


# --- policy distributions (categorical over logits; diagonal Gaussian) ---------------------


def sample_action(key: jax.Array, mean_or_logits: jax.Array, log_std: jax.Array | None) -> jax.Array:
    if log_std is None:
        return jax.random.categorical(key, mean_or_logits)
    return mean_or_logits + jnp.exp(log_std) * jax.random.normal(key, mean_or_logits.shape)


def log_prob(mean_or_logits: jax.Array, log_std: jax.Array | None, action: jax.Array) -> jax.Array:
    if log_std is None:
        logp = jax.nn.log_softmax(mean_or_logits)
        return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]
    z = (action - mean_or_logits) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)


def entropy(mean_or_logits: jax.Array, log_std: jax.Array | None) -> jax.Array:
    if log_std is None:
        logp = jax.nn.log_softmax(mean_or_logits)
        return -jnp.sum(jnp.exp(logp) * logp, axis=-1)
    return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)


def deterministic_action(mean_or_logits: jax.Array, log_std: jax.Array | None) -> jax.Array:
    return jnp.argmax(mean_or_logits, axis=-1) if log_std is None else mean_or_logits
