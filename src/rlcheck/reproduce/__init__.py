"""The essay's claims as runnable studies: `rlcheck reproduce list`, `rlcheck reproduce NAME`."""

from rlcheck.reproduce.runner import (
    REGISTRY,
    Judgement,
    Reproduction,
    StudyPlan,
    get,
    run,
)


def names() -> list[str]:
    from rlcheck.reproduce import claims  # noqa: F401  (registers them)

    return list(REGISTRY)


__all__ = ["Judgement", "Reproduction", "StudyPlan", "get", "names", "run"]
