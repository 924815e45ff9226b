"""`--until-decided`: which methods get another block of seeds, and why each one stopped.

The design (analysis/labels.py) looks at every method's label after its first seeds and after each further
block, up to `max_seeds`; a method stops at the first look where its label is decided, or at the cap. Every
look uses the one level that keeps the design's error rates at 5%. Pure functions of the study's outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rlcheck.analysis.labels import UNDECIDED, design_error, level_at, looks, method_label, sequential_levels
from rlcheck.analysis.outcomes import Outcome
from rlcheck.core.results import MethodSummary


def schedule(spec: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The looks of a stored spec (`manifest["spec"]`), or None for a fixed number of seeds."""
    most = (spec.get("until_decided") or {}).get("max_seeds")
    if not most:
        return None
    first = len(spec["seeds"])
    return looks(first, spec.get("seed_block") or first, int(most))


def label_level(spec: Mapping[str, Any], seeds: int) -> float:
    """The one-sided level of the bounds behind the label of a method with `seeds` seeds: 0.05, or in a
    sequential study that of the last look it reached."""
    plan = schedule(spec)
    return 0.05 if plan is None else level_at(plan, seeds)


def to_extend(outcomes: Sequence[Outcome], threshold: float, plan: tuple[int, ...], look: int) -> list[str]:
    """The methods to give seeds up to `plan[look]`: undecided at `plan[look - 1]` seeds (a method with fewer,
    because a seed block failed, has stopped)."""
    level = sequential_levels(plan)[look - 1]
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
    levels = sequential_levels(plan)
    return {"looks": list(plan), "max_seeds": plan[-1], "one_sided_levels": list(levels),
            "error_rate": design_error(plan, levels), "methods": rows}


def design_text(plan: tuple[int, ...]) -> str:
    levels = sequential_levels(plan)
    later = (f"; the later looks' at {100 * (1 - levels[1]):.1f}%, stricter, because the labels are looked at "
             f"{len(plan)} times" if len(plan) > 1 and levels[1] < levels[0] else
             "; with so few seeds per look the exact error stays within 5% at 95% each time" if len(plan) > 1 else "")
    return (f"Seeds were added until decided: labels looked at after {', '.join(map(str, plan))} seeds, the first look's "
            f"bounds one-sided at 95% as in a fixed study{later}; the design's exact error rates (reliable at a true "
            f"rate of 70%, not solved at 30%) are {100 * design_error(plan, levels):.1f}%, within 5% (docs/verdicts.md)")
