"""Model-predictive control with the true model: at every real step, roll the env's own step
function out from a copy of the current state for many candidate action sequences (vmapped), and
act with the first action of the plan. Variants: predictive sampling (keep the best sequence),
MPPI (exponentially weighted average), CEM-MPC (refit a Gaussian to the elite sequences). The plan is
warm-started by shifting the previous one. No env step is used for learning; every simulated step
is a model call, and the report shows model calls per episode.

Discrete actions: candidate sequences are drawn uniformly, plus the shifted previous best.
Python envs plan on the host from copies of the real env's state (envs/state_copy.py: MuJoCo's
set_state, the env's own get_state/set_state, or a verified deepcopy), with the same refit."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from rlcheck.baselines.planner import Planner, play_on_host, require_jax_model, run_host_planner
from rlcheck.core.actions import to_env_action
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable
from rlcheck.core.results import RunResult
from rlcheck.diagnostics.behaviour import EpisodeRecorder
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.state_copy import StateCopy, state_copy


@struct.dataclass
class MPCConfig:
    noise_std: float = numeric(0.5, "std of action-sequence noise, in [-1, 1] action units")
    temperature: float = numeric(1.0, "MPPI: softmax temperature on returns")
    elite_fraction: float = static(0.1, "CEM-MPC: fraction of samples refitted")
    variant: str = static("mppi", "sampling (predictive sampling), mppi or cem")
    num_samples: int = static(128, "candidate action sequences per real step")
    horizon: int = static(30, "planning horizon in env steps")
    iterations: int = static(1, "CEM-MPC: refits per real step (others: 1)")


STD_FLOOR = 0.05  # CEM-MPC: the refitted std stays above this (in [-1, 1] action units), so the plan keeps searching
DEFAULTS: dict[str, dict[str, Any]] = {
    # Predictive sampling: 40 steps ahead drifts off the track (0/10 seeds at 475); 80 keeps 30/30 (RESULTS.md).
    "CartPole-v1": {"variant": "sampling", "num_samples": 64, "horizon": 80},
}


class MPC(Planner):
    name = "mpc"
    Config = MPCConfig
    defaults = DEFAULTS

    def run_host(self, env: EnvSpec, configs, seeds, budget: Budget, progress=None) -> RunResult:
        """Python envs: the same MPC in numpy over copies of the env's state (below)."""
        return run_host_planner(self, env, lambda config, seed, recorder: play_episode(env, config, seed, recorder),
                                configs, seeds, budget, progress)

    def check(self, env: EnvSpec) -> None:
        if isinstance(env.env, HostEnv):  # planned from copies of the state (below)
            state_copy(env, "MPC").close()
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
        for i in range(refits(config)):
            k_noise, k_roll = jax.random.split(jax.random.fold_in(sample_key, i))
            plans = jnp.clip(mean + std * jax.random.normal(k_noise, (n,) + mean.shape), -1.0, 1.0).at[0].set(mean)
            returns = self._returns(env, env_state, plans, jax.random.fold_in(rollout_key, i))
            mean, std = refit(jnp, config, plans, returns, std)
        calls = n * h * refits(config)
        return to_env_action(env, mean[0]), mean, jnp.int32(calls)


def refits(config: MPCConfig) -> int:
    """Refits of the plan per real step: CEM-MPC refits `iterations` times, the others once."""
    return config.iterations if config.variant == "cem" else 1


def refit(xp: Any, config: MPCConfig, candidates: Any, returns: Any, std: Any) -> tuple[Any, Any]:
    """The plan's new mean and std from scored candidate sequences [samples, horizon, ...]: the best one
    (sampling), the softmax-weighted average (MPPI), or the elites' mean and spread (CEM-MPC). One
    definition for the JAX planner and the host one (`xp` is jax.numpy or numpy)."""
    if config.variant == "sampling":
        return candidates[xp.argmax(returns)], std
    if config.variant == "mppi":
        weights = xp.exp((returns - returns.max()) / config.temperature)
        return xp.tensordot(weights / weights.sum(), candidates, axes=1), std
    elites = candidates[xp.argsort(returns)[-max(2, int(config.elite_fraction * config.num_samples)):]]
    return elites.mean(0), elites.std(0) + STD_FLOOR


def config_horizon(plan: jax.Array) -> int:
    return plan.shape[0]


# Python envs: the model is a copy of the real env's state (MuJoCo's set_state(qpos, qvel), the env's own
# get_state/set_state, or a verified deepcopy; envs/state_copy.py), stepped through the env's own `step`, so
# rewards and terminations are exactly the env's; the same refit as above, in numpy on the host. Slow in Python
# (samples x horizon env steps per real step), so budgets are small.


def _returns(copier: StateCopy, snapshot: Any, candidates: np.ndarray) -> tuple[np.ndarray, int]:
    """Undiscounted return of each candidate action sequence from the saved state; model calls used."""
    out = np.zeros(len(candidates))
    calls = 0
    for i, sequence in enumerate(candidates):
        model = copier.branch(snapshot)
        for action in sequence:
            _, reward, terminated, truncated, _ = model.step(action)
            out[i] += reward
            calls += 1
            if terminated or truncated:
                break
    return out, calls


def play_episode(env: EnvSpec, config: Any, seed: int, recorder: EpisodeRecorder | None = None) -> tuple[float, int, int]:
    """One episode of MPC on a fresh real copy; returns (return, model calls, steps). `recorder` gets
    every real step, for the behaviour descriptors. Discrete actions: uniform random sequences plus the
    shifted previous best, the best kept (predictive sampling)."""
    rng = np.random.default_rng(seed)
    copier = state_copy(env, "MPC")
    if env.discrete:
        best = rng.integers(env.num_actions, size=config.horizon)

        def choose(real: Any, obs: Any) -> tuple[int, int]:
            nonlocal best
            candidates = rng.integers(env.num_actions, size=(config.num_samples, config.horizon))
            candidates[0] = np.concatenate([best[1:], best[-1:]])
            returns, calls = _returns(copier, copier.save(real), candidates)
            best = candidates[int(np.argmax(returns))]
            return int(best[0]), calls
    else:
        low, high = env.action_low, env.action_high
        scale = (high - low) / 2
        plan = np.zeros((config.horizon, env.num_actions))

        def choose(real: Any, obs: Any) -> tuple[np.ndarray, int]:
            nonlocal plan
            snapshot = copier.save(real)
            mean, std, calls = plan, np.full_like(plan, float(config.noise_std)), 0
            for _ in range(refits(config)):
                noise = rng.normal(size=(config.num_samples, *plan.shape)) * std
                candidates = np.clip(mean + noise, -1.0, 1.0)
                candidates[0] = np.clip(mean, -1.0, 1.0)  # the shifted previous plan is always a candidate
                returns, used = _returns(copier, snapshot, low + (candidates + 1.0) * scale)
                calls += used
                mean, std = refit(np, config, candidates, returns, std)
            plan = np.concatenate([mean[1:], mean[-1:]])
            return low + (mean[0] + 1.0) * scale, calls

    try:
        return play_on_host(env, seed, choose, recorder)
    finally:
        copier.close()
