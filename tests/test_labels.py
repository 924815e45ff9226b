"""Labels decided by the success rate's interval (analysis/labels.py), and the verdict words built on them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from rlcheck.analysis.labels import (
    NOT_SOLVED,
    RELIABLE,
    UNDECIDED,
    UNSTABLE,
    design_error,
    label_probabilities,
    looks,
    method_label,
    rate_bounds,
    seeds_to_decide,
    sequential_levels,
)
from rlcheck.analysis.outcomes import Outcome
from rlcheck.analysis.sequential import to_extend
from rlcheck.analysis.verdict import baselines_vs_rl, method_text, rank_key, study_verdict
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


def _summary(name: str, kind: str, successes: int, n: int, median: float | None, learning: int = 10_000,
             band: tuple[float | None, ...] = (None, None, None, None)) -> MethodSummary:
    """`band`: (low, high, after, low_after) of the median steps to the threshold."""
    seeds = tuple(SeedResult(s, 1.0 if s < successes else 0.0, learning, 0, s < successes, None, False) for s in range(n))
    return MethodSummary(name, 0, name, kind, method_label(successes, n), seeds, successes,
                         Interval(successes / n, None, None), StepsToThreshold(median, *band),
                         {"iqm": Interval(1.0, None, None)}, Interval(None, None, None), (), (), learning, 0, None, "")


def test_ranking_uses_the_lower_bound_so_many_seeds_outrank_few():
    few, many = _summary("a", "rl", 3, 3, 1_000), _summary("b", "rl", 19, 20, 5_000)
    assert sorted([few, many], key=rank_key)[0] is many
    verdict = study_verdict([few, many], "Env", 1.0, 10_000)
    assert verdict.best_method == "b" and verdict.label == RELIABLE
    assert "undecided" in verdict.text and "more seeds would most likely settle it" in verdict.text


def test_a_simpler_method_is_claimed_only_when_it_is_itself_reliable_and_below():
    """Only a reliable baseline whose steps-to-threshold interval (grid included) lies below the RL method's;
    the ratio has one decimal and an interval: RL's span over the baseline's, both ways."""
    rl = _summary("ppo", "rl", 10, 10, 40_000, band=(30_000, 50_000, 36_000, 28_000))
    lucky = _summary("cem", "baseline", 1, 3, 5_000, band=(4_000, 6_000, 4_500, 3_500))
    assert baselines_vs_rl([rl, lucky], 1.0)["text"] == ""
    sure = _summary("cem", "baseline", 10, 10, 10_000, band=(8_000, 12_500, 9_000, 7_000))
    text = baselines_vs_rl([rl, sure], 1.0)["text"]
    assert "A simpler method does it: CEM" in text and "4.0x fewer (between 2.2x and 7.1x" in text
    assert "between 36,000 and 40,000 env steps" in text  # the checkpoint grid, stated
    close = _summary("cem", "baseline", 10, 10, 25_000, band=(20_000, 31_000, 24_000, 19_000))
    text = baselines_vs_rl([rl, close], 1.0)["text"]
    assert "A simpler method" not in text and "neither is shown to need fewer" in text
    planner = _summary("lqr", "baseline", 10, 10, 0, learning=0, band=(0, 0, 0, 0))
    text = baselines_vs_rl([rl, planner], 1.0)["text"]
    assert "no learning (0 env steps)" in text and "by 0" not in text and "x fewer" not in text


def test_the_headline_asks_two_questions():
    """Deep RL's answer comes from the RL methods alone, the simpler way's from the baselines."""
    rl = _summary("ppo", "rl", 0, 10, None)
    planner = _summary("lqr", "baseline", 10, 10, 0, learning=0, band=(0, 0, 0, 0))
    verdict = study_verdict([rl, planner], "Env", 1.0, 10_000)
    assert verdict.label == NOT_SOLVED and verdict.best_method == "ppo"
    deep, simpler = verdict.questions
    assert deep["label"] == NOT_SOLVED and deep["answer"].startswith("no, not within the budget")
    assert simpler["label"] == RELIABLE and simpler["method"] == "lqr"
    assert verdict.lines[0].startswith("Can deep RL solve Env? No") and verdict.lines[1].startswith("Is there a simpler way? Yes")
    tied = study_verdict([_summary("ppo", "rl", 10, 10, 5), _summary("dqn", "rl", 19, 20, 5)], "Env", 1.0, 10)
    assert "PPO ties with it" in tied.questions[0]["answer"]


# --- the sequential design of --until-decided ----------------------------------------------------

SCHEDULES = [(10, 20, 30, 40), (3, 6, 9, 12, 15, 18, 21, 24, 27, 30), (5, 10, 15, 20, 25, 30, 35, 40), (20, 40, 60)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_looking_several_times_keeps_the_error_rates(schedule):
    """Exactly (by the design's dynamic programme): at every true rate up to 0.7 the chance of ending
    "reliable" stays at or below 5%, and at every rate from 0.3 up that of "not solved"; looking as often
    at the fixed-N level would break it (so the test can fail)."""
    levels = sequential_levels(schedule)
    for p in np.linspace(0.0, 0.7, 15):
        assert label_probabilities(float(p), schedule, levels)[RELIABLE] <= 0.05 + 1e-12
        assert label_probabilities(float(1 - p), schedule, levels)[NOT_SOLVED] <= 0.05 + 1e-12
    assert design_error(schedule, (0.05,) * len(schedule)) > 0.05  # the naive design errs more often than it says
    assert levels[0] == 0.05 and max(levels[1:]) < 0.05  # the first look decides what a fixed study decides


def test_the_design_probabilities_match_a_simulation():
    """label_probabilities against a direct simulation of the stopping rule (20,000 studies)."""
    schedule, p = (10, 20, 30, 40), 0.8
    levels = sequential_levels(schedule)
    exact = label_probabilities(p, schedule, levels)
    rng = np.random.default_rng(5)
    seeds = rng.random((20_000, schedule[-1])) < p
    counts = {label: 0 for label in exact}
    for row in seeds:
        for n, level in zip(schedule, levels, strict=True):
            label = method_label(int(row[:n].sum()), n, level)
            if label != UNDECIDED or n == schedule[-1]:
                counts[label] += 1
                break
    for label, prob in exact.items():
        assert counts[label] / len(seeds) == pytest.approx(prob, abs=0.012)
    assert sum(exact.values()) == pytest.approx(1.0)


def test_a_single_look_is_the_fixed_design():
    assert sequential_levels((10,)) == (0.05,)
    assert looks(10, 10, 40) == (10, 20, 30, 40) and looks(10, 10, 35) == (10, 20, 30, 35) and looks(10, 10, 10) == (10,)


def _outcome(name: str, finals: list[float]) -> Outcome:
    n = len(finals)
    return Outcome(name, 0, np.arange(n), np.full((n, 1), 100), np.array(finals, float)[:, None], np.zeros(n, int),
                   np.zeros(n, bool))


def test_only_undecided_methods_get_more_seeds():
    plan = (10, 20)
    methods = [_outcome("all", [1.0] * 10), _outcome("none", [0.0] * 10), _outcome("half", [1.0] * 5 + [0.0] * 5),
               _outcome("short", [1.0] * 6)]  # a method whose seed block failed has stopped
    assert to_extend(methods, 0.5, plan, 1) == ["half"]


def test_a_planner_that_falls_short_is_a_lower_bound_with_what_it_tried():
    """Issue 20: "MPC does not solve CartPole-v1" read as a fact about planning; it is a fact about one
    setting. The text names the setting and its cost, and calls the result a lower bound."""
    short = dataclasses.replace(_summary("mpc", "baseline", 0, 10, None, learning=0), eval_model_calls_per_episode=921_600.0,
                                config={"variant": "sampling", "num_samples": 64, "horizon": 40, "noise_std": 0.5})
    text = method_text(short, "CartPole-v1", 475.0, 0)
    assert "MPC does not solve CartPole-v1" in text
    assert "variant sampling, num_samples 64, horizon 40; 921,600 model calls per episode" in text
    assert "a lower bound on what MPC can do here, not a finding that it cannot" in text
    solved = dataclasses.replace(short, label=RELIABLE, successes=10)
    assert "lower bound" not in method_text(solved, "CartPole-v1", 475.0, 0)
    learner = _summary("ppo", "rl", 0, 10, None)  # a learner's shortfall is within its budget, said already
    assert "lower bound" not in method_text(learner, "CartPole-v1", 475.0, 10_000)
