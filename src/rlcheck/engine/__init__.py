"""Run methods over many seeds and config values in one compiled, vmapped program."""

from rlcheck.engine.runner import RunResult, run_method

__all__ = ["RunResult", "run_method"]
