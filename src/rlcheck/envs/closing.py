"""Closing a user's env: an error in `close()` comes after every result it could affect, so it is
logged (to the store's log) and never fails a job or the study."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("rlcheck")


def close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception as exc:  # the user's code: whatever it raises, the results stand
        log.warning("%s.close() raised %s: %s (ignored: nothing after it depends on it)", type(env).__name__,
                    type(exc).__name__, exc)
