"""SAC: twin critics with Polyak-averaged targets, a tanh-squashed Gaussian actor, and automatic
entropy tuning toward a target entropy of -action_dim. The loop is methods/offpolicy.py's: uniform
random actions until `learning_starts`, then `gradient_steps` updates (`SAC.update`) per iteration.
Follows CleanRL's `sac_continuous_action.py` and Stable-Baselines3's SAC.
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
    ContinuousOffPolicy,
    OffPolicyConfig,
    TwinQ,
    fused_adam,
    init_actor_critic,
    polyak,
)

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


@struct.dataclass
class SACConfig(OffPolicyConfig):
    """SB3's SAC defaults (those of OffPolicyConfig), the temperature learned as well."""

    init_alpha: float = numeric(1.0, "initial entropy temperature (the fixed one if autotune is off)")
    target_entropy_scale: float = numeric(1.0, "target entropy = -scale * action_dim")
    autotune: bool = static(True, "learn the entropy temperature")


DEFAULTS: dict[str, dict[str, Any]] = {
    # RL Baselines3 Zoo sac.yml Pendulum-v1: 20k steps, learning_rate 1e-3, otherwise SB3 defaults.
    "Pendulum-v1": dict(learning_rate=1e-3),
    # RL Zoo sac.yml MountainCarContinuous-v0 (without gSDE, which rlcheck does not implement):
    # lr 3e-4, buffer 50k, batch 512, ent_coef 0.1 fixed, 32 updates every 32 steps, gamma 0.9999,
    # tau 0.01, learning_starts 0, net 64x64.
    "MountainCarContinuous-v0": dict(
        buffer_size=50_000, batch_size=512, init_alpha=0.1, autotune=False, num_envs=1, gradient_steps=1,
        gamma=0.9999, tau=0.01, learning_starts=0, hidden_sizes=(64, 64),
    ),
}


class Actor(nets.ActionHead):
    @nn.compact
    def __call__(self, obs):
        out = nets.MLP(self.hidden_sizes, 2 * self.action_dim, self.activation)(obs)
        mean, log_std = jnp.split(out, 2, axis=-1)
        return mean, jnp.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)


def squashed_sample(key, mean, log_std):
    """tanh(Gaussian) action in [-1, 1] and its log-probability (with the tanh Jacobian)."""
    pre = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
    action = jnp.tanh(pre)
    logp = nets.log_prob(mean, log_std, pre) - jnp.sum(jnp.log(1.0 - action**2 + 1e-6), axis=-1)
    return action, logp


@struct.dataclass
class SACState:
    actor: Any
    critic: Any
    target_critic: Any
    log_alpha: jax.Array
    actor_opt: Any
    critic_opt: Any
    alpha_opt: Any
    collector: Collector
    key: jax.Array


class SAC(ContinuousOffPolicy):
    name = "sac"
    Config = SACConfig
    defaults = DEFAULTS
    trains = ("actor", "critic", "target_critic", "log_alpha", "actor_opt", "critic_opt", "alpha_opt")

    def networks(self, env: EnvSpec, config: SACConfig):
        return Actor(env.num_actions, config.hidden_sizes, config.activation), TwinQ(config.hidden_sizes, config.activation)

    def init(self, key: jax.Array, env: EnvSpec, config: SACConfig, budget: Budget) -> SACState:
        self.check(env)
        key, actor, critic, collector = init_actor_critic(key, self.networks(env, config), env, config, budget)
        log_alpha = jnp.log(jnp.asarray(config.init_alpha, jnp.float32))
        opt = fused_adam(config.learning_rate)
        return SACState(
            actor=actor, critic=critic, target_critic=critic, log_alpha=log_alpha,
            actor_opt=opt.init(actor), critic_opt=opt.init(critic), alpha_opt=opt.init(log_alpha),
            collector=collector, key=key,
        )

    def greedy(self, state: SACState, env: EnvSpec, config: SACConfig, obs: jax.Array) -> jax.Array:
        mean, _ = self.networks(env, config)[0].apply(state.actor, obs)
        return jnp.tanh(mean)

    def behaviour(self, state: SACState, env: EnvSpec, config: SACConfig, key: jax.Array):
        """After learning_starts: a sample of the squashed Gaussian policy."""
        mean, log_std = self.networks(env, config)[0].apply(state.actor, state.collector.obs)
        return squashed_sample(key, mean, log_std)[0], None

    def sampled(self, state: SACState, env: EnvSpec, config: SACConfig, obs: jax.Array, key: jax.Array) -> jax.Array:
        mean, log_std = self.networks(env, config)[0].apply(state.actor, obs)
        return squashed_sample(key, mean, log_std)[0]

    def update(self, state: SACState, col: Collector, env: EnvSpec, config: SACConfig, budget: Budget):
        """One gradient step: critics, actor, temperature, then the target critics."""
        actor_net, critic_net = self.networks(env, config)
        opt = fused_adam(config.learning_rate)
        target_entropy = -config.target_entropy_scale * env.num_actions

        def step(carry, key):
            actor, critic, target_critic, log_alpha, actor_opt, critic_opt, alpha_opt = carry
            sample_key, next_key, pi_key = jax.random.split(key, 3)
            obs, action, reward, next_obs, discount = col.replay.sample(sample_key, config.batch_size, 1, config.gamma)
            alpha = jnp.exp(log_alpha)

            next_action, next_logp = squashed_sample(next_key, *actor_net.apply(actor, next_obs))
            next_q = jnp.min(critic_net.apply(target_critic, next_obs, next_action), axis=0) - alpha * next_logp
            target = jax.lax.stop_gradient(reward + discount * next_q)

            def critic_loss(params):
                q = critic_net.apply(params, obs, action)
                return 0.5 * jnp.sum(jnp.mean((q - target) ** 2, axis=-1)), q.mean()

            (c_loss, q_mean), grads = jax.value_and_grad(critic_loss, has_aux=True)(critic)
            updates, critic_opt = opt.update(grads, critic_opt, critic)
            critic = optax.apply_updates(critic, updates)

            def actor_loss(params):
                pi_action, logp = squashed_sample(pi_key, *actor_net.apply(params, obs))
                q = jnp.min(critic_net.apply(critic, obs, pi_action), axis=0)
                return jnp.mean(alpha * logp - q), logp

            (a_loss, logp), grads = jax.value_and_grad(actor_loss, has_aux=True)(actor)
            updates, actor_opt = opt.update(grads, actor_opt, actor)
            actor = optax.apply_updates(actor, updates)

            if config.autotune:
                entropy_gap = jax.lax.stop_gradient(logp + target_entropy).mean()
                grad = -entropy_gap  # d/d(log_alpha) of -log_alpha * (logp + target_entropy)
                updates, alpha_opt = opt.update(grad, alpha_opt, log_alpha)
                log_alpha = optax.apply_updates(log_alpha, updates)

            target_critic = polyak(target_critic, critic, config.tau)
            info = dict(critic_loss=c_loss, actor_loss=a_loss, q_mean=q_mean, alpha=jnp.exp(log_alpha), entropy=-logp.mean())
            return (actor, critic, target_critic, log_alpha, actor_opt, critic_opt, alpha_opt), info

        return step
