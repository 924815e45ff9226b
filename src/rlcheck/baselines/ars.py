"""Augmented Random Search (Mania, Guy and Recht 2018) over linear policies or small MLPs (`--set hidden_sizes=16`): perturb the weights along
N random directions (+ and -), play one episode each, step along the top-b directions scaled by the
std of their returns. V2 normalises observations by their running mean and std. Env steps are the
steps of those episodes, counted exactly (an episode that ends early costs only its steps)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.baselines.rollout import ObsStats, PolicySearch, episode_bound, num_params, policy_layers
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.envs.jax_env import EnvSpec


@struct.dataclass
class ARSConfig:
    step_size: float = numeric(0.02, "alpha: step along the combined directions")
    noise: float = numeric(0.03, "nu: perturbation scale")
    num_directions: int = static(8, "N: random directions per iteration (2N episodes)")
    top_directions: int = static(4, "b: best directions used for the step")
    normalize: bool = static(True, "V2: normalise observations (False: V1)")
    hidden_sizes: tuple[int, ...] = policy_layers()
    max_episode_steps: int = episode_bound()


@struct.dataclass
class ARSState:
    weights: jax.Array  # flat policy parameters (rollout.policy_action)
    stats: ObsStats
    env_steps: jax.Array
    key: jax.Array
    blocks: jax.Array  # of the schedule (rollout.PolicySearch)


class ARS(PolicySearch):
    name = "ars"
    Config = ARSConfig

    def episodes_per_iteration(self, config: ARSConfig) -> int:
        return 2 * config.num_directions

    def init(self, key: jax.Array, env: EnvSpec, config: ARSConfig, budget: Budget) -> ARSState:
        return ARSState(jnp.zeros(num_params(env, config.hidden_sizes)), ObsStats.create(env.obs_size), jnp.int32(0), key, jnp.int32(0))

    def policy(self, state: ARSState) -> jax.Array:
        return state.weights

    def normalizer(self, state: ARSState, env: EnvSpec, config: ARSConfig):
        if config.normalize:
            return state.stats.mean, state.stats.std()
        return jnp.zeros_like(state.stats.mean), jnp.ones_like(state.stats.mean)

    def ask(self, state: ARSState, env: EnvSpec, config: ARSConfig, key: jax.Array):
        """N random directions, each played + and -."""
        deltas = jax.random.normal(key, (config.num_directions,) + state.weights.shape)
        return jnp.concatenate([state.weights + config.noise * deltas, state.weights - config.noise * deltas]), deltas

    def tell(self, state: ARSState, env: EnvSpec, config: ARSConfig, candidates, deltas, returns, observed,
             keys) -> ARSState:
        """A step along the top-b directions, scaled by the std of their returns; V2 folds in the observed states."""
        n, b = config.num_directions, config.top_directions
        plus, minus = returns[:n], returns[n:]
        top = jax.lax.top_k(jnp.maximum(plus, minus), b)[1]
        spread = jnp.std(jnp.concatenate([plus[top], minus[top]])) + 1e-8
        step = config.step_size / (b * spread) * jnp.tensordot(plus[top] - minus[top], deltas[top], axes=1)
        return state.replace(weights=state.weights + step, stats=state.stats.merge(*observed))
