"""What the off-policy learners (SAC, TD3/DDPG, NAF, DQN/Rainbow) share: the iteration template
(`OffPolicy.iterate`), one collection step into replay, replay sizing against a memory cap, and
target tracking; for continuous control also action scaling, input checks and exploration.
Continuous actions live in [-1, 1] inside the learners and the replay buffer; only the env sees its bounds."""

from __future__ import annotations

import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from rlcheck.core.actions import to_env_action
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.contracts import KeyedMethod
from rlcheck.core.errors import RLCheckError
from rlcheck.core.trace import IterationLog
from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.loop import track_episodes
from rlcheck.methods.replay import Replay

DEFAULT_MEMORY_CAP_GB = 8.0  # override with RLCHECK_MEMORY_CAP_GB


@struct.dataclass
class OffPolicyConfig:
    """The settings every off-policy learner has, those the iteration template reads among them (as
    Stable-Baselines3's OffPolicyAlgorithm); the defaults are SB3's SAC. A learner's config subclasses it,
    overriding the defaults its own reference sets otherwise, and adds its own."""

    learning_rate: float = numeric(3e-4, "Adam step size of every network it trains")
    gamma: float = numeric(0.99, "discount factor")
    reward_scale: float = numeric(1.0, "training rewards are multiplied by this (returns are reported unscaled)")
    tau: float = numeric(0.005, "target-network Polyak rate at each target update (1.0 = hard copy)")
    num_envs: int = static(1, "parallel envs per seed (env steps per iteration)")
    buffer_size: int = static(1_000_000, "replay capacity in transitions (capped at the budget)")
    batch_size: int = static(256, "minibatch size")
    learning_starts: int = static(100, "env steps of random actions before learning")
    gradient_steps: int = static(1, "gradient updates per iteration")
    hidden_sizes: tuple[int, ...] = static((256, 256), "hidden layer widths")
    activation: str = static("relu", "tanh or relu")


@struct.dataclass
class NoisyConfig(OffPolicyConfig):
    """Exploration by noise on a deterministic actor (TD3, DDPG, NAF): see `NoisyExploration`."""

    exploration_noise: float = numeric(0.1, "std of exploration noise (normal) or OU sigma, in [-1, 1] action units")
    ou_theta: float = numeric(0.15, "Ornstein-Uhlenbeck mean reversion (noise_type=ou)")
    ou_dt: float = numeric(1e-2, "Ornstein-Uhlenbeck time step (noise_type=ou)")
    noise_type: str = static("normal", "exploration noise: normal or ou")


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


def fused_adam(learning_rate: Any) -> Any:
    """Adam over the flattened parameters: one fused update loop, not one per layer (dispatch-bound on CPU)."""
    return optax.flatten(optax.adam(learning_rate))


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
        replay = Replay.create(slots, num_envs, obs[0], jnp.int32(0) if env.discrete else jnp.zeros(env.num_actions))
        return cls(env_state, obs, jnp.zeros(num_envs), replay, jnp.int32(0))

    def step(self, key: jax.Array, env: EnvSpec, action: jax.Array, reward_scale: jax.Array | float = 1.0):
        """Apply the actions (continuous: in [-1, 1]), store the transitions (rewards times `reward_scale`);
        returns (collector, done, finished-return sum, count), the returns unscaled."""
        next_obs, env_state, reward, terminated, truncated, final_obs = vector.step(
            env, key, self.env_state, action if env.discrete else to_env_action(env, action)
        )
        done = terminated | truncated
        episode_return, finished_sum, finished = track_episodes(self.episode_return, reward, done)
        replay = self.replay.add(self.obs, action, reward * reward_scale, terminated, done, final_obs)
        collector = Collector(env_state, next_obs, episode_return, replay, self.env_steps + action.shape[0])
        return collector, done, finished_sum, finished


def init_actor_critic(key: jax.Array, networks: tuple[nn.Module, nn.Module], env: EnvSpec, config: OffPolicyConfig, budget: Budget):
    """(key, actor params, critic params, collector): how SAC and TD3/DDPG start."""
    key, actor_key, critic_key, env_key = jax.random.split(key, 4)
    actor_net, critic_net = networks
    obs = jnp.zeros((1,) + env.obs_shape)
    actor = actor_net.init(actor_key, obs)
    critic = critic_net.init(critic_key, obs, jnp.zeros((1, env.num_actions)))
    return key, actor, critic, Collector.create(env_key, env, config.num_envs, config.buffer_size, budget)


def memory_check_for(env: EnvSpec, buffer_size: int, num_envs: int, budget: Budget, runs: int, algo: str) -> None:
    slots = replay_slots(buffer_size, budget, num_envs)
    action_size = 1 if env.discrete else env.num_actions
    check_memory(runs * replay_bytes(env, slots, num_envs, action_size), runs, f"{algo.upper()} on {env.name}")


def exploration_noise(key: jax.Array, previous: jax.Array, config: NoisyConfig) -> jax.Array:
    """Gaussian noise, or Ornstein-Uhlenbeck noise (dx = -theta x dt + sigma sqrt(dt) dW) if
    `config.noise_type == "ou"`; std/sigma is `config.exploration_noise`, in [-1, 1] action units."""
    white = jax.random.normal(key, previous.shape)
    if config.noise_type == "ou":
        return previous - config.ou_theta * previous * config.ou_dt + config.exploration_noise * jnp.sqrt(config.ou_dt) * white
    return config.exploration_noise * white


class OffPolicy(KeyedMethod):
    """The off-policy iteration template (SAC, TD3/DDPG, NAF, DQN/Rainbow). One iteration: act with the
    algorithm's exploration, step each env once into replay, make `gradient_steps` updates in a scan,
    keep them only once learning has started, and log the updates' diagnostics (NaN until then).

    An algorithm supplies
      explore(state, env, config, budget, keys) -> (action, explored)   keys: (explore, random, *extra_keys)
      update(state, collector, env, config, budget) -> step             step(carry, key) -> (carry, info)
      trains                                                           the state fields the carry holds, in order
    and may override
      trained(state, config, collector) and advance(state, config, trained, collector, explored, done, key):
                                   the carry and the next state, where the carry is not just `trains`
      collector(state)             the env side of its state (default `state.collector`)
      learning(collector, config)  whether the updates count (default: from `learning_starts` env steps on)
      explore_log(explored)        diagnostics logged even before learning
    Configs have num_envs, buffer_size, gradient_steps, learning_starts and reward_scale."""

    name: str
    trains: tuple[str, ...] = ()
    extra_keys: int = 0  # keys beyond (explore, random) that `explore` draws from

    def check_resources(self, env: EnvSpec, config: OffPolicyConfig, budget: Budget, runs: int) -> None:
        memory_check_for(env, config.buffer_size, config.num_envs, budget, runs, self.name)

    def steps_per_iteration(self, config: OffPolicyConfig) -> int:
        return config.num_envs

    def collector(self, state: Any) -> Collector:
        return state.collector

    def trained(self, state: Any, config: OffPolicyConfig, collector: Collector) -> tuple:
        return tuple(getattr(state, name) for name in self.trains)

    def advance(self, state: Any, config: OffPolicyConfig, trained: tuple, collector: Collector, explored: Any, done: jax.Array,
                key: jax.Array) -> Any:
        return state.replace(**dict(zip(self.trains, trained, strict=True)), collector=collector, key=key)

    def learning(self, collector: Collector, config: OffPolicyConfig) -> jax.Array:
        return collector.env_steps >= config.learning_starts

    def explore_log(self, explored: Any) -> dict[str, jax.Array]:
        return {}

    def iterate(self, state: Any, env: EnvSpec, config: OffPolicyConfig, budget: Budget) -> tuple[Any, IterationLog]:
        key, explore_key, random_key, step_key, update_key, *extra_keys = jax.random.split(state.key, 5 + self.extra_keys)

        # --- act: the algorithm's exploration; store one transition per env --------------------
        action, explored = self.explore(state, env, config, budget, (explore_key, random_key, *extra_keys))
        collector, done, finished_sum, finished = self.collector(state).step(step_key, env, action, config.reward_scale)

        # --- learn: gradient_steps updates on replay, kept only once learning has started -------
        old = self.trained(state, config, collector)
        new, info = jax.lax.scan(self.update(state, collector, env, config, budget), old,
                                 jax.random.split(update_key, config.gradient_steps))
        learning = self.learning(collector, config)
        trained = keep_if(learning, new, old)

        new_state = self.advance(state, config, trained, collector, explored, done, key)
        nan = jnp.float32(jnp.nan)
        log = IterationLog(
            episode_return_sum=finished_sum, episodes_finished=finished,
            diagnostics={**{k: jnp.where(learning, v.mean(), nan) for k, v in info.items()}, **self.explore_log(explored)},
        )
        return new_state, log


class ContinuousOffPolicy(OffPolicy):
    """SAC, TD3/DDPG and NAF: continuous actions, uniform random ones until `learning_starts`, then the
    algorithm's `behaviour(state, env, config, key) -> (action in [-1, 1], explored)`; the greedy policy
    is `greedy(state, env, config, obs)` in [-1, 1]. States have `collector` and `key`."""

    def check(self, env: EnvSpec) -> None:
        check_continuous(env, self.name)

    def act(self, state: Any, env: EnvSpec, config: Any, obs: jax.Array) -> jax.Array:
        return to_env_action(env, self.greedy(state, env, config, obs))

    def sample(self, state: Any, env: EnvSpec, config: Any, budget: Budget, obs: jax.Array, key: jax.Array) -> jax.Array:
        """The policy as it acts in training, after `learning_starts` (`sampled`, in [-1, 1])."""
        return to_env_action(env, self.sampled(state, env, config, obs, key))

    def explore(self, state: Any, env: EnvSpec, config: Any, budget: Budget, keys) -> tuple[jax.Array, Any]:
        act_key, random_key = keys
        policy_action, explored = self.behaviour(state, env, config, act_key)
        random_action = jax.random.uniform(random_key, policy_action.shape, minval=-1.0, maxval=1.0)
        return jnp.where(state.collector.env_steps < config.learning_starts, random_action, policy_action), explored


class NoisyExploration(ContinuousOffPolicy):
    """TD3/DDPG and NAF: explore with the greedy action plus Gaussian or Ornstein-Uhlenbeck noise
    (`exploration_noise`), whose state (`state.noise`, per env) restarts with each episode."""

    def behaviour(self, state: Any, env: EnvSpec, config: NoisyConfig, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        noise = exploration_noise(key, state.noise, config)
        return jnp.clip(self.greedy(state, env, config, state.collector.obs) + noise, -1.0, 1.0), noise

    def sampled(self, state: Any, env: EnvSpec, config: NoisyConfig, obs: jax.Array, key: jax.Array) -> jax.Array:
        """The greedy action plus one draw of the exploration noise from rest (Gaussian: its full std)."""
        noise = exploration_noise(key, jnp.zeros((obs.shape[0], env.num_actions)), config)
        return jnp.clip(self.greedy(state, env, config, obs) + noise, -1.0, 1.0)

    def advance(self, state: Any, config: NoisyConfig, trained: tuple, collector: Collector, noise: jax.Array, done: jax.Array,
                key: jax.Array) -> Any:
        state = super().advance(state, config, trained, collector, noise, done, key)
        return state.replace(noise=jnp.where(done[:, None], 0.0, noise))
