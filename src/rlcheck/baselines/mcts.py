"""Tree search with the env as the model: mctx's Gumbel MuZero policy over the env's own step
function, from a copy of the current state, with a uniform prior and leaf values from a short random
rollout (or zero), or the mean or best of several rollouts. No learning and no env step used for learning; every simulated step is a model
call (one per simulation, plus the rollout's steps), reported per episode. Discrete actions only."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import mctx
from flax import struct

from rlcheck.baselines.planner import Planner, require_jax_model
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable, RLCheckError
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec


@struct.dataclass
class MCTSConfig:
    gamma: float = numeric(0.99, "discount inside the tree")
    num_simulations: int = static(32, "tree expansions per real step (each one model call)")
    rollout_steps: int = static(10, "random-rollout steps for a leaf's value (0: value 0)")
    rollout_repeat: float = numeric(0.0, "chance a rollout step repeats the previous action: random actions held for "
                                         "several steps wander further than a random walk")
    rollouts: int = static(1, "random rollouts per leaf, run side by side")
    rollout_value: str = static("mean", "how a leaf's rollouts combine: mean, or max (the best rollout's return is "
                                        "achievable in a deterministic env, so max is a lower bound on the leaf's value)")
    max_depth: int = static(50, "deepest search path")


DEFAULTS: dict[str, dict[str, Any]] = {
    # Long random rollouts matter more than simulations on CartPole (benchmarks/RESULTS.md: 16 sims x
    # 100 steps averages 188); the default is 4x cheaper to keep `rlcheck check CartPole-v1` short.
    "CartPole-v1": {"num_simulations": 8, "rollout_steps": 50, "gamma": 1.0},
    # Breakout is deterministic: the best of 8 rollouts is a return the search can achieve, and held
    # actions reach the ball where a random walk does not (RESULTS.md: mean 58 vs 10 for one plain rollout).
    "Breakout-MinAtar": {"num_simulations": 64, "rollout_steps": 40, "rollouts": 8, "rollout_value": "max",
                         "rollout_repeat": 0.8, "gamma": 1.0},
}


class MCTS(Planner):
    name = "mcts"
    Config = MCTSConfig
    defaults = DEFAULTS

    def check(self, env: EnvSpec) -> None:
        if isinstance(env.env, HostEnv):
            raise NotApplicable(f"mcts searches with a JAX env as the model, and {env.name} is a Python env: use uct "
                                "(UCT from copies of the env's state).")
        require_jax_model(env, "MCTS")
        if not env.discrete:
            raise NotApplicable(f"MCTS here searches over discrete actions, and {env.name} has continuous ones (use mpc).")

    def setup(self, env: EnvSpec, config: MCTSConfig) -> dict[str, Any]:
        if config.rollout_value not in ("mean", "max"):
            raise RLCheckError(f"mcts: rollout_value must be 'mean' or 'max', got {config.rollout_value!r}. "
                               "Write it like --set rollout_value=max.")
        return {}

    def init_carry(self, params, env, config, obs):
        return jnp.zeros(())

    def _step(self, env: EnvSpec, key, state, action):
        _, state, reward, done, _ = env.env.step_env(key, state, action, env.params)
        return state, jnp.asarray(reward, jnp.float32), jnp.asarray(done, bool)

    def _value(self, env: EnvSpec, config: MCTSConfig, key, state, done):
        """Mean or max discounted return of `rollouts` uniformly random rollouts from `state` (0 if terminal)."""
        returns = jax.vmap(lambda k: self._rollout(env, config, k, state, done))(jax.random.split(key, config.rollouts))
        return returns.max() if config.rollout_value == "max" else returns.mean()

    def _rollout(self, env: EnvSpec, config: MCTSConfig, key, state, done):
        def body(carry, key):
            state, previous, alive, total, discount = carry
            action_key, repeat_key, step_key = jax.random.split(key, 3)
            fresh = jax.random.randint(action_key, (), 0, env.num_actions)
            action = jnp.where(jax.random.uniform(repeat_key) < config.rollout_repeat, previous, fresh)
            state, reward, finished = self._step(env, step_key, state, action)
            total = total + jnp.where(alive, discount * reward, 0.0)
            return (state, action, alive & ~finished, total, discount * config.gamma), None

        if config.rollout_steps == 0:
            return jnp.float32(0.0)
        first_key, key = jax.random.split(key)
        first = jax.random.randint(first_key, (), 0, env.num_actions)
        init = (state, first, ~done, jnp.float32(0.0), jnp.float32(1.0))
        (_, _, _, total, _), _ = jax.lax.scan(body, init, jax.random.split(key, config.rollout_steps))
        return total

    def plan(self, params, env: EnvSpec, config: MCTSConfig, obs, env_state, carry, key):
        root_key, search_key = jax.random.split(key)
        uniform = jnp.zeros((1, env.num_actions))
        batched = jax.tree.map(lambda x: jnp.asarray(x)[None], env_state)
        root_value = self._value(env, config, root_key, env_state, jnp.bool_(False))[None]

        def recurrent_fn(_, rng, action, embedding):
            step_key, value_key = jax.random.split(rng)
            state = jax.tree.map(lambda x: x[0], embedding)
            state, reward, done = self._step(env, step_key, state, action[0])
            value = self._value(env, config, value_key, state, done)
            out = mctx.RecurrentFnOutput(reward=reward[None], discount=(config.gamma * (1.0 - done))[None],
                                         prior_logits=uniform, value=value[None])
            return out, jax.tree.map(lambda x: jnp.asarray(x)[None], state)

        root = mctx.RootFnOutput(prior_logits=uniform, value=root_value, embedding=batched)
        output = mctx.gumbel_muzero_policy(params=None, rng_key=search_key, root=root, recurrent_fn=recurrent_fn,
                                           num_simulations=config.num_simulations, max_depth=config.max_depth,
                                           max_num_considered_actions=env.num_actions)
        calls = (config.num_simulations + 1) * (1 + config.rollouts * config.rollout_steps)
        return output.action[0].astype(jnp.int32), carry, jnp.int32(calls)
