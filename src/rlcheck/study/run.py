"""Run a study into its store directory, job by job, resumable:

    DIR/manifest.json        spec, fingerprint, versions, machine, job status
    DIR/checkpoints/JOB.npz  the state of an unfinished job after its last chunk
    DIR/jobs/JOB.npz         a finished job's traces
    DIR/traces.parquet       every run's checkpoints, long format (see rlcheck.store)
    DIR/summary.json, DIR/report.html, DIR/report.md

A job that fails is recorded with its error and the others go on; `--resume` redoes only
unfinished jobs and refuses a store made from a different spec, saying what differs."""

from __future__ import annotations

import io
import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np

from rlcheck import __version__
from rlcheck.atomic import atomic_write_bytes
from rlcheck.engine.executors import JobTask, LocalExecutor
from rlcheck.engine.lock import study_lock
from rlcheck.engine.runner import ProgressFn, RunResult
from rlcheck.errors import StoreError
from rlcheck.methods.config import describe
from rlcheck.study import plan as planning
from rlcheck.study.spec import StudySpec, diff
from rlcheck.trace import Trace

LIBRARIES = ("jax", "jaxlib", "flax", "optax", "gymnax", "numpy", "scipy", "pyarrow")


def machine() -> dict[str, Any]:
    import os

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "jax_backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()]}


def versions() -> dict[str, str | None]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def read_manifest(out: Path) -> dict[str, Any] | None:
    path = Path(out) / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} cannot be read ({type(exc).__name__}: {exc}). rlcheck writes it atomically, so it was "
                         "changed by something else. Move the directory aside and run the study again.") from exc
    if not isinstance(manifest, dict) or "spec" not in manifest or "jobs" not in manifest:
        raise StoreError(f"{path} is not an rlcheck study manifest (no spec or jobs). Point at a directory written by "
                         "`rlcheck check` or `rlcheck run`, or choose another --out directory.")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    atomic_write_bytes(Path(out) / "manifest.json", (json.dumps(manifest, indent=2, default=str) + "\n").encode())


def _save_result(path: Path, result: RunResult) -> None:
    leaves, _ = jax.tree.flatten(result.trace)
    meta = {"config_ids": result.config_ids, "seeds": result.seeds, "diverged_at": result.diverged_at,
            "wall_seconds": result.wall_seconds, "compile_seconds": result.compile_seconds,
            "diagnostics": sorted(result.trace.diagnostics), "behaviour": sorted(result.trace.behaviour)}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **{f"leaf_{i}": x for i, x in enumerate(leaves)})
    atomic_write_bytes(path, buffer.getvalue())


def _load_result(path: Path, job: planning.Job) -> RunResult:
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        template = Trace(0, 0, 0, 0, 0, {k: 0 for k in meta["diagnostics"]}, {k: 0 for k in meta.get("behaviour", [])})
        treedef = jax.tree.structure(template)
        trace = jax.tree.unflatten(treedef, [data[f"leaf_{i}"] for i in range(treedef.num_leaves)])
    by_id = dict(zip(job.global_ids(), job.configs, strict=True))
    configs = [by_id[i] for i in meta["config_ids"]]
    return RunResult(job.method, configs, meta["config_ids"], meta["seeds"], trace, meta["wall_seconds"],
                     meta["compile_seconds"], meta["diverged_at"])


def prepare(spec: StudySpec, out: Path, resume: bool) -> dict[str, Any]:
    """The manifest to run with: a fresh one, or the stored one if resuming the same spec."""
    old = read_manifest(out)
    if old is not None:
        if not resume:
            raise StoreError(
                f"{out} already holds a study ({old['spec']['env']}, fingerprint {old['fingerprint']}). Pass "
                "--resume to continue it, or choose another --out directory."
            )
        if old["fingerprint"] != spec.fingerprint():
            changes = "; ".join(diff(old["spec"], spec.as_dict())) or "the spec"
            raise StoreError(
                f"Refusing to --resume: the study in {out} was made with a different spec ({changes}). Resume with "
                "the original settings, or write the new study to another --out directory."
            )
        return old
    env = spec.make_env()
    return {
        "fingerprint": spec.fingerprint(),
        "spec": spec.as_dict(),
        "reward_threshold": env.reward_threshold,
        "env_info": {"backend": env.backend, "preflight_warnings": list(env.warnings), "discrete": env.discrete,
                     "action_range": None if env.discrete else (np.asarray(env.action_high) - np.asarray(env.action_low)).tolist()},
        "rlcheck_version": __version__,
        "libraries": versions(),
        "machine": machine(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "configs": {},
        "jobs": {},
    }


def run_study(spec: StudySpec, out: Path, resume: bool = False, progress: ProgressFn | None = None,
              report: bool = True, executor: Any = None) -> dict[str, Any]:
    """Run (or resume) the study into `out`, holding its lock: a second process on the same store is
    refused. `executor` is an `engine.executors` executor (default: local, one job after another)."""
    out = Path(out)
    with study_lock(out):
        return _run_locked(spec, out, resume, progress, report, executor or LocalExecutor())


def _run_locked(spec: StudySpec, out: Path, resume: bool, progress: ProgressFn | None, report: bool,
                executor: Any) -> dict[str, Any]:
    from rlcheck.methods import Budget
    from rlcheck.store import write_json, write_traces

    manifest = prepare(spec, out, resume)
    start, wall_before = time.perf_counter(), manifest.get("wall_seconds", 0.0)
    env = spec.make_env()
    if spec.audit and "audit_lint" not in manifest:
        manifest["audit_lint"], manifest["audit_errors"] = run_lint(env)
        write_manifest(out, manifest)
    budget = Budget(spec.budget, spec.num_evals, spec.eval_episodes)
    jobs = planning.jobs(spec)
    for m in spec.methods:
        manifest["configs"][m.name] = [describe(c) for c in planning.method_configs(spec, m, env)]
    for job in jobs:
        manifest["jobs"].setdefault(job.job_id, {"method": job.method, "seeds": list(job.seeds), "status": "pending"})
    manifest["executor"] = executor.name
    write_manifest(out, manifest)

    results: dict[str, RunResult] = {}
    todo = []
    for job in jobs:
        done_path = out / "jobs" / f"{job.job_id}.npz"
        if done_path.exists():  # finished, even if a kill came before the manifest said so
            results[job.job_id] = _load_result(done_path, job)
            _mark_done(manifest["jobs"][job.job_id], results[job.job_id])
        else:
            todo.append(JobTask(spec, job, budget, out / "checkpoints" / f"{job.job_id}.npz", tuple(sys.path)))
    write_manifest(out, manifest)

    def on_result(task: JobTask, result: RunResult | None, error: BaseException | None) -> None:
        record = manifest["jobs"][task.job.job_id]
        if result is None:
            record.update(status="failed", error=f"{type(error).__name__}: {error}")
        else:
            _save_result(out / "jobs" / f"{task.job.job_id}.npz", result)
            task.checkpoint_path.unlink(missing_ok=True)
            _mark_done(record, result)
            results[task.job.job_id] = result
        write_manifest(out, manifest)

    total_steps = sum(j.runs for j in jobs) * spec.budget
    done_steps = total_steps - sum(t.env_steps for t in todo)
    if progress and done_steps:
        progress(done_steps, total_steps)
    executor.run(todo, env, on_result, progress, done_steps, total_steps)

    manifest["wall_seconds"] = wall_before + time.perf_counter() - start
    write_manifest(out, manifest)
    ordered = [results[j.job_id] for j in jobs if j.job_id in results]  # job order, whatever order they finished in
    if ordered:
        write_traces(out, ordered)
    summary = analyse(out, manifest)
    write_json(out / "summary.json", summary)
    if report:
        from rlcheck.report import write_report

        write_report(out, summary)
    return summary


def _mark_done(record: dict[str, Any], result: RunResult) -> None:
    record.update(status="done", wall_seconds=result.wall_seconds, compile_seconds=result.compile_seconds,
                  diverged_seeds=[s for s, d in zip(result.seeds, result.diverged_at, strict=True) if d is not None])
    record.pop("error", None)
    if result.resumed_from_chunk:
        record["resumed_from_chunk"] = result.resumed_from_chunk


def run_lint(env) -> tuple[dict[str, Any] | None, list[str]]:
    """The reward lint (before training) and any user behaviour inputs that had to be dropped. A lint
    that fails is recorded, never fatal: the study runs without it."""
    from rlcheck.diagnostics.behaviour import behaviour_spec
    from rlcheck.diagnostics.lint import lint

    errors = list(behaviour_spec(env).errors)
    try:
        result = lint(env).as_dict()
    except Exception as exc:  # the user's env may fail under a probe policy: say so, keep going
        errors.append(f"The reward lint could not run: {type(exc).__name__}: {exc}")
        result = None
    return result, errors


def analyse(out: Path, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json's content, from the store alone."""
    from rlcheck.analysis.outcomes import read
    from rlcheck.analysis.summary import summarize_study

    manifest = manifest or read_manifest(out)
    if manifest is None:
        raise StoreError(f"{out} holds no study (no manifest.json). Point at a directory written by `rlcheck check` or `rlcheck run`.")
    outcomes = read(out) if (Path(out) / "traces.parquet").exists() else []
    return summarize_study(outcomes, manifest)
