"""`rlcheck reproduce NAME [--quick] --out DIR`: run a claim's studies, judge the claim, write
`reproduction.json` and `reproduction.md` beside the studies' own reports."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rlcheck.core.atomic import atomic_write_bytes
from rlcheck.core.errors import RLCheckError
from rlcheck.core.results import StudySummary
from rlcheck.reproduce import claims  # noqa: F401  (registers the claims)
from rlcheck.reproduce.base import get
from rlcheck.store import write_json
from rlcheck.study.run import run_study
from rlcheck.study.spec import build


def run(name: str, out: Path, quick: bool = False, progress=None, resume: bool = False,
        sources: list[Path] | None = None, executor: Any = None) -> dict[str, Any]:
    """Run the reproduction's studies into `out` (plus the finished studies in `sources`, read as they
    are: for claims over whatever the user ran), judge the claim, write the report."""
    reproduction = get(name)
    out = Path(out)
    start = time.perf_counter()
    summaries, notes = {}, []
    for plan in reproduction.studies:
        # A reproduction is the essay's fixed design, its settings named in claims.py: no search unless it asks.
        spec = build({"tune": False, **(plan.quick if quick else plan.full)})
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
        summaries[f"from:{Path(source).name}"] = StudySummary.from_json(json.loads(path.read_text()))
    judgement = reproduction.judge(summaries)
    result = {
        "name": name, "claim": reproduction.claim, "quick": quick, "verdict": judgement.verdict,
        "measurement": judgement.measurement, "details": judgement.details,
        "scaled": notes + (["quick form: budgets cut to minutes; the judgement is about the mechanics, not the claim"]
                           if quick else []),
        "studies": {k: str(out / k / "report.html") for k in summaries}, "wall_seconds": time.perf_counter() - start,
    }
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
