"""Issue 19, the baseline: how honest are the intervals and labels rlcheck reports today?

Coverage: for distributions of final returns that RL produces, draw n seeds, compute each interval rlcheck
reports (the success rate's Wilson interval; IQM, mean, median and CVaR-25% by rlcheck's bootstrap), and
count how often it holds the distribution's true value. Labels: the chance that today's rule
(before issue 19: `method_label` below) calls a method "reliable" when its true success rate is 0.7, and
"not solved" when it is 0.3, for N = 3 to 50 seeds (exact binomial sums: no simulation needed).

    python benchmarks/coverage.py --reps 1000              # the table for RESULTS (takes a while on 2 cores)
    python benchmarks/coverage.py --reps 100 --n 3 10      # a quick look

Every replication draws its own seeds from one generator (`--seed`), so a run is reproducible.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
from scipy import stats as sps

from rlcheck.analysis import labels, stats

RELIABLE_FRACTION = 0.9  # the rule before issue 19, kept here to measure it


def method_label(successes: int, n: int) -> str:
    """The label rule rlcheck used before issue 19 (k >= 90% of N, every seed when N < 10)."""
    if successes == 0:
        return "not solved within the budget"
    return "reliable" if successes >= (RELIABLE_FRACTION * n if n >= 10 else n) else "unstable"

THRESHOLD = 475.0  # success in the point-mass distribution (CartPole-like)


def _point_mass(rng: np.random.Generator, size: int) -> np.ndarray:
    """CartPole-like: 70% of seeds at the maximum (500), the rest failing somewhere in 20-300."""
    return np.where(rng.random(size) < 0.7, 500.0, rng.uniform(20.0, 300.0, size))


DISTRIBUTIONS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "normal": lambda rng, size: rng.normal(100.0, 20.0, size),
    "bimodal": lambda rng, size: np.where(rng.random(size) < 0.5, rng.normal(0.0, 10.0, size), rng.normal(200.0, 10.0, size)),
    "heavy-tailed": lambda rng, size: 100.0 + 20.0 * rng.standard_t(2.0, size),
    "skewed": lambda rng, size: rng.lognormal(3.0, 1.0, size),
    "point mass + failures": _point_mass,
}

STATISTICS: dict[str, Callable[..., np.ndarray]] = {
    "iqm": stats.iqm, "mean": stats.mean, "median": stats.median, "cvar25": stats.cvar25,
}


def true_values(rng: np.random.Generator, draws: int = 2_000_000) -> dict[str, dict[str, float]]:
    """Each statistic of each distribution, from one very large sample (its population value)."""
    out = {}
    for name, draw in DISTRIBUTIONS.items():
        x = draw(rng, draws)
        out[name] = {s: float(fn(x, axis=-1)) for s, fn in STATISTICS.items()}
        out[name]["success_rate"] = float(np.mean(x >= THRESHOLD))
    return out


def coverage(reps: int, sizes: list[int], seed: int, resamples: int) -> dict[str, dict[str, dict[int, float]]]:
    rng = np.random.default_rng(seed)
    truth = true_values(rng)
    table: dict[str, dict[str, dict[int, float]]] = {}
    for name, draw in DISTRIBUTIONS.items():
        table[name] = {s: {} for s in (*STATISTICS, "success_rate")}
        for n in sizes:
            hits = {s: 0 for s in table[name]}
            shown = {s: 0 for s in table[name]}
            for rep in range(reps):
                x = draw(rng, n)
                for s, fn in STATISTICS.items():
                    est = stats.bootstrap(x, fn, seed=rep, resamples=resamples)
                    if np.isfinite(est.low):
                        shown[s] += 1
                        hits[s] += est.low <= truth[name][s] <= est.high
                    # no interval shown (fewer than 3 seeds, or all equal) counts as not covering
                if name == "point mass + failures":  # the one with a threshold that some seeds reach
                    rate = stats.success_rate(int(np.sum(x >= THRESHOLD)), n)
                    shown["success_rate"] += 1
                    hits["success_rate"] += rate.low <= truth[name]["success_rate"] <= rate.high
            for s in table[name]:
                table[name][s][n] = hits[s] / reps if shown[s] else float("nan")
    return table


def label_errors(sizes: range) -> dict[int, dict[str, float]]:
    """P(says "reliable" | p = 0.7) and P("not solved" | p = 0.3), exactly, for the rule before issue 19
    and for the interval-based one (analysis/labels.py)."""
    out = {}
    for n in sizes:
        ks = np.arange(n + 1)
        out[n] = {}
        for rule, label in (("old", method_label), ("new", labels.method_label)):
            reliable = sum(sps.binom.pmf(k, n, 0.7) for k in ks if label(int(k), n) == "reliable")
            not_solved = sum(sps.binom.pmf(k, n, 0.3) for k in ks if label(int(k), n).startswith("not solved"))
            out[n][f"{rule}_reliable_at_0.7"], out[n][f"{rule}_not_solved_at_0.3"] = float(reliable), float(not_solved)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=1000)
    p.add_argument("--n", type=int, nargs="*", default=[3, 5, 10, 20])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resamples", type=int, default=stats.RESAMPLES)
    p.add_argument("--json", help="also write the numbers here")
    a = p.parse_args()
    table = coverage(a.reps, a.n, a.seed, a.resamples)
    errors = label_errors(range(3, 51))
    print(f"Coverage of 95% intervals ({a.reps} replications; a missing interval counts as a miss)\n")
    print("| distribution | statistic | " + " | ".join(f"n={n}" for n in a.n) + " |")
    print("|---|---|" + "---|" * len(a.n))
    for name, rows in table.items():
        for s, by_n in rows.items():
            if all(np.isnan(v) for v in by_n.values()):
                continue
            print(f"| {name} | {s} | " + " | ".join(f"{100 * by_n[n]:.0f}%" for n in a.n) + " |")
    print("\nLabels: P(reliable | true rate 0.7) and P(not solved | true rate 0.3), before issue 19 and now\n")
    print("| N | before: reliable at 0.7 | before: not solved at 0.3 | now: reliable at 0.7 | now: not solved at 0.3 |")
    print("|---|---|---|---|---|")
    for n in (3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 50):
        e = errors[n]
        print(f"| {n} | " + " | ".join(f"{100 * e[k]:.1f}%" for k in ("old_reliable_at_0.7", "old_not_solved_at_0.3",
                                                                       "new_reliable_at_0.7", "new_not_solved_at_0.3")) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"coverage": table, "labels": errors}, f, indent=1)


if __name__ == "__main__":
    main()
