"""The loop every learner shares: train in intervals of iterations, evaluate at fixed env-step
checkpoints, return a `Trace`. Each algorithm module supplies `init`, `iterate` and `act`.

A method is an object with:
  name: str; Config: type; defaults: {env name: overrides}; steps_per_iteration(config) -> int (static)
  init(key, env, config, budget) -> state
  iterate(state, env, config, budget) -> (state, IterationLog)      # one iteration, jittable
  act(state, env, config, obs) -> action                           # deterministic policy
  eval_key(state) -> key
and optionally sample(state, env, config, budget, obs, key) -> action (the policy as it acts in
training: sampled, epsilon-greedy or noised; the final policy is also evaluated this way, so the audit
can show the gap between the two), check(env) (refuse an env it cannot handle), check_resources(env, config, budget,
runs) (refuse a batch that would not fit in memory, before allocating it) and watched(state) (the part
of the state in which a NaN means the run diverged; default: all of it).
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import jax.numpy as jnp

from rlcheck.core.budget import Budget, Schedule
from rlcheck.core.trace import Checkpoint, IterationLog, Trace
from rlcheck.diagnostics import behaviour
from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec


class Method(Protocol):
    name: str
    Config: type

    def steps_per_iteration(self, config: Any) -> int: ...
    def init(self, key: jax.Array, env: EnvSpec, config: Any, budget: Budget) -> Any: ...
    def iterate(self, state: Any, env: EnvSpec, config: Any, budget: Budget) -> tuple[Any, IterationLog]: ...
    def act(self, state: Any, env: EnvSpec, config: Any, obs: jax.Array) -> jax.Array: ...
    def eval_key(self, state: Any) -> jax.Array: ...


def track_episodes(episode_return: jax.Array, reward: jax.Array, done: jax.Array):
    """Running per-env returns; returns (new running returns, sum of finished returns, count finished)."""
    episode_return = episode_return + reward
    finished_sum = jnp.sum(jnp.where(done, episode_return, 0.0))
    return jnp.where(done, 0.0, episode_return), finished_sum, jnp.sum(done).astype(jnp.float32)


def evaluate(key: jax.Array, env: EnvSpec, policy, episodes: int) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Undiscounted returns of `episodes` episodes of `policy(obs, key)` (a deterministic one ignores the
    key), run in parallel, and the behaviour scalars of those episodes (diagnostics/behaviour.py). Stops
    as soon as all episodes ended (or at the env's time limit)."""
    spec = behaviour.behaviour_spec(env)
    obs, env_state = vector.reset(env, key, episodes, site="eval")

    def cond(carry):
        _, _, _, done, t, _, _ = carry
        return jnp.logical_and(~jnp.all(done), t < env.max_episode_steps)

    def body(carry):
        obs, env_state, returns, done, t, key, acc = carry
        key, step_key = jax.random.split(key)
        action = policy(obs, jax.random.fold_in(step_key, 1))  # a key apart from the env step's
        next_obs, env_state, reward, terminated, truncated, final_obs, info = vector.step_info(
            env, step_key, env_state, action, spec.info_keys)
        acc = behaviour.accumulate(acc, env, spec, ~done, obs, action, reward, terminated, final_obs, info)
        returns = returns + jnp.where(done, 0.0, reward)
        done = done | terminated | truncated
        return next_obs, env_state, returns, done, t + 1, key, acc

    init = (obs, env_state, jnp.zeros(episodes), jnp.zeros(episodes, bool), 0, key,
            behaviour.init_accumulator(env, spec, episodes))
    out = jax.lax.while_loop(cond, body, init)
    return out[2], behaviour.summarise(out[6], env, spec)


def run_interval(method: Method, env: EnvSpec, config: Any, budget: Budget, state: Any, num_iters: int):
    """`num_iters` iterations, then an evaluation checkpoint. Pure; jit/vmap it."""

    def one(state, _):
        return method.iterate(state, env, config, budget)

    state, logs = jax.lax.scan(one, state, None, length=num_iters)
    return state, _checkpoint(method, env, config, budget, state, logs)


def initial_checkpoint(method: Method, env: EnvSpec, config: Any, budget: Budget, state: Any) -> Checkpoint:
    """Evaluation of the untrained policy at env step 0."""
    eval_returns, behaviour_now = _eval(method, env, config, budget, state)
    diag_shapes = jax.eval_shape(lambda s: method.iterate(s, env, config, budget)[1].diagnostics, state)
    diagnostics = jax.tree.map(lambda x: jnp.full(x.shape, jnp.nan, jnp.float32), diag_shapes)
    return Checkpoint(eval_returns, jnp.float32(jnp.nan), jnp.float32(0.0), diagnostics, jnp.int32(0), jnp.int32(0),
                      behaviour_now)


def _eval(method, env, config, budget, state):
    return evaluate(method.eval_key(state), env, lambda obs, _: method.act(state, env, config, obs), budget.eval_episodes)


def stochastic_returns(method: Method, env: EnvSpec, config: Any, budget: Budget, state: Any) -> jax.Array:
    """Returns of `budget.eval_episodes` episodes of the policy as it acts in training (`method.sample`),
    from the same start states as the deterministic evaluation (the same evaluation key)."""
    policy = lambda obs, key: method.sample(state, env, config, budget, obs, key)  # type: ignore[attr-defined]
    return evaluate(method.eval_key(state), env, policy, budget.eval_episodes)[0]


def _checkpoint(method, env, config, budget, state, logs: IterationLog) -> Checkpoint:
    count = jnp.sum(logs.episodes_finished)
    train_return = jnp.where(count > 0, jnp.sum(logs.episode_return_sum) / jnp.maximum(count, 1.0), jnp.nan)
    diagnostics = jax.tree.map(lambda x: jnp.nanmean(x, axis=0), logs.diagnostics)  # NaN = not learning yet
    env_steps = jnp.int32(-1) if logs.env_steps is None else logs.env_steps[-1].astype(jnp.int32)
    model_calls = jnp.int32(0) if logs.model_calls is None else logs.model_calls[-1].astype(jnp.int32)
    eval_returns, behaviour_now = _eval(method, env, config, budget, state)
    return Checkpoint(eval_returns, train_return, count, diagnostics, env_steps, model_calls, behaviour_now)


def assemble_trace(schedule: Schedule, rows: Checkpoint) -> Trace:
    """A Trace from checkpoints stacked on the time axis (the last axis of `train_returns`)."""
    planned = jnp.broadcast_to(jnp.asarray(schedule.checkpoint_steps, jnp.int32), rows.train_returns.shape)
    steps = jnp.where(rows.env_steps >= 0, rows.env_steps, planned)
    return Trace(
        env_steps=steps,
        model_calls=rows.model_calls,
        eval_returns=rows.eval_returns,
        train_returns=rows.train_returns,
        train_episodes=rows.train_episodes,
        diagnostics=rows.diagnostics,
        behaviour=rows.behaviour,
    )


def train(method: Method, key: jax.Array, env: EnvSpec, config: Any, budget: Budget) -> Trace:
    """The pure contract: `train(key, env, config, budget) -> Trace`, for one run. vmap it over keys
    and over stacked numeric config values."""
    schedule = method.schedule(config, budget)
    state = method.init(key, env, config, budget)
    checkpoints = [initial_checkpoint(method, env, config, budget, state)]

    def interval(state, _):
        return run_interval(method, env, config, budget, state, schedule.iters_per_interval)

    state, stacked = jax.lax.scan(interval, state, None, length=schedule.num_intervals)
    rows = jax.tree.map(lambda first, rest: jnp.concatenate([first[None], rest]), checkpoints[0], stacked)
    if schedule.remainder_iters:
        state, last = run_interval(method, env, config, budget, state, schedule.remainder_iters)
        rows = jax.tree.map(lambda all_, one: jnp.concatenate([all_, one[None]]), rows, last)
    return assemble_trace(schedule, rows)
