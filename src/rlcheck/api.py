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
    env_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train `algo` on `env` for every seed (and every combination of `sweep` values) in one
    vectorised program; write traces.parquet and summary.json to `out`; return the summary."""
    seeds = list(seeds)
    if not seeds:
        raise RLCheckError("No seeds given. Pass at least one seed, e.g. --seeds 10.")
    if steps <= 0:
        raise RLCheckError(f"The budget must be a positive number of env steps, got {steps}.")
    env_spec = make_env(env, dict(env_kwargs or {}))
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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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


def study_spec(env: str, seeds: int | Sequence[int] | None = None, budget: int | None = None,
               threshold: float | None = None, methods: Sequence[str] | str | None = None,
               num_evals: int | None = None, eval_episodes: int | None = None,
               env_kwargs: Mapping[str, Any] | None = None, true_objective: str | None = None,
               descriptors: str | None = None, audit: bool = True):
    """A validated StudySpec from `rlcheck check`-style arguments (None = the default)."""
    from rlcheck.study.spec import build

    raw: dict[str, Any] = {"env": env}
    if env_kwargs:
        raw["env_kwargs"] = dict(env_kwargs)
    if seeds is not None:
        raw["seeds"] = list(seeds) if not isinstance(seeds, int) else seeds
    if budget is not None:
        raw["budget"] = budget
    if threshold is not None:
        raw["threshold"] = threshold
    if methods is not None:
        raw["methods"] = methods
    evaluation = {k: v for k, v in (("checkpoints", num_evals), ("episodes", eval_episodes)) if v is not None}
    if evaluation:
        raw["evaluation"] = evaluation
    raw.update({k: v for k, v in (("true_objective", true_objective), ("descriptors", descriptors)) if v})
    if not audit:
        raw["audit"] = False
    return build(raw)


def lint(env: str, env_kwargs: Mapping[str, Any] | None = None, episodes: int = 24, seed: int = 0,
         true_objective: str | None = None) -> dict[str, Any]:
    """The reward lint and plausibility profile of `env`, without training: {env, findings, profile, probes}."""
    import dataclasses

    from rlcheck.diagnostics.lint import lint as run_lint

    spec = make_env(env, dict(env_kwargs or {}))
    if true_objective:
        spec = dataclasses.replace(spec, true_objective=true_objective)
    return run_lint(spec, episodes, seed).as_dict()


def check(env: str, out: Path | str, seeds: int | Sequence[int] | None = None, budget: int | None = None,
          threshold: float | None = None, methods: Sequence[str] | str | None = None, resume: bool = False,
          progress: ProgressFn | None = None, env_kwargs: Mapping[str, Any] | None = None,
          executor: Any = "local", address: str | None = None, **evaluation: int | None) -> dict[str, Any]:
    """Run every applicable method (or `methods`) on `env` over many seeds; write the store and the
    report to `out`; return the summary (with its verdict). `executor="ray"` runs the jobs as Ray
    tasks (on the cluster at `address`, or a private local Ray)."""
    from rlcheck.study.run import run_study

    spec = study_spec(env, seeds, budget, threshold, methods, env_kwargs=env_kwargs, **evaluation)
    return run_study(spec, Path(out), resume=resume, progress=progress, executor=_executor(executor, address))


def run_file(path: Path | str, out: Path | str, sets: Sequence[tuple[str, str]] = (), resume: bool = False,
             progress: ProgressFn | None = None, executor: Any = "local", address: str | None = None) -> dict[str, Any]:
    """Run the study described by a YAML file (with `--set a.b=c` overrides)."""
    from rlcheck.study.run import run_study
    from rlcheck.study.spec import apply_sets, build, load_yaml

    spec = build(apply_sets(load_yaml(Path(path)), sets))
    return run_study(spec, Path(out), resume=resume, progress=progress, executor=_executor(executor, address))


def _executor(executor: Any, address: str | None) -> Any:
    """An executor from its name ("local", "ray"), or the executor object given."""
    from rlcheck.engine.executors import make_executor

    return make_executor(executor, address) if isinstance(executor, str) else executor


def report(out: Path | str) -> dict[str, Any]:
    """Rebuild summary.json, report.html and report.md from a study's store."""
    from rlcheck.report import write_report
    from rlcheck.study.run import analyse

    summary = analyse(Path(out))
    write_json(Path(out) / "summary.json", summary)
    write_report(Path(out), summary)
    return summary


def seeds_needed(pilot: Path | str, effect: float, power: float = 0.8, alpha: float = 0.05) -> list[dict[str, Any]]:
    """Seeds per method needed to detect a difference `effect` in mean final return with the given
    power, from the per-seed spread in a pilot study. One row per pair of methods in the pilot, and
    one per method against a hypothetical variant of itself (same spread)."""
    import numpy as np

    from rlcheck.analysis.stats import seeds_needed as needed
    from rlcheck.study.run import analyse

    summary = analyse(Path(pilot))
    spreads = {}
    for m in summary["methods"]:
        finals = np.array([s["final_return"] for s in m["seeds"] if s["final_return"] is not None])
        if len(finals) < 2:
            raise RLCheckError(f"The pilot's {m['label_name']} has fewer than 2 usable seeds, so its spread is unknown. Run a pilot with more seeds.")
        spreads[m["label_name"]] = float(np.std(finals, ddof=1))
    names = list(spreads)
    pairs = [(a, a) for a in names] + [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    return [{"a": a, "b": b, "sd_a": spreads[a], "sd_b": spreads[b], "effect": effect, "power": power,
             "seeds_per_method": needed(spreads[a], spreads[b], effect, power, alpha)} for a, b in pairs]


def reproduce(name: str, out: Path | str, quick: bool = False, sources: Sequence[Path | str] = (),
              progress: ProgressFn | None = None, executor: Any = "local", address: str | None = None) -> dict[str, Any]:
    """Run one of the essay's claims (`rlcheck reproduce list`) and judge it; returns reproduction.json's content."""
    from rlcheck.reproduce import run

    return run(name, Path(out), quick=quick, progress=progress, sources=[Path(s) for s in sources],
               executor=_executor(executor, address))


def export(out: Path | str, to: Sequence[str] = ("tensorboard",), **options: Any) -> dict[str, str]:
    """Copy the study at `out` into TensorBoard (`logdir=`), Weights & Biases (`project=`, `entity=`,
    `mode=`) or MLflow (`tracking_uri=`, `experiment=`); returns where each copy went."""
    from rlcheck.export import export as run_export

    return run_export(Path(out), list(to), **options)
