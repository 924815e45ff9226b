"""`--until-decided`: which methods get another block of seeds, and why each one stopped.

The design (analysis/labels.py) looks at every method's label after its first seeds and after each further
block, up to `max_seeds`; a method stops at the first look where its label is decided, or at the cap. Every
look uses the one level that keeps the design's error rates at 5%. Pure functions of the study's outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rlcheck.analysis.labels import UNDECIDED, design_error, looks, method_label, sequential_level
from rlcheck.analysis.outcomes import Outcome
from rlcheck.core.results import MethodSummary


def schedule(spec: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The looks of a stored spec (`manifest["spec"]`), or None for a fixed number of seeds."""
    most = (spec.get("until_decided") or {}).get("max_seeds")
    if not most:
        return None
    first = len(spec["seeds"])
    return looks(first, spec.get("seed_block") or first, int(most))


def label_level(spec: Mapping[str, Any]) -> float:
    """The one-sided level of the labels' bounds in this study: 0.05, or the sequential design's."""
    plan = schedule(spec)
    return 0.05 if plan is None else sequential_level(plan)


def to_extend(outcomes: Sequence[Outcome], threshold: float, plan: tuple[int, ...], look: int) -> list[str]:
    """The methods to give seeds up to `plan[look]`: undecided at `plan[look - 1]` seeds (a method with fewer,
    because a seed block failed, has stopped)."""
    level = sequential_level(plan)
    return [o.method for o in outcomes if len(o.seeds) == plan[look - 1]
            and method_label(int(o.succeeded(threshold).sum()), len(o.seeds), level) == UNDECIDED]


def section(methods: Sequence[MethodSummary], plan: tuple[int, ...]) -> dict[str, Any]:
    """summary.json's `sequential`: the design, and each method's seeds and reason for stopping."""
    rows = []
    for m in methods:
        n = len(m.seeds)
        if m.label != UNDECIDED:
            why = f"decided after {n} seeds"
        elif n >= plan[-1]:
            why = f"still undecided at the cap of {plan[-1]} seeds"
        else:
            why = f"stopped at {n} seeds, below the next look at {next(x for x in plan if x > n)}: a seed block failed"
        rows.append({"method": m.label_name, "seeds": n, "label": m.label, "stopped": why})
    level = sequential_level(plan)
    return {"looks": list(plan), "max_seeds": plan[-1], "one_sided_level": level,
            "error_rate": design_error(plan, level), "methods": rows}


def design_text(plan: tuple[int, ...]) -> str:
    level = sequential_level(plan)
    strict = "" if level == 0.05 else f", stricter than 95% because the labels are looked at {len(plan)} times"
    return (f"Seeds were added until decided: labels looked at after {', '.join(map(str, plan))} seeds, each look's "
            f"bounds one-sided at {100 * (1 - level):.1f}%{strict}; the design's exact error rates (reliable at a true "
            f"rate of 70%, not solved at 30%) are {100 * design_error(plan, level):.1f}%, within 5% (docs/verdicts.md)")
