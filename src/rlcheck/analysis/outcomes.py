"""Per-seed outcomes of a stored study: learning curves, final returns, first time at threshold,
divergence, read from the long-format traces table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Outcome:
    """One method-and-config's seeds. Arrays are [seeds] or [seeds, checkpoints]."""

    method: str
    config_id: int
    seeds: np.ndarray
    steps: np.ndarray  # [T] env steps of the checkpoints (shared by all seeds)
    eval_returns: np.ndarray  # [N, T] mean deterministic return at each checkpoint
    model_calls: np.ndarray  # [N] simulator-as-model calls by the end
    diverged: np.ndarray  # [N] bool

    @property
    def label(self) -> str:
        return self.method if self.config_id == 0 else f"{self.method}#{self.config_id}"

    @property
    def final(self) -> np.ndarray:
        """Final eval return per seed; NaN for a diverged seed (it has no usable policy)."""
        return np.where(self.diverged, np.nan, self.eval_returns[:, -1])

    def succeeded(self, threshold: float) -> np.ndarray:
        """Success = the policy at the end of the budget reaches the threshold (NaN never does)."""
        return np.nan_to_num(self.final, nan=-np.inf) >= threshold

    def first_reached(self, threshold: float) -> list[int | None]:
        """Env steps of the first checkpoint at or above the threshold, per seed (None if never)."""
        hits = np.nan_to_num(self.eval_returns, nan=-np.inf) >= threshold
        return [int(self.steps[row.argmax()]) if row.any() else None for row in hits]

    def collapsed(self, threshold: float) -> np.ndarray:
        """Seeds that reached the threshold at some checkpoint but ended below it."""
        return np.array([f is not None for f in self.first_reached(threshold)]) & ~self.succeeded(threshold)


def outcomes(table: pa.Table) -> list[Outcome]:
    """Every (method, config) in the table, in order of first appearance."""
    columns = table.select(["method", "config_id", "seed", "env_steps", "model_calls", "metric", "value"]).to_pydict()
    method = np.array(columns["method"], dtype=object)
    config = np.array(columns["config_id"])
    metric = np.array(columns["metric"], dtype=object)
    keys = list(dict.fromkeys(zip(columns["method"], columns["config_id"], strict=True)))
    result = []
    for name, config_id in keys:
        mine = (method == name) & (config == config_id)
        curves = _pivot(columns, mine & (metric == "eval_return"))
        diverged = _pivot(columns, mine & (metric == "diverged"))
        seeds, steps, returns, calls = curves
        flag = diverged[2][:, -1] > 0 if diverged[2].size else np.zeros(len(seeds), bool)
        result.append(Outcome(name, int(config_id), seeds, steps, returns, calls[:, -1], flag))
    return result


def _pivot(columns: dict, rows: np.ndarray):
    """(seeds [N], steps [T], values [N, T], model_calls [N, T]) for the selected rows."""
    seed = np.array(columns["seed"])[rows]
    step = np.array(columns["env_steps"])[rows]
    value = np.array(columns["value"], np.float64)[rows]
    calls = np.array(columns["model_calls"])[rows]
    seeds, steps = np.unique(seed), np.unique(step)
    grid = np.full((len(seeds), len(steps)), np.nan)
    call_grid = np.zeros((len(seeds), len(steps)), np.int64)
    i, j = np.searchsorted(seeds, seed), np.searchsorted(steps, step)
    grid[i, j], call_grid[i, j] = value, calls
    return seeds, steps, grid, call_grid


def read(out_dir) -> list[Outcome]:
    from rlcheck.store import read_traces

    return outcomes(read_traces(out_dir))


__all__ = ["Outcome", "outcomes", "read"]
