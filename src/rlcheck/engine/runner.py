"""Run one method for (configs x seeds) as a single vmapped batch, in compiled chunks of one
evaluation interval each, so the host can show progress between chunks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck import registry
from rlcheck.baselines.planner import run_planner_batch
from rlcheck.core import checkpoint
from rlcheck.core.budget import Budget
from rlcheck.core.checkpoint import Progress
from rlcheck.core.config import stack_configs
from rlcheck.core.contracts import ProgressFn
from rlcheck.core.results import RunResult
from rlcheck.core.trace import STOCHASTIC
from rlcheck.engine import compile_cache
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.loop import Method, assemble_trace, initial_checkpoint, run_interval, stochastic_returns


def healthy(state: Any, eval_returns: jax.Array) -> jax.Array:
    """False once the run has diverged: a NaN anywhere in its state, or non-finite evaluation returns.
    (Infinity alone in a state is not divergence: e.g. evosax starts its best fitness at +inf.)"""
    leaves = [jnp.any(jnp.isnan(x)) for x in jax.tree.leaves(state) if jnp.issubdtype(x.dtype, jnp.floating)]
    nan = jnp.any(jnp.stack(leaves)) if leaves else jnp.bool_(False)
    return ~nan & jnp.all(jnp.isfinite(eval_returns))


CHUNK_THREAD = "rlcheck-chunk"
STOP_GRACE_S = 2.0  # how long a stop waits for a Python env call already in progress


def interruptible(host: HostEnv | None, fn: Any, *args: Any) -> Any:
    """`fn(*args)` (a compiled chunk) on a helper thread while this thread waits in short slices: a
    compiled call holds its thread in C++, where Ctrl-C and SIGTERM are not seen until it returns, and
    a Python env's call cannot be stopped from inside. Between slices: a Python env call past the step
    timeout fails the job (the helper is left in it); on Ctrl-C or SIGTERM a Python env is told to stop
    (its next call returns at once, so the chunk ends within one step), a JAX env's chunk is let finish
    (seconds), and the interrupt goes on up. Finished jobs are already in the store, the last chunk's
    checkpoint with them."""
    if threading.current_thread().name == CHUNK_THREAD:
        return fn(*args)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = jax.block_until_ready(fn(*args))  # done here, not later in a device_get on the main thread
        except BaseException as exc:  # re-raised on the waiting thread below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name=CHUNK_THREAD)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            timed_out = host.timed_out() if host is not None else None
            if timed_out is not None:
                raise timed_out
    except KeyboardInterrupt:
        if host is not None:
            host.stop_requested = True
        while worker.is_alive():  # a JAX env's chunk runs to its end (seconds): no thread is left in XLA at exit
            worker.join(0.1)
            if host is not None and host.stuck_for() > STOP_GRACE_S:  # a call that does not return: leave it
                break
        raise
    if "error" in box:
        raise box["error"]
    return box["out"]


def run_devices(num_runs: int, host_env: bool = False) -> list[Any]:
    """The devices to split `num_runs` runs over: as many as JAX sees, cut to a divisor of the run count
    so every device holds whole runs. A Python env steps on the host, so its runs stay on one device."""
    devices = jax.devices()
    if host_env or len(devices) < 2:
        return devices[:1]
    count = max(d for d in range(1, len(devices) + 1) if num_runs % d == 0)
    return devices[:count]


def run_sharding(num_runs: int, host_env: bool = False) -> jax.sharding.Sharding | None:
    """How to lay arrays with a leading run axis across devices (`jax.sharding`): runs split evenly, so
    each device trains its own block of seeds. None on one device."""
    devices = run_devices(num_runs, host_env)
    if len(devices) < 2:
        return None
    mesh = jax.sharding.Mesh(np.asarray(devices), ("runs",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("runs"))


def run_method(method: Any, env: EnvSpec, configs: Sequence[Any], seeds: Sequence[int], budget: Budget,
               progress: ProgressFn | None = None, checkpoint_path: Path | None = None,
               checkpoint_identity: str | None = None) -> RunResult:
    """Run every (config, seed) of `method` on `env` the way its registered kind says: the compiled
    training loop (learners, policy search), one planned evaluation (planners: compiled on JAX envs, on
    the host on Python envs), or the other library's own processes (external implementations). An error
    raised inside a Python env's step is reported as that env's error (it reaches us wrapped in an XLA
    runtime error)."""
    kind = registry.get(method.name).kind
    compile_cache.enable()  # once per process: a program compiled by an earlier run is loaded, not compiled
    try:
        if kind == "external":
            return method.run(env, list(configs), list(seeds), budget, progress)
        if kind == "planner":
            if isinstance(env.env, HostEnv):  # a planner over a Python env's saved state
                return method.run_host(env, list(configs), list(seeds), budget, progress)
            return _run_planner(method, env, configs, seeds, budget, progress)
        return _run_learner(method, env, configs, seeds, budget, progress, checkpoint_path, checkpoint_identity)
    except Exception as exc:
        failure = env.env.take_failure() if isinstance(env.env, HostEnv) else None
        if failure is not None:
            raise failure from exc
        raise


def _run_learner(
    method: Method,
    env: EnvSpec,
    configs: Sequence[Any],
    seeds: Sequence[int],
    budget: Budget,
    progress: ProgressFn | None = None,
    checkpoint_path: Path | None = None,
    checkpoint_identity: str | None = None,
) -> RunResult:
    """Train every (config, seed) pair in one vmapped program. Seed s uses `PRNGKey(s)` whatever
    else is in the batch, so a run is reproducible alone or in any batch. With several devices the
    runs are split across them (`run_sharding`). With `checkpoint_path`,
    the state is saved after every chunk and a run found there is continued, not restarted;
    the result is identical to an uninterrupted run's."""
    start = time.perf_counter()
    run_configs = [c for c in configs for _ in seeds]
    config_ids = [i for i in range(len(configs)) for _ in seeds]
    run_seeds = [s for _ in configs for s in seeds]
    method.check_resources(env, configs[0], budget, len(run_configs))  # e.g. replay memory, before allocating
    batch_config = stack_configs(run_configs)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(run_seeds, jnp.uint32))
    sharding = run_sharding(len(run_seeds), isinstance(env.env, HostEnv))

    def batched(fn):  # every input and output leaf has a leading run axis: split it over the devices
        return jax.jit(jax.vmap(fn), in_shardings=sharding, out_shardings=sharding) if sharding else jax.jit(jax.vmap(fn))
    schedule = method.schedule(configs[0], budget)
    total = schedule.total_env_steps * len(run_seeds)
    steps_per_chunk = schedule.iters_per_interval * schedule.steps_per_iteration
    watched = method.watched  # the part of the state where a NaN means divergence (bookkeeping may be left out)

    def init(key, config):
        state = method.init(key, env, config, budget)
        first = initial_checkpoint(method, env, config, budget, state)
        return state, first, healthy(watched(state), first.eval_returns)

    def chunk(num_iters):
        def one(state, config):
            state, row = run_interval(method, env, config, budget, state, num_iters)
            return state, row, healthy(watched(state), row.eval_returns)

        return batched(one)

    compile_seconds = 0.0

    def stochastic(s, c):
        return stochastic_returns(method, env, c, budget, s)

    # The job's programs are traced here, one after another, then compiled side by side: XLA compiles
    # outside the GIL, so on several cores the job waits for its longest compile rather than their sum.
    t = time.perf_counter()
    state_shape = jax.eval_shape(batched(init), keys, batch_config)[0]
    programs = {"init": batched(init).lower(keys, batch_config)}
    if schedule.num_intervals:
        programs["interval"] = chunk(schedule.iters_per_interval).lower(state_shape, batch_config)
    if schedule.remainder_iters:
        programs["remainder"] = chunk(schedule.remainder_iters).lower(state_shape, batch_config)
    if hasattr(method, "sample"):
        programs["stochastic"] = batched(stochastic).lower(state_shape, batch_config)
    with ThreadPoolExecutor(min(len(programs), os.cpu_count() or 1)) as pool:
        exes = dict(zip(programs, pool.map(lambda lowered: lowered.compile(), programs.values()), strict=True))
    compile_seconds += time.perf_counter() - t

    host = env.env if isinstance(env.env, HostEnv) else None
    state, first, finite = interruptible(host, exes["init"], keys, batch_config)
    done = Progress(0, [jax.device_get(first)], [None if f else 0 for f in np.asarray(finite)], 0.0, 0.0)
    if checkpoint_path is not None:
        restored = checkpoint.load(checkpoint_path, jax.device_get(state), done.rows[0], checkpoint_identity)
        if restored is not None:
            state, done = restored
            if host is not None and done.host_envs is not None:
                host.restore(done.host_envs)  # their episodes continue where the checkpoint left them
    resumed_from_chunk = done.chunks_done
    elapsed_before, compile_before = done.wall_seconds, done.compile_seconds

    def record(state, row, finite, chunks_done, env_steps):
        done.rows.append(jax.device_get(row))
        done.chunks_done = chunks_done
        counted = np.asarray(row.env_steps).reshape(-1)  # the steps the method counted (-1: the schedule's)
        at = [int(c) if c >= 0 else env_steps for c in counted]  # where the trace puts this checkpoint
        done.diverged_at = [d if d is not None or f else a
                            for d, f, a in zip(done.diverged_at, np.asarray(finite), at, strict=True)]
        done.wall_seconds = elapsed_before + time.perf_counter() - start
        done.compile_seconds = compile_before + compile_seconds
        if checkpoint_path is not None:
            done.host_envs = host.snapshot() if host is not None else None
            checkpoint.save(checkpoint_path, state, done, checkpoint_identity)
        if progress:
            progress(min(env_steps * len(run_seeds), total), total)

    if progress:
        progress(done.chunks_done * steps_per_chunk * len(run_seeds), total)
    for i in range(done.chunks_done, schedule.num_intervals):
        state, row, finite = interruptible(host, exes["interval"], state, batch_config)
        record(state, row, finite, i + 1, (i + 1) * steps_per_chunk)
    if schedule.remainder_iters and done.chunks_done == schedule.num_intervals:
        state, row, finite = interruptible(host, exes["remainder"], state, batch_config)
        record(state, row, finite, schedule.num_intervals + 1, schedule.total_env_steps)
    stacked = jax.tree.map(lambda *xs: np.stack(xs, axis=1), *done.rows)
    trace = jax.tree.map(np.asarray, assemble_trace(schedule, stacked))
    if hasattr(method, "sample"):  # the final policy as it acts in training, for the evaluation-protocol audit
        sampled = np.asarray(interruptible(host, exes["stochastic"], state, batch_config), np.float64)
        spread = sampled.std(-1, ddof=1) if sampled.shape[-1] > 1 else np.full(len(sampled), np.nan)
        for key, final in ((STOCHASTIC, sampled.mean(-1)), (STOCHASTIC + "_std", spread)):
            trace.diagnostics[key] = np.full(trace.eval_returns.shape[:2], np.nan)  # the last checkpoint only
            trace.diagnostics[key][:, -1] = final
    return RunResult(
        method=method.name,
        configs=run_configs,
        config_ids=config_ids,
        seeds=run_seeds,
        trace=trace,
        wall_seconds=elapsed_before + time.perf_counter() - start,
        compile_seconds=compile_before + compile_seconds,
        diverged_at=done.diverged_at,
        resumed_from_chunk=resumed_from_chunk,
    )


def _run_planner(method: Any, env: EnvSpec, configs: Sequence[Any], seeds: Sequence[int], budget: Budget,
                 progress: ProgressFn | None) -> RunResult:
    start = time.perf_counter()
    traces = [interruptible(None, run_planner_batch, method, env, config, list(seeds), budget) for config in configs]
    trace = jax.tree.map(lambda *xs: np.concatenate(xs), *traces)
    runs = len(configs) * len(seeds)
    finite = np.all(np.isfinite(trace.eval_returns.reshape(runs, -1)), axis=1)
    if progress:
        progress(1, 1)
    return RunResult(method.name, [c for c in configs for _ in seeds], [i for i in range(len(configs)) for _ in seeds],
                     [s for _ in configs for s in seeds], trace, time.perf_counter() - start, 0.0,
                     [None if f else 0 for f in finite])
