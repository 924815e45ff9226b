"""What a run of one method returns to the engine and the store: `RunResult`, every run of a job
(configs x seeds) with its stacked trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlcheck.core.trace import Trace


@dataclass
class RunResult:
    method: str
    configs: list[Any]  # one per run
    config_ids: list[int]  # index into the distinct configs, one per run
    seeds: list[int]  # one per run
    trace: Trace  # numpy leaves with a leading run axis
    wall_seconds: float
    compile_seconds: float
    diverged_at: list[int | None] = field(default_factory=list)  # per run: env steps where it went non-finite
    resumed_from_chunk: int = 0  # chunks restored from a checkpoint (an interrupted job continued, not restarted)
