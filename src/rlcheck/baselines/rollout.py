"""Episodes of many linear or small-MLP policies at once on the real env, counted exactly: what random search,
CEM and CMA-ES learn from, and their shared iteration (`PolicySearch`). Each candidate plays one episode (up to the env's time limit); only the steps
before its episode ends are counted as env steps."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.core.actions import to_env_action
from rlcheck.core.budget import Schedule, make_schedule
from rlcheck.core.config import static
from rlcheck.core.contracts import KeyedMethod
from rlcheck.core.trace import IterationLog
from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.networks import deterministic_action


@struct.dataclass
class ObsStats:
    """Running mean/variance of observed states (ARS V2 normalises inputs with them)."""

    count: jax.Array
    mean: jax.Array
    m2: jax.Array

    @classmethod
    def create(cls, size: int) -> ObsStats:
        return cls(jnp.float32(0.0), jnp.zeros(size), jnp.zeros(size))

    def std(self) -> jax.Array:
        return jnp.where(self.count > 1, jnp.sqrt(self.m2 / jnp.maximum(self.count - 1, 1.0)), 1.0) + 1e-8

    def merge(self, count: jax.Array, total: jax.Array, total_sq: jax.Array) -> ObsStats:
        """Chan et al.'s parallel update from a batch's count, sum and sum of squares."""
        batch_mean = total / jnp.maximum(count, 1.0)
        batch_m2 = total_sq - count * batch_mean**2
        n = self.count + count
        delta = batch_mean - self.mean
        mean = self.mean + delta * count / jnp.maximum(n, 1.0)
        m2 = self.m2 + batch_m2 + delta**2 * self.count * count / jnp.maximum(n, 1.0)
        return ObsStats(n, mean, m2)


def num_params(env: EnvSpec, hidden: tuple[int, ...]) -> int:
    """Size of the flat parameter vector: a linear map (no bias) or a tanh MLP with biases."""
    if not hidden:
        return env.policy_outputs * env.obs_size
    sizes = (env.obs_size, *hidden, env.policy_outputs)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def policy_action(env: EnvSpec, hidden: tuple[int, ...], params: jax.Array, obs: jax.Array, mean: jax.Array,
                  std: jax.Array) -> jax.Array:
    """Discrete: argmax of the outputs (of each factor's block, for a factorised action); continuous: outputs
    squashed to [-1, 1], rescaled to the bounds. `params` is flat: W [outputs, obs] for a linear policy, else
    each layer's W then b."""
    x = (obs.reshape(-1) - mean) / std
    if not hidden:
        out = params.reshape(env.policy_outputs, env.obs_size) @ x
    else:
        sizes, offset = (env.obs_size, *hidden, env.policy_outputs), 0
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = params[offset:offset + a * b].reshape(b, a)
            bias = params[offset + a * b:offset + a * b + b]
            offset += a * b + b
            x = w @ x + bias
            if i < len(sizes) - 2:
                x = jnp.tanh(x)
        out = x
    if env.discrete:
        return deterministic_action(out, None, env.action_nvec).astype(jnp.int32)
    return to_env_action(env, jnp.tanh(out))


def play(key: jax.Array, env: EnvSpec, hidden: tuple[int, ...], weights: jax.Array, mean: jax.Array, std: jax.Array,
         max_steps: jax.Array | int):
    """One episode per row of `weights` [P, num_params] (see `policy_action`), each cut after `max_steps` steps
    (and at the env's time limit). Stops as soon as every episode has ended. Returns (returns [P], lengths [P],
    obs count, obs sum, obs sum of squares) over the steps actually played."""
    population = weights.shape[0]
    reset_key, key = jax.random.split(key)
    obs, state = vector.reset(env, reset_key, population)
    keys = jax.random.split(key, env.max_episode_steps)
    limit = jnp.minimum(max_steps, env.max_episode_steps)

    def running(carry):
        t, alive = carry[0], carry[3]
        return (t < limit) & jnp.any(alive)

    def step(carry):
        t, obs, state, alive, returns, length, total, total_sq = carry
        action = jax.vmap(lambda w, o: policy_action(env, hidden, w, o, mean, std))(weights, obs)
        flat = obs.reshape(population, -1)
        total = total + jnp.sum(jnp.where(alive[:, None], flat, 0.0), 0)
        total_sq = total_sq + jnp.sum(jnp.where(alive[:, None], flat**2, 0.0), 0)
        obs, state, reward, terminated, truncated, _ = vector.step(env, keys[t], state, action)
        returns = returns + jnp.where(alive, reward, 0.0)
        length = length + alive
        alive = alive & ~(terminated | truncated)
        return t + 1, obs, state, alive, returns, length, total, total_sq

    size = env.obs_size
    init = (jnp.int32(0), obs, state, jnp.ones(population, bool), jnp.zeros(population), jnp.zeros(population, jnp.int32),
            jnp.zeros(size), jnp.zeros(size))
    _, _, _, _, returns, length, total, total_sq = jax.lax.while_loop(running, step, init)
    return returns, length, jnp.sum(length).astype(jnp.float32), total, total_sq


def policy_layers():
    """The search methods' `hidden_sizes` field: the hidden layers of the policy that `policy_action` plays."""
    return static((), "policy: () = linear; e.g. 16 = one tanh hidden layer of 16")


def episode_bound():
    """The search methods' `max_episode_steps` field: an optional cap below the env's time limit."""
    return static(0, "cap on each candidate's episode, in steps (0: the env's time limit)")


class PolicySearch(KeyedMethod):
    """The template of ARS, CEM and CMA-ES: any env, the budget spent exactly, and one search iteration =
    ask for candidate weights, play one episode each, tell the search their returns, log that round.
    The method supplies:
      policy(state) -> the flat weights the greedy policy uses (see `policy_action`)
      ask(state, env, config, key) -> (candidates [P, num_params], asked)
      tell(state, env, config, candidates, asked, returns, observed, keys) -> the state with the search advanced
        (observed: obs count, sum and sum of squares; keys: its `extra_keys`)
    and may override normalizer(state, env, config) -> (obs mean, obs std) (default: none) and
    episodes_per_iteration(config) (default: `config.population`).
    Configs have `max_episode_steps` and `hidden_sizes`; states have `key`, `env_steps` and `blocks`.

    Episode lengths are not known in advance, so the schedule is in blocks of env steps, one block per
    checkpoint interval (a multiple of `episodes_per_iteration`, the least one search iteration can cost):
    block k runs search iterations until the env steps reach (k + 1) blocks' worth, and the last block the
    whole budget. The final iteration's episodes are cut to the steps left, so a run uses at least
    budget - episodes_per_iteration steps and never more than the budget, whatever the episode length.
    One block per interval (not one per search iteration) keeps the compiled loop short: each interval is
    one `while_loop`, not thousands of near-empty steps of a scan."""

    extra_keys = 0  # keys beyond (ask, play) that `tell` draws from

    def check(self, env: EnvSpec) -> None:
        pass

    def episodes_per_iteration(self, config) -> int:
        return config.population  # one episode per candidate

    def steps_per_iteration(self, config) -> int:
        return self.episodes_per_iteration(config)  # the least one search iteration costs

    def schedule(self, config, budget) -> Schedule:
        """One block of env steps per checkpoint interval (see the class doc)."""
        episodes = self.episodes_per_iteration(config)
        return make_schedule(episodes * max(1, budget.env_steps // budget.num_evals // episodes), budget)

    def normalizer(self, state, env: EnvSpec, config) -> tuple[jax.Array, jax.Array]:
        return jnp.zeros(env.obs_size), jnp.ones(env.obs_size)

    def act(self, state, env: EnvSpec, config, obs: jax.Array) -> jax.Array:
        mean, std = self.normalizer(state, env, config)
        weights = self.policy(state)
        return jax.vmap(lambda o: policy_action(env, config.hidden_sizes, weights, o, mean, std))(obs)

    def iterate(self, state, env: EnvSpec, config, budget):
        """One block: search iterations while the block's target is not reached and the budget left gives
        every candidate at least one step."""
        episodes = self.episodes_per_iteration(config)
        block = self.schedule(config, budget).steps_per_iteration
        blocks = budget.env_steps // block
        target = jnp.where(state.blocks + 1 >= blocks, budget.env_steps, (state.blocks + 1) * block)
        cap = config.max_episode_steps or env.max_episode_steps

        def more(carry):
            state = carry[0]
            return (state.env_steps < target) & (budget.env_steps - state.env_steps >= episodes)

        def search_iteration(carry):
            state, return_sum, episode_count, candidate_mean_sum, iterations = carry
            key, ask_key, play_key, *tell_keys = jax.random.split(state.key, 3 + self.extra_keys)
            candidates, asked = self.ask(state, env, config, ask_key)
            mean, std = self.normalizer(state, env, config)
            steps_left = (budget.env_steps - state.env_steps) // episodes
            returns, lengths, *observed = play(play_key, env, config.hidden_sizes, candidates, mean, std,
                                               jnp.minimum(cap, steps_left))
            told = self.tell(state, env, config, candidates, asked, returns, observed, tell_keys)
            told = told.replace(env_steps=state.env_steps + jnp.sum(lengths), key=key)
            return (told, return_sum + jnp.sum(returns), episode_count + returns.shape[0],
                    candidate_mean_sum + returns.mean(), iterations + 1)

        zero = jnp.float32(0.0)
        state, return_sum, episode_count, candidate_mean_sum, iterations = jax.lax.while_loop(
            more, search_iteration, (state, zero, zero, zero, zero))
        mean_candidate = jnp.where(iterations > 0, candidate_mean_sum / jnp.maximum(iterations, 1.0), jnp.nan)
        log = IterationLog(return_sum, episode_count, {"mean_candidate_return": mean_candidate}, env_steps=state.env_steps)
        return state.replace(blocks=state.blocks + 1), log
