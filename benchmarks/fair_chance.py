"""Issue 24: does RL get a fair chance on envs rlcheck has no tuned settings for?

Per row (an env without a per-env entry, a learner, a published reference score): `rlcheck check` with
  - fallback: the settings an env without an entry got before issue 24 (each derived field set back to the
    learner's class default with --set),
  - derived: today's defaults, derived from the env (methods/derived.py),
  - tuned: derived plus the search (`--tune N`, default 8 x 2 seeds as rlcheck's own default: on its own
    seeds, the best re-run on the study's seeds),
and the median final return over the study's seeds, beside the reference. Python envs need their
packages, so run it in the third-party venv:

    /work/venv-3p/bin/python benchmarks/fair_chance.py --out /tmp/fair --rows lunar-ppo --variants fallback derived
    /work/venv-3p/bin/python benchmarks/fair_chance.py --out /tmp/fair            # every row and variant (hours)

Resumable: a (row, variant) already in OUT/results.json is kept. Prints the markdown table for RESULTS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Row:
    key: str
    env: str
    method: str
    budget: int  # env steps per seed here
    reference: float
    reference_budget: int | None  # None: the reference is the task's optimum, at no particular budget
    source: str
    seeds: int = 5
    threshold: float | None = None  # None: the env's own (Gymnasium's reward_threshold)


ROWS = [
    Row("lunar-ppo", "LunarLander-v3", "ppo", 500_000, 242.1, 1_000_000, "RL Zoo benchmark.md (LunarLander-v2)"),
    Row("lunar-dqn", "LunarLander-v3", "dqn", 100_000, 154.4, 100_000, "RL Zoo benchmark.md (LunarLander-v2)"),
    Row("lunarc-ppo", "LunarLanderContinuous-v3", "ppo", 500_000, 270.9, 1_000_000, "RL Zoo benchmark.md (v2)"),
    Row("mcc-ppo", "MountainCarContinuous-v0", "ppo", 20_000, 88.3, 20_000, "RL Zoo benchmark.md (uses gSDE)"),
    Row("bipedal-ppo", "BipedalWalker-v3", "ppo", 1_000_000, 213.3, 5_000_000, "RL Zoo benchmark.md"),
    Row("cheetah-ppo", "HalfCheetah-v5", "ppo", 1_000_000, 1443.0, 1_000_000, "CleanRL Open RL Benchmark (v4)"),
    # gymnax bsuite tasks: the reference is the optimum, known from the task's definition.
    Row("catch-ppo", "Catch-bsuite", "ppo", 100_000, 1.0, None, "optimum: +1 for each ball caught", threshold=0.9),
    Row("catch-dqn", "Catch-bsuite", "dqn", 100_000, 1.0, None, "optimum: +1 for each ball caught", threshold=0.9),
    Row("memory-ppo", "MemoryChain-bsuite", "ppo", 200_000, 1.0, None, "optimum: recall the first observation",
        threshold=0.9),
    Row("discount-ppo", "DiscountingChain-bsuite", "ppo", 100_000, 1.1, None,
        "optimum: the first action pays 1.1 at once, the others 1.0 after 3 to 100 steps", threshold=1.05),
    Row("umbrella-ppo", "UmbrellaChain-bsuite", "ppo", 200_000, 1.0, None,
        "optimum: +1 at step 10 for the right first choice; other steps pay zero-mean noise", threshold=0.5),
    Row("deepsea-ppo", "DeepSea-bsuite", "ppo", 200_000, 0.99, None, "optimum: the treasure, less 0.01 of moving cost",
        threshold=0.9),
]
VARIANTS = ("fallback", "derived", "tuned")


def fallback_sets(row: Row) -> list[str]:
    """--set flags that put every derived field back to the learner's class default (the old fallback)."""
    from rlcheck import registry
    from rlcheck.envs import make_env

    method = registry.get_method(row.method)
    base = method.Config()
    derived = registry.derived_defaults(method, make_env(row.env))
    out = []
    for name in derived:
        value = getattr(base, name)
        text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        out += ["--set", f"{row.method}.{name}={text}"]
    return out


def run(row: Row, variant: str, out: Path, tune: int, tune_seeds: int) -> dict:
    study = out / f"{row.key}-{variant}"
    args = [str(Path(sys.executable).parent / "rlcheck"), "check", row.env, "--methods", row.method, "--seeds",
            str(row.seeds), "--budget", str(row.budget), "--no-audit", "--quiet", "--out", str(study)]
    if row.threshold is not None:
        args += ["--threshold", str(row.threshold)]
    if variant == "fallback":
        args += fallback_sets(row)
    # The search is on by default for these envs (none has tuned settings): the first two variants turn it off.
    args += ["--tune", str(tune), "--tune-seeds", str(tune_seeds)] if variant == "tuned" else ["--tune", "0"]
    if (study / "manifest.json").exists():
        args.append("--resume")
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if not (study / "summary.json").exists():
        return {"row": row.key, "variant": variant, "error": done.stderr[-500:], "seconds": seconds}
    summary = json.loads((study / "summary.json").read_text())
    m = summary["methods"][0]
    finals = [s["final_return"] for s in m["seeds"] if s["final_return"] is not None]
    return {"row": row.key, "variant": variant, "finals": finals, "median": float(np.median(finals)),
            "successes": m["successes"], "seeds": len(m["seeds"]), "label": m["label"], "seconds": seconds,
            "command": " ".join(args[1:]), "tuning": summary.get("tuning")}


def table(results: list[dict]) -> str:
    lines = ["| env | method | budget (reference's) | reference | fallback median | derived median | tuned median |",
             "|---|---|---|---|---|---|---|"]
    by = {(r["row"], r["variant"]): r for r in results}
    for row in ROWS:
        cells = []
        for v in VARIANTS:
            r = by.get((row.key, v))
            cells.append("-" if r is None else ("error" if "error" in r else
                                                f"{r['median']:.1f} ({r['successes']}/{r['seeds']})"))
        if all(c == "-" for c in cells):
            continue
        budget = f"{row.reference_budget:,}" if row.reference_budget else "optimum"
        lines.append(f"| {row.env} | {row.method.upper()} | {row.budget:,} ({budget}) | {row.reference:g} "
                     f"({row.source}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--rows", nargs="*", default=[r.key for r in ROWS])
    p.add_argument("--variants", nargs="*", default=list(VARIANTS))
    p.add_argument("--tune", type=int, default=8)
    p.add_argument("--tune-seeds", type=int, default=2)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else []
    for row in ROWS:
        if row.key not in a.rows:
            continue
        for variant in a.variants:
            if any(r["row"] == row.key and r["variant"] == variant and "error" not in r for r in results):
                continue
            results = [r for r in results if not (r["row"] == row.key and r["variant"] == variant)]
            results.append(run(row, variant, a.out, a.tune, a.tune_seeds))
            path.write_text(json.dumps(results, indent=1))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "tuning"}), flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
