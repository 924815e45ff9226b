"""A method's label, decided by the interval of its success rate, never by the point estimate.

With k of N seeds successful, take the exact (Clopper-Pearson) one-sided bounds on the true success
rate p, each at level 95%. Then:
- "reliable": the lower bound is above RELIABLE_ABOVE (0.7): the rate is confidently above 70%;
- "not solved within the budget": the upper bound is below NOT_SOLVED_BELOW (0.3);
- "unstable": the rate is confidently between them (lower bound above 0.3, upper bound below 0.7);
- "undecided": the seeds do not settle it; more seeds would.
Clopper-Pearson's bounds hold their level exactly for every N, so a method whose true rate is 0.7 is
called reliable in at most 5% of studies, and one whose rate is 0.3 not solved in at most 5% (tested
exactly, by summing the binomial, in tests/test_labels.py; benchmarks/coverage.py tabulates it). 10/10
seeds is reliable (the rate is at least 74%); 3/3 is undecided (at least 37%); 0/9 is not solved.

`--until-decided` looks at the labels after each block of seeds and adds seeds only to undecided methods
(a group-sequential design: Jennison and Turnbull's repeated significance tests, as AdaStop,
arXiv 2306.10882, does for comparisons). Looking several times would raise the error rates above 5%
(to 7-9% with 4-10 looks), so the levels are spent in advance (alpha spending): the first look at 5%,
as a fixed study; every later look at one stricter level, `sequential_levels(looks)`, found by computing
the design's exact error (a dynamic programme over the binomial paths, stopping where a label is
decided) and taking the largest level that keeps it at 5%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

RELIABLE_ABOVE = 0.7
NOT_SOLVED_BELOW = 0.3
ONE_SIDED = 0.05  # each bound is a one-sided 95% bound; the error rate every design keeps
MAX_SEEDS = 200  # seeds_to_decide looks no further

RELIABLE, UNSTABLE, NOT_SOLVED, UNDECIDED = "reliable", "unstable", "not solved within the budget", "undecided"


@dataclass(frozen=True)
class RateBounds:
    low: float  # the true success rate is at least this (one-sided, at the level used)
    high: float  # and at most this


def bounds(successes: np.ndarray | int, n: int, level: float = ONE_SIDED) -> tuple[np.ndarray, np.ndarray]:
    """Exact one-sided bounds (Clopper-Pearson) on the success rate, for one or many success counts of n."""
    k = np.asarray(successes)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k == 0, 0.0, stats.beta.ppf(level, np.maximum(k, 1), n - k + 1))
        high = np.where(k == n, 1.0, stats.beta.ppf(1 - level, k + 1, np.maximum(n - k, 1)))
    return low, high


def rate_bounds(successes: int, n: int, level: float = ONE_SIDED) -> RateBounds:
    low, high = bounds(int(successes), n, level)
    return RateBounds(float(low), float(high))


def _labels(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.select([low > RELIABLE_ABOVE, high < NOT_SOLVED_BELOW,
                      (low > NOT_SOLVED_BELOW) & (high < RELIABLE_ABOVE)],
                     [RELIABLE, NOT_SOLVED, UNSTABLE], UNDECIDED)


def method_label(successes: int, n: int, level: float = ONE_SIDED) -> str:
    return str(_labels(*bounds(int(successes), n, level)))


def _decided(n: int, level: float = ONE_SIDED) -> np.ndarray:
    """For k = 0..n successes of n: whether the label is decided."""
    return _labels(*bounds(np.arange(n + 1), n, level)) != UNDECIDED


def seeds_to_decide(successes: int, n: int, max_seeds: int = MAX_SEEDS, level: float = ONE_SIDED) -> int | None:
    """How many more seeds would most likely decide the label (0 if it is decided): the fewest m for which,
    if the new seeds succeed at the rate seen so far (shrunk towards 1/2: (k + 1/2) / (n + 1)), the label at
    n + m is decided with probability at least 1/2. None if no m up to `max_seeds` seeds in all does (a rate
    near 0.3 or 0.7 needs very many seeds to tell apart)."""
    if method_label(successes, n, level) != UNDECIDED:
        return 0
    rate = (successes + 0.5) / (n + 1)
    for m in range(1, max_seeds - n + 1):
        decided = _decided(n + m, level)[successes:successes + m + 1]
        if float(np.sum(stats.binom.pmf(np.arange(m + 1), m, rate) * decided)) >= 0.5:
            return m
    return None


# --- the sequential design of --until-decided -----------------------------------------------------


def looks(first: int, step: int, most: int) -> tuple[int, ...]:
    """Seed counts at which the labels are looked at: `first`, then every `step` more, ending at `most`."""
    return tuple(sorted({*range(first, most, max(step, 1)), most})) if most > first else (first,)


def label_probabilities(p: float, schedule: Sequence[int], levels: Sequence[float]) -> dict[str, float]:
    """Exactly, the chance that a method whose true success rate is `p` ends with each label under the
    sequential design: look at n_1 < n_2 < ... seeds (bounds at `levels[i]` at look i), stop where the label
    is decided, carry on to the next look where it is not (undecided at the last look stays undecided)."""
    alive = np.array([1.0])  # alive[k]: probability of k successes so far with no decision yet
    done = dict.fromkeys((RELIABLE, UNSTABLE, NOT_SOLVED), 0.0)
    previous = 0
    for n, level in zip(schedule, levels, strict=True):
        alive = np.convolve(alive, stats.binom.pmf(np.arange(n - previous + 1), n - previous, p))
        previous = n
        labels = _labels(*bounds(np.arange(n + 1), n, level))
        for label in done:
            done[label] += float(alive[labels == label].sum())
        alive = np.where(labels == UNDECIDED, alive, 0.0)
    return {**done, UNDECIDED: float(alive.sum())}


def design_error(schedule: Sequence[int], levels: Sequence[float]) -> float:
    """The larger of the design's two error rates: "reliable" at a true rate of 0.7, "not solved" at 0.3."""
    return max(label_probabilities(RELIABLE_ABOVE, schedule, levels)[RELIABLE],
               label_probabilities(NOT_SOLVED_BELOW, schedule, levels)[NOT_SOLVED])


@lru_cache(maxsize=64)
def sequential_levels(schedule: tuple[int, ...], error: float = ONE_SIDED) -> tuple[float, ...]:
    """The one-sided level of each look of `schedule`, chosen so that the design's error rates stay at or
    below `error`. The first look uses `error` itself, so it decides exactly what a fixed study of that
    many seeds decides (its own error is at most `error`, and with few seeds much less: 10/10 has a 2.8%
    chance at a true rate of 0.7); every later look shares what is left at one constant level, the largest
    on a fine grid that keeps the whole design within `error` (the error is a step function of the level,
    so the grid is searched from the top, not bisected)."""
    if len(schedule) <= 1:
        return (error,) * len(schedule)
    for level in np.geomspace(error, error / (4 * len(schedule)), 200):
        levels = (error,) + (float(level),) * (len(schedule) - 1)
        if design_error(schedule, levels) <= error:
            return levels
    return (error,) + (0.0,) * (len(schedule) - 1)  # nothing left to spend: later looks decide nothing


def level_at(schedule: tuple[int, ...], seeds: int) -> float:
    """The level behind the label of a method that stopped with `seeds` seeds: that of its last look."""
    levels = sequential_levels(schedule)
    return levels[max(i for i, n in enumerate(schedule) if n <= seeds)] if seeds >= schedule[0] else levels[0]
