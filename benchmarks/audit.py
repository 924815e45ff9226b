"""The reward audit on the trap envs, their -fixed twins and three classic tasks (issue 7's must-show).

For each env: a full `rlcheck check` study (lint before training, 10 seeds of the learner and setting
that `TRAPS[...].trained_by` names, the audit after training), then a row saying whether the trap's
intended check fired, how many seeds each training check flagged, and every other finding.

    python benchmarks/audit.py [--seeds 10] [--only pit-corridor,CartPole-v1]

Studies go to benchmarks/out/audit/<env>/ (report.html included).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from rlcheck.envs.traps import TRAPS
from rlcheck.study.run import run_study
from rlcheck.study.spec import build

HERE = Path(__file__).parent
CLASSICS = {  # env -> (algo, overrides, budget): rlcheck's defaults and default budgets
    "CartPole-v1": ("ppo", {}, 500_000),
    "Acrobot-v1": ("ppo", {}, 500_000),
    "Pendulum-v1": ("sac", {}, 20_000),
}
THRESHOLDS = {"Pendulum-v1": -150.0}  # the essay's success line; gymnax/Gymnasium set none


def cases(only: set[str] | None):
    for base, info in TRAPS.items():
        for suffix in ("", "-fixed"):
            if only is None or base in only or f"{base}{suffix}" in only:
                yield f"trap/{base}{suffix}", info.trained_by, info.intended_check, suffix == ""
    for env, trained_by in CLASSICS.items():
        if only is None or env in only:
            yield env, trained_by, None, False


def fired(audit: dict) -> dict[str, str]:
    """check -> what fired (lint: status; training checks: flagged seeds)."""
    out = {f["check"]: f["status"] for f in audit["lint"] if f["status"] != "pass"}
    for d in audit["divergence"]:
        if d["fires"]:
            out["divergence"] = f"{d['flagged']}/{d['seeds_total']} seeds"
    for m in audit["modes"]:
        if m["count"] > 1:
            sizes = "+".join(str(g["count"]) for g in m["modes"])
            out["modes"] = f"{m['count']} modes ({sizes} seeds){'' if m['fires'] else ', equal returns'}"
    for c in audit["collapse"]:
        if c["fires"]:
            out["collapse"] = f"{c['flagged']}/{c['seeds_total']} seeds"
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--only", help="comma-separated trap base names or env names")
    a = p.parse_args()
    only = set(a.only.split(",")) if a.only else None
    rows = []
    for env, (algo, overrides, budget), intended, is_trap in cases(only):
        out = HERE / "out" / "audit" / env.replace("/", "_")
        shutil.rmtree(out, ignore_errors=True)
        raw = {"env": env, "methods": {algo: dict(overrides)}, "seeds": a.seeds, "budget": budget}
        spec = build({**raw, **({"threshold": THRESHOLDS[env]} if env in THRESHOLDS else {})})
        start = time.perf_counter()
        summary = run_study(spec, out)
        wall = time.perf_counter() - start
        found = fired(summary.audit)
        finals = [s.final_return for s in summary.methods[0].seeds]
        row = {"env": env, "algo": algo, "setting": overrides or "defaults", "budget": budget, "intended": intended,
               "intended_fired": found.get(intended) if intended else None, "fired": found,
               "finals": finals, "wall_s": wall}
        rows.append(row)
        print(json.dumps(row, default=str), flush=True)
    print("\n| env | learner (setting, budget) | intended check | intended fired | everything that fired | final returns | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        setting = "defaults" if r["setting"] == "defaults" else ", ".join(f"{k}={v}" for k, v in r["setting"].items())
        others = "; ".join(f"{k}: {v}" for k, v in r["fired"].items()) or "nothing"
        finals = " ".join(f"{x:.3g}" for x in r["finals"])
        print(f"| {r['env']} | {r['algo']} ({setting}, {r['budget']:,}) | {r['intended'] or '-'} | "
              f"{r['intended_fired'] or ('-' if r['intended'] is None else 'NO')} | {others} | {finals} | {r['wall_s']:.0f} |")


if __name__ == "__main__":
    main()
