"""What the off-policy continuous-control learners (SAC, TD3/DDPG, NAF) share: action scaling,
input checks, replay sizing against a memory cap, one collection step, and target tracking.
Actions live in [-1, 1] inside the learners and the replay buffer; only the env sees its bounds."""

from __future__ import annotations

import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from rlcheck.core.contracts import MethodBase
from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.errors import RLCheckError
from rlcheck.methods import networks as nets
from rlcheck.methods.loop import Budget, track_episodes
from rlcheck.methods.replay import Replay

DEFAULT_MEMORY_CAP_GB = 8.0  # override with RLCHECK_MEMORY_CAP_GB


def check_continuous(env: EnvSpec, algo: str) -> None:
    if env.discrete:
        raise RLCheckError(
            f"{algo.upper()} needs continuous (Box) actions, but {env.name} has {env.num_actions} discrete "
            "actions. Use --algo ppo or --algo dqn for this environment."
        )
    if not (np.all(np.isfinite(env.action_low)) and np.all(np.isfinite(env.action_high))):
        raise RLCheckError(
            f"{env.name} has unbounded actions (low {env.action_low}, high {env.action_high}); {algo.upper()} "
            "squashes actions into the env's bounds, so it needs finite ones. Wrap the env with finite "
            "action bounds (e.g. clip to the range that is physically meaningful)."
        )


def to_env_action(env: EnvSpec, action: jax.Array) -> jax.Array:
    """[-1, 1] -> [low, high]."""
    return env.action_low + (jnp.clip(action, -1.0, 1.0) + 1.0) * 0.5 * (env.action_high - env.action_low)


def replay_slots(buffer_size: int, budget: Budget, num_envs: int) -> int:
    """Sized by the budget: never hold more transitions than the run will collect."""
    return max(1, min(buffer_size, budget.env_steps) // num_envs)


def replay_bytes(env: EnvSpec, slots: int, num_envs: int, action_size: int) -> int:
    """Bytes of one run's replay buffer (obs + next obs float32, action, reward, two flags)."""
    per_transition = 2 * env.obs_size * 4 + action_size * 4 + 4 + 2
    return slots * num_envs * per_transition


def check_memory(total_bytes: int, runs: int, what: str) -> None:
    cap_gb = float(os.environ.get("RLCHECK_MEMORY_CAP_GB", DEFAULT_MEMORY_CAP_GB))
    if total_bytes > cap_gb * 1e9:
        raise RLCheckError(
            f"The replay buffers of this study would take {total_bytes / 1e9:.1f} GB ({runs} runs x "
            f"{total_bytes / runs / 1e6:.0f} MB for {what}), over the memory cap of {cap_gb:g} GB. Lower "
            "--set buffer_size=..., run fewer seeds or sweep values at once, or raise the cap with "
            "RLCHECK_MEMORY_CAP_GB."
        )


def polyak(target: Any, online: Any, tau: jax.Array) -> Any:
    return jax.tree.map(lambda t, o: (1.0 - tau) * t + tau * o, target, online)


def keep_if(condition: jax.Array, new: Any, old: Any) -> Any:
    """`new` where `condition`, else `old`, leaf by leaf (a vmappable stand-in for lax.cond)."""
    return jax.tree.map(lambda n, o: jnp.where(condition, n, o), new, old)


class TwinQ(nn.Module):
    """`num_critics` independent Q(s, a) MLPs; returns [num_critics, batch]."""

    hidden_sizes: tuple[int, ...]
    activation: str = "relu"
    num_critics: int = 2

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs, action], axis=-1)
        return jnp.stack([nets.MLP(self.hidden_sizes, 1, self.activation)(x)[..., 0] for _ in range(self.num_critics)])


@struct.dataclass
class Collector:
    """The env side of an off-policy learner's state."""

    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    replay: Replay
    env_steps: jax.Array

    @classmethod
    def create(cls, key: jax.Array, env: EnvSpec, num_envs: int, buffer_size: int, budget: Budget) -> Collector:
        obs, env_state = vector.reset(env, key, num_envs)
        slots = replay_slots(buffer_size, budget, num_envs)
        replay = Replay.create(slots, num_envs, obs[0], jnp.zeros(env.num_actions))
        return cls(env_state, obs, jnp.zeros(num_envs), replay, jnp.int32(0))

    def step(self, key: jax.Array, env: EnvSpec, action: jax.Array, reward_scale: jax.Array | float = 1.0):
        """Apply [-1, 1] actions, store the transitions (rewards times `reward_scale`); returns (collector,
        done, finished-return sum, count), the returns unscaled."""
        next_obs, env_state, reward, terminated, truncated, final_obs = vector.step(
            env, key, self.env_state, to_env_action(env, action)
        )
        done = terminated | truncated
        episode_return, finished_sum, finished = track_episodes(self.episode_return, reward, done)
        replay = self.replay.add(self.obs, action, reward * reward_scale, terminated, done, final_obs)
        collector = Collector(env_state, next_obs, episode_return, replay, self.env_steps + action.shape[0])
        return collector, done, finished_sum, finished


def memory_check_for(env: EnvSpec, buffer_size: int, num_envs: int, budget: Budget, runs: int, algo: str) -> None:
    slots = replay_slots(buffer_size, budget, num_envs)
    action_size = 1 if env.discrete else env.num_actions
    check_memory(runs * replay_bytes(env, slots, num_envs, action_size), runs, f"{algo.upper()} on {env.name}")


def exploration_noise(key: jax.Array, previous: jax.Array, config: Any) -> jax.Array:
    """Gaussian noise, or Ornstein-Uhlenbeck noise (dx = -theta x dt + sigma sqrt(dt) dW) if
    `config.noise_type == "ou"`; std/sigma is `config.exploration_noise`, in [-1, 1] action units."""
    white = jax.random.normal(key, previous.shape)
    if config.noise_type == "ou":
        return previous - config.ou_theta * previous * config.ou_dt + config.exploration_noise * jnp.sqrt(config.ou_dt) * white
    return config.exploration_noise * white


class ContinuousOffPolicy(MethodBase):
    """What SAC, TD3/DDPG and NAF share as methods: input checks, replay memory check, iteration size.
    Configs have `num_envs` and `buffer_size`; states have `key`."""

    name: str

    def check(self, env: EnvSpec) -> None:
        check_continuous(env, self.name)

    def check_resources(self, env: EnvSpec, config: Any, budget: Budget, runs: int) -> None:
        memory_check_for(env, config.buffer_size, config.num_envs, budget, runs, self.name)

    def steps_per_iteration(self, config: Any) -> int:
        return config.num_envs

    def eval_key(self, state: Any) -> jax.Array:
        return jax.random.fold_in(state.key, 1)
