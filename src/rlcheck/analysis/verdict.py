"""Verdicts in plain words, from the statistics. The rules (also in the README):

Per method, with k of N seeds whose final policy reaches the threshold within the budget:
- "reliable": k >= 90% of N (every seed when N < 10);
- "unstable": 0 < k below that: "unstable: k/N seeds reach the threshold within the budget";
- "not solved within the budget": k = 0.
A diverged seed (NaN/inf weights or returns) counts as a failure and is named in the text.

The study's verdict is the best method's: highest success rate, then fewest median steps to the
threshold, then highest IQM final return. Later analyses (simpler baselines, reward audit) append
findings to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcheck.core.results import MethodSummary, Verdict

RELIABLE_FRACTION = 0.9
NOT_JUDGED = "success not judged (no threshold)"


def method_label(successes: int, n: int) -> str:
    if successes == 0:
        return "not solved within the budget"
    if successes >= (RELIABLE_FRACTION * n if n >= 10 else n):
        return "reliable"
    return "unstable"


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.0f}%"


def method_text(m: MethodSummary, env: str, threshold: float, budget: int) -> str:
    sr = m.success_rate
    k, n, name = m.successes, len(m.seeds), m.label_name.upper()
    ci = f"95% CI {_pct(sr.low)}-{_pct(sr.high)}"
    within = f"within {budget:,} env steps" if m.learning_env_steps > 0 else "with no learning at all (0 env steps)"
    if m.label == "reliable":
        text = f"{name} reliably solves {env}: {k}/{n} seeds end at or above {threshold:g} {within} ({ci})"
    elif m.label == "unstable":
        text = f"{name} is unstable on {env}: {k}/{n} seeds reach the threshold within the budget ({ci})"
    else:
        iqm = m.final_return["iqm"].value
        best = "n/a" if iqm is None else f"{iqm:.1f}"
        text = f"{name} does not solve {env} {within}: 0/{n} seeds reach {threshold:g} (IQM final return {best})"
    median = m.steps_to_threshold.median
    if median is not None:
        text += f"; half the seeds reach it by {median:,.0f} steps"
    if m.diverged_seeds:
        text += f"; {_seeds(m.diverged_seeds)} diverged (NaN/inf)"
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
        text += f"; {_seeds(m.diverged_seeds)} diverged (NaN/inf)"
    return text + "."


def unjudged_verdict(methods: Sequence[MethodSummary]) -> Verdict:
    if not methods:
        return Verdict("no results", "No method produced results; see the failed jobs.")
    lines = tuple(m.verdict_text for m in methods)
    return Verdict(NOT_JUDGED, " ".join(lines), None, lines)


def _seeds(seeds: Sequence[int]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def rank_key(m: MethodSummary) -> tuple[float, float, float]:
    median = m.steps_to_threshold.median
    iqm = m.final_return["iqm"].value
    return (-(m.success_rate.value or 0.0), np.inf if median is None else median, -np.inf if iqm is None else -iqm)


def study_verdict(methods: Sequence[MethodSummary], env: str, threshold: float, budget: int) -> Verdict:
    if not methods:
        return Verdict("no results", "No method produced results; see the failed jobs.")
    ranked = sorted(methods, key=rank_key)
    best = ranked[0]
    lines = tuple(method_text(m, env, threshold, budget) for m in ranked)
    label = best.label
    if label == "unstable":
        label = f"unstable: {best.successes}/{len(best.seeds)} seeds reach the threshold within the budget"
    return Verdict(label, " ".join(lines), best.label_name, lines)


def baselines_vs_rl(methods: Sequence[MethodSummary], threshold: float) -> dict[str, Any]:
    """Samples to threshold, baselines against RL: median learning env steps for half the seeds to
    reach the threshold, and how many times fewer the best baseline needed than the best RL method.
    Rows for every method; text only when a baseline reaches the threshold."""
    def steps(m: MethodSummary) -> float | None:
        return m.steps_to_threshold.median

    rows = [{"method": m.label_name, "kind": m.kind, "median_steps_to_threshold": steps(m), "model_calls": m.model_calls,
             "eval_model_calls_per_episode": m.eval_model_calls_per_episode, "success_rate": m.success_rate.value}
            for m in methods]
    baselines = [m for m in methods if m.kind == "baseline" and steps(m) is not None and m.successes > 0]
    rl = [m for m in methods if m.kind == "rl"]
    if not baselines:
        return {"rows": rows, "text": ""}
    best = min(baselines, key=lambda m: (steps(m), -(m.success_rate.value or 0.0)))
    planning = best.eval_model_calls_per_episode
    cost = f"{steps(best):,.0f} learning env steps" + (f" (and {planning:,.0f} model calls per episode of planning)" if planning else "")
    text = (f"A simpler method does it: {best.label_name.upper()} reaches {threshold:g} with {cost} "
            f"({best.successes}/{len(best.seeds)} seeds)")
    solved_rl = [m for m in rl if steps(m) is not None]
    if solved_rl:
        fastest = min(solved_rl, key=steps)
        ratio = "" if steps(best) == 0 else f": {steps(fastest) / steps(best):.0f}x fewer"
        text += f"; {fastest.label_name.upper()} needed {steps(fastest):,.0f}{ratio}"
    elif rl:
        text += "; no RL method reached it within the budget"
    learners = [m for m in baselines if steps(m) > 0]
    if steps(best) == 0 and learners and solved_rl:  # also compare like with like: learning from samples
        quick = min(learners, key=steps)
        text += (f". Among methods that learn from samples, {quick.label_name.upper()} reached it with "
                 f"{steps(quick):,.0f} env steps, {steps(fastest) / steps(quick):.1f}x fewer than {fastest.label_name.upper()}")
    return {"rows": rows, "text": text + "."}
