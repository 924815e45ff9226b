"""Run methods over many seeds and config values in one compiled, vmapped program."""

from rlcheck.core.results import RunResult
from rlcheck.engine.runner import run_method

__all__ = ["RunResult", "run_method"]
