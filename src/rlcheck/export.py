"""Copy a finished study into users' own tools: TensorBoard event files per seed (tensorboardX),
Weights & Biases runs, MLflow runs. Each reads the store and writes elsewhere; the store stays the
source of truth, and `exports.json` in it records where each copy went.

Every run (method, config, seed) becomes one TensorBoard directory / W&B run / MLflow run, its
metrics logged at their env step: `eval/return`, `eval/return_std`, `eval/return_min`,
`train/return`, `train/episodes`, `diag/<name>`, `behaviour/<name>`, `diverged`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tensorboardX import SummaryWriter

from rlcheck.core.errors import ExportError, RLCheckError, StoreError
from rlcheck.store import StudyStore

SINKS = ("tensorboard", "wandb", "mlflow")
TAGS = {"eval_return": "eval/return", "eval_return_std": "eval/return_std", "eval_return_min": "eval/return_min",
        "train_return": "train/return", "train_episodes": "train/episodes"}


@dataclass(frozen=True)
class RunSeries:
    """One run's metrics from the store: name -> (env_steps, values)."""

    method: str
    config_id: int
    seed: int
    config: dict[str, Any]
    metrics: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def name(self) -> str:
        return f"{self.method}-c{self.config_id}-seed{self.seed}"


def runs(out: Path) -> Iterator[RunSeries]:
    """Every run in the store at `out`, in store order."""
    store = StudyStore(out)
    manifest = store.read_manifest() or {}
    table = store.read_traces().to_pydict()
    grouped: dict[tuple[str, int, int], dict[str, list[tuple[int, float]]]] = {}
    for method, config_id, seed, step, metric, value in zip(table["method"], table["config_id"], table["seed"],
                                                            table["env_steps"], table["metric"], table["value"],
                                                            strict=True):
        grouped.setdefault((method, config_id, seed), {}).setdefault(TAGS.get(metric, metric), []).append((step, value))
    for (method, config_id, seed), metrics in grouped.items():
        configs = manifest.get("configs", {}).get(method, [])
        config = configs[config_id] if config_id < len(configs) else {}
        yield RunSeries(method, config_id, seed, config,
                        {k: (np.array([s for s, _ in v]), np.array([x for _, x in v])) for k, v in metrics.items()})


def to_tensorboard(out: Path, logdir: Path | None = None) -> Path:
    """TensorBoard event files, one directory per run: `tensorboard --logdir LOGDIR` shows every seed."""
    logdir = Path(logdir) if logdir else Path(out) / "tensorboard"
    for run in runs(Path(out)):
        writer = SummaryWriter(logdir=str(logdir / run.name), flush_secs=3600)
        try:
            for step, row in _rows(run):
                for tag, value in row.items():
                    writer.add_scalar(tag, value, step)
            writer.add_text("config", json.dumps(run.config, indent=1), 0)
        finally:
            writer.close()
    _record(out, "tensorboard", str(logdir))
    return logdir


def to_wandb(out: Path, project: str = "rlcheck", entity: str | None = None, mode: str | None = None) -> str:
    """One W&B run per seed, grouped by study (`mode="offline"` writes them locally for `wandb sync`)."""
    try:
        import wandb  # the export extra, imported only for --to wandb
    except ImportError as exc:
        raise RLCheckError("Weights & Biases export needs wandb: pip install wandb (or the 'export' extra).") from exc
    summary = _summary(out)
    group = f"{summary.get('env', 'study')}-{summary.get('fingerprint', '')}"
    for run in runs(Path(out)):
        handle = wandb.init(project=project, entity=entity, mode=mode, group=group, name=run.name, reinit="create_new",
                            config={"method": run.method, "config_id": run.config_id, "seed": run.seed, **run.config},
                            dir=str(Path(out)))
        try:
            handle.define_metric("env_steps")
            handle.define_metric("*", step_metric="env_steps")
            for step, row in _rows(run):
                handle.log({"env_steps": step, **row})
            handle.summary["verdict"] = summary.get("verdict", {}).get("label")
        finally:
            handle.finish()
    _record(out, "wandb", f"{entity + '/' if entity else ''}{project} (group {group}, mode {mode or 'online'})")
    return group


def to_mlflow(out: Path, tracking_uri: str | None = None, experiment: str = "rlcheck") -> str:
    """A parent MLflow run for the study (summary and report as artifacts), a child run per seed."""
    try:
        import mlflow  # the export extra, imported only for --to mlflow
    except ImportError as exc:
        raise RLCheckError("MLflow export needs mlflow: pip install mlflow-skinny (or the 'export' extra).") from exc
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    summary = _summary(out)
    with mlflow.start_run(run_name=f"{summary.get('env', 'study')}-{summary.get('fingerprint', '')}") as parent:
        mlflow.set_tags({"rlcheck.verdict": summary.get("verdict", {}).get("label", ""), "rlcheck.store": str(out)})
        for name in ("summary.json", "report.md", "report.html"):
            if (Path(out) / name).exists():
                mlflow.log_artifact(str(Path(out) / name))
        for run in runs(Path(out)):
            with mlflow.start_run(run_name=run.name, nested=True):
                mlflow.log_params({"method": run.method, "config_id": run.config_id, "seed": run.seed,
                                   **{k: str(v)[:250] for k, v in run.config.items()}})
                for step, row in _rows(run):
                    mlflow.log_metrics({k.replace("/", "."): v for k, v in row.items()}, step=step)
        parent_id = parent.info.run_id
    _record(out, "mlflow", f"{mlflow.get_tracking_uri()} (experiment {experiment}, run {parent_id})")
    return parent_id


def export(out: Path, sinks: list[str], **options: Any) -> dict[str, str]:
    """Run each sink in `sinks` on the study at `out`; returns sink -> where it went."""
    store = StudyStore(out)
    if store.read_manifest() is None or not store.has_traces():
        raise StoreError(f"{out} holds no finished study (no manifest.json or traces.parquet). Export a directory "
                         "written by `rlcheck check`, `run`, `sweep` or `train`.")
    unknown = [s for s in sinks if s not in SINKS]
    if unknown:
        raise RLCheckError(f"Unknown export {', '.join(unknown)}. Choose from: {', '.join(SINKS)}.")
    done = {}
    for sink in sinks:
        try:
            if sink == "tensorboard":
                done[sink] = str(to_tensorboard(Path(out), options.get("logdir")))
            elif sink == "wandb":
                done[sink] = to_wandb(Path(out), options.get("project") or "rlcheck", options.get("entity"),
                                      options.get("mode"))
            else:
                done[sink] = to_mlflow(Path(out), options.get("tracking_uri"), options.get("experiment") or "rlcheck")
        except RLCheckError:
            raise
        except Exception as exc:  # the tool's own complaint (login, server, backend), said in one paragraph
            raise ExportError(f"The {sink} export failed: {type(exc).__name__}: {exc} The study in {out} is unchanged; "
                              f"fix the {sink} setting named above and run `rlcheck export {out} --to {sink}`.") from exc
    return done


def _rows(run: RunSeries) -> Iterator[tuple[int, dict[str, float]]]:
    """(env_steps, {metric: value}) per checkpoint, finite values only (NaN marks "no training episode
    ended in this interval": not logged)."""
    by_step: dict[int, dict[str, float]] = {}
    for tag, (steps, values) in run.metrics.items():
        for step, value in zip(steps, values, strict=True):
            if np.isfinite(value):
                by_step.setdefault(int(step), {})[tag] = float(value)
    yield from sorted(by_step.items())


def _summary(out: Path) -> dict[str, Any]:
    return StudyStore(out).read_summary() or {}


def _record(out: Path, sink: str, target: str) -> None:
    """Note in the store where a copy went (the store itself is never changed otherwise)."""
    store = StudyStore(out)
    entries = store.read_json("exports.json") or []
    entries.append({"sink": sink, "target": target, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    store.write_json("exports.json", entries)
