"""Verdicts in plain words, from the statistics. The rules (also in the README):

Per method, with k of N seeds whose final policy reaches the threshold within the budget, the label is
decided by the success rate's exact one-sided 95% bounds (analysis/labels.py): reliable (confidently
above 70%), not solved within the budget (confidently below 30%), unstable (confidently in between) or
undecided (with how many more seeds would most likely settle it). The text gives k/N and the bound.
A diverged seed (NaN/inf weights or returns) counts as a failure and is named in the text.

The study's verdict is the best method's: highest lower bound on the success rate, then fewest median
steps to the threshold, then highest IQM final return. Later analyses (simpler baselines, reward audit)
append findings to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcheck.analysis.labels import (
    NOT_SOLVED_BELOW,
    RELIABLE,
    RELIABLE_ABOVE,
    UNDECIDED,
    UNSTABLE,
    method_label,
    rate_bounds,
    seeds_to_decide,
)
from rlcheck.core.results import MethodSummary, Verdict

NOT_JUDGED = "success not judged (no threshold)"
__all__ = ["method_label"]  # re-exported: the summary labels methods through this module


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.0f}%"


def _confidence(level: float) -> str:
    """The confidence of a one-sided bound at `level`: "95%", or e.g. "97.2%" in a sequential study."""
    return f"{100 * (1 - level):.0f}%" if abs(level - 0.05) < 1e-12 else f"{100 * (1 - level):.1f}%"


def method_text(m: MethodSummary, env: str, threshold: float, budget: int) -> str:
    k, n, name = m.successes, len(m.seeds), m.label_name.upper()
    bounds, level = rate_bounds(k, n, m.label_level), _confidence(m.label_level)
    learns = m.learning_env_steps > 0
    within = f"within {budget:,} env steps" if learns else "with no learning at all (0 env steps)"
    reach = f"{k}/{n} seeds end at or above {threshold:g} {within}"
    if m.label == RELIABLE:
        text = f"{name} reliably solves {env}: {reach}; the success rate is at least {_pct(bounds.low)} ({level})"
    elif m.label == UNSTABLE:
        text = (f"{name} is unstable on {env}: {reach}; the success rate is between {_pct(bounds.low)} and "
                f"{_pct(bounds.high)} ({level} each way)")
    elif m.label == UNDECIDED:
        more = seeds_to_decide(k, n, level=m.label_level)
        settle = (f"about {more} more seed{'s' if more != 1 else ''} would most likely settle it" if more is not None
                  else "the rate is too near a boundary for a few more seeds to settle it")
        text = (f"{name} is undecided on {env}: {reach}; the success rate could be anywhere from {_pct(bounds.low)} "
                f"to {_pct(bounds.high)} ({level} each way), so it is neither reliable (above {_pct(RELIABLE_ABOVE)}) nor "
                f"not solved (below {_pct(NOT_SOLVED_BELOW)}); {settle}")
    else:
        iqm = m.final_return["iqm"].value
        best = "n/a" if iqm is None else f"{iqm:.1f}"
        text = (f"{name} does not solve {env} {within}: {k}/{n} seeds reach {threshold:g}, so the success rate is at "
                f"most {_pct(bounds.high)} ({level}) (IQM final return {best})")
    median = m.steps_to_threshold.median
    if median is not None and learns and k * 2 >= n:
        text += f"; half the seeds reach it by {median:,.0f} env steps (at the first checkpoint at or above it)"
    if m.diverged_seeds:
        text += f"; {_diverged(m)}"
    if m.collapsed_seeds:
        text += f"; {_seeds(m.collapsed_seeds)} reached it and then fell below"
    return text + "."


def returns_text(m: MethodSummary, env: str, budget: int) -> str:
    """A method's result when no success threshold was given (`rlcheck train` on an env without one)."""
    iqm = m.final_return["iqm"]
    value = "n/a" if iqm.value is None else f"{iqm.value:.1f}"
    ci = "" if iqm.low is None else f" (95% CI {iqm.low:.1f} to {iqm.high:.1f})"
    text = (f"{m.label_name.upper()} on {env}: IQM final return {value}{ci} over {len(m.seeds)} seeds after "
            f"{budget:,} env steps; no success threshold was given, so success is not judged")
    if m.diverged_seeds:
        text += f"; {_diverged(m)}"
    return text + "."


def unjudged_verdict(methods: Sequence[MethodSummary]) -> Verdict:
    if not methods:
        return Verdict("no results", "No method produced results; see the failed jobs.")
    lines = tuple(m.verdict_text for m in methods)
    return Verdict(NOT_JUDGED, " ".join(lines), None, lines)


def _diverged(m: MethodSummary) -> str:
    counted = "" if m.diverged_as is None else (f", counted at the study's worst final return ({m.diverged_as:.1f}) in "
                                                "its return statistics")
    return f"{_seeds(m.diverged_seeds)} diverged (NaN/inf){counted}"


def _seeds(seeds: Sequence[int]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def rank_key(m: MethodSummary) -> tuple[float, float, float, float]:
    """By the success rate's lower bound (so 19/20 outranks 3/3), then its point value, then the median steps
    to the threshold, then the IQM final return."""
    median = m.steps_to_threshold.median
    iqm = m.final_return["iqm"].value
    return (-rate_bounds(m.successes, len(m.seeds)).low, -(m.success_rate.value or 0.0),
            np.inf if median is None else median, -np.inf if iqm is None else -iqm)


def study_verdict(methods: Sequence[MethodSummary], env: str, threshold: float, budget: int) -> Verdict:
    if not methods:
        return Verdict("no results", "No method produced results; see the failed jobs.")
    ranked = sorted(methods, key=rank_key)
    best = ranked[0]
    lines = tuple(method_text(m, env, threshold, budget) for m in ranked)
    label = best.label
    if label in (UNSTABLE, UNDECIDED):
        label = f"{label}: {best.successes}/{len(best.seeds)} seeds reach the threshold within the budget"
    return Verdict(label, " ".join(lines), best.label_name, lines)


def baselines_vs_rl(methods: Sequence[MethodSummary], threshold: float) -> dict[str, Any]:
    """Samples to threshold, baselines against RL: median learning env steps for half the seeds to
    reach the threshold, and how many times fewer the best baseline needed than the best RL method.
    Rows for every method; text only when a baseline is itself reliable (analysis/labels.py)."""
    def steps(m: MethodSummary) -> float | None:
        return m.steps_to_threshold.median

    rows = [{"method": m.label_name, "kind": m.kind, "median_steps_to_threshold": steps(m), "model_calls": m.model_calls,
             "eval_model_calls_per_episode": m.eval_model_calls_per_episode, "success_rate": m.success_rate.value}
            for m in methods]
    baselines = [m for m in methods if m.kind == "baseline" and steps(m) is not None and m.label == RELIABLE]
    rl = [m for m in methods if m.kind == "rl"]
    if not baselines:
        return {"rows": rows, "text": ""}
    best = min(baselines, key=lambda m: (steps(m), -(m.success_rate.value or 0.0)))
    planning = best.eval_model_calls_per_episode
    cost = ("no learning (0 env steps)" if steps(best) == 0 else f"{steps(best):,.0f} learning env steps") + (
        f" (and {planning:,.0f} model calls per episode of planning)" if planning else "")
    text = (f"A simpler method does it: {best.label_name.upper()} reaches {threshold:g} with {cost} "
            f"({best.successes}/{len(best.seeds)} seeds)")
    solved_rl = [m for m in rl if steps(m) is not None]
    if solved_rl:
        fastest = min(solved_rl, key=steps)
        ratio = steps(fastest) / steps(best) if steps(best) else np.inf
        fewer = "" if steps(best) == 0 else f": {ratio:.1f}x fewer" if ratio > 1 else " (no more than the baseline)"
        text += f"; {fastest.label_name.upper()} needed {steps(fastest):,.0f}{fewer}"
    elif rl:
        text += "; no RL method reached it within the budget"
    learners = [m for m in baselines if steps(m) > 0]
    if steps(best) == 0 and learners and solved_rl:  # also compare like with like: learning from samples
        quick = min(learners, key=steps)
        ratio = steps(fastest) / steps(quick)
        text += (f". Among methods that learn from samples, {quick.label_name.upper()} reached it with "
                 f"{steps(quick):,.0f} env steps, " + (f"{ratio:.1f}x fewer than {fastest.label_name.upper()}" if ratio > 1
                                                      else f"no fewer than {fastest.label_name.upper()}"))
    if solved_rl or learners:
        text += (". Steps to the threshold are medians over seeds, each the first checkpoint at or above it (an upper "
                 "bound, to one checkpoint interval)")
    return {"rows": rows, "text": text + "."}
