"""`StudyStore`: one object owns every path of a study directory and every read and write in it, each
write atomic (temp file + rename, rlcheck.core.atomic), under one writer's lock:

    DIR/manifest.json        spec, fingerprint, method records, versions, machine, job status
    DIR/checkpoints/JOB.npz  the state of an unfinished job after its last chunk (rlcheck.core.checkpoint)
    DIR/jobs/JOB.npz         a finished job's traces
    DIR/traces.parquet       every run's checkpoints, long format (below)
    DIR/summary.json         the analysis (schema: docs/summary.schema.json)
    DIR/report.html, DIR/report.md, DIR/report_files/*.svg
    DIR/exports.json         where `rlcheck export` copied the study
    DIR/set-aside/           files found in the store that were not this study's, or unreadable (never adopted)
    DIR/rlcheck.log          tracebacks and library log messages (nothing of that goes to the terminal)

What is its own: every job file, checkpoint and traces.parquet carries the study's fingerprint and
(job files, checkpoints) the job's id, checked on read. A job file or checkpoint that does not match,
or cannot be read, is moved to DIR/set-aside/ with a note of why, and its job is run again; a
traces.parquet that does not match is refused. `--out` into a non-empty directory that holds no study
is refused unless --force; temp files a kill left behind are removed when the lock is next taken.

traces.parquet columns: method (str), config_id (int), seed (int), env_steps (int), model_calls (int),
metric (str), value (float). Metrics per checkpoint: `eval_return` (mean of the K deterministic
episodes), `eval_return_std`, `eval_return_min`, `train_return` (mean over training episodes finished
in the interval; NaN if none), `train_episodes`, `diverged` (1 from the first checkpoint at which the
run's weights or returns were NaN/inf), `diag/<name>` diagnostics and `behaviour/<name>` scalars.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from rlcheck.core.atomic import SET_ASIDE, TEMP_GLOB, atomic_write_bytes, set_aside, unwritable
from rlcheck.core.checkpoint import checkpoint_files
from rlcheck.core.errors import StoreError
from rlcheck.core.results import RunResult
from rlcheck.core.trace import Trace

LOCK_NAME = ".rlcheck.lock"
LOG_NAME = "rlcheck.log"
FINGERPRINT_KEY = b"rlcheck_fingerprint"
TRACE_FIELDS = ("env_steps", "model_calls", "eval_returns", "train_returns", "train_episodes")
TRACE_SCHEMA = pa.schema([
    ("method", pa.string()), ("config_id", pa.int32()), ("seed", pa.int64()), ("env_steps", pa.int64()),
    ("model_calls", pa.int64()), ("metric", pa.string()), ("value", pa.float64()),
])


class StudyStore:
    def __init__(self, root: Path | str, fingerprint: str | None = None):
        self.root = Path(root)
        self.fingerprint = fingerprint  # the study's, once known: what job files and traces must carry

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def traces_path(self) -> Path:
        return self.root / "traces.parquet"

    @property
    def summary_path(self) -> Path:
        return self.root / "summary.json"

    def job_path(self, job_id: str) -> Path:
        return self.root / "jobs" / f"{job_id}.npz"

    def checkpoint_path(self, job_id: str) -> Path:
        return self.root / "checkpoints" / f"{job_id}.npz"

    # -- the lock ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[StudyStore]:
        """Hold the one writer's lock, creating the directory if needed. A directory that cannot be written
        is refused before anything is left in it; the OS releases the lock if its holder dies, so a killed
        run never blocks its own --resume."""
        created = self._make_dir()
        lock = FileLock(self.root / LOCK_NAME, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise StoreError(f"Another rlcheck process is writing to {self.root} (it holds {self.root / LOCK_NAME}). "
                             "Wait for it to finish, or write this run to another --out directory.") from None
        except OSError as exc:
            if created:
                shutil.rmtree(self.root, ignore_errors=True)
            raise unwritable(self.root, exc) from exc
        try:
            self.remove_leftover_temp_files()
            yield self
        finally:
            lock.release()

    def remove_leftover_temp_files(self) -> list[Path]:
        """Temp files of writes a kill interrupted (`.NAME.*.tmp`): never complete, so never needed."""
        leftovers = [p for p in self.root.rglob(TEMP_GLOB) if p.is_file()]
        for path in leftovers:
            path.unlink(missing_ok=True)
        return leftovers

    def foreign_entries(self) -> list[str]:
        """What a directory without a manifest already holds, apart from rlcheck's lock and log."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name not in (LOCK_NAME, LOG_NAME))

    def set_aside_job(self, job_id: str, reason: str) -> Path:
        return set_aside(self.job_path(job_id), f"jobs/{job_id}.npz was not adopted: {reason}")

    def set_aside_files(self) -> list[str]:
        where = self.root / SET_ASIDE
        return sorted(str(p.relative_to(self.root)) for p in where.rglob("*") if p.is_file() and not p.name.endswith(".why.txt")) \
            if where.is_dir() else []

    def _make_dir(self) -> bool:
        """Create the directory (and parents); True if it did not exist before."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"--out {self.root} is a file, not a directory. Choose a directory path for the study.")
        existed = self.root.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unwritable(self.root, exc) from exc
        return not existed

    # -- manifest ------------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if the directory holds no study."""
        path = self.manifest_path
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path} cannot be read ({type(exc).__name__}: {exc}). rlcheck writes it atomically, so "
                             "it was changed by something else. Move the directory aside and run the study again.") from exc
        if not isinstance(manifest, dict) or "spec" not in manifest or "jobs" not in manifest:
            raise StoreError(f"{path} is not an rlcheck study manifest (no spec or jobs). Point at a directory written "
                             "by `rlcheck check`, `run` or `train`, or choose another --out directory.")
        return manifest

    def manifest(self) -> dict[str, Any]:
        """The manifest of a study that must exist."""
        manifest = self.read_manifest()
        if manifest is None:
            raise StoreError(f"{self.root} holds no study (no manifest.json). Point at a directory written by "
                             "`rlcheck check`, `rlcheck run` or `rlcheck train`.")
        return manifest

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        atomic_write_bytes(self.manifest_path, (json.dumps(manifest, indent=2, default=str) + "\n").encode())

    # -- finished jobs ---------------------------------------------------------------------------------
    def has_job(self, job_id: str) -> bool:
        return self.job_path(job_id).exists()

    def save_job(self, job_id: str, result: RunResult) -> None:
        """A finished job's traces, then its checkpoint is dropped (the result supersedes it)."""
        tr = result.trace
        arrays = {f"trace/{f}": np.asarray(getattr(tr, f)) for f in TRACE_FIELDS}
        arrays |= {f"diag/{k}": np.asarray(v) for k, v in tr.diagnostics.items()}
        arrays |= {f"behaviour/{k}": np.asarray(v) for k, v in tr.behaviour.items()}
        meta = {"config_ids": result.config_ids, "seeds": result.seeds, "diverged_at": result.diverged_at,
                "wall_seconds": result.wall_seconds, "compile_seconds": result.compile_seconds,
                "fingerprint": self.fingerprint, "job_id": job_id}
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
        atomic_write_bytes(self.job_path(job_id), buffer.getvalue())
        self.drop_checkpoint(job_id)

    def drop_checkpoint(self, job_id: str) -> None:
        """A finished job's checkpoint goes (also on resume: a kill may have come between result and cleanup)."""
        for path in checkpoint_files(self.checkpoint_path(job_id)):
            path.unlink(missing_ok=True)

    def adoptable_job(self, job_id: str, recorded_done: bool) -> str | None:
        """Why the job file there cannot be this study's result, or None if it can. A file from before job
        files carried a fingerprint is adopted only where this study's manifest recorded the job done."""
        try:
            with np.load(self.job_path(job_id)) as data:
                meta = json.loads(bytes(data["meta"]).decode())
        except Exception as exc:  # a torn or foreign file: any failure to read it is a reason to redo the job
            return f"it cannot be read ({type(exc).__name__}: {exc})"
        if not isinstance(meta, dict):
            return "it holds no rlcheck job record"
        if "fingerprint" not in meta:
            return None if recorded_done else "it carries no study fingerprint, and this study's manifest did not record it"
        if meta["fingerprint"] != self.fingerprint or meta.get("job_id") != job_id:
            return (f"it belongs to another study or job (fingerprint {meta['fingerprint']}, job {meta.get('job_id')}; "
                    f"this is {self.fingerprint}, job {job_id})")
        return None

    def load_job(self, job_id: str, method: str, config_of: Callable[[int], Any]) -> RunResult:
        """A finished job's result; `config_of(config_id)` gives back the config objects."""
        with np.load(self.job_path(job_id)) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if "leaf_0" in data:  # written before rlcheck 0.2: the Trace's pytree leaves in order
                names = ([f"trace/{f}" for f in TRACE_FIELDS] + [f"diag/{k}" for k in sorted(meta["diagnostics"])]
                         + [f"behaviour/{k}" for k in sorted(meta.get("behaviour", []))])
                arrays = {name: data[f"leaf_{i}"] for i, name in enumerate(names)}
            else:
                arrays = {name: data[name] for name in data.files if name != "meta"}
        trace = Trace(**{f: arrays[f"trace/{f}"] for f in TRACE_FIELDS},
                      diagnostics={k.removeprefix("diag/"): v for k, v in arrays.items() if k.startswith("diag/")},
                      behaviour={k.removeprefix("behaviour/"): v for k, v in arrays.items() if k.startswith("behaviour/")})
        return RunResult(method, [config_of(i) for i in meta["config_ids"]], meta["config_ids"], meta["seeds"], trace,
                         meta["wall_seconds"], meta["compile_seconds"], meta["diverged_at"])

    # -- traces --------------------------------------------------------------------------------------
    def write_traces(self, results: Sequence[RunResult]) -> Path:
        sink = pa.BufferOutputStream()
        table = trace_table(results)
        if self.fingerprint:
            table = table.replace_schema_metadata({FINGERPRINT_KEY: self.fingerprint.encode()})
        pq.write_table(table, sink)
        atomic_write_bytes(self.traces_path, sink.getvalue().to_pybytes())
        return self.traces_path

    def has_traces(self) -> bool:
        return self.traces_path.exists()

    def read_traces(self) -> pa.Table:
        try:
            table = pq.read_table(self.traces_path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{self.traces_path} cannot be read ({type(exc).__name__}: {exc}). rlcheck writes it "
                             "atomically, so it was changed by something else. Rerun the study with --resume: it "
                             "rebuilds the file from the finished jobs.") from exc
        stamp = (table.schema.metadata or {}).get(FINGERPRINT_KEY)
        if self.fingerprint and stamp is not None and stamp.decode() != self.fingerprint:
            raise StoreError(f"{self.traces_path} belongs to another study (fingerprint {stamp.decode()}; this study's "
                             f"manifest says {self.fingerprint}). Rerun the study with --resume: it rebuilds the file "
                             "from this study's finished jobs.")
        return table

    # -- summary, reports, other records ---------------------------------------------------------------
    def write_summary(self, summary: Any) -> Path:
        payload = summary.to_json() if hasattr(summary, "to_json") else summary
        return self.write_json("summary.json", payload)

    def read_summary(self) -> dict[str, Any] | None:
        return self.read_json("summary.json")

    def write_json(self, name: str, payload: Any) -> Path:
        return write_json(self.root / name, payload)

    def read_json(self, name: str) -> Any:
        path = self.root / name
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path} cannot be read ({type(exc).__name__}: {exc}). Rebuild it with `rlcheck report "
                             f"{self.root}`.") from exc

    def write_text(self, name: str, text: str) -> Path:
        atomic_write_bytes(self.root / name, text.encode())
        return self.root / name


def write_json(path: Path, payload: Any) -> Path:
    """Strict JSON, atomically: NaN and infinities are written as null (strict parsers reject NaN and
    Infinity); for files outside a study too (`rlcheck lint --json`)."""
    atomic_write_bytes(Path(path), (json.dumps(finite_json(payload), indent=2, allow_nan=False) + "\n").encode())
    return Path(path)


def finite_json(value: Any) -> Any:
    """`value` with every non-finite float as None, and numpy scalars and arrays as plain JSON values."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def trace_table(results: Sequence[RunResult]) -> pa.Table:
    """Long-format table of every checkpoint metric of every run."""
    columns: dict[str, list[Any]] = {name: [] for name in TRACE_SCHEMA.names}
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
    return pa.table(columns, schema=TRACE_SCHEMA)
