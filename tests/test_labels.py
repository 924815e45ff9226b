"""Labels decided by the success rate's interval (analysis/labels.py), and the verdict words built on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rlcheck.analysis.labels import (NOT_SOLVED, RELIABLE, UNDECIDED, UNSTABLE, method_label, rate_bounds,
                                     seeds_to_decide)
from rlcheck.analysis.verdict import baselines_vs_rl, rank_key, study_verdict
from rlcheck.core.results import Interval, MethodSummary, SeedResult, StepsToThreshold


def _chance(label: str, n: int, p: float) -> float:
    """P(the label | true success rate p, n seeds), exactly."""
    return float(sum(stats.binom.pmf(k, n, p) for k in range(n + 1) if method_label(k, n) == label))


@pytest.mark.parametrize("n", range(1, 61))
def test_reliable_at_a_true_rate_of_70_and_not_solved_at_30_stay_under_5_percent(n):
    assert _chance(RELIABLE, n, 0.7) <= 0.05
    assert _chance(NOT_SOLVED, n, 0.3) <= 0.05


def test_the_bounds_are_clopper_pearsons_and_the_documented_examples_hold():
    assert rate_bounds(10, 10).low == pytest.approx(0.05 ** (1 / 10))  # all n succeed: alpha^(1/n)
    assert rate_bounds(0, 10).high == pytest.approx(1 - 0.05 ** (1 / 10))
    ci = stats.binomtest(7, 20).proportion_ci(0.90, method="exact")  # one-sided 95% each way = two-sided 90%
    assert (rate_bounds(7, 20).low, rate_bounds(7, 20).high) == pytest.approx((ci.low, ci.high))
    assert method_label(10, 10) == RELIABLE and method_label(3, 3) == UNDECIDED and method_label(1, 1) == UNDECIDED
    assert method_label(0, 9) == NOT_SOLVED and method_label(0, 3) == UNDECIDED
    assert method_label(15, 30) == UNSTABLE and method_label(8, 10) == UNDECIDED


def test_seeds_to_decide_is_what_would_most_likely_settle_it():
    assert seeds_to_decide(10, 10) == 0
    more = seeds_to_decide(3, 3)
    assert more is not None and more > 0
    rate = 3.5 / 4  # the shrunk rate the rule assumes
    outcomes = np.arange(more + 1)
    decided = [method_label(3 + int(x), 3 + more) != UNDECIDED for x in outcomes]
    assert np.sum(stats.binom.pmf(outcomes, more, rate) * decided) >= 0.5
    fewer = [method_label(3 + int(x), 2 + more) != UNDECIDED for x in range(more)]
    assert np.sum(stats.binom.pmf(np.arange(more), more - 1, rate) * fewer) < 0.5  # one fewer would not
    assert seeds_to_decide(1, 1) is None  # (1.5 / 2 = 0.75, too near 0.7 within 200 seeds)


def _summary(name: str, kind: str, successes: int, n: int, median: float | None, learning: int = 10_000) -> MethodSummary:
    seeds = tuple(SeedResult(s, 1.0 if s < successes else 0.0, learning, 0, s < successes, None, False) for s in range(n))
    return MethodSummary(name, 0, name, kind, method_label(successes, n), seeds, successes,
                         Interval(successes / n, None, None), StepsToThreshold(median, None, None),
                         {"iqm": Interval(1.0, None, None)}, Interval(None, None, None), (), (), learning, 0, None, "")


def test_ranking_uses_the_lower_bound_so_many_seeds_outrank_few():
    few, many = _summary("a", "rl", 3, 3, 1_000), _summary("b", "rl", 19, 20, 5_000)
    assert sorted([few, many], key=rank_key)[0] is many
    verdict = study_verdict([few, many], "Env", 1.0, 10_000)
    assert verdict.best_method == "b" and verdict.label == RELIABLE
    assert "undecided" in verdict.text and "more seeds would most likely settle it" in verdict.text


def test_a_simpler_method_is_claimed_only_when_it_is_itself_reliable():
    rl = _summary("ppo", "rl", 10, 10, 40_000)
    lucky = _summary("cem", "baseline", 1, 3, 5_000)
    assert baselines_vs_rl([rl, lucky], 1.0)["text"] == ""
    sure = _summary("cem", "baseline", 10, 10, 10_000)
    text = baselines_vs_rl([rl, sure], 1.0)["text"]
    assert "A simpler method does it: CEM" in text and "4.0x fewer" in text and "upper bound" in text
    planner = _summary("lqr", "baseline", 10, 10, 0, learning=0)
    text = baselines_vs_rl([rl, planner], 1.0)["text"]
    assert "no learning (0 env steps)" in text and "by 0" not in text
