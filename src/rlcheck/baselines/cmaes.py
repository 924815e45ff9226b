"""CMA-ES over linear policies or small MLPs (`--set hidden_sizes=16`), with evosax's implementation (its fitness is minimised, so we pass
minus the episode return): sample a population, play one episode each, update mean, step size and
covariance. Env steps are the steps of those episodes, counted exactly."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from evosax.algorithms import CMA_ES
from flax import struct

from rlcheck.baselines.rollout import PolicySearch, episode_bound, num_params, policy_layers
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable
from rlcheck.envs.jax_env import EnvSpec


@struct.dataclass
class CMAESConfig:
    init_std: float = numeric(1.0, "initial step size")
    population: int = static(16, "candidate policies per iteration (one episode each)")
    hidden_sizes: tuple[int, ...] = policy_layers()
    max_episode_steps: int = episode_bound()


@struct.dataclass
class CMAESState:
    es_state: Any
    env_steps: jax.Array
    key: jax.Array
    blocks: jax.Array  # of the schedule (rollout.PolicySearch)


MAX_PARAMS = 1_500  # CMA-ES keeps an n x n covariance and decomposes it every update: O(n^3)


class CMAES(PolicySearch):
    name = "cmaes"
    Config = CMAESConfig
    extra_keys = 1  # evosax's tell

    def check(self, env: EnvSpec) -> None:
        n = num_params(env, CMAESConfig().hidden_sizes)
        if n > MAX_PARAMS:
            raise NotApplicable(
                f"CMA-ES would search {n:,} policy parameters on {env.name} (a linear policy over {env.obs_size:,} "
                f"observation entries): its covariance has {n * n:,} entries and each update decomposes it, about "
                f"{n**3:.1e} flops, so it is left out above {MAX_PARAMS:,} parameters. CEM and ARS scale linearly; "
                "use them, or give the env a smaller observation (--wrap).")

    def _es(self, env: EnvSpec, config: CMAESConfig):
        template = jnp.zeros(num_params(env, config.hidden_sizes))
        es = CMA_ES(population_size=config.population, solution=template)
        return es, es.default_params.replace(std_init=config.init_std), template

    def init(self, key: jax.Array, env: EnvSpec, config: CMAESConfig, budget: Budget) -> CMAESState:
        es, params, template = self._es(env, config)
        init_key, key = jax.random.split(key)
        return CMAESState(es.init(init_key, template, params), jnp.int32(0), key, jnp.int32(0))

    def watched(self, state: CMAESState) -> Any:
        """What divergence is judged on: evosax starts best_solution at NaN and best_fitness at inf."""
        return (state.es_state.mean, state.es_state.std, state.es_state.C)

    def policy(self, state: CMAESState) -> jax.Array:
        return state.es_state.mean

    def ask(self, state: CMAESState, env: EnvSpec, config: CMAESConfig, key: jax.Array):
        es, params, _ = self._es(env, config)
        return es.ask(key, state.es_state, params)

    def tell(self, state: CMAESState, env: EnvSpec, config: CMAESConfig, population, asked, returns, observed,
             keys) -> CMAESState:
        es, params, _ = self._es(env, config)
        told, _ = es.tell(keys[0], population, -returns, asked, params)  # evosax minimises
        return state.replace(es_state=told)
