"""A study directory: `traces.parquet` (long format) and `summary.json`, each written atomically
(temp file + rename), so a kill never leaves a half-written file.

traces.parquet columns: method (str), config_id (int), seed (int), env_steps (int),
model_calls (int), metric (str), value (float). Metrics per checkpoint: `eval_return` (mean of the
K deterministic episodes), `eval_return_std`, `eval_return_min`, `train_return` (mean over training
episodes finished in the interval; NaN if none), `train_episodes`, `diverged` (1 from the first checkpoint at which the run's weights or returns
were NaN/inf) and `diag/<name>` diagnostics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rlcheck.atomic import atomic_write_bytes
from rlcheck.engine.runner import RunResult
from rlcheck.errors import StoreError

__all__ = ["atomic_write_bytes", "read_traces", "trace_table", "write_json", "write_traces"]


def trace_table(results: Sequence[RunResult]) -> pa.Table:
    """Long-format table of every checkpoint metric of every run."""
    columns: dict[str, list[Any]] = {k: [] for k in ("method", "config_id", "seed", "env_steps", "model_calls", "metric", "value")}
    for result in results:
        tr = result.trace
        metrics = {
            "eval_return": tr.eval_returns.mean(-1),
            "eval_return_std": tr.eval_returns.std(-1),
            "eval_return_min": tr.eval_returns.min(-1),
            "train_return": tr.train_returns,
            "train_episodes": tr.train_episodes,
            **{f"diag/{k}": v for k, v in tr.diagnostics.items()},
            **{f"behaviour/{k}": v for k, v in tr.behaviour.items()},
        }
        if result.diverged_at:  # 1 from the first checkpoint whose weights or returns were NaN/inf
            at = np.array([np.inf if d is None else d for d in result.diverged_at])[:, None]
            metrics["diverged"] = (tr.env_steps >= at).astype(np.float64)
        runs, checkpoints = tr.env_steps.shape
        for metric, values in metrics.items():
            n = runs * checkpoints
            columns["method"] += [result.method] * n
            columns["config_id"] += np.repeat(result.config_ids, checkpoints).tolist()
            columns["seed"] += np.repeat(result.seeds, checkpoints).tolist()
            columns["env_steps"] += np.asarray(tr.env_steps, np.int64).reshape(-1).tolist()
            columns["model_calls"] += np.asarray(tr.model_calls, np.int64).reshape(-1).tolist()
            columns["metric"] += [metric] * n
            columns["value"] += np.asarray(values, np.float64).reshape(-1).tolist()
    schema = pa.schema([
        ("method", pa.string()), ("config_id", pa.int32()), ("seed", pa.int64()), ("env_steps", pa.int64()),
        ("model_calls", pa.int64()), ("metric", pa.string()), ("value", pa.float64()),
    ])
    return pa.table(columns, schema=schema)


def write_traces(out_dir: Path, results: Sequence[RunResult]) -> Path:
    sink = pa.BufferOutputStream()
    pq.write_table(trace_table(results), sink)
    path = Path(out_dir) / "traces.parquet"
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    atomic_write_bytes(Path(path), (json.dumps(payload, indent=2, allow_nan=True) + "\n").encode())
    return Path(path)


def read_traces(out_dir: Path) -> pa.Table:
    path = Path(out_dir) / "traces.parquet"
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{path} cannot be read ({type(exc).__name__}: {exc}). rlcheck writes it atomically, so it was "
                         "changed by something else. Rerun the study with --resume: it rebuilds the file from the "
                         "finished jobs.") from exc
