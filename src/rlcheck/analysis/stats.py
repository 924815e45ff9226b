"""Statistics across seeds, on numpy/scipy. Every estimator here is tested on synthetic data with a
known answer (tests/test_stats.py) and cross-checked against rliable where rliable has one.

Conventions: `x` is one value per seed (e.g. final eval return). Intervals are two-sided, 95% by
default, and repeatable: every bootstrap takes an explicit seed.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

CONFIDENCE = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float | None]:
        return {k: (float(v) if np.isfinite(v) else None) for k, v in asdict(self).items()}


def success_rate(successes: int, n: int, confidence: float = CONFIDENCE) -> Estimate:
    """k/n with a Wilson score interval (good coverage at small n, unlike the normal approximation)."""
    if n <= 0:
        raise ValueError("success_rate needs at least one seed")
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return Estimate(successes / n, ci.low, ci.high)


def iqm(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% (rliable's definition, scipy's trim_mean)."""
    return stats.trim_mean(x, 0.25, axis=axis)


def cvar(x: np.ndarray, alpha: float = 0.25, axis: int = -1) -> np.ndarray:
    """Conditional value at risk: the mean of the worst `alpha` of the probability mass of the
    empirical distribution (each seed weighs 1/n; the boundary seed counts fractionally)."""
    x = np.sort(np.asarray(x, np.float64), axis=axis)
    n = x.shape[axis]
    cumulative = np.arange(1, n + 1) / n
    weights = np.clip(alpha - (cumulative - 1 / n), 0.0, 1 / n)
    shape = [1] * x.ndim
    shape[axis] = n
    return np.sum(x * weights.reshape(shape), axis=axis) / alpha


def _statistic(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A one-sample statistic applied to strata concatenated along the last axis (for scipy's bootstrap)."""
    return lambda *strata, axis=-1: fn(np.concatenate(strata, axis=axis), axis=axis)


def bootstrap(
    strata: Sequence[np.ndarray] | np.ndarray,
    fn: Callable[..., np.ndarray],
    seed: int = 0,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    method: str = "BCa",
) -> Estimate:
    """Point estimate of `fn(values, axis)` with a stratified bootstrap interval (BCa by default, or
    "percentile" as rliable computes it): seeds are
    resampled within each stratum (e.g. each env), as rliable does. A single array is one stratum.
    Fewer than 3 values, or all equal: no interval (nan bounds) rather than a misleadingly thin one."""
    strata = [np.asarray(strata, np.float64)] if isinstance(strata, np.ndarray) or np.isscalar(strata[0]) else [
        np.asarray(s, np.float64) for s in strata]
    every = np.concatenate(strata)
    value = float(fn(every, axis=-1))
    if len(every) < 3 or np.ptp(every) == 0 or any(len(s) < 2 for s in strata):
        return Estimate(value, np.nan, np.nan)
    def interval(how: str) -> tuple[float, float]:
        with warnings.catch_warnings():  # BCa's acceleration is undefined for near-degenerate samples
            warnings.simplefilter("ignore")
            res = stats.bootstrap(tuple(strata), _statistic(fn), n_resamples=resamples, confidence_level=confidence,
                                  method=how, vectorized=True, rng=np.random.default_rng(seed))
        return float(res.confidence_interval.low), float(res.confidence_interval.high)

    low, high = interval(method)
    if not (np.isfinite(low) and np.isfinite(high)):  # e.g. 9 seeds at 500 and one below: use percentiles
        low, high = interval("percentile")
    return Estimate(value, low, high)


def mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis)


def cvar25(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return cvar(x, 0.25, axis=axis)


# --- time to threshold: Kaplan-Meier with seeds that never reach it censored at the budget ------


@dataclass(frozen=True)
class Survival:
    """Fraction of seeds that reached the threshold by env step t, with a pointwise band."""

    steps: np.ndarray  # event/censoring times, ascending, starting at 0
    solved: np.ndarray  # 1 - S(t) at each of `steps`
    low: np.ndarray
    high: np.ndarray
    median: Estimate  # env steps at which half the seeds have reached it (nan where never)


def _carried(curve: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """`curve` with each NaN replaced by the last defined value before it (by `fallback` before the first)."""
    out, last = np.array(curve, np.float64), np.nan
    for i, value in enumerate(out):
        if np.isnan(value):
            out[i] = fallback[i] if np.isnan(last) else last
        else:
            last = value
    return out


def kaplan_meier(first_reached: Sequence[float | None], budget: Sequence[float] | float,
                 confidence: float = CONFIDENCE) -> Survival:
    """`first_reached[i]`: env steps at which seed i first reached the threshold, or None (censored
    at `budget[i]`, its last checkpoint). The median's interval inverts the log-log band
    (Brookmeyer-Crowley style): bounds are where the band's edges cross one half."""
    n = len(first_reached)
    budgets = np.broadcast_to(np.asarray(budget, np.float64), (n,))
    reached = np.array([t is not None for t in first_reached])
    times = np.array([t if t is not None else b for t, b in zip(first_reached, budgets, strict=True)], np.float64)
    grid = np.unique(np.concatenate([[0.0], times]))
    if not reached.any():
        zeros = np.zeros_like(grid)
        return Survival(grid, zeros, zeros, np.full_like(grid, np.nan), Estimate(np.nan, np.nan, np.nan))
    data = stats.CensoredData(uncensored=times[reached], right=times[~reached])
    sf = stats.ecdf(data).sf
    solved = 1.0 - sf.evaluate(grid)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the log-log band is undefined where S is 0 or 1
        band = sf.confidence_interval(confidence, method="log-log")
        upper_sf, lower_sf = band.high.evaluate(grid), band.low.evaluate(grid)
    # The log-log band is undefined where S is 1 (before any seed reached it: the band is the estimate) and
    # where S is 0 (every seed has reached it): there the last defined band is carried forward, so the lower
    # band does not drop to 0 once every seed has succeeded.
    low, high = 1.0 - _carried(upper_sf, 1.0 - solved), 1.0 - _carried(lower_sf, 1.0 - solved)
    low, high = np.minimum(low, solved), np.maximum(high, solved)

    def crossing(curve: np.ndarray) -> float:
        hit = np.nonzero(curve >= 0.5 - 1e-9)[0]  # 1 - S is a product of fractions: allow rounding
        return float(grid[hit[0]]) if len(hit) else np.nan

    return Survival(grid, solved, low, high, Estimate(crossing(solved), crossing(high), crossing(low)))


# --- comparing two methods ------------------------------------------------------------------


def probability_of_improvement(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """P(A > B) + P(A = B) / 2 for one random seed of each: the Mann-Whitney U of A over n_a n_b."""
    a, b = np.asarray(a), np.asarray(b)
    greater = (a[..., :, None] > b[..., None, :]).mean(axis=(-2, -1))
    ties = (a[..., :, None] == b[..., None, :]).mean(axis=(-2, -1))
    return greater + 0.5 * ties


def poi_interval(auc: float, na: int, nb: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """A rank-based interval for the probability of improvement (the Mann-Whitney AUC): Newcombe's (2006)
    score-type "method 5", the Hanley-McNeil variance evaluated at each candidate value with N* = (na + nb) / 2
    and inverted. Unlike a bootstrap, it stays wider than a point under complete separation (3 vs 3 seeds
    with every A above every B: 0.50 to 1, not [1, 1]). Its coverage: tests/test_stats.py."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    half_n = (na + nb) / 2

    def sd(theta: float) -> float:
        extra = (half_n - 1) * (1 - theta) / (2 - theta) + (half_n - 1) * theta / (1 + theta)
        return float(np.sqrt(max(theta * (1 - theta) * (1 + extra), 0.0) / (na * nb)))

    edge = 1e-12  # at 0 and 1 the variance vanishes: bracket just inside
    low = 0.0 if auc <= 0 else optimize.brentq(lambda t: (auc - t) - z * sd(t), 0.0, min(auc, 1 - edge))
    high = 1.0 if auc >= 1 else optimize.brentq(lambda t: (t - auc) - z * sd(t), max(auc, edge), 1.0)
    return float(low), float(high)


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference with the small-sample correction."""
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return float("nan") if np.mean(a) == np.mean(b) else float(np.sign(np.mean(a) - np.mean(b)) * np.inf)
    return float((np.mean(a) - np.mean(b)) / pooled * (1 - 3 / (4 * (na + nb) - 9)))


def compare(a: Sequence[float], b: Sequence[float], seed: int = 0) -> dict[str, object]:
    """A vs B on per-seed values: probability of improvement (bootstrap interval), Welch's t-test,
    the Mann-Whitney U test, mean difference and Hedges' g."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("comparing two methods needs at least 2 seeds of each")
    poi = probability_of_improvement(a, b)
    poi_ci = (np.nan, np.nan) if np.ptp(np.concatenate([a, b])) == 0 else poi_interval(float(poi), len(a), len(b))
    with warnings.catch_warnings():  # nearly identical seeds: scipy warns, the result (p ~ 1) stands
        warnings.simplefilter("ignore", RuntimeWarning)
        welch = stats.ttest_ind(a, b, equal_var=False)
        mwu = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {
        "probability_of_improvement": Estimate(float(poi), *poi_ci).as_dict(),
        "mean_difference": float(np.mean(a) - np.mean(b)),
        "hedges_g": hedges_g(a, b),
        "welch_t": float(welch.statistic), "welch_p": float(welch.pvalue),
        "mann_whitney_u": float(mwu.statistic), "mann_whitney_p": float(mwu.pvalue),
    }


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, np.float64)
    adjusted, running = np.empty_like(p), 0.0
    for rank, i in enumerate(np.argsort(p)):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def _welch_t(means: np.ndarray, variances: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """|Welch t| between every pair of groups: [..., G] means and variances -> [..., G, G]."""
    diff = means[..., :, None] - means[..., None, :]
    se = np.sqrt((variances / sizes)[..., :, None] + (variances / sizes)[..., None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf)))


def selection_adjusted_p(groups: Sequence[Sequence[float]], best: int, seed: int = 0,
                         permutations: int = RESAMPLES) -> list[float | None]:
    """P-values for `best` against each other group that hold although `best` was picked from the same data:
    Westfall and Young's single-step max-T permutation test. Under the null that every method's seeds come
    from one distribution, the seeds are shuffled among the methods (sizes kept) and the largest |Welch t|
    over every pair is recorded; a comparison's p-value is the share of shuffles whose largest |t| reaches
    its own. Whichever method was called best, the chance that any comparison has p < 0.05 under the null
    stays at 5% (simulation: benchmarks/coverage.py). None for `best` itself."""
    values = [np.asarray(g, np.float64) for g in groups]
    sizes = np.array([len(v) for v in values], np.float64)
    pooled = np.concatenate(values)
    edges = np.cumsum(sizes).astype(int)[:-1]

    def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = np.split(x, edges, axis=-1)
        return (np.stack([q.mean(-1) for q in parts], -1),
                np.stack([q.var(-1, ddof=1) for q in parts], -1))

    observed = _welch_t(*moments(pooled), sizes)[best]
    # The shuffles are drawn afresh for each data set (seeded by the data, so a study repeats exactly): one
    # fixed set of shuffles reused for every study would err a little the same way in all of them.
    rng = np.random.default_rng([seed, zlib.crc32(pooled.tobytes())])
    shuffled = np.stack([rng.permutation(pooled) for _ in range(permutations)])
    largest = _welch_t(*moments(shuffled), sizes).max(axis=(-2, -1))
    return [None if j == best else float((1 + np.sum(largest >= observed[j] - 1e-12)) / (1 + permutations))
            for j in range(len(values))]


def noise_floor(x: Sequence[float], seed: int = 0, splits: int = 1000) -> dict[str, object] | None:
    """What 'a difference' between two methods looks like when there is none: the comparison between two
    random halves of ONE method's seeds, over `splits` random splits (its permutation distribution), not
    one split, which can look like anything. The median and 95th percentile of |mean difference| and
    |Hedges' g|, and the share of splits with Welch p < 0.05. None with fewer than 4 seeds."""
    x = np.asarray(x, np.float64)
    if len(x) < 4:
        return None
    rng, half = np.random.default_rng(seed), len(x) // 2
    orders = np.stack([rng.permutation(len(x)) for _ in range(splits)])
    a, b = x[orders[:, :half]], x[orders[:, half:2 * half]]
    difference = np.abs(a.mean(-1) - b.mean(-1))
    pooled = np.sqrt((a.var(-1, ddof=1) + b.var(-1, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = np.where(pooled > 0, difference / np.where(pooled > 0, pooled, 1.0), np.where(difference > 0, np.inf, 0.0))
        g = g * (1 - 3 / (4 * 2 * half - 9)) if 2 * half > 2 else g
        welch = stats.ttest_ind(a, b, axis=-1, equal_var=False).pvalue
    welch = np.where(np.isnan(welch), 1.0, welch)  # identical halves: no difference at all

    def spread(v: np.ndarray) -> dict[str, float | None]:
        finite = v[np.isfinite(v)]
        return {"median": float(np.median(v)) if np.isfinite(np.median(v)) else None,
                "p95": float(np.quantile(v, 0.95)) if len(finite) == len(v) else None}

    return {"splits": splits, "seeds_per_half": half, "abs_mean_difference": spread(difference),
            "abs_hedges_g": spread(g), "share_welch_p_below_05": float(np.mean(welch < 0.05))}


# --- how many seeds -------------------------------------------------------------------------


def power(n: int, sd_a: float, sd_b: float, effect: float, alpha: float = 0.05) -> float:
    """Power of a two-sided Welch t-test with n seeds per method to detect a true mean difference
    `effect`, given per-seed standard deviations (noncentral t, Welch-Satterthwaite df)."""
    va, vb = sd_a**2 / n, sd_b**2 / n
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1))
    nc = abs(effect) / se
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def spread_upper_limit(sd: float, n: int, level: float = 0.9) -> float:
    """One-sided upper confidence limit on a standard deviation from n seeds (chi-square, normal seeds)."""
    return float(sd * np.sqrt((n - 1) / stats.chi2.ppf(1 - level, n - 1)))


def seeds_needed(sd_a: float, sd_b: float, effect: float, target_power: float = 0.8, alpha: float = 0.05,
                 max_seeds: int = 100_000) -> int | None:
    """Smallest number of seeds per method reaching `target_power`; None if above `max_seeds`."""
    if effect == 0:
        raise ValueError("the effect to detect must be non-zero")
    if sd_a == 0 and sd_b == 0:
        return 2
    lo, hi = 2, 2
    while power(hi, sd_a, sd_b, effect, alpha) < target_power:
        lo, hi = hi, hi * 2
        if hi > max_seeds:
            return None
    while lo < hi:  # power grows with n: bisect for the first n that reaches the target
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if power(mid, sd_a, sd_b, effect, alpha) < target_power else (lo, mid)
    return lo
