"""Model-predictive control with the true model: at every real step, roll the env's own step
function out from a copy of the current state for many candidate action sequences (vmapped), and
act with the first action of the plan. Variants: predictive sampling (keep the best sequence),
MPPI (exponentially weighted average), CEM-MPC (refit a Gaussian to the elite sequences). The plan is
warm-started by shifting the previous one. No env step is used for learning; every simulated step
is a model call, and the report shows model calls per episode.

Discrete actions: candidate sequences are drawn uniformly, plus the shifted previous best.
MuJoCo envs run through Gymnasium plan on the host from the simulator's saved state (mpc_host.py)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.baselines.planner import NotApplicable, Planner, require_jax_model
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.config import numeric, static
from rlcheck.methods.offpolicy import to_env_action


@struct.dataclass
class MPCConfig:
    noise_std: float = numeric(0.5, "std of action-sequence noise, in [-1, 1] action units")
    temperature: float = numeric(1.0, "MPPI: softmax temperature on returns")
    elite_fraction: float = numeric(0.1, "CEM-MPC: fraction of samples refitted")
    variant: str = static("mppi", "sampling (predictive sampling), mppi or cem")
    num_samples: int = static(128, "candidate action sequences per real step")
    horizon: int = static(30, "planning horizon in env steps")
    iterations: int = static(1, "CEM-MPC: refits per real step (others: 1)")


DEFAULTS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {"variant": "sampling", "num_samples": 64, "horizon": 40},
}


class MPC(Planner):
    name = "mpc"
    Config = MPCConfig
    defaults = DEFAULTS

    def run_host(self, env: EnvSpec, configs, seeds, budget, progress=None):
        """Python envs: MPC in numpy over MuJoCo's save/restore (baselines/mpc_host.py)."""
        from rlcheck.baselines.mpc_host import run_host_mpc

        return run_host_mpc(self, env, configs, seeds, budget, progress)

    def check(self, env: EnvSpec) -> None:
        from rlcheck.envs.host import HostEnv

        if isinstance(env.env, HostEnv):  # MuJoCo through Gymnasium: state save/restore (mpc_host.py)
            from rlcheck.baselines.mpc_host import check_mujoco

            check_mujoco(env)
            return
        require_jax_model(env, "MPC")
        _, state = env.env.reset_env(jax.random.PRNGKey(0), env.params)
        if not all(hasattr(leaf, "shape") or isinstance(leaf, int | float) for leaf in jax.tree.leaves(state)):
            raise NotApplicable(f"MPC needs to copy {env.name}'s state to plan from it, and its state is not an array pytree.")

    def setup(self, env: EnvSpec, config: MPCConfig) -> dict[str, Any]:
        if config.variant not in ("sampling", "mppi", "cem"):
            raise NotApplicable(f"Unknown MPC variant {config.variant!r}: use sampling, mppi or cem.")
        return {}

    def init_carry(self, params, env: EnvSpec, config: MPCConfig, obs):
        shape = (config.horizon,) if env.discrete else (config.horizon, env.num_actions)
        return jnp.zeros(shape, jnp.int32 if env.discrete else jnp.float32)

    def _returns(self, env: EnvSpec, state, plans: jax.Array, key: jax.Array) -> jax.Array:
        """Undiscounted model return of each plan from `state` (stops counting at a terminal state)."""

        def one(plan, key):
            def step(carry, inputs):
                state, alive, total = carry
                action, k = inputs
                a = action if env.discrete else to_env_action(env, action)
                _, state, reward, done, _ = env.env.step_env(k, state, a, env.params)
                total = total + jnp.where(alive, reward, 0.0)
                return (state, alive & ~jnp.asarray(done, bool), total), None

            keys = jax.random.split(key, config_horizon(plan))
            (_, _, total), _ = jax.lax.scan(step, (state, jnp.bool_(True), jnp.float32(0.0)), (plan, keys))
            return total

        return jax.vmap(one)(plans, jax.random.split(key, plans.shape[0]))

    def plan(self, params, env: EnvSpec, config: MPCConfig, obs, env_state, carry, key):
        n, h = config.num_samples, config.horizon
        sample_key, rollout_key = jax.random.split(key)
        shifted = jnp.concatenate([carry[1:], carry[-1:]])
        if env.discrete:
            plans = jax.random.randint(sample_key, (n, h), 0, env.num_actions).at[0].set(shifted)
            returns = self._returns(env, env_state, plans, rollout_key)
            best = plans[jnp.argmax(returns)]
            return best[0], best, jnp.int32(n * h)

        mean, std = shifted, jnp.full_like(shifted, config.noise_std)
        for i in range(config.iterations if config.variant == "cem" else 1):
            k_noise, k_roll = jax.random.split(jax.random.fold_in(sample_key, i))
            plans = jnp.clip(mean + std * jax.random.normal(k_noise, (n,) + mean.shape), -1.0, 1.0).at[0].set(mean)
            returns = self._returns(env, env_state, plans, jax.random.fold_in(rollout_key, i))
            if config.variant == "sampling":
                mean = plans[jnp.argmax(returns)]
            elif config.variant == "mppi":
                weights = jax.nn.softmax((returns - returns.max()) / config.temperature)
                mean = jnp.tensordot(weights, plans, axes=1)
            else:
                elites = plans[jax.lax.top_k(returns, max(2, int(0.1 * n)))[1]]
                mean, std = elites.mean(0), elites.std(0) + 0.05
        calls = n * h * (config.iterations if config.variant == "cem" else 1)
        return to_env_action(env, mean[0]), mean, jnp.int32(calls)


def config_horizon(plan: jax.Array) -> int:
    return plan.shape[0]
