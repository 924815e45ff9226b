"""The essay's claims as runnable studies: `rlcheck reproduce list`, `rlcheck reproduce NAME`."""

from rlcheck.reproduce.base import REGISTRY, Judgement, Reproduction, StudyPlan, get
from rlcheck.reproduce.runner import run


def names() -> list[str]:
    return list(REGISTRY)


__all__ = ["Judgement", "Reproduction", "StudyPlan", "get", "names", "run"]
