"""Save and restore a run between compiled chunks: the vmapped training state, the evaluation rows
so far, and the bookkeeping. One .npz file per job, written atomically after every chunk."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from rlcheck.core.atomic import atomic_write_bytes


@dataclass
class Progress:
    chunks_done: int
    rows: list[Any]  # one Checkpoint pytree per evaluation so far (numpy leaves)
    diverged_at: list[int | None]  # per run: env steps of the first non-finite checkpoint
    wall_seconds: float
    compile_seconds: float


def save(path: Path, state: Any, progress: Progress) -> None:
    arrays = {f"state_{i}": np.asarray(x) for i, x in enumerate(jax.tree.leaves(jax.device_get(state)))}
    stacked = jax.tree.map(lambda *xs: np.stack(xs), *progress.rows)
    arrays |= {f"rows_{i}": x for i, x in enumerate(jax.tree.leaves(stacked))}
    meta = {"chunks_done": progress.chunks_done, "diverged_at": progress.diverged_at,
            "wall_seconds": progress.wall_seconds, "compile_seconds": progress.compile_seconds,
            "num_rows": len(progress.rows)}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load(path: Path, state_like: Any, row_like: Any) -> tuple[Any, Progress] | None:
    """The saved state (shaped like `state_like`) and progress, or None if there is no checkpoint."""
    if not Path(path).exists():
        return None
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        state_def, row_def = jax.tree.structure(state_like), jax.tree.structure(row_like)
        state = jax.tree.unflatten(state_def, [data[f"state_{i}"] for i in range(state_def.num_leaves)])
        stacked = jax.tree.unflatten(row_def, [data[f"rows_{i}"] for i in range(row_def.num_leaves)])
    rows = [jax.tree.map(lambda x, t=t: x[t], stacked) for t in range(meta["num_rows"])]
    return state, Progress(meta["chunks_done"], rows, meta["diverged_at"], meta["wall_seconds"], meta["compile_seconds"])
