"""Replay buffer on device: a ring of `slots` time steps x `num_envs` envs, sampled uniformly or in
proportion to priorities (prioritised replay, Schaul et al. 2016), with optional n-step returns that
stop at episode ends (bootstrapping only past truncations)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class Replay:
    obs: jax.Array  # [slots, envs, *obs_shape]
    action: jax.Array  # [slots, envs, *action_shape]
    reward: jax.Array  # [slots, envs]
    terminated: jax.Array  # [slots, envs]
    done: jax.Array  # [slots, envs] terminated or truncated
    next_obs: jax.Array  # [slots, envs, *obs_shape] true next observation (pre-reset)
    priority: jax.Array  # [slots, envs] prioritised replay: new transitions get the largest seen so far
    max_priority: jax.Array  # running max of recorded priorities (as Dopamine's sum tree): no per-step reduction
    pos: jax.Array  # next slot to write
    size: jax.Array  # filled slots

    @classmethod
    def create(cls, slots: int, num_envs: int, obs_example: jax.Array, action_example: jax.Array) -> Replay:
        def zeros(x):
            return jnp.zeros((slots, num_envs) + x.shape, x.dtype)

        return cls(
            obs=zeros(obs_example), action=zeros(action_example),
            reward=jnp.zeros((slots, num_envs)), terminated=jnp.zeros((slots, num_envs), bool),
            done=jnp.zeros((slots, num_envs), bool), next_obs=zeros(obs_example),
            priority=jnp.zeros((slots, num_envs)), max_priority=jnp.float32(1.0), pos=jnp.int32(0), size=jnp.int32(0),
        )

    @property
    def slots(self) -> int:
        return self.reward.shape[0]

    def add(self, obs, action, reward, terminated, done, next_obs) -> Replay:
        i = self.pos
        return self.replace(
            obs=self.obs.at[i].set(obs), action=self.action.at[i].set(action),
            reward=self.reward.at[i].set(reward), terminated=self.terminated.at[i].set(terminated),
            done=self.done.at[i].set(done), next_obs=self.next_obs.at[i].set(next_obs),
            priority=self.priority.at[i].set(self.max_priority),
            pos=(i + 1) % self.slots, size=jnp.minimum(self.size + 1, self.slots),
        )

    def set_priority(self, start: jax.Array, env: jax.Array, priority: jax.Array) -> Replay:
        return self.replace(priority=self.priority.at[start, env].set(priority),
                            max_priority=jnp.maximum(self.max_priority, priority.max()))

    def sample_indices(self, key: jax.Array, batch_size: int, n_step: int, exponent: jax.Array | None = None):
        """(start slot, env, probability) of `batch_size` transitions whose n steps are all written:
        uniform, or with probability proportional to priority ** exponent."""
        num_envs = self.reward.shape[1]
        valid = jnp.maximum(self.size - (n_step - 1), 1)
        oldest = (self.pos - self.size) % self.slots
        if exponent is None:
            time_key, env_key = jax.random.split(key)
            start = (oldest + jax.random.randint(time_key, (batch_size,), 0, valid)) % self.slots
            env = jax.random.randint(env_key, (batch_size,), 0, num_envs)
            return start, env, jnp.full((batch_size,), 1.0 / (valid * num_envs))
        age = (jnp.arange(self.slots) - oldest) % self.slots  # 0 for the oldest written slot
        weight = jnp.where((age < valid)[:, None], self.priority ** exponent, 0.0).reshape(-1)
        probability = weight / weight.sum()
        flat = jax.random.choice(key, weight.shape[0], (batch_size,), p=probability)
        return flat // num_envs, flat % num_envs, probability[flat]

    def sample(self, key: jax.Array, batch_size: int, n_step: int, gamma: jax.Array):
        """Uniform: (obs, action, n-step discounted reward, bootstrap obs, bootstrap discount)."""
        start, env, _ = self.sample_indices(key, batch_size, n_step)
        return self.gather(start, env, n_step, gamma)

    def gather(self, start: jax.Array, env: jax.Array, n_step: int, gamma: jax.Array):
        """The transitions starting at (start, env). The bootstrap discount is gamma^k for the k steps
        used, and 0 after a termination."""
        batch_size = start.shape[0]
        steps = (start[:, None] + jnp.arange(n_step)[None, :]) % self.slots  # [B, n]
        reward = self.reward[steps, env[:, None]]
        done = self.done[steps, env[:, None]]
        # step k counts only if no episode ended before it
        alive = jnp.cumprod(jnp.concatenate([jnp.ones((batch_size, 1)), 1.0 - done[:, :-1]], axis=1), axis=1)
        discounts = gamma ** jnp.arange(n_step)
        n_step_reward = jnp.sum(alive * discounts * reward, axis=1)
        used = jnp.sum(alive, axis=1).astype(jnp.int32)  # steps used, 1..n
        last = steps[jnp.arange(batch_size), used - 1]
        not_terminated = 1.0 - self.terminated[last, env].astype(jnp.float32)
        return (
            self.obs[start, env], self.action[start, env], n_step_reward,
            self.next_obs[last, env], gamma**used * not_terminated,
        )
