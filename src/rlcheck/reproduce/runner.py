"""`rlcheck reproduce NAME [--quick] --out DIR`: run a claim's studies, judge the claim, write
`reproduction.json` and `reproduction.md` beside the studies' own reports."""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlcheck.atomic import atomic_write_bytes
from rlcheck.errors import RLCheckError

Summaries = dict[str, dict[str, Any]]


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
    from rlcheck.reproduce import claims  # noqa: F401  (registers them)

    if name not in REGISTRY:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RLCheckError(f"Unknown reproduction {name!r}.{hint} Available: {', '.join(REGISTRY)} "
                           "(`rlcheck reproduce list` describes each).")
    return REGISTRY[name]


def run(name: str, out: Path, quick: bool = False, progress=None, resume: bool = False,
        sources: list[Path] | None = None, executor: Any = None) -> dict[str, Any]:
    """Run the reproduction's studies into `out` (plus the finished studies in `sources`, read as they
    are: for claims over whatever the user ran), judge the claim, write the report."""
    from rlcheck.study.run import run_study
    from rlcheck.study.spec import build

    reproduction = get(name)
    out = Path(out)
    start = time.perf_counter()
    summaries, notes = {}, []
    for plan in reproduction.studies:
        spec = build(plan.quick if quick else plan.full)
        study_dir = out / plan.name
        summaries[plan.name] = run_study(spec, study_dir, resume=resume or (study_dir / "summary.json").exists(),
                                         progress=progress, executor=executor)
        if plan.scaled and not quick:
            notes.append(f"{plan.name}: {plan.scaled}")
    for source in sources or []:
        path = Path(source) / "summary.json"
        if not path.exists():
            raise RLCheckError(f"--from {source}: no summary.json there. Point at a directory written by `rlcheck check` "
                               "or `rlcheck run`.")
        import json

        summaries[f"from:{Path(source).name}"] = json.loads(path.read_text())
    judgement = reproduction.judge(summaries)
    result = {
        "name": name, "claim": reproduction.claim, "quick": quick, "verdict": judgement.verdict,
        "measurement": judgement.measurement, "details": judgement.details,
        "scaled": notes + (["quick form: budgets cut to minutes; the judgement is about the mechanics, not the claim"]
                           if quick else []),
        "studies": {k: str(out / k / "report.html") for k in summaries}, "wall_seconds": time.perf_counter() - start,
    }
    from rlcheck.store import write_json

    write_json(out / "reproduction.json", result)
    atomic_write_bytes(out / "reproduction.md", markdown(result).encode())
    return result


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Reproduction: {r['name']}{' (quick form)' if r['quick'] else ''}", "", f"**Claim.** {r['claim']}", "",
             f"**Measured.** {r['measurement']}", "", f"**Judgement: {r['verdict']}.**", ""]
    lines += [f"- {d}" for d in r["details"]]
    if r["scaled"]:
        lines += ["", "Budgets and scaling:"] + [f"- {s}" for s in r["scaled"]]
    lines += ["", "Studies (each with its full report):"] + [f"- {k}: {v}" for k, v in r["studies"].items()]
    lines += ["", f"Wall time {r['wall_seconds']:.0f} s."]
    return "\n".join(lines) + "\n"
