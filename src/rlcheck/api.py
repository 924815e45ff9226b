"""Python API: the same calls the CLI makes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlcheck.engine.runner import ProgressFn, run_method
from rlcheck.envs import make_env
from rlcheck.errors import RLCheckError
from rlcheck.methods import Budget, default_config, get_method
from rlcheck.methods.config import expand_sweep
from rlcheck.store import write_json, write_traces
from rlcheck.summary import summarize


def train(
    env: str,
    algo: str,
    seeds: Iterable[int],
    steps: int,
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    num_evals: int = 20,
    eval_episodes: int = 10,
    out: Path | str | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Train `algo` on `env` for every seed (and every combination of `sweep` values) in one
    vectorised program; write traces.parquet and summary.json to `out`; return the summary."""
    seeds = list(seeds)
    if not seeds:
        raise RLCheckError("No seeds given. Pass at least one seed, e.g. --seeds 10.")
    if steps <= 0:
        raise RLCheckError(f"The budget must be a positive number of env steps, got {steps}.")
    env_spec = make_env(env)
    method = get_method(algo)
    config = default_config(method, env_spec, dict(overrides or {}))
    configs = expand_sweep(config, sweep or {})
    budget = Budget(steps, num_evals, eval_episodes)
    start = time.perf_counter()
    result = run_method(method, env_spec, configs, seeds, budget, progress)
    summary = summarize(env_spec, budget, [result], time.perf_counter() - start)
    if out is not None:
        write_traces(Path(out), [result])
        write_json(Path(out) / "summary.json", summary)
    return summary


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressFn | None]:
    """A rich progress bar over the env steps of all seeds, with ETA. It appears on the first update,
    so input errors found before training print alone."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("env steps (all seeds)"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    bar = Progress(*columns)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("train", total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()
