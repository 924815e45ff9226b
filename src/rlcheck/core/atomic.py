"""Atomic file writes: a temp file in the same directory, fsynced, then renamed over the target,
so a kill at any moment leaves either the old file or the new one, never a torn one. A failed
write (full disk, read-only directory) leaves no temp file and raises a StoreError. A kill during a
write can leave its temp file (`.NAME.*.tmp`, TEMP_GLOB); the store removes those when next opened.
Files get the permissions the user's umask gives (mkstemp's own are 0600)."""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import time
from pathlib import Path

from rlcheck.core.errors import StoreError

TEMP_GLOB = ".*.*.tmp"
SET_ASIDE = "set-aside"  # where files that are not the store's own go (one folder per store subfolder)
log = logging.getLogger("rlcheck")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file under this process's umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise unwritable(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
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


def set_aside(path: Path, reason: str) -> Path:
    """Move `path` to ../set-aside/DIRNAME/ (next to the folder it is in) with a note of why."""
    where = path.parent.parent / SET_ASIDE / path.parent.name
    where.mkdir(parents=True, exist_ok=True)
    stamp, n = time.strftime("%Y%m%dT%H%M%S"), 0
    target = where / f"{path.name}.{stamp}"
    while target.exists():  # two set aside in one second: keep both
        n += 1
        target = where / f"{path.name}.{stamp}-{n}"
    path.replace(target)
    target.with_name(target.name + ".why.txt").write_text(reason + "\n")
    log.warning("set aside %s: %s", target, reason)
    return target
