"""The cross-entropy method with added noise (Szita and Lorincz 2006) over linear policies or small MLPs (`--set hidden_sizes=16`): sample a
population from a diagonal Gaussian over the weights, play one episode each, refit the Gaussian to
the elite fraction and add decaying extra variance, without which plain CEM collapses early (on
CartPole it does). Env steps are the steps of those episodes, counted exactly."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.baselines.rollout import PolicySearch, episode_bound, num_params, policy_layers
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.envs.jax_env import EnvSpec


def cem_update(samples: jax.Array, fitness: jax.Array, num_elites: int, extra_std: jax.Array):
    """(mean, std) refitted to the `num_elites` fittest samples (higher is better), plus extra noise."""
    elites = samples[jax.lax.top_k(fitness, num_elites)[1]]
    return elites.mean(0), jnp.sqrt(elites.var(0) + extra_std**2)


@struct.dataclass
class CEMConfig:
    init_std: float = numeric(1.0, "initial std of every weight")
    extra_noise: float = numeric(0.5, "std of the noise added after each refit, at the start")
    noise_decay_iters: float = numeric(20.0, "iterations over which the added noise decays linearly to 0")
    population: int = static(16, "candidate policies per iteration (one episode each)")
    elite_fraction: float = static(0.25, "fraction of the population refitted")
    hidden_sizes: tuple[int, ...] = policy_layers()
    max_episode_steps: int = episode_bound()


@struct.dataclass
class CEMState:
    mean: jax.Array  # flat policy parameters (rollout.policy_action)
    std: jax.Array
    iteration: jax.Array
    env_steps: jax.Array
    key: jax.Array
    blocks: jax.Array  # of the schedule (rollout.PolicySearch)


class CEM(PolicySearch):
    name = "cem"
    Config = CEMConfig

    def init(self, key: jax.Array, env: EnvSpec, config: CEMConfig, budget: Budget) -> CEMState:
        shape = (num_params(env, config.hidden_sizes),)
        return CEMState(jnp.zeros(shape), jnp.full(shape, config.init_std), jnp.int32(0), jnp.int32(0), key, jnp.int32(0))

    def policy(self, state: CEMState) -> jax.Array:
        return state.mean

    def ask(self, state: CEMState, env: EnvSpec, config: CEMConfig, key: jax.Array):
        return state.mean + state.std * jax.random.normal(key, (config.population,) + state.mean.shape), None

    def tell(self, state: CEMState, env: EnvSpec, config: CEMConfig, samples, asked, returns, observed,
             keys) -> CEMState:
        """Refit to the elites, plus extra noise decaying over `noise_decay_iters`."""
        extra = config.extra_noise * jnp.maximum(0.0, 1.0 - state.iteration / config.noise_decay_iters)
        mean, std = cem_update(samples, returns, max(2, int(config.elite_fraction * config.population)), extra)
        return state.replace(mean=mean, std=std, iteration=state.iteration + 1)
