"""What every trap env shares: the info contract, the gymnax plumbing and small helpers.

Every step's `info` holds, with fixed dtypes so the envs jit and vmap:
- `true_objective` (float32): this step's contribution to the real goal (its episode sum is the true return);
- `is_success` (bool): True on the step that ends the episode having achieved the real task;
- `reward_<part>` (float32): the parts the reward is the sum of, where it has parts;
- `descriptor_<name>` (float32): optional per-step behaviour descriptors.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from gymnax.environments import environment, spaces


def f32(x: Any) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def make_info(true_objective: Any, is_success: Any, **parts: Any) -> dict[str, jax.Array]:
    """The info dict: `parts` are `reward_*` and `descriptor_*` values, cast to float32."""
    info = {"true_objective": f32(true_objective), "is_success": jnp.asarray(is_success, bool)}
    for key, value in parts.items():
        assert key.startswith(("reward_", "descriptor_")), key
        info[key] = f32(value)
    return info


# What `TrapEnv.transition` returns: (next state, terminated, info from `make_info`).
Transition = tuple[Any, jax.Array, dict[str, jax.Array]]


class TrapEnv(environment.Environment):
    """A gymnax env with a `fixed` switch: False = the trap, True = the same task with the reward repaired.

    A trap module writes only its task: a `default_params`, `num_actions`, and the methods `initial_state`,
    `transition` (the dynamics, and the info naming the reward's parts) and `observation`. The gymnax
    plumbing around them (reset and step, the reward as the sum of its parts, the spaces) is here.
    The class docstring is the trap's one-line description in `TRAPS`.
    """

    base_name: ClassVar[str] = "trap"
    default_params: Any  # the env's params dataclass, defaults filled in (replaces gymnax's property)
    num_actions: ClassVar[int]  # discrete: the number of actions (replaces gymnax's property)

    def __init__(self, fixed: bool = False):
        super().__init__()
        self.fixed = bool(fixed)

    @property
    def name(self) -> str:
        return f"trap/{self.base_name}" + ("-fixed" if self.fixed else "")

    def initial_state(self, key: jax.Array, params: Any) -> Any:
        raise NotImplementedError

    def transition(self, key: jax.Array, state: Any, action: Any, params: Any) -> Transition:
        """One step of the trap's dynamics; its info carries the reward's parts (see `reward`)."""
        raise NotImplementedError

    def observation(self, state: Any, params: Any) -> jax.Array:
        raise NotImplementedError

    def reward(self, state: Any, info: dict[str, jax.Array], params: Any) -> jax.Array:
        """The sum of the info's `reward_*` parts, added in the order `make_info` got them (so the float32
        sum is the same every time); a trap whose reward has no parts overrides this."""
        return functools.reduce(operator.add, [value for key, value in info.items() if key.startswith("reward_")])

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        state = self.initial_state(key, params)
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any):
        state, terminated, info = self.transition(key, state, action, params)
        return self.get_obs(state, params), state, self.reward(state, info, params), terminated, info

    def get_obs(self, state: Any, params: Any = None, key: Any = None) -> jax.Array:
        return self.observation(state, params or self.default_params)

    def action_space(self, params: Any = None) -> spaces.Space:
        return spaces.Discrete(self.num_actions)

    def observation_space(self, params: Any) -> spaces.Box:
        """Values in [0, 1] (a trap with other bounds overrides this); the shape is the observation's own,
        traced rather than restated, so the two cannot drift apart."""
        shape = jax.eval_shape(lambda: self.reset_env(jax.random.PRNGKey(0), params)[0]).shape
        return spaces.Box(0.0, 1.0, shape, jnp.float32)

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
