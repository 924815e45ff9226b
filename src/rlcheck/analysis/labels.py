"""A method's label, decided by the interval of its success rate, never by the point estimate.

With k of N seeds successful, take the exact (Clopper-Pearson) one-sided 95% bounds on the true success
rate p. Then:
- "reliable": the lower bound is above RELIABLE_ABOVE (0.7): the rate is confidently above 70%;
- "not solved within the budget": the upper bound is below NOT_SOLVED_BELOW (0.3);
- "unstable": the rate is confidently between them (lower bound above 0.3, upper bound below 0.7);
- "undecided": the seeds do not settle it; more seeds would.
Clopper-Pearson's bounds hold their level exactly for every N, so a method whose true rate is 0.7 is
called reliable in at most 5% of studies, and one whose rate is 0.3 not solved in at most 5% (tested
exactly, by summing the binomial, in tests/test_stats.py; benchmarks/coverage.py tabulates it). 10/10
seeds is reliable (the rate is at least 74%); 3/3 is undecided (at least 37%); 0/9 is not solved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

RELIABLE_ABOVE = 0.7
NOT_SOLVED_BELOW = 0.3
ONE_SIDED = 0.05  # each bound is a one-sided 95% bound
MAX_SEEDS = 200  # seeds_to_decide looks no further

RELIABLE, UNSTABLE, NOT_SOLVED, UNDECIDED = "reliable", "unstable", "not solved within the budget", "undecided"


@dataclass(frozen=True)
class RateBounds:
    low: float  # the true success rate is at least this (one-sided 95%)
    high: float  # and at most this


def rate_bounds(successes: int, n: int) -> RateBounds:
    """Exact one-sided 95% bounds on the success rate from k of n (Clopper-Pearson)."""
    k = int(successes)
    low = 0.0 if k == 0 else float(stats.beta.ppf(ONE_SIDED, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - ONE_SIDED, k + 1, n - k))
    return RateBounds(low, high)


def method_label(successes: int, n: int) -> str:
    b = rate_bounds(successes, n)
    if b.low > RELIABLE_ABOVE:
        return RELIABLE
    if b.high < NOT_SOLVED_BELOW:
        return NOT_SOLVED
    if b.low > NOT_SOLVED_BELOW and b.high < RELIABLE_ABOVE:
        return UNSTABLE
    return UNDECIDED


def _decided(n: int) -> np.ndarray:
    """For k = 0..n successes of n: whether the label is decided (vectorised `method_label`)."""
    k = np.arange(n + 1)
    with np.errstate(invalid="ignore"):
        low = np.where(k == 0, 0.0, stats.beta.ppf(ONE_SIDED, k, n - k + 1))
        high = np.where(k == n, 1.0, stats.beta.ppf(1 - ONE_SIDED, k + 1, n - k))
    return (low > RELIABLE_ABOVE) | (high < NOT_SOLVED_BELOW) | ((low > NOT_SOLVED_BELOW) & (high < RELIABLE_ABOVE))


def seeds_to_decide(successes: int, n: int, max_seeds: int = MAX_SEEDS) -> int | None:
    """How many more seeds would most likely decide the label (0 if it is decided): the fewest m for which,
    if the new seeds succeed at the rate seen so far (shrunk towards 1/2: (k + 1/2) / (n + 1)), the label at
    n + m is decided with probability at least 1/2. None if no m up to `max_seeds` seeds in all does (a rate
    near 0.3 or 0.7 needs very many seeds to tell apart)."""
    if method_label(successes, n) != UNDECIDED:
        return 0
    rate = (successes + 0.5) / (n + 1)
    for m in range(1, max_seeds - n + 1):
        decided = _decided(n + m)[successes:successes + m + 1]
        if float(np.sum(stats.binom.pmf(np.arange(m + 1), m, rate) * decided)) >= 0.5:
            return m
    return None
