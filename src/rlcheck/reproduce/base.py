"""What a reproduction is: the studies it runs (`StudyPlan`), the claim and the judge that reads the
studies' summaries (`Reproduction`), and its verdict (`Judgement`). Claims register here (claims.py)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlcheck.core.errors import RLCheckError
from rlcheck.core.results import StudySummary

Summaries = dict[str, StudySummary]  # study name -> its summary


@dataclass(frozen=True)
class StudyPlan:
    name: str
    full: dict[str, Any]  # a study spec (the YAML form)
    quick: dict[str, Any]  # the same study, minutes in CI
    scaled: str = ""  # how the full form departs from the claim's budgets, said in the report


@dataclass(frozen=True)
class Judgement:
    verdict: str  # "holds", "does not hold" or "partly"
    measurement: str  # what we measured, with intervals
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reproduction:
    name: str
    claim: str  # the essay's claim, in its words where possible
    studies: tuple[StudyPlan, ...]
    judge: Callable[[Summaries], Judgement]


REGISTRY: dict[str, Reproduction] = {}


def register(reproduction: Reproduction) -> Reproduction:
    REGISTRY[reproduction.name] = reproduction
    return reproduction


def get(name: str) -> Reproduction:
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RLCheckError(f"Unknown reproduction {name!r}.{hint} Available: {', '.join(REGISTRY)} "
                           "(`rlcheck reproduce list` describes each).")
    return REGISTRY[name]
