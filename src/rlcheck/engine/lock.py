"""One writer per study directory: a lock file held for the whole run, released by the OS if the
process dies, so a killed run never blocks its own --resume."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from rlcheck.atomic import unwritable
from rlcheck.errors import StoreError

LOCK_NAME = ".rlcheck.lock"


@contextlib.contextmanager
def study_lock(out: Path) -> Iterator[None]:
    """Hold the lock of study directory `out`, creating the directory if needed. A directory that
    cannot be written is refused before anything is left in it."""
    out = Path(out)
    created = _make_dir(out)
    lock = FileLock(out / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"Another rlcheck process is writing to {out} (it holds {out / LOCK_NAME}). Wait for it to finish, "
            "or write this run to another --out directory."
        ) from None
    except OSError as exc:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise unwritable(out, exc) from exc
    try:
        yield
    finally:
        lock.release()


def _make_dir(out: Path) -> bool:
    """Create `out` (and parents); True if it did not exist before."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a directory. Choose a directory path for the study.")
    existed = out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(out, exc) from exc
    return not existed

