"""Atomic file writes: a temp file in the same directory, fsynced, then renamed over the target,
so a kill at any moment leaves either the old file or the new one, never a torn one. A failed
write (full disk, read-only directory) leaves no temp file and raises a StoreError."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from rlcheck.core.errors import StoreError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise unwritable(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # full disk, read-only: one clear error, not a traceback
            raise unwritable(path, exc) from exc
        raise


def unwritable(path: Path, exc: OSError) -> StoreError:
    """A one-paragraph StoreError for a failed write, naming the cause (permissions, full disk)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = ("The disk (or your quota, or a file-size limit) is full. Free some space and rerun with --resume: "
               "every file already in the store is complete, and finished jobs are kept.")
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "The directory is read-only for this user. Choose a writable --out directory, or fix its permissions."
    else:
        fix = "Check the path and the file system, then rerun (with --resume if the study had started)."
    return StoreError(f"Cannot write the study store at {path}: {reason}. {fix}")
