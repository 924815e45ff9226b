"""What every trap env shares: the info contract and small helpers.

Every step's `info` holds, with fixed dtypes so the envs jit and vmap:
- `true_objective` (float32): this step's contribution to the real goal (its episode sum is the true return);
- `is_success` (bool): True on the step that ends the episode having achieved the real task;
- `reward_<part>` (float32): the parts the reward is the sum of, where it has parts;
- `descriptor_<name>` (float32): optional per-step behaviour descriptors.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from gymnax.environments import environment


def f32(x: Any) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def make_info(true_objective: Any, is_success: Any, **parts: Any) -> dict[str, jax.Array]:
    """The info dict: `parts` are `reward_*` and `descriptor_*` values, cast to float32."""
    info = {"true_objective": f32(true_objective), "is_success": jnp.asarray(is_success, bool)}
    for key, value in parts.items():
        assert key.startswith(("reward_", "descriptor_")), key
        info[key] = f32(value)
    return info


class TrapEnv(environment.Environment):
    """A gymnax env with a `fixed` switch: False = the trap, True = the same task with the reward repaired."""

    base_name = "trap"

    def __init__(self, fixed: bool = False):
        super().__init__()
        self.fixed = bool(fixed)

    @property
    def name(self) -> str:
        return f"trap/{self.base_name}" + ("-fixed" if self.fixed else "")

    def is_terminated(self, state: Any, params: Any) -> jax.Array:
        return jnp.asarray(False)

    def last_step(self, state: Any, params: Any) -> jax.Array:
        """True when the step that produced `state` ends the episode at the time limit."""
        return state.time >= params.max_steps_in_episode


def rollout(env: TrapEnv, params: Any, policy: Any, key: jax.Array, episodes: int = 1) -> dict[str, jax.Array]:
    """Run `policy(state, params) -> action` (a scripted behaviour) for one episode per key;
    returns per-episode `return`, `true_return`, `length` and `success`."""

    def one(key):
        key, reset_key = jax.random.split(key)
        _, state = env.reset_env(reset_key, params)

        def body(carry, _):
            state, done, key, ret, true, length, success = carry
            key, step_key = jax.random.split(key)
            _, nxt, reward, terminated, info = env.step_env(step_key, state, policy(state, params), params)
            live = ~done
            ret = ret + jnp.where(live, reward, 0.0)
            true = true + jnp.where(live, info["true_objective"], 0.0)
            length = length + live
            success = success | (live & info["is_success"])
            done = done | terminated | env.is_truncated(nxt, params)
            return (nxt, done, key, ret, true, length, success), None

        zero = jnp.float32(0.0)
        carry = (state, jnp.bool_(False), key, zero, zero, jnp.int32(0), jnp.bool_(False))
        carry, _ = jax.lax.scan(body, carry, None, length=params.max_steps_in_episode)
        return dict(zip(("return", "true_return", "length", "success"), carry[3:], strict=True))

    return jax.vmap(one)(jax.random.split(key, episodes))
