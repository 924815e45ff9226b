"""Per-seed outcomes of a stored study: learning curves, final returns, first time at threshold,
divergence, read from the long-format traces table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from rlcheck.core.trace import STOCHASTIC
from rlcheck.store import StudyStore


@dataclass(frozen=True)
class Outcome:
    """One method-and-config's seeds. Arrays are [seeds] or [seeds, checkpoints]."""

    method: str
    config_id: int
    seeds: np.ndarray
    steps: np.ndarray  # [N, T] env steps of each seed's checkpoints (methods that count their own
    # steps, like random search, reach checkpoints at different env steps in different seeds)
    eval_returns: np.ndarray  # [N, T] mean deterministic return at each checkpoint
    model_calls: np.ndarray  # [N] simulator-as-model calls by the end
    diverged: np.ndarray  # [N] bool
    eval_model_calls: np.ndarray | None = None  # [N] planners: model calls per evaluation episode
    eval_return_std: np.ndarray | None = None  # [N, T] spread of the K evaluation episodes' returns
    behaviour: dict[str, np.ndarray] = field(default_factory=dict)  # [N, T] per behaviour scalar (true_return, ...)
    # [N] the final policy's mean return acting as in training (sampled, epsilon-greedy, noised); None
    # for methods whose policy has no such form
    stochastic_final: np.ndarray | None = None

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
        hits = np.isfinite(self.eval_returns) & (np.nan_to_num(self.eval_returns, nan=-np.inf) >= threshold)
        return [int(steps[row.argmax()]) if row.any() else None for row, steps in zip(hits, self.steps, strict=True)]

    def fell_back(self, threshold: float) -> np.ndarray:
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
        flag |= ~np.isfinite(returns).all(axis=1)  # a NaN or infinite return is never a result, whatever was recorded
        planning = mine & (metric == "diag/eval_model_calls_per_episode")
        per_episode = _pivot(columns, planning)[2][:, -1] if planning.any() else None
        spread = mine & (metric == "eval_return_std")
        std = _pivot(columns, spread)[2] if spread.any() else None
        names = sorted({m for m in metric[mine] if m.startswith("behaviour/")})
        behaviour = {m.removeprefix("behaviour/"): _pivot(columns, mine & (metric == m))[2] for m in names}
        stochastic = mine & (metric == f"diag/{STOCHASTIC}")
        sampled = _pivot(columns, stochastic)[2][:, -1] if stochastic.any() else None
        result.append(Outcome(name, int(config_id), seeds, steps, returns, calls[:, -1], flag, per_episode, std, behaviour,
                              sampled))
    return result


def _pivot(columns: dict, rows: np.ndarray):
    """(seeds [N], steps [N, T], values [N, T], model_calls [N, T]) for the selected rows; a seed's
    checkpoints are its rows in order of env steps (every seed has the same number of checkpoints)."""
    seed = np.array(columns["seed"])[rows]
    step = np.array(columns["env_steps"])[rows]
    value = np.array(columns["value"], np.float64)[rows]
    calls = np.array(columns["model_calls"])[rows]
    seeds = np.unique(seed)
    order = np.lexsort((step, seed))  # stable: rows of one seed keep their stored order within equal steps
    seed, step, value, calls = seed[order], step[order], value[order], calls[order]
    counts = np.bincount(np.searchsorted(seeds, seed), minlength=len(seeds))
    if len(set(counts.tolist())) > 1:
        raise ValueError("every seed of a method must have the same number of checkpoints")
    shape = (len(seeds), int(counts[0]) if len(counts) else 0)
    return seeds, step.reshape(shape), value.reshape(shape), calls.reshape(shape)


def read(store: StudyStore) -> list[Outcome]:
    return outcomes(store.read_traces())


__all__ = ["Outcome", "outcomes", "read"]
