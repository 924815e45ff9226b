"""Run a study into its store directory, job by job, resumable:

    DIR/manifest.json        spec, fingerprint, versions, machine, job status
    DIR/checkpoints/JOB.npz  the state of an unfinished job after its last chunk
    DIR/jobs/JOB.npz         a finished job's traces
    DIR/traces.parquet       every run's checkpoints, long format (see rlcheck.store)
    DIR/summary.json, DIR/report.html, DIR/report.md

A job that fails is recorded with its error and the others go on; `--resume` redoes only
unfinished jobs and refuses a store made from a different spec, saying what differs."""

from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pyarrow.compute as pc

from rlcheck import __version__, registry
from rlcheck.analysis.outcomes import read as read_outcomes
from rlcheck.analysis.sequential import to_extend
from rlcheck.analysis.summary import summarize_study
from rlcheck.analysis.tuning import choose
from rlcheck.core.budget import Budget
from rlcheck.core.config import describe
from rlcheck.core.contracts import ProgressFn
from rlcheck.core.errors import StoreError
from rlcheck.core.results import RunResult, StudySummary
from rlcheck.diagnostics.behaviour import behaviour_spec
from rlcheck.diagnostics.lint import lint
from rlcheck.engine import compile_cache
from rlcheck.engine.executors import JobTask, LocalExecutor
from rlcheck.report import write_report
from rlcheck.store import StudyStore
from rlcheck.study import plan as planning
from rlcheck.study.plan import Job
from rlcheck.study.spec import StudySpec, diff

LIBRARIES = ("jax", "jaxlib", "flax", "optax", "gymnax", "numpy", "scipy", "pyarrow")


def machine() -> dict[str, Any]:
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


def prepare(spec: StudySpec, store: StudyStore, resume: bool, force: bool = False) -> dict[str, Any]:
    """The manifest to run with: a fresh one, or the stored one if resuming the same spec. A directory
    that holds files but no study is refused unless `force`: they are the user's, not ours to overwrite."""
    out = store.root
    old = store.read_manifest()
    store.fingerprint = spec.fingerprint()
    if old is None and not force:
        foreign = store.foreign_entries()
        if foreign:
            shown = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
            raise StoreError(f"--out {out} is not empty ({shown}) and holds no rlcheck study, so writing there could "
                             "overwrite your files. Choose a new or empty --out directory, or pass --force to write "
                             "the study there anyway (files named like the store's are replaced; job files that are "
                             "not this study's are set aside, never adopted).")
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
                     "obs_size": env.obs_size, "action_range": None if env.discrete else (np.asarray(env.action_high) - np.asarray(env.action_low)).tolist()},
        "methods": {m.name: registry.get(m.name).describe() for m in spec.methods},
        "rlcheck_version": __version__,
        "libraries": versions(),
        "machine": machine(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "configs": {},
        "jobs": {},
    }


def run_study(spec: StudySpec, out: Path | str, resume: bool = False, progress: ProgressFn | None = None,
              report: bool = True, executor: Any = None, force: bool = False) -> StudySummary:
    """Run (or resume) the study into `out`, holding its lock: a second process on the same store is
    refused. `executor` is an `engine.executors` executor (default: local, one job after another).
    `force`: write into a non-empty directory that holds no study."""
    compile_cache.enable()  # before the store: a bad RLCHECK_COMPILE_CACHE_GB is refused with nothing written
    with StudyStore(out).lock() as store:
        return _run_locked(spec, store, resume, progress, report, executor or LocalExecutor(), force)


def _run_locked(spec: StudySpec, store: StudyStore, resume: bool, progress: ProgressFn | None, report: bool,
                executor: Any, force: bool = False) -> StudySummary:
    manifest = prepare(spec, store, resume, force)
    start, wall_before = time.perf_counter(), manifest.get("wall_seconds", 0.0)
    env = spec.make_env()
    if spec.audit and "audit_lint" not in manifest:
        if progress:
            progress(0, 1, "reward lint (probe policies, no training)")
        manifest["audit_lint"], manifest["audit_errors"] = run_lint(env)
        store.write_manifest(manifest)
    budget = Budget(spec.budget, spec.num_evals, spec.eval_episodes)
    manifest["derived"] = planning.derived_settings(spec, env)
    manifest["executor"] = executor.name

    results: dict[str, RunResult] = {}
    run_jobs = _JobRunner(spec, store, manifest, budget, env, executor, progress, results)
    searched = planning.tune_jobs(spec, env)  # --tune: the search first, on its own seeds
    run_jobs(searched)
    chosen = _choose(searched, results, store, manifest, spec.threshold)
    jobs = planning.jobs(spec, chosen)
    for m in spec.methods:
        configs = [chosen[m.name]] if m.name in chosen else planning.method_configs(spec, m, env)
        manifest["configs"][m.name] = [describe(c) for c in configs]
    run_jobs(jobs)
    plan = spec.looks
    for look in range(1, len(plan) if spec.max_seeds else 0):  # --until-decided: more seeds where undecided
        store.write_traces([results[j.job_id] for j in jobs if j.job_id in results])
        more = [j for name in to_extend(read_outcomes(store), spec.threshold, plan, look)
                for j in planning.more_seeds(spec, name, look, chosen)]
        if not more:
            break
        jobs += more
        run_jobs(more)
    if progress:
        progress(run_jobs.total_steps, run_jobs.total_steps, "report")

    planned = {j.job_id for j in searched + jobs}  # a pending record this run did not plan (another design's) is dropped
    manifest["jobs"] = {k: v for k, v in manifest["jobs"].items() if k in planned or v.get("status") != "pending"}
    manifest["wall_seconds"] = wall_before + time.perf_counter() - start
    manifest["set_aside"] = store.set_aside_files()
    store.write_manifest(manifest)
    ordered = [results[j.job_id] for j in searched + jobs if j.job_id in results]  # job order, whatever order they ran in
    if ordered:
        store.write_traces(ordered)
    summary = analyse(store, manifest)
    store.write_summary(summary)
    if report:
        write_report(store, summary)
    return summary


def _choose(searched: list[Job], results: dict[str, RunResult], store: StudyStore, manifest: dict[str, Any],
            threshold: float | None) -> dict[str, Any]:
    """Each searched method's best configuration (analysis/tuning.py), recorded in the manifest; a method
    whose search failed runs its defaults."""
    done = [results[j.job_id] for j in searched if j.job_id in results]
    if not done:
        return {}
    store.write_traces(done)
    outcomes = read_outcomes(store)
    chosen, manifest["tuning"] = {}, {}
    for job in searched:
        mine = [o for o in outcomes if o.method == job.trace_name]
        if mine:
            best = choose(mine, threshold)
            chosen[job.method] = job.configs[best]
            described = [describe(c) for c in job.configs]
            searched_fields = [k for k in described[0]  # not those the user fixed with --set
                               if len({repr(d.get(k)) for d in described}) > 1]
            manifest["tuning"][job.method] = {"chosen": best, "configs": described, "fields": searched_fields}
    return chosen


class _JobRunner:
    """Runs a list of jobs into the store: a finished one (its file saved, even if the manifest missed it)
    is adopted, the rest go to the executor; each result or failure is recorded as it arrives."""

    def __init__(self, spec: StudySpec, store: StudyStore, manifest: dict[str, Any], budget: Budget, env: Any,
                 executor: Any, progress: ProgressFn | None, results: dict[str, RunResult]) -> None:
        self.spec, self.store, self.manifest, self.budget, self.env = spec, store, manifest, budget, env
        self.executor, self.progress, self.results = executor, progress, results
        self.total_steps = 0

    def __call__(self, jobs: list[Job]) -> None:
        manifest, store = self.manifest, self.store
        for job in jobs:
            manifest["jobs"].setdefault(job.job_id, {"method": job.method, "seeds": list(job.seeds), "status": "pending"})
        todo = []
        for job in jobs:
            if store.has_job(job.job_id):  # finished, even if a kill came before the manifest said so
                problem = store.adoptable_job(job.job_id, manifest["jobs"][job.job_id].get("status") == "done")
                if problem is not None:  # never adopted: moved aside with the reason, and the job runs
                    store.set_aside_job(job.job_id, problem)
                    manifest["jobs"][job.job_id].update(status="pending")
                    todo.append(JobTask(self.spec, job, self.budget, store.checkpoint_path(job.job_id), tuple(sys.path)))
                    continue
                store.drop_checkpoint(job.job_id)
                by_id = dict(zip(job.global_ids(), job.configs, strict=True))
                self.results[job.job_id] = store.load_job(job.job_id, job.trace_name or job.method, by_id.__getitem__)
                _mark_done(manifest["jobs"][job.job_id], self.results[job.job_id])
            else:
                todo.append(JobTask(self.spec, job, self.budget, store.checkpoint_path(job.job_id), tuple(sys.path)))
        store.write_manifest(manifest)

        def on_result(task: JobTask, result: RunResult | None, error: BaseException | None) -> None:
            record = manifest["jobs"][task.job.job_id]
            if result is None:
                record.update(status="failed", error=f"{type(error).__name__}: {error}")
            else:
                result.method = task.job.trace_name or task.job.method
                store.save_job(task.job.job_id, result)
                _mark_done(record, result)
                self.results[task.job.job_id] = result
            store.write_manifest(manifest)

        done_steps = self.total_steps + sum(j.runs for j in jobs) * self.spec.budget - sum(t.env_steps for t in todo)
        self.total_steps += sum(j.runs for j in jobs) * self.spec.budget
        if self.progress and done_steps:
            self.progress(done_steps, self.total_steps)
        self.executor.run(todo, self.env, on_result, self.progress, done_steps, self.total_steps)


def _mark_done(record: dict[str, Any], result: RunResult) -> None:
    record.update(status="done", runs=len(result.seeds), wall_seconds=result.wall_seconds, compile_seconds=result.compile_seconds,
                  diverged_seeds=[s for s, d in zip(result.seeds, result.diverged_at, strict=True) if d is not None])
    record.pop("error", None)
    if result.resumed_from_chunk:
        record["resumed_from_chunk"] = result.resumed_from_chunk


def run_lint(env) -> tuple[dict[str, Any] | None, list[str]]:
    """The reward lint (before training) and any user behaviour inputs that had to be dropped. A lint
    that fails is recorded, never fatal: the study runs without it."""
    errors = list(behaviour_spec(env).errors)
    try:
        result = lint(env).as_dict()
    except Exception as exc:  # the user's env may fail under a probe policy: say so, keep going
        errors.append(f"The reward lint could not run: {type(exc).__name__}: {exc}")
        result = None
    return result, errors


def analyse(store: StudyStore | Path | str, manifest: dict[str, Any] | None = None) -> StudySummary:
    """summary.json's content, from the store alone. A store written before the manifest held the method
    records gets them from the registry."""
    store = store if isinstance(store, StudyStore) else StudyStore(store)
    manifest = dict(manifest or store.manifest())
    store.fingerprint = store.fingerprint or manifest.get("fingerprint")
    known = manifest.get("methods", {})
    manifest["methods"] = {name: known.get(name) or registry.get(name).describe() for name in manifest["spec"]["methods"]}
    outcomes = read_outcomes(store) if store.has_traces() else []
    return summarize_study(outcomes, manifest)


def check_complete(store: StudyStore, manifest: dict[str, Any]) -> None:
    """Refuse to analyse a store whose traces miss runs its manifest records as done: a report from it
    would say less than the study found, over a summary that said more."""
    done = {job_id: r for job_id, r in manifest.get("jobs", {}).items() if r.get("status") == "done"}
    if not done:
        return
    fix = (f"Rerun the study's command with --resume (same --out {store.root}): it rebuilds traces.parquet from the "
           "finished jobs in jobs/, then writes the report.")
    if not store.has_traces():
        raise StoreError(f"{store.traces_path} is missing, but the manifest records {len(done)} finished job(s). "
                         f"Nothing was rewritten. {fix}")
    table = store.read_traces()
    evals = table.filter(pc.equal(table["metric"], "eval_return")).select(["method", "config_id", "seed"])
    runs = len({tuple(r.values()) for r in evals.to_pylist()})
    expected = sum(r["runs"] for r in done.values() if "runs" in r)
    if runs < expected:
        raise StoreError(f"{store.traces_path} holds {runs} runs, but the manifest records {expected} in finished jobs. "
                         f"Nothing was rewritten. {fix}")
