"""Run one method for (configs x seeds) as a single vmapped batch, in compiled chunks of one
evaluation interval each, so the host can show progress between chunks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.config import stack_configs
from rlcheck.methods.loop import Budget, Method, assemble_trace, initial_checkpoint, make_schedule, run_interval
from rlcheck.trace import Trace

# progress(env_steps_done_by_all_runs, total) is called after every chunk
ProgressFn = Callable[[int, int], None]


@dataclass
class RunResult:
    method: str
    configs: list[Any]  # one per run
    config_ids: list[int]  # index into the distinct configs, one per run
    seeds: list[int]  # one per run
    trace: Trace  # numpy leaves with a leading run axis
    wall_seconds: float
    compile_seconds: float


def run_method(
    method: Method,
    env: EnvSpec,
    configs: Sequence[Any],
    seeds: Sequence[int],
    budget: Budget,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Train every (config, seed) pair in one vmapped program. Seed s uses `PRNGKey(s)` whatever
    else is in the batch, so a run is reproducible alone or in any batch."""
    start = time.perf_counter()
    run_configs = [c for c in configs for _ in seeds]
    config_ids = [i for i in range(len(configs)) for _ in seeds]
    run_seeds = [s for _ in configs for s in seeds]
    if hasattr(method, "check_resources"):  # e.g. replay memory against the cap, before allocating
        method.check_resources(env, configs[0], budget, len(run_configs))
    batch_config = stack_configs(run_configs)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(run_seeds, jnp.uint32))
    schedule = make_schedule(method.steps_per_iteration(configs[0]), budget)
    total = schedule.total_env_steps * len(run_seeds)

    def init(key, config):
        state = method.init(key, env, config, budget)
        return state, initial_checkpoint(method, env, config, budget, state)

    def chunk(num_iters):
        return jax.jit(jax.vmap(lambda state, config: run_interval(method, env, config, budget, state, num_iters)))

    compile_seconds = 0.0

    def compiled(fn, *args):
        nonlocal compile_seconds
        t = time.perf_counter()
        exe = fn.lower(*args).compile()
        compile_seconds += time.perf_counter() - t
        return exe

    init_exe = compiled(jax.jit(jax.vmap(init)), keys, batch_config)
    state, first = init_exe(keys, batch_config)
    rows = [jax.device_get(first)]
    if progress:
        progress(0, total)
    interval_exe = None
    for i in range(schedule.num_intervals):
        if interval_exe is None:
            interval_exe = compiled(chunk(schedule.iters_per_interval), state, batch_config)
        state, row = interval_exe(state, batch_config)
        rows.append(jax.device_get(row))
        if progress:
            progress((i + 1) * schedule.iters_per_interval * schedule.steps_per_iteration * len(run_seeds), total)
    if schedule.remainder_iters:
        state, row = compiled(chunk(schedule.remainder_iters), state, batch_config)(state, batch_config)
        rows.append(jax.device_get(row))
        if progress:
            progress(total, total)
    stacked = jax.tree.map(lambda *xs: np.stack(xs, axis=1), *rows)
    trace = jax.tree.map(np.asarray, assemble_trace(schedule, stacked))
    return RunResult(
        method=method.name,
        configs=run_configs,
        config_ids=config_ids,
        seeds=run_seeds,
        trace=trace,
        wall_seconds=time.perf_counter() - start,
        compile_seconds=compile_seconds,
    )
