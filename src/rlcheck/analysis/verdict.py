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
from scipy import stats

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


def _more(seeds: int) -> str:
    return f"{seeds} more seed{'s' if seeds != 1 else ''}"


def _confidence(level: float) -> str:
    """The confidence of a one-sided bound at `level`: "95%", or e.g. "97.2%" in a sequential study."""
    return f"{100 * (1 - level):.0f}%" if abs(level - 0.05) < 1e-12 else f"{100 * (1 - level):.1f}%"


def method_text(m: MethodSummary, env: str, threshold: float, budget: int) -> str:
    k, n, name = m.successes, len(m.seeds), m.label_name.upper()
    if m.search:  # what RL was given: a search's best, re-run on seeds that took no part in choosing it
        name += (f" (the best of {m.search['configs']} configurations searched on {m.search['search_seeds']} other seeds, "
                 "re-run on these)" if m.search["chosen"] else
                 f" (its defaults, which stayed best in a search of {m.search['configs']} configurations)")
    elif m.derived_settings:  # what RL was given: a setting derived for this env, not one tuned on it
        name += " (with settings derived for this env, not tuned on it)"
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
        settle = (f"about {_more(more)} would most likely settle it" if more is not None
                  else "the rate is too near a boundary for a few more seeds to settle it")
        text = (f"{name} is undecided on {env}: {reach}; the success rate could be anywhere from {_pct(bounds.low)} "
                f"to {_pct(bounds.high)} ({level} each way), so it is neither reliable (above {_pct(RELIABLE_ABOVE)}) nor "
                f"not solved (below {_pct(NOT_SOLVED_BELOW)}); {settle}")
    else:
        iqm = m.final_return["iqm"].value
        best = "n/a" if iqm is None else f"{iqm:.1f}"
        text = (f"{name} does not solve {env} {within}: {k}/{n} seeds reach {threshold:g}, so the success rate is at "
                f"most {_pct(bounds.high)} ({level}) (IQM final return {best})")
    if not learns and m.label != RELIABLE:
        text += f"; {_tried(m)}"
    median = m.steps_to_threshold.median
    if median is not None and learns and k * 2 >= n:
        text += f"; {_reached(m)}"
    if m.diverged_seeds:
        text += f"; {_diverged(m)}"
    if m.fell_back_seeds:
        text += f"; {_seeds(m.fell_back_seeds)} reached it and then fell below"
    return text + "."


# The settings that say how hard a planner searched (the rest of its config is in the report's table).
PLANNER_SETTINGS = {
    "mpc": ("variant", "num_samples", "horizon", "iterations"),
    "mcts": ("num_simulations", "rollout_policy", "rollouts", "rollout_steps", "replan_samples"),
    "uct": ("num_simulations", "rollout_steps", "max_depth", "max_steps"),
}


def _tried(m: MethodSummary) -> str:
    """What a planner that fell short tried and what it cost: its result is a lower bound on what planning
    can do here, not a finding that the method cannot (a longer horizon or more simulations may)."""
    keys = PLANNER_SETTINGS.get(m.name, tuple(sorted(m.config))[:4])
    settings = ", ".join(f"{key} {m.config[key]}" for key in keys if key in m.config)
    calls = m.eval_model_calls_per_episode
    cost = f"{calls:,.0f} model calls per episode" if calls else ""
    what = "; ".join(x for x in (settings, cost) if x)
    return (f"this is what one setting of it does ({what}): a lower bound on what {m.name.upper()} can do here, "
            "not a finding that it cannot")


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


def _ties(best: MethodSummary, others: Sequence[MethodSummary]) -> list[MethodSummary]:
    """Methods whose success-rate interval overlaps the best one's: at these seeds they may be as good."""
    low = rate_bounds(best.successes, len(best.seeds), best.label_level).low
    return [m for m in others if m is not best and m.label == best.label
            and rate_bounds(m.successes, len(m.seeds), m.label_level).high >= low]


def family_reliable(group: Sequence[MethodSummary]) -> bool:
    """Simes' test that at least one of `group` has a true success rate above 70%: each method's exact
    p-value P(X >= k | n, 0.7), over the level its own label used, sorted; reliable when the i-th smallest
    is at most i / m. One method: its own label."""
    ratios = sorted(float(stats.binom.sf(m.successes - 1, len(m.seeds), RELIABLE_ABOVE)) / m.label_level for m in group)
    return any(r < (i + 1) / len(ratios) for i, r in enumerate(ratios))


def _answer(group: Sequence[MethodSummary], rl: bool) -> tuple[str, str, str | None]:
    """(label, answer in words, method) for one headline question over `group`, ranked by `rank_key`."""
    if not group:
        return ("not asked", "not asked: no RL method was run", None) if rl else (
            "not asked", "not asked: no non-RL baseline was run", None)
    ranked = sorted(group, key=rank_key)
    best = ranked[0]
    k, n = best.successes, len(best.seeds)
    low, high = rate_bounds(k, n, best.label_level).low, rate_bounds(k, n, best.label_level).high
    rate = (f"{k}/{n} seeds; the success rate is at least {_pct(low)}" if best.label == RELIABLE else
            f"{k}/{n} seeds; the success rate is at most {_pct(high)}" if best.label not in (UNSTABLE, UNDECIDED) else
            f"{k}/{n} seeds; the success rate is between {_pct(low)} and {_pct(high)}")
    name = best.label_name.upper()
    if best.derived_settings and not best.search:  # a verdict on a setting, not on the method
        name += " (settings derived for this env, not tuned)"
    label = best.label
    # The best of m methods could be the lucky one: "yes, one of them reliably solves it" is a claim about
    # the family, tested by Simes' procedure over the methods' own tests (their seeds are independent), so
    # that with m methods all truly at 70% it is made in at most 5% of studies (benchmarks/coverage.py).
    what = "RL methods" if rl else "baselines"
    if label == RELIABLE and not family_reliable(group):
        label = UNDECIDED
        more = seeds_to_decide(k, n, level=best.label_level / len(group))
        answer = (f"not yet known: {name} reliably solves it on its own ({rate}), but it was picked as the best of "
                  f"{len(group)} {what}, and these seeds do not yet rule out that it is the lucky one (Simes' test over "
                  f"the {len(group)}, at 5%)" + (f"; about {_more(more)} of {name} would most likely settle it" if more else ""))
    elif label == RELIABLE:
        chosen = f"; the best of {len(group)} {what}, still reliable after allowing for the choice" if len(group) > 1 else ""
        answer = (f"yes: {name} reliably solves it ({rate}{chosen})" if rl else
                  f"yes: {name} reliably solves it ({rate}{', with no learning' if best.learning_env_steps == 0 else ''}"
                  f"{chosen})")
    elif best.label == UNSTABLE:
        answer = f"sometimes: the best, {name}, is unstable ({rate})"
    elif best.label == UNDECIDED:
        more = seeds_to_decide(k, n, level=best.label_level)
        answer = (f"not yet known: the best, {name}, is undecided ({rate})"
                  + (f"; about {_more(more)} would most likely settle it" if more else ""))
    else:
        answer = (f"no, not within the budget: the best RL method, {name}, does not solve it ({rate})" if rl else
                  f"not among the baselines tried: the best, {name}, does not solve it ({rate})")
    ties = _ties(best, ranked[1:])
    if ties:
        answer += (f"; {', '.join(m.label_name.upper() for m in ties)} tie{'s' if len(ties) == 1 else ''} with it "
                   "(the success-rate intervals overlap)")
    return label, answer, best.label_name


def study_verdict(methods: Sequence[MethodSummary], env: str, threshold: float, budget: int) -> Verdict:
    """Two questions answered apart: can deep RL solve it (the RL methods' best, by `rank_key`), and is there a
    simpler way (the baselines' best); then every method's line, best first."""
    if not methods:
        return Verdict("no results", "No method produced results; see the failed jobs.")
    ranked = sorted(methods, key=rank_key)
    lines = tuple(m.verdict_text or method_text(m, env, threshold, budget) for m in ranked)
    rl = [m for m in methods if m.kind == "rl"]
    baselines = [m for m in methods if m.kind != "rl"]
    rl_label, rl_answer, rl_best = _answer(rl, True)
    simple_label, simple_answer, simple_best = _answer(baselines, False)
    questions = ({"question": f"Can deep RL solve {env}?", "label": rl_label, "method": rl_best, "answer": rl_answer},
                 {"question": "Is there a simpler way?", "label": simple_label, "method": simple_best,
                  "answer": simple_answer})
    lead = rl_best is not None
    best = next(m for m in ranked if m.label_name == (rl_best if lead else simple_best))
    label = rl_label if lead else simple_label
    group = rl if lead else baselines
    if label == UNDECIDED and best.label == RELIABLE:  # reliable on its own, not yet as the best of the group
        label = (f"{label}: {best.label_name.upper()} reaches the threshold on {best.successes}/{len(best.seeds)} seeds, "
                 f"not yet enough to rule out luck as the best of {len(group)}")
    elif label in (UNSTABLE, UNDECIDED):
        label = f"{label}: {best.successes}/{len(best.seeds)} seeds reach the threshold within the budget"
    head = tuple(f"{q['question']} {q['answer'][0].upper()}{q['answer'][1:]}." for q in questions)
    return Verdict(label, " ".join(head + lines), best.label_name, head + lines, questions)


def steps_span(m: MethodSummary) -> tuple[float, float] | None:
    """Where the median steps to the threshold can lie: from the checkpoint before the Kaplan-Meier band's low
    end (the grid: the crossing came after it) to the band's high end (inf where the band never reaches one
    half). None if fewer than half the seeds reached it; (0, 0) for a planner, which learns nothing."""
    t = m.steps_to_threshold
    if t.median is None:
        return None
    if m.learning_env_steps == 0:
        return (0.0, 0.0)
    low = t.low_after if t.low_after is not None else (t.after if t.after is not None else 0.0)
    return (low, np.inf if t.high is None else t.high)


def _reached(m: MethodSummary) -> str:
    """"first reached it between 24,576 and 49,152 env steps": the median's checkpoint and the one before."""
    t = m.steps_to_threshold
    return (f"half the seeds first reached it between {t.after or 0:,.0f} and {t.median:,.0f} env steps (the checkpoints "
            "either side)")


def _ratio(fast: MethodSummary, slow: MethodSummary) -> str:
    """How many times fewer steps `fast` needed than `slow`, one decimal, with the interval from both spans."""
    point = slow.steps_to_threshold.median / fast.steps_to_threshold.median
    (f_low, f_high), (s_low, s_high) = steps_span(fast), steps_span(slow)
    low = s_low / f_high if np.isfinite(f_high) and f_high > 0 else 0.0
    high = s_high / f_low if f_low > 0 else np.inf
    upper = "unbounded" if not np.isfinite(high) else f"{high:.1f}x"
    return (f"{point:.1f}x fewer (between {low:.1f}x and {upper}, from both methods' Kaplan-Meier 95% bands and the "
            "checkpoint grid)")


def baselines_vs_rl(methods: Sequence[MethodSummary], threshold: float) -> dict[str, Any]:
    """Samples to threshold, baselines against RL: median learning env steps for half the seeds to
    reach the threshold, and how many times fewer the best baseline needed than the best RL method.
    Rows for every method; "a simpler method does it" only when a baseline is itself reliable
    (analysis/labels.py) and its steps-to-threshold interval lies below every RL method's."""
    def steps(m: MethodSummary) -> float | None:
        return m.steps_to_threshold.median

    rows = [{"method": m.label_name, "kind": m.kind, "median_steps_to_threshold": steps(m),
             "steps_to_threshold_span": (None if (span := steps_span(m)) is None else
                                         [span[0], None if not np.isfinite(span[1]) else span[1]]),
             "model_calls": m.model_calls, "eval_model_calls_per_episode": m.eval_model_calls_per_episode,
             "success_rate": m.success_rate.value} for m in methods]
    baselines = [m for m in methods if m.kind == "baseline" and steps(m) is not None and m.label == RELIABLE]
    rl = [m for m in methods if m.kind == "rl"]
    if not baselines:
        return {"rows": rows, "text": ""}
    best = min(baselines, key=lambda m: (steps_span(m)[1], steps(m), -(m.success_rate.value or 0.0)))
    solved_rl = [m for m in rl if steps(m) is not None]
    fastest = min(solved_rl, key=lambda m: (steps_span(m)[0], steps(m))) if solved_rl else None
    name = best.label_name.upper()
    planning = best.eval_model_calls_per_episode
    cost = ("no learning (0 env steps)" if steps(best) == 0 else
            f"a median of {steps(best):,.0f} learning env steps ({_reached(best)})") + (
        f" and {planning:,.0f} model calls per episode of planning" if planning else "")
    rate = f"{best.successes}/{len(best.seeds)} seeds"
    # A crossing lies in (span low, span high]: the baseline needs fewer when its high end is at or below RL's low.
    if fastest is not None and steps_span(best)[1] > steps_span(fastest)[0]:
        return {"rows": rows, "text": (
            f"{name} reliably reaches {threshold:g} too ({rate}), with {cost}, but its steps to the threshold overlap "
            f"{fastest.label_name.upper()}'s ({_reached(fastest)}), so neither is shown to need fewer.")}
    everyone = [m for m in methods if m.kind != "rl"]
    claim = ("A simpler method does it" if family_reliable(everyone) else
             f"A simpler method may do it ({name} is reliable on its own, not yet as the best of {len(everyone)} baselines)")
    text = f"{claim}: {name} reaches {threshold:g} with {cost} ({rate})"
    if fastest is not None:
        text += f"; {fastest.label_name.upper()} needed a median of {steps(fastest):,.0f} ({_reached(fastest)})"
        text += f": {_ratio(best, fastest)}" if steps(best) else ""
    elif rl:
        text += "; no RL method reached it with half its seeds within the budget"
    learners = [m for m in baselines if steps(m) > 0]
    if steps(best) == 0 and learners and fastest is not None:  # also compare like with like: learning from samples
        quick = min(learners, key=lambda m: (steps_span(m)[1], steps(m)))
        below = steps_span(quick)[1] <= steps_span(fastest)[0]
        text += (f". Among methods that learn from samples, {quick.label_name.upper()} reached it with a median of "
                 f"{steps(quick):,.0f} env steps, " + (f"{_ratio(quick, fastest)} than {fastest.label_name.upper()}" if below
                                                       else f"not shown to need fewer than {fastest.label_name.upper()}"))
    return {"rows": rows, "text": text + "."}
