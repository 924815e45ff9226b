"""TD3: a deterministic tanh actor, twin critics (the smaller target is used), target policy
smoothing, and actor and target updates every `policy_delay` critic updates. Exploration adds
Gaussian or Ornstein-Uhlenbeck noise; the loop is methods/offpolicy.py's. DDPG is the same loop with one critic, no smoothing and no
delay (see `ddpg.py`), as in Stable-Baselines3. Follows CleanRL's `td3_continuous_action.py`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.offpolicy import (
    Collector,
    NoisyConfig,
    NoisyExploration,
    TwinQ,
    fused_adam,
    init_actor_critic,
    keep_if,
    polyak,
)


@struct.dataclass
class TD3Config(NoisyConfig):
    """SB3's TD3 defaults: those of SAC but Adam 1e-3, Gaussian noise 0.1 (gradient_steps counts critic updates)."""

    learning_rate: float = numeric(1e-3, "Adam step size of actor and critics")
    target_policy_noise: float = numeric(0.2, "std of target policy smoothing noise (0 = none)")
    target_noise_clip: float = numeric(0.5, "clip of the smoothing noise")
    policy_delay: int = static(2, "critic updates per actor and target update")
    num_critics: int = static(2, "2 = clipped double-Q (TD3); 1 = DDPG")


# RL Baselines3 Zoo td3.yml Pendulum-v1: 20k steps, gamma 0.98, buffer 200k, learning_starts 10k,
# normal noise 0.1, lr 1e-3, net 400x300, one update per step.
ZOO_PENDULUM = dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, exploration_noise=0.1,
                    learning_rate=1e-3, hidden_sizes=(400, 300))
DEFAULTS: dict[str, dict[str, Any]] = {
    "Pendulum-v1": ZOO_PENDULUM,
    # RL Zoo td3.yml MountainCarContinuous-v0: 300k steps, OU noise 0.5.
    "MountainCarContinuous-v0": dict(noise_type="ou", exploration_noise=0.5),
}


class Actor(nets.ActionHead):
    @nn.compact
    def __call__(self, obs):
        return jnp.tanh(nets.MLP(self.hidden_sizes, self.action_dim, self.activation)(obs))


@struct.dataclass
class TD3State:
    actor: Any
    target_actor: Any
    critic: Any
    target_critic: Any
    actor_opt: Any
    critic_opt: Any
    noise: jax.Array  # OU noise state per env
    updates: jax.Array  # critic updates so far (for the policy delay)
    collector: Collector
    key: jax.Array


class TD3(NoisyExploration):
    name = "td3"
    Config = TD3Config
    defaults = DEFAULTS
    trains = ("actor", "target_actor", "critic", "target_critic", "actor_opt", "critic_opt", "updates")

    def networks(self, env: EnvSpec, config: TD3Config):
        return (Actor(env.num_actions, config.hidden_sizes, config.activation),
                TwinQ(config.hidden_sizes, config.activation, config.num_critics))

    def init(self, key: jax.Array, env: EnvSpec, config: TD3Config, budget: Budget) -> TD3State:
        self.check(env)
        key, actor, critic, collector = init_actor_critic(key, self.networks(env, config), env, config, budget)
        opt = fused_adam(config.learning_rate)
        return TD3State(
            actor=actor, target_actor=actor, critic=critic, target_critic=critic,
            actor_opt=opt.init(actor), critic_opt=opt.init(critic),
            noise=jnp.zeros((config.num_envs, env.num_actions)), updates=jnp.int32(0), collector=collector, key=key,
        )

    def greedy(self, state: TD3State, env: EnvSpec, config: TD3Config, obs: jax.Array) -> jax.Array:
        return self.networks(env, config)[0].apply(state.actor, obs)

    def update(self, state: TD3State, col: Collector, env: EnvSpec, config: TD3Config, budget: Budget):
        """One critic step; the actor and targets step every `policy_delay`-th."""
        actor_net, critic_net = self.networks(env, config)
        opt = fused_adam(config.learning_rate)

        def step(carry, key):
            actor, target_actor, critic, target_critic, actor_opt, critic_opt, updates = carry
            sample_key, smooth_key = jax.random.split(key)
            obs, action, reward, next_obs, discount = col.replay.sample(sample_key, config.batch_size, 1, config.gamma)

            smoothing = jnp.clip(config.target_policy_noise * jax.random.normal(smooth_key, action.shape),
                                 -config.target_noise_clip, config.target_noise_clip)
            next_action = jnp.clip(actor_net.apply(target_actor, next_obs) + smoothing, -1.0, 1.0)
            next_q = jnp.min(critic_net.apply(target_critic, next_obs, next_action), axis=0)
            target = jax.lax.stop_gradient(reward + discount * next_q)

            def critic_loss(params):
                q = critic_net.apply(params, obs, action)
                return jnp.sum(jnp.mean((q - target) ** 2, axis=-1)), q.mean()

            (c_loss, q_mean), grads = jax.value_and_grad(critic_loss, has_aux=True)(critic)
            new_updates, critic_opt = opt.update(grads, critic_opt, critic)
            critic = optax.apply_updates(critic, new_updates)
            updates = updates + 1

            # delayed actor and target updates (computed every step, kept every policy_delay-th)
            def actor_loss(params):
                return -critic_net.apply(critic, obs, actor_net.apply(params, obs))[0].mean()

            a_loss, grads = jax.value_and_grad(actor_loss)(actor)
            actor_updates, new_actor_opt = opt.update(grads, actor_opt, actor)
            delayed = (updates % config.policy_delay) == 0
            actor, actor_opt = keep_if(delayed, (optax.apply_updates(actor, actor_updates), new_actor_opt), (actor, actor_opt))
            target_actor = keep_if(delayed, polyak(target_actor, actor, config.tau), target_actor)
            target_critic = keep_if(delayed, polyak(target_critic, critic, config.tau), target_critic)
            info = dict(critic_loss=c_loss, actor_loss=a_loss, q_mean=q_mean)
            return (actor, target_actor, critic, target_critic, actor_opt, critic_opt, updates), info

        return step
