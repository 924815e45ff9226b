"""PPO (clipped objective, GAE, advantage normalisation, optional observation normalisation,
linear learning-rate annealing) for discrete and continuous actions.

One iteration (methods/onpolicy.py's template) = collect `num_steps` steps in each of `num_envs`
envs, compute GAE, then `update_epochs` passes over `num_minibatches` shuffled minibatches (`update`
below). Truncated episodes bootstrap from the value of the true final observation; terminated ones do not.
Follows PureJaxRL's `ppo.py` / CleanRL's `ppo.py`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from rlcheck.core.budget import Budget, make_schedule
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import RLCheckError
from rlcheck.methods import networks as nets
from rlcheck.methods.onpolicy import OnPolicy, OnPolicyConfig, OnPolicyState, gae, minibatch_epochs  # noqa: F401 (gae: re-exported)


@struct.dataclass
class PPOConfig(OnPolicyConfig):
    learning_rate: float = numeric(2.5e-4, "Adam step size (annealed linearly to 0 if anneal_lr)")
    clip_eps: float = numeric(0.2, "policy ratio clip range (also clips the value update)")
    ent_coef: float = numeric(0.01, "entropy bonus coefficient")
    vf_coef: float = numeric(0.5, "value loss coefficient")
    max_grad_norm: float = numeric(0.5, "global gradient-norm clip")
    update_epochs: int = static(4, "passes over each rollout")
    num_minibatches: int = static(4, "minibatches per pass")
    anneal_lr: bool = static(True, "anneal the learning rate linearly to 0 over the budget")
    clip_value_loss: bool = static(True, "clip the value update to clip_eps around the old value")


# Defaults per env and where they come from. Anything not listed uses PPOConfig's defaults
# (PureJaxRL / CleanRL classic-control settings).
DEFAULTS: dict[str, dict[str, Any]] = {
    # Any Atari game (ALE, standard preprocessing): CleanRL ppo_atari.py, 8 envs x 128 steps, clip 0.1,
    # a Nature CNN torso then 512 units.
    "atari": dict(num_envs=8, num_steps=128, clip_eps=0.1, hidden_sizes=(512,), activation="relu"),
    # PureJaxRL ppo.py CartPole config; CleanRL ppo.py defaults are the same.
    "CartPole-v1": {},
    # CleanRL ppo.py defaults, as benchmarked by CleanRL on Acrobot-v1 at 500k steps.
    "Acrobot-v1": {},
    # RL Zoo ppo.yml MountainCar-v0: n_envs 16, n_steps 16, gae 0.98, gamma 0.99, ent 0, normalize.
    "MountainCar-v0": dict(num_envs=16, num_steps=16, gae_lambda=0.98, ent_coef=0.0, normalize_obs=True),
    # RL Zoo ppo.yml Pendulum-v1: n_envs 4, n_steps 1024, gae 0.95, gamma 0.9, 10 epochs, lr 1e-3, clip 0.2, ent 0.
    "Pendulum-v1": dict(
        num_steps=1024, gamma=0.9, update_epochs=10, num_minibatches=64, learning_rate=1e-3, ent_coef=0.0,
        anneal_lr=False, normalize_obs=True,
    ),
    # gymnax-blines agents/Breakout-MinAtar/ppo.yaml (the gymnax README's PPO curves): 64 envs x 128 steps,
    # 4 epochs of 8 minibatches, gamma 0.999, 256x256 MLP on the flattened grid, constant lr; lr 1e-3, the
    # rate at which the gymnax README reports about 43 at 10M steps (5e-4 in the yaml gives about 28).
    "Breakout-MinAtar": dict(
        num_envs=64, num_steps=128, update_epochs=4, num_minibatches=8, gamma=0.999, learning_rate=1e-3,
        anneal_lr=False, hidden_sizes=(256, 256), activation="relu",
    ),
}


PPOState = OnPolicyState


class PPO(OnPolicy):
    name = "ppo"
    Config = PPOConfig
    defaults = DEFAULTS

    def validate(self, config: PPOConfig) -> None:
        batch = config.num_envs * config.num_steps
        if min(config.num_envs, config.num_steps, config.num_minibatches, config.update_epochs) < 1 or batch % config.num_minibatches:
            raise RLCheckError(
                f"PPO needs positive num_envs, num_steps, num_minibatches and update_epochs, and a rollout of "
                f"num_envs x num_steps = {batch} that splits evenly into num_minibatches = {config.num_minibatches}. "
                "Change one of them with --set."
            )

    def optimizer(self, config: PPOConfig, budget: Budget) -> optax.GradientTransformation:
        num_iterations = make_schedule(self.steps_per_iteration(config), budget).total_iterations
        updates_per_iteration = config.update_epochs * config.num_minibatches

        def learning_rate(count):
            if not config.anneal_lr:
                return config.learning_rate
            return config.learning_rate * (1.0 - (count // updates_per_iteration) / num_iterations)

        return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(learning_rate, eps=1e-5))

    def update(self, state: PPOState, rollout: dict[str, jax.Array], key: jax.Array, network: nets.ActorCritic,
               config: PPOConfig, budget: Budget):
        """`update_epochs` passes over `num_minibatches` shuffled minibatches of the clipped objective."""
        optimizer = self.optimizer(config, budget)

        def loss_fn(params, mb):
            out, log_std, value = network.apply(params, mb["obs"])
            logp = nets.log_prob(out, log_std, mb["action"], network.factors)
            ratio = jnp.exp(logp - mb["logp"])
            adv = mb["advantage"]
            if config.normalize_advantages:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            policy_loss = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - config.clip_eps, 1 + config.clip_eps) * adv).mean()
            value_error = (value - mb["target"]) ** 2
            if config.clip_value_loss:
                clipped = mb["value"] + jnp.clip(value - mb["value"], -config.clip_eps, config.clip_eps)
                value_error = jnp.maximum(value_error, (clipped - mb["target"]) ** 2)
            value_loss = 0.5 * value_error.mean()
            ent = nets.entropy(out, log_std, network.factors).mean()
            total = policy_loss + config.vf_coef * value_loss - config.ent_coef * ent
            approx_kl = ((ratio - 1) - jnp.log(ratio)).mean()
            return total, dict(policy_loss=policy_loss, value_loss=value_loss, entropy=ent, approx_kl=approx_kl)

        def minibatch_step(train, mb):
            params, opt_state = train
            grads, info = jax.grad(loss_fn, has_aux=True)(params, mb)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), info

        train, key, info = minibatch_epochs(minibatch_step, (state.params, state.opt_state), key, rollout,
                                            config.update_epochs, config.num_minibatches)
        return train, key, jax.tree.map(jnp.mean, info)
