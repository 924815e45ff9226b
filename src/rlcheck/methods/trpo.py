"""TRPO (Schulman et al. 2015): a natural-gradient policy step found by conjugate gradient on
Fisher-vector products, scaled to the KL trust region and checked by a backtracking line search, plus a
value function fitted by Adam; GAE advantages. Discrete and continuous actions.

One iteration = collect `num_steps` steps in each of `num_envs` envs (methods/onpolicy.py's template, as PPO),
compute GAE, take one trust-region policy step, then `critic_epochs` passes of value regression over
`critic_minibatches` minibatches. Follows Stable-Baselines3-contrib's `TRPO` (and Spinning Up's): its
defaults are SB3-contrib's, and the RL Zoo's for MuJoCo.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from jax.flatten_util import ravel_pytree

from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import RLCheckError
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.onpolicy import OnPolicy, OnPolicyConfig, OnPolicyState, minibatch_epochs


@struct.dataclass
class TRPOConfig(OnPolicyConfig):
    num_steps: int = static(512, "steps per env per rollout")
    target_kl: float = numeric(0.01, "trust region: the largest mean KL(old || new) a policy step may take")
    critic_learning_rate: float = numeric(1e-3, "Adam step size of the value function")
    cg_damping: float = numeric(0.1, "damping added to the Fisher matrix in conjugate gradient")
    line_search_shrink: float = numeric(0.8, "backtracking factor of the line search")
    cg_iters: int = static(15, "conjugate-gradient iterations")
    line_search_steps: int = static(10, "line-search candidates (step x shrink^i)")
    critic_epochs: int = static(10, "passes of value regression per rollout")
    critic_minibatches: int = static(16, "minibatches per value pass")


DEFAULTS: dict[str, dict[str, Any]] = {
    # RL Zoo trpo.yml (HalfCheetah and the other MuJoCo tasks): normalize, 2 envs x 1024 steps, 20 critic
    # updates, cg 25, 256x256 ReLU.
    "HalfCheetah-v5": dict(num_envs=2, num_steps=1024, critic_epochs=20, cg_iters=25, hidden_sizes=(256, 256),
                           activation="relu", normalize_obs=True),
    # RL Zoo trpo.yml Pendulum-v1: 2 envs x 1024 steps, gamma 0.9, normalize.
    "Pendulum-v1": dict(num_envs=2, num_steps=1024, gamma=0.9, normalize_obs=True),
}


TRPOState = OnPolicyState


def kl_divergence(old_out, old_log_std, out, log_std, factors: tuple[int, ...] = ()) -> jax.Array:
    """KL(old || new) per sample: (factorised) categorical over logits, or diagonal Gaussian."""
    if log_std is None:
        return nets.categorical_kl(old_out, out, factors)
    var_old, var = jnp.exp(2 * old_log_std), jnp.exp(2 * log_std)
    return jnp.sum(log_std - old_log_std + (var_old + (old_out - out) ** 2) / (2 * var) - 0.5, axis=-1)


def conjugate_gradient(matvec, b: jax.Array, iters: int) -> jax.Array:
    """Solve A x = b for symmetric positive-definite A given as a matrix-vector product."""

    def step(carry, _):
        x, r, p, rr = carry
        ap = matvec(p)
        alpha = rr / (jnp.dot(p, ap) + 1e-10)
        x, r = x + alpha * p, r - alpha * ap
        rr_new = jnp.dot(r, r)
        return (x, r, r + (rr_new / (rr + 1e-10)) * p, rr_new), None

    init = (jnp.zeros_like(b), b, b, jnp.dot(b, b))
    return jax.lax.scan(step, init, None, length=iters)[0][0]


class TRPO(OnPolicy):
    name = "trpo"
    Config = TRPOConfig
    defaults = DEFAULTS

    def check(self, env: EnvSpec) -> None:
        if nets.uses_cnn(env):
            raise RLCheckError(f"TRPO here uses separate actor and critic MLPs; {env.name} has image observations. "
                               "Use PPO for frames.")

    def validate(self, config: TRPOConfig) -> None:
        batch = config.num_envs * config.num_steps
        if min(config.num_envs, config.num_steps, config.critic_minibatches, config.cg_iters, config.line_search_steps) < 1 \
                or batch % config.critic_minibatches:
            raise RLCheckError(
                f"TRPO needs positive num_envs, num_steps, cg_iters, line_search_steps and critic_minibatches, and a "
                f"rollout of num_envs x num_steps = {batch} that splits evenly into critic_minibatches = "
                f"{config.critic_minibatches}. Change one of them with --set."
            )

    def optimizer(self, config: TRPOConfig, budget: Budget) -> optax.GradientTransformation:
        """The value function's Adam (the policy step is the trust-region one, not an optimizer's)."""
        return optax.adam(config.critic_learning_rate)

    def update(self, state: TRPOState, rollout: dict[str, jax.Array], key: jax.Array, network: nets.ActorCritic,
               config: TRPOConfig, budget: Budget):
        """One trust-region policy step, then `critic_epochs` passes of value regression."""
        adv = rollout["advantage"]
        if config.normalize_advantages:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)

        # --- policy: natural gradient by conjugate gradient, scaled to the trust region ------------
        old_out, old_log_std, _ = network.apply(state.params, rollout["obs"])
        flat_params, unravel = ravel_pytree(state.params)

        def surrogate(theta):
            out, log_std, _ = network.apply(unravel(theta), rollout["obs"])
            return jnp.mean(jnp.exp(nets.log_prob(out, log_std, rollout["action"], network.factors) - rollout["logp"]) * adv)

        def mean_kl(theta):
            out, log_std, _ = network.apply(unravel(theta), rollout["obs"])
            return jnp.mean(kl_divergence(old_out, old_log_std, out, log_std, network.factors))

        def fisher_vector(v):  # Hessian of the KL at the old policy times v: the Fisher matrix, damped
            return jax.jvp(jax.grad(mean_kl), (flat_params,), (v,))[1] + config.cg_damping * v

        old_objective, gradient = jax.value_and_grad(surrogate)(flat_params)
        direction = conjugate_gradient(fisher_vector, gradient, config.cg_iters)
        step_size = jnp.sqrt(2 * config.target_kl / (jnp.dot(direction, fisher_vector(direction)) + 1e-10))
        full_step = step_size * direction

        # --- backtracking line search: the largest candidate inside the region that improves -------
        fractions = config.line_search_shrink ** jnp.arange(config.line_search_steps)
        candidates = flat_params[None] + fractions[:, None] * full_step[None]
        objectives = jax.vmap(surrogate)(candidates)
        kls = jax.vmap(mean_kl)(candidates)
        accept = (kls <= config.target_kl) & (objectives > old_objective) & jnp.all(jnp.isfinite(candidates), axis=-1)
        chosen = jnp.argmax(accept)  # the first accepted (largest step); none accepted -> keep the old policy
        new_flat = jnp.where(jnp.any(accept), candidates[chosen], flat_params)
        params = unravel(new_flat)

        # --- value function: Adam regression on the GAE returns ----------------------------------
        optimizer = self.optimizer(config, budget)

        def value_loss(params, mb):
            _, _, value = network.apply(params, mb["obs"])
            return 0.5 * jnp.mean((value - mb["target"]) ** 2)

        def critic_step(train, mb):
            params, opt_state = train
            loss, grads = jax.value_and_grad(value_loss)(params, mb)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        train, key, losses = minibatch_epochs(critic_step, (params, state.opt_state), key,
                                              dict(obs=rollout["obs"], target=rollout["target"]),
                                              config.critic_epochs, config.critic_minibatches)
        diagnostics = dict(value_loss=losses.mean(), kl=jnp.where(jnp.any(accept), kls[chosen], 0.0),
                           step_accepted=jnp.any(accept).astype(jnp.float32),
                           surrogate_gain=jnp.where(jnp.any(accept), objectives[chosen] - old_objective, 0.0))
        return train, key, diagnostics
