"""`--tune N`: the hyper-parameters that matter most per learner, and the ranges a small search samples
them from. Every field here is numeric, so the N sampled configurations share one compiled, vmapped
program with the search seeds. Configuration 0 is always the default (reference or derived), so the
search can only add to what the defaults give.

The ranges bracket what the published settings use for these learners (RL Zoo's hyperparams/*.yml,
CleanRL's defaults) by a factor of a few each way; learning rate and entropy are sampled on a log scale,
the discount as log(1 - gamma) (its effective horizon). Latin hypercube sampling (scipy.stats.qmc)
spreads N points evenly over each range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from rlcheck.core.config import apply_overrides


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    scale: str = "log"  # "log", "linear" or "horizon" (log of 1 - x: a discount)

    def at(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles u in [0, 1]."""
        if self.scale == "linear":
            return self.low + u * (self.high - self.low)
        if self.scale == "horizon":
            a, b = np.log(1 - self.low), np.log(1 - self.high)
            return 1 - np.exp(a + u * (b - a))
        return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))


# With no --tune, a learner that has no tuned settings for the env is searched over this many configurations
# (its derived defaults first) on this many seeds each: 16 runs, 1.6x the runs of 10 study seeds (2.6x in all).
AUTO_CONFIGS = 8
AUTO_SEEDS = 2

LEARNING_RATE = Range(1e-4, 3e-3)
DISCOUNT = Range(0.97, 0.999, "horizon")
SPACES: dict[str, dict[str, Range]] = {
    "ppo": {"learning_rate": LEARNING_RATE, "ent_coef": Range(1e-4, 3e-2), "gamma": DISCOUNT},
    "trpo": {"gamma": DISCOUNT, "gae_lambda": Range(0.9, 0.99, "linear")},
    "dqn": {"learning_rate": LEARNING_RATE, "exploration_fraction": Range(0.05, 0.5, "linear"), "gamma": DISCOUNT},
    "sac": {"learning_rate": LEARNING_RATE, "gamma": DISCOUNT},
    "td3": {"learning_rate": LEARNING_RATE, "gamma": DISCOUNT},
    "ddpg": {"learning_rate": LEARNING_RATE, "gamma": DISCOUNT},
}


SCALES = ("log", "linear", "horizon")


def tunable(method: str) -> bool:
    return method in SPACES


def range_problem(low: float, high: float, scale: str) -> str | None:
    """Why (low, high, scale) is not a range a search can sample, or None if it is."""
    if scale not in SCALES:
        return f"scale {scale!r} is not one of {', '.join(SCALES)}"
    if not (np.isfinite(low) and np.isfinite(high)) or not low < high:
        return f"it is empty: the low end ({low:g}) must be below the high end ({high:g}), both finite"
    if scale == "log" and low <= 0:
        return f"a log-scale range must be positive (low end {low:g}); write :linear after it for a linear one"
    if scale == "horizon" and not 0 <= low < high < 1:
        return "a horizon-scale range (a discount) must lie in [0, 1)"
    return None


def space_of(method: str, ranges: Mapping[str, Range] | None = None) -> dict[str, Range]:
    """The fields searched for `method`: its built-in space, with the user's ranges replacing or adding fields."""
    return {**SPACES.get(method, {}), **(ranges or {})}


def sample_configs(base: Any, method: str, n: int, seed: int = 0, fixed: tuple[str, ...] = (),
                   ranges: Mapping[str, Range] | None = None) -> list[Any]:
    """`base` first, then n - 1 configurations with the search space's fields drawn by Latin hypercube.
    Fields in `fixed` (the user set them) are not searched; `ranges` are the user's (--tune-range)."""
    space = {k: r for k, r in space_of(method, ranges).items() if k not in fixed}
    if n <= 1 or not space:
        return [base]
    u = qmc.LatinHypercube(d=len(space), seed=seed).random(n - 1)
    names = list(space)
    values = np.stack([space[k].at(u[:, i]) for i, k in enumerate(names)], axis=1)
    known = {f.name for f in dataclasses.fields(base)}
    return [base] + [apply_overrides(base, {k: float(v) for k, v in zip(names, row, strict=True) if k in known})
                     for row in values]
