"""JAX's persistent compilation cache, on by default in a per-user directory: a second run of a study
loads its compiled programs instead of compiling them again (XLA's compiling is about a third of the
main job on a CPU).

JAX's own file cache writes an entry in place, so a kill during a write leaves a truncated entry that
every later run reads, warns about on stderr and never replaces. Here each entry is written to a
temporary file with a checksum and renamed into place: an entry is either whole or absent, and one that
does not match its checksum is deleted and compiled again.

    RLCHECK_COMPILE_CACHE=DIR      the directory (default: $XDG_CACHE_HOME/rlcheck/jax or ~/.cache/rlcheck/jax)
    RLCHECK_COMPILE_CACHE=off      no cache
    RLCHECK_COMPILE_CACHE_GB=N     size kept, oldest entries removed first at start (default 4)
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from pathlib import Path

import jax
from jax._src import compilation_cache as jax_cache
from jax._src.compilation_cache_interface import CacheInterface
from jax._src.lib import utils as jax_lib_utils

from rlcheck.core.errors import RLCheckError

ENV_DIR, ENV_SIZE = "RLCHECK_COMPILE_CACHE", "RLCHECK_COMPILE_CACHE_GB"
DEFAULT_GB = 4.0
MIN_COMPILE_SECONDS = 0.3  # smaller programs compile faster than their entry is read and checked
SUFFIX, DIGEST = ".xla", 32  # sha256
STALE_TMP_SECONDS = 3600.0  # a temporary file this old was left by a process that died mid-write

_enabled: Path | None = None


def cache_dir() -> Path | None:
    """Where the cache lives, or None where it is turned off."""
    value = os.environ.get(ENV_DIR)
    if value is not None and value.strip().lower() in ("", "0", "off", "false", "no", "none"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rlcheck" / "jax"


def machine_dir(root: Path) -> Path:
    """One subdirectory per CPU type and JAX version: a home directory shared by machines of different
    CPUs (NFS) never hands one an executable compiled for another's instruction set."""
    try:
        info = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
        cpu = "\n".join(sorted({line for line in info if line.startswith(("model name", "flags"))}))
    except OSError:
        cpu = platform.processor()
    tag = hashlib.sha256(f"{platform.machine()}\n{cpu}\n{jax.__version__}".encode()).hexdigest()[:16]
    return root / tag


class AtomicFileCache(CacheInterface):
    """One file per entry: sha256 of the payload, then the payload; written to a temporary file and renamed."""

    def __init__(self, path: str | Path):
        self._path = Path(path)
        self._path.mkdir(parents=True, exist_ok=True)

    def _file(self, key: str) -> Path:
        return self._path / f"{key}{SUFFIX}"

    def get(self, key: str) -> bytes | None:
        file = self._file(key)
        try:
            data = file.read_bytes()
        except OSError:
            return None
        payload = data[DIGEST:]
        if len(data) <= DIGEST or hashlib.sha256(payload).digest() != data[:DIGEST]:
            file.unlink(missing_ok=True)  # not whole: compile again, and write it anew
            return None
        return payload

    def put(self, key: str, value: bytes) -> None:
        file = self._file(key)
        if file.exists():
            return
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(hashlib.sha256(value).digest() + value)
            os.replace(tmp, file)
        except OSError:  # a full or read-only disk costs only the cache entry
            tmp.unlink(missing_ok=True)


def tidy(path: Path, max_bytes: float, now: float | None = None) -> None:
    """Remove temporary files left by killed writers, then the oldest entries beyond `max_bytes`."""
    now = time.time() if now is None else now
    entries = []
    for file in path.rglob("*"):
        try:
            stat = file.stat()
        except OSError:
            continue
        if file.name.endswith(".tmp"):
            if now - stat.st_mtime > STALE_TMP_SECONDS:
                file.unlink(missing_ok=True)
        elif file.name.endswith(SUFFIX):
            entries.append((stat.st_mtime, stat.st_size, file))
    total = sum(size for _, size, _ in entries)
    for _, size, file in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        file.unlink(missing_ok=True)
        total -= size


def _quiet(load):
    """XLA logs two false alarms on stderr for every entry it loads on CPU ("Assume version compatibility";
    "target machine feature +prefer-no-gather is not supported": a tuning hint, not an instruction set).
    Its C++ log is held to fatal messages while an entry loads. Entries are only ever loaded on the
    machine type that wrote them (`machine_dir`), so the feature check has nothing to catch."""

    def load_quietly(*args, **kwargs):
        jax_lib_utils.absl_set_min_log_level(3)
        try:
            return load(*args, **kwargs)
        finally:
            jax_lib_utils.absl_set_min_log_level(int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0))

    load_quietly.rlcheck_quiet = True
    return load_quietly


def enable() -> Path | None:
    """Turn the cache on for this process (once; later calls return the same directory). None where it is
    off or its directory cannot be made: the study then compiles as before."""
    global _enabled
    try:  # checked on every call: the setting is the user's, read at each study's start
        max_gb = float(os.environ.get(ENV_SIZE, DEFAULT_GB))
    except ValueError:
        max_gb = float("nan")
    if not max_gb >= 0:
        raise RLCheckError(f"{ENV_SIZE} is {os.environ[ENV_SIZE]!r}; it should be the compilation cache's size in "
                           f"gigabytes, e.g. {ENV_SIZE}=4 (or turn the cache off with {ENV_DIR}=off).")
    if _enabled is not None:
        return _enabled
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        tidy(path, max_gb * 1e9)
        path = machine_dir(path)
        path.mkdir(exist_ok=True)
    except OSError:  # e.g. a read-only home: compile as before
        return None
    # JAX builds its cache object lazily through this function; ours replaces its in-place writer.
    jax_cache.get_file_cache = lambda p: (AtomicFileCache(p), p)
    if not getattr(jax_cache.get_executable_and_time, "rlcheck_quiet", False):
        jax_cache.get_executable_and_time = _quiet(jax_cache.get_executable_and_time)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax_cache.reset_cache()  # JAX decides once per process whether to use a cache: let it decide again
    _enabled = path
    return path
