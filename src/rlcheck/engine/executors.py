"""Where a study's jobs run: here, one after another (`local`), or as Ray tasks on a cluster (`ray`).

Both executors run the same `run_job` and hand each result to the driver's `on_result` as it
finishes, so the store is written by one process only. A job's checkpoint lives in the study
directory: a Ray task whose worker dies is retried by Ray and continues from the last chunk saved
there (when every node sees that directory; otherwise it restarts the job, which gives the same
result, only later)."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlcheck import registry
from rlcheck.core.contracts import ProgressFn
from rlcheck.core.errors import RLCheckError, StoreError
from rlcheck.core.results import RunResult
from rlcheck.engine.runner import run_method

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class JobTask:
    """Everything a worker needs to run one job, picklable."""

    spec: Any  # StudySpec: the worker rebuilds the env from it
    job: Any  # study.plan.Job
    budget: Any  # methods.Budget
    checkpoint_path: Path
    sys_path: tuple[str, ...] = ()  # the driver's import path, so a user's `module:Class` env imports on workers

    @property
    def identity(self) -> str:
        """Whose checkpoint it is: the study's fingerprint and the job's id."""
        return f"{self.spec.fingerprint()}:{self.job.job_id}"

    @property
    def env_steps(self) -> int:
        return self.job.runs * self.spec.budget


# on_result(task, result, error): exactly one of result and error is set
ResultFn = Callable[[JobTask, RunResult | None, BaseException | None], None]


def run_job(task: JobTask, env: Any = None, progress: ProgressFn | None = None) -> RunResult:
    """Train one job (its configs x its seeds), resuming from its checkpoint if one is there."""
    for entry in task.sys_path:
        if entry not in sys.path:
            sys.path.append(entry)
    env = env if env is not None else task.spec.make_env()
    job = task.job
    result = run_method(registry.get_method(job.method), env, list(job.configs), list(job.seeds), task.budget, progress,
                        checkpoint_path=task.checkpoint_path, checkpoint_identity=task.identity)
    ids = job.global_ids()  # a structural sweep's job holds some of the method's configs
    return dataclasses.replace(result, config_ids=[ids[c] for c in result.config_ids])


class LocalExecutor:
    """Jobs one after another in this process, with progress after every compiled chunk."""

    name = "local"

    def run(self, tasks: Sequence[JobTask], env: Any, on_result: ResultFn, progress: ProgressFn | None = None,
            done_steps: int = 0, total_steps: int = 0) -> None:
        for task in tasks:
            label = f"{task.job.method} (seeds {', '.join(map(str, task.job.seeds))})"

            def job_progress(done: int, total: int, phase: str | None = None, base: int = done_steps,
                             share: int = task.env_steps, label: str = label) -> None:
                if progress:  # the job's own fraction, scaled to its share of the study
                    progress(base + int(share * min(1.0, done / max(total, 1))), total_steps, phase or label)

            try:
                result = run_job(task, env, job_progress)
            except StoreError:  # the store cannot be written: stop the study, not just this job
                raise
            except Exception as exc:  # one failed job must not lose the others' results
                on_result(task, None, exc)
            else:
                on_result(task, result, None)
            done_steps += task.env_steps
            if progress:
                progress(done_steps, total_steps, label)


@dataclass
class RayExecutor:
    """Each job a Ray task with its own resources. `address` None starts a private local Ray;
    "auto" or "HOST:PORT" joins a running cluster (`ray start --head`)."""

    address: str | None = None
    cpus_per_job: float = 1.0
    gpus_per_job: float = 0.0
    max_retries: int = 3  # retries after a worker or node dies (not after an error in the job)
    name: str = "ray"

    def run(self, tasks: Sequence[JobTask], env: Any, on_result: ResultFn, progress: ProgressFn | None = None,
            done_steps: int = 0, total_steps: int = 0) -> None:
        ray = _import_ray()
        if not tasks:
            return
        started_here = not ray.is_initialized()
        if started_here:
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, log_to_driver=False, include_dashboard=False,
                         runtime_env={"env_vars": _worker_env()})
            except Exception as exc:
                raise RLCheckError(
                    f"Could not connect to Ray at {self.address or 'a new local instance'}: {type(exc).__name__}: "
                    f"{exc}. Start a cluster with `ray start --head` and pass --address HOST:PORT (or 'auto'), "
                    "or run without --executor ray."
                ) from exc
        try:
            remote = ray.remote(num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job,
                                max_retries=self.max_retries, retry_exceptions=False)(_ray_job)
            pending = {remote.remote(task): task for task in tasks}
            try:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                    for ref in ready:
                        task = pending.pop(ref)
                        try:
                            result, error = ray.get(ref), None
                        except Exception as exc:  # the job's own error, unwrapped from Ray's
                            result, error = None, _cause(exc)
                        if isinstance(error, StoreError):
                            raise error
                        on_result(task, result, error)
                        done_steps += task.env_steps
                        if progress:
                            progress(done_steps, total_steps)
            except BaseException:
                for ref in pending:  # the driver is stopping: do not leave tasks running
                    ray.cancel(ref, force=True)
                raise
        finally:
            if started_here:
                ray.shutdown()


def _check_reachable(address: str | None) -> None:
    """Fail in seconds, not after Ray's minute of retries, when nothing listens at HOST:PORT."""
    if not address or address == "auto" or "://" in address or ":" not in address:
        return
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise RLCheckError(
            f"Could not connect to Ray at {address}: nothing answers there ({exc}). Start a cluster with `ray start "
            "--head` and pass the address it prints (HOST:PORT), or 'auto' on one of its nodes, or run without "
            "--executor ray."
        ) from exc


def _ray_job(task: JobTask) -> RunResult:
    return run_job(task)


def _cause(exc: BaseException) -> BaseException:
    """The exception a job raised, without Ray's wrapper (which keeps it as `.cause`)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


def _worker_env() -> dict[str, str]:
    """Environment variables a worker needs to compute what the driver would (XLA flags, JAX platform)."""
    keep = ("XLA_FLAGS", "JAX_PLATFORMS", "JAX_ENABLE_X64", "PYTHONPATH", "RLCHECK_STEP_TIMEOUT")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _import_ray() -> Any:
    try:
        import ray  # an optional extra, imported only for --executor ray
    except ImportError as exc:
        raise RLCheckError(
            "--executor ray needs Ray, an optional extra: pip install -e \".[ray]\" (or pip install 'ray>=2.40'). "
            "Without it, run with the default --executor local."
        ) from exc
    return ray


def make_executor(name: str = "local", address: str | None = None, cpus_per_job: float = 1.0,
                  gpus_per_job: float = 0.0) -> LocalExecutor | RayExecutor:
    if name == "local":
        if address is not None:
            raise RLCheckError("--address applies to --executor ray; drop it, or add --executor ray.")
        return LocalExecutor()
    if name == "ray":
        _import_ray()
        if cpus_per_job <= 0 or gpus_per_job < 0:
            raise RLCheckError(f"--job-cpus must be positive and --job-gpus at least 0, got {cpus_per_job:g} and "
                               f"{gpus_per_job:g}.")
        return RayExecutor(address, cpus_per_job, gpus_per_job)
    raise RLCheckError(f"Unknown executor {name!r}. Choose one of: {', '.join(EXECUTORS)}.")

