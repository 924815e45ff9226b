"""The `rlcheck` command's first code: it answers Ctrl-C and SIGTERM with their exit codes (130, 143) from
the first moment, while JAX and the rest are still importing (seconds), before the CLI takes over."""

from __future__ import annotations

import os
import signal
import sys

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # as rlcheck.core.errors, without importing the package's layers


def _stop(signum: int, frame: object) -> None:
    """Nothing has been written yet: end at once, quietly, with the signal's code."""
    sys.stderr.write("rlcheck: stopped while starting; nothing was written.\n")
    os._exit(EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from rlcheck.cli import entry  # the heavy imports

    signal.signal(signal.SIGINT, signal.default_int_handler)  # from here Ctrl-C stops a study as rlcheck.cli says
    entry()  # its main() installs its own SIGTERM handler
