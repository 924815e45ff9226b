"""Batched reset/step over many copies of one environment (one copy per parallel env): JAX envs are
vmapped, Python envs go to the host (envs/host.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec


def reset(env: EnvSpec, key: jax.Array, num_envs: int, site: str = "train"):
    """`site` names the caller ("train", "eval"): Python envs keep a separate pool of copies per site."""
    if isinstance(env.env, HostEnv):
        return env.env.reset(key, num_envs, site)
    keys = jax.random.split(key, num_envs)
    return jax.vmap(env.env.reset, in_axes=(0, None))(keys, env.params)


def step(env: EnvSpec, key: jax.Array, state, actions: jax.Array):
    """Returns (obs, state, reward, terminated, truncated, final_obs); obs is already reset where done."""
    if isinstance(env.env, HostEnv):
        return env.env.step(state, actions)
    return _step_jax(env, key, state, actions)[0]


def step_info(env: EnvSpec, key: jax.Array, state, actions: jax.Array, info_keys: tuple[str, ...]):
    """`step`, plus a dict of [n] float32 info values for `info_keys` (NaN where missing). For evaluation:
    the training hot path reads no info."""
    if isinstance(env.env, HostEnv):
        if not info_keys:
            return (*env.env.step(state, actions), {})
        *out, values = env.env.step(state, actions, info_keys)
        return (*out, {k: values[:, j] for j, k in enumerate(info_keys)})
    out, info = _step_jax(env, key, state, actions)
    n = actions.shape[0]
    values = {k: jnp.asarray(info[k], jnp.float32).reshape(n) if k in info else jnp.full((n,), jnp.nan) for k in info_keys}
    return (*out, values)


def _step_jax(env: EnvSpec, key: jax.Array, state, actions: jax.Array) -> tuple[tuple, dict]:
    """One vmapped step of a JAX env: (`step`'s tuple, with reward and flags flattened to [n], and the raw info)."""
    keys = jax.random.split(key, actions.shape[0])
    if not env.discrete:
        actions = actions.reshape((actions.shape[0],) + _action_shape(env))
    obs, state, reward, terminated, truncated, info = jax.vmap(
        env.env.step, in_axes=(0, 0, 0, None)
    )(keys, state, actions, env.params)
    out = (obs, state, reward.astype(jnp.float32).reshape(-1), jnp.asarray(terminated, bool).reshape(-1),
           jnp.asarray(truncated, bool).reshape(-1), info["final_observation"])
    return out, info


def _action_shape(env: EnvSpec) -> tuple[int, ...]:
    return tuple(env.env.action_space(env.params).shape) or ()
