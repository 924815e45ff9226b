"""Issue 19: how honest are the intervals, labels and comparisons rlcheck reports?

Coverage: for distributions of final returns that RL produces, draw n seeds, compute each interval rlcheck
reports (the success rate's Wilson interval; IQM, mean, median and CVaR-25% by rlcheck's bootstrap), and
count how often it holds the distribution's true value. Labels: the chance that today's rule
(before issue 19: `method_label` below) calls a method "reliable" when its true success rate is 0.7, and
"not solved" when it is 0.3, for N = 3 to 50 seeds (exact binomial sums: no simulation needed).

Then, by simulation with a known truth: the sequential design of --until-decided (its error rates), 8
identical methods x 10 seeds (how often a "significant" difference or a "reliable" headline appears), and
the `seeds` recommendation from pilots of 10 seeds (how often it reaches the power it promises).
tests/test_coverage.py runs the same functions at small replication counts over several seeds.

    python benchmarks/coverage.py --reps 1000              # the tables for RESULTS (takes a while on 2 cores)
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


def sequential_errors(schedule: tuple[int, ...], studies: int, seed: int) -> dict[str, float]:
    """--until-decided's stopping rule run on simulated seeds (true rate 0.7 and 0.3), against the exact DP."""
    levels = labels.sequential_levels(schedule)
    rng = np.random.default_rng(seed)
    out = {}
    for p, label in ((labels.RELIABLE_ABOVE, labels.RELIABLE), (labels.NOT_SOLVED_BELOW, labels.NOT_SOLVED)):
        seeds = rng.random((studies, schedule[-1])) < p
        wrong = 0
        for row in seeds:
            for n, level in zip(schedule, levels, strict=True):
                got = labels.method_label(int(row[:n].sum()), n, level)
                if got != labels.UNDECIDED:
                    wrong += got == label
                    break
        out[f"{label} at {p}"] = wrong / studies
        out[f"{label} at {p} (exact)"] = labels.label_probabilities(p, schedule, levels)[label]
        out[f"{label} at {p}, 5% at every look (exact)"] = labels.label_probabilities(p, schedule, (0.05,) * len(schedule))[label]
    return out


def identical_methods(studies: int, seed: int, methods: int = 8, seeds: int = 10,
                      permutations: int = stats.RESAMPLES) -> dict[str, float]:
    """`methods` identical methods x `seeds` seeds (CartPole-like returns: 70% of seeds at 500): the best is
    picked as rlcheck picks it (success rate's lower bound, then IQM), then compared with each other one.
    The share of studies with any p < 0.05, raw Welch, Holm-corrected, and selection-adjusted (what rlcheck
    uses for "differs"); and of studies whose headline calls the best "reliable" at a true rate of 0.7, by
    its own label alone and after Simes' test over the methods (what rlcheck does)."""
    from rlcheck.analysis.verdict import family_reliable
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(("welch", "holm", "selection_adjusted", "reliable_own_label", "reliable_headline"), 0)
    for _ in range(studies):
        groups = _point_mass(rng, (methods, seeds))
        wins = (groups >= THRESHOLD).sum(1)
        lows = [labels.rate_bounds(int(k), seeds).low for k in wins]
        best = int(max(range(methods), key=lambda i: (lows[i], stats.iqm(groups[i]))))
        raw = [stats.compare(groups[best], groups[j])["welch_p"] for j in range(methods) if j != best]
        counts["welch"] += min(raw) < 0.05
        counts["holm"] += min(stats.holm(raw)) < 0.05
        adjusted = [q for q in stats.selection_adjusted_p(list(groups), best, permutations=permutations) if q is not None]
        counts["selection_adjusted"] += min(adjusted) < 0.05
        own = labels.method_label(int(wins[best]), seeds) == labels.RELIABLE
        counts["reliable_own_label"] += own
        summaries = [_FamilyMember(int(k), seeds) for k in wins]
        counts["reliable_headline"] += own and family_reliable(summaries)
    return {k: v / studies for k, v in counts.items()}


class _FamilyMember:
    """The fields `family_reliable` reads of a method's summary."""

    def __init__(self, successes: int, n: int) -> None:
        self.successes, self.seeds, self.label_level = successes, range(n), 0.05


def pilots_reaching_power(pilots: int, seed: int, n: int = 10, sd: float = 20.0, effect: float = 15.0,
                          target: float = 0.8) -> dict[str, float]:
    """Pilots of `n` normal seeds per method (true sd `sd`): the seeds `rlcheck seeds` recommends for `effect`,
    sized at the pilot spread's 90% upper limit as it does, and at the observed spread; the share of pilots
    whose recommendation reaches `target` power at the true spread."""
    rng = np.random.default_rng(seed)
    hits = {"upper_limit": 0, "observed": 0}
    for _ in range(pilots):
        a, b = rng.normal(0, sd, n), rng.normal(0, sd, n)
        sa, sb = np.std(a, ddof=1), np.std(b, ddof=1)
        for key, (x, y) in (("upper_limit", (stats.spread_upper_limit(sa, n), stats.spread_upper_limit(sb, n))),
                            ("observed", (sa, sb))):
            needed = stats.seeds_needed(x, y, effect, target)
            hits[key] += needed is not None and stats.power(needed, sd, sd, effect) >= target
    return {k: v / pilots for k, v in hits.items()}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=1000)
    p.add_argument("--n", type=int, nargs="*", default=[3, 5, 10, 20])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resamples", type=int, default=stats.RESAMPLES)
    p.add_argument("--json", help="also write the numbers here")
    p.add_argument("--no-intervals", action="store_true", help="skip the (slow) interval coverage table")
    a = p.parse_args()
    table = {} if a.no_intervals else coverage(a.reps, a.n, a.seed, a.resamples)
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
    studies = max(a.reps, 200)
    print(f"\n--until-decided: share of {20 * studies} simulated studies ending with a wrong label, and exactly\n")
    print("| looks | reliable at a true 0.7 | exact | not solved at a true 0.3 | exact | exact, had every look used 5% |")
    print("|---|---|---|---|---|---|")
    sequential = {}
    for schedule in ((10, 20, 30, 40), (5, 10, 15, 20, 25, 30, 35, 40), (3, 6, 9, 12, 15, 18, 21, 24, 27, 30)):
        e = sequential[str(schedule)] = sequential_errors(schedule, 20 * studies, a.seed)
        naive = max(e["reliable at 0.7, 5% at every look (exact)"],
                    e["not solved within the budget at 0.3, 5% at every look (exact)"])
        print(f"| {', '.join(map(str, schedule))} | {100 * e['reliable at 0.7']:.1f}% | {100 * e['reliable at 0.7 (exact)']:.1f}% | "
              f"{100 * e['not solved within the budget at 0.3']:.1f}% | "
              f"{100 * e['not solved within the budget at 0.3 (exact)']:.1f}% | {100 * naive:.1f}% |")
    same = identical_methods(studies, a.seed)
    print(f"\n8 identical methods x 10 seeds (70% of seeds at 500), {studies} studies: share with\n")
    print("| any best-vs-other Welch p < 0.05 | Holm-corrected | selection-adjusted (max-T) | best 'reliable' by its own label | "
          "headline 'reliable' (Simes over the 8) |")
    print("|---|---|---|---|---|")
    print("| " + " | ".join(f"{100 * same[k]:.1f}%" for k in ("welch", "holm", "selection_adjusted", "reliable_own_label",
                                                             "reliable_headline")) + " |")
    power = pilots_reaching_power(studies, a.seed)
    print(f"\n`seeds` from pilots of 10 seeds (normal, sd 20, effect 15), {studies} pilots: share whose recommendation "
          f"reaches power 0.8: sized at the spread's 90% upper limit {100 * power['upper_limit']:.1f}%, at the observed "
          f"spread {100 * power['observed']:.1f}%")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"coverage": table, "labels": errors, "sequential": sequential, "identical_methods": same,
                       "pilots": power}, f, indent=1)


if __name__ == "__main__":
    main()
