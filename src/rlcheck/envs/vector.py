"""Batched reset/step over many copies of one JAX environment (one copy per parallel env)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlcheck.envs.jax_env import EnvSpec


def reset(env: EnvSpec, key: jax.Array, num_envs: int):
    keys = jax.random.split(key, num_envs)
    return jax.vmap(env.env.reset, in_axes=(0, None))(keys, env.params)


def step(env: EnvSpec, key: jax.Array, state, actions: jax.Array):
    """Returns (obs, state, reward, terminated, truncated, final_obs); obs is already reset where done."""
    keys = jax.random.split(key, actions.shape[0])
    if not env.discrete:
        actions = actions.reshape((actions.shape[0],) + _action_shape(env))
    obs, state, reward, terminated, truncated, info = jax.vmap(
        env.env.step, in_axes=(0, 0, 0, None)
    )(keys, state, actions, env.params)
    return (
        obs,
        state,
        reward.astype(jnp.float32).reshape(-1),
        jnp.asarray(terminated, bool).reshape(-1),
        jnp.asarray(truncated, bool).reshape(-1),
        info["final_observation"],
    )


def _action_shape(env: EnvSpec) -> tuple[int, ...]:
    return tuple(env.env.action_space(env.params).shape) or ()
