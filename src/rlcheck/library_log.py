"""Where library log messages, Python warnings and tracebacks go while the CLI runs: not the
terminal (a failed env callback makes JAX log a 40-line traceback on stderr), but a log file: the
study's DIR/rlcheck.log when the command wrote or read a study, else one under the user's cache
directory. Its path is printed in one line when anything was written."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Buffer(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted must not become a traceback on stderr
            self.lines.append(f"{record.levelname} {record.name}: (unformattable message {record.msg!r})")


@dataclass
class LibraryLog:
    store_dir: Path | None
    started: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%S"))
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("rlcheck"))

    @property
    def path(self) -> Path:
        """The study's log if the directory holds a study, else a file of its own in the cache."""
        if self.store_dir is not None and (Path(self.store_dir) / "manifest.json").is_file():
            return Path(self.store_dir) / "rlcheck.log"
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rlcheck" / "logs"
        return cache / f"rlcheck-{self.started}-{os.getpid()}.log"


@contextlib.contextmanager
def library_log(store_dir: Path | None) -> Iterator[LibraryLog]:
    """Collect warnings and errors logged by any library (and Python warnings) during the block."""
    log, buffer, root = LibraryLog(store_dir), _Buffer(), logging.getLogger()
    root.addHandler(buffer)
    logging.captureWarnings(True)
    try:
        yield log
    finally:
        logging.captureWarnings(False)
        root.removeHandler(buffer)
        if buffer.lines:
            _write(log, buffer.lines)


def _write(log: LibraryLog, lines: list[str]) -> None:
    path = log.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as exc:
        print(f"rlcheck: {len(lines)} library log message(s) could not be written to {path} ({exc.strerror}).",
              file=sys.stderr)
        return
    print(f"rlcheck: {len(lines)} library log message(s) (warnings, errors, tracebacks) are in {path}.", file=sys.stderr)
