"""Save and restore a run between compiled chunks: the vmapped training state, the evaluation rows
so far, and the bookkeeping. One .npz file per job, written atomically after every chunk; the one
before it is kept as JOB.prev.npz. Each carries its owner's identity (study fingerprint and job id).
A checkpoint that cannot be read, or is another job's, is set aside (moved to ../set-aside/ with a
note of why) and the previous one is tried; with neither, the job starts from the beginning."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from rlcheck.core.atomic import atomic_write_bytes, set_aside


def checkpoint_files(path: Path) -> tuple[Path, Path]:
    """A job's checkpoint and the one before it (kept so that a corrupt latest one costs one chunk)."""
    path = Path(path)
    return path, path.with_name(path.stem + ".prev.npz")


@dataclass
class Progress:
    chunks_done: int
    rows: list[Any]  # one Checkpoint pytree per evaluation so far (numpy leaves)
    diverged_at: list[int | None]  # per run: env steps of the first non-finite checkpoint
    wall_seconds: float
    compile_seconds: float
    host_envs: bytes | None = None  # a Python env's training copies (HostEnv.snapshot), to resume their episodes


def save(path: Path, state: Any, progress: Progress, identity: str | None = None) -> None:
    arrays = {f"state_{i}": np.asarray(x) for i, x in enumerate(jax.tree.leaves(jax.device_get(state)))}
    stacked = jax.tree.map(lambda *xs: np.stack(xs), *progress.rows)
    arrays |= {f"rows_{i}": x for i, x in enumerate(jax.tree.leaves(stacked))}
    meta = {"chunks_done": progress.chunks_done, "diverged_at": progress.diverged_at,
            "wall_seconds": progress.wall_seconds, "compile_seconds": progress.compile_seconds,
            "num_rows": len(progress.rows), "identity": identity}
    if progress.host_envs is not None:
        arrays["host_envs"] = np.frombuffer(progress.host_envs, np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    latest, previous = checkpoint_files(path)
    if latest.exists():
        latest.replace(previous)
    atomic_write_bytes(latest, buffer.getvalue())


def load(path: Path, state_like: Any, row_like: Any, identity: str | None = None) -> tuple[Any, Progress] | None:
    """The saved state (shaped like `state_like`) and progress from the latest good checkpoint of this
    job, or None if there is none (the job starts afresh)."""
    for candidate in checkpoint_files(path):
        if not candidate.exists():
            continue
        try:
            restored = _read(candidate, state_like, row_like, identity)
        except Exception as exc:  # torn, foreign, or another shape: never adopted, never fatal
            set_aside(candidate, f"{candidate.name} could not be resumed from: {type(exc).__name__}: {exc}")
            continue
        return restored
    return None


def _read(path: Path, state_like: Any, row_like: Any, identity: str | None) -> tuple[Any, Progress]:
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        if identity is not None and meta.get("identity") not in (None, identity):
            raise ValueError(f"it is {meta.get('identity')}'s checkpoint, not {identity}'s")
        state_def, row_def = jax.tree.structure(state_like), jax.tree.structure(row_like)
        state = jax.tree.unflatten(state_def, [data[f"state_{i}"] for i in range(state_def.num_leaves)])
        stacked = jax.tree.unflatten(row_def, [data[f"rows_{i}"] for i in range(row_def.num_leaves)])
        host_envs = data["host_envs"].tobytes() if "host_envs" in data.files else None
    for saved, like in zip(jax.tree.leaves(state), jax.tree.leaves(state_like), strict=True):
        if np.shape(saved) != np.shape(like) or np.asarray(saved).dtype != np.asarray(like).dtype:
            raise ValueError(f"a saved array has shape {np.shape(saved)} {np.asarray(saved).dtype}, the run's "
                             f"{np.shape(like)} {np.asarray(like).dtype}")
    rows = [jax.tree.map(lambda x, t=t: x[t], stacked) for t in range(meta["num_rows"])]
    return state, Progress(meta["chunks_done"], rows, meta["diverged_at"], meta["wall_seconds"], meta["compile_seconds"],
                           host_envs)
