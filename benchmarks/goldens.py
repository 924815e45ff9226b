"""Golden traces: small studies whose `traces.parquet` values must not change under a refactor.

    python benchmarks/goldens.py --write     # record tests/goldens/*.json from the code as it is now
    python benchmarks/goldens.py             # run the studies again and compare with the goldens

Each study is one `rlcheck run`-style spec (2 seeds, tiny budgets, no audit) run through the study
engine, so the whole path env -> method -> engine -> store is covered. A golden holds every row of
the study's traces table; `tests/test_goldens.py` runs the same studies and compares value by value
(bit-identical: the computation is meant to be unchanged).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDENS = ROOT / "tests" / "goldens"

EVALUATION = {"checkpoints": 3, "episodes": 2}
# name -> study spec (as a YAML file would say it)
STUDIES: dict[str, dict[str, Any]] = {
    "cartpole-ppo": {"env": "CartPole-v1", "methods": {"ppo": {"num_envs": 4, "num_steps": 32}}, "budget": 1024},
    "cartpole-dqn": {"env": "CartPole-v1", "methods": {"dqn": {"learning_starts": 200},
                                                       "rainbow": {"learning_starts": 200, "batch_size": 32}},
                     "budget": 1000},
    "cartpole-trpo": {"env": "CartPole-v1", "methods": {"trpo": {"num_envs": 4, "num_steps": 32}}, "budget": 1024},
    "pendulum-sac": {"env": "Pendulum-v1", "threshold": -200, "methods": {"sac": {"learning_starts": 100, "batch_size": 32,
                                                                 "hidden_sizes": "32,32"}}, "budget": 300},
    "pendulum-offpolicy": {"env": "Pendulum-v1", "threshold": -200, "budget": 300, "methods": {
        algo: {"learning_starts": 100, "batch_size": 32, "hidden_sizes": "32,32"} for algo in ("td3", "ddpg", "naf")}},
    "cartpole-search": {"env": "CartPole-v1", "budget": 30000, "methods": {
        "cem": {"population": 8}, "ars": {"num_directions": 4, "top_directions": 2}, "cmaes": {"population": 8}}},
    "cartpole-planners": {"env": "CartPole-v1", "methods": {"lqr": {}, "mpc": {"num_samples": 8, "horizon": 8},
                                                            # the random-rollout MCTS the golden was recorded with (CartPole's
                                                            # default now plans its rollouts)
                                                            "mcts": {"num_simulations": 4, "rollout_steps": 2, "rollout_policy": "random",
                                                                     "max_depth": 50}},
                          "budget": 1000},
}


def spec_of(raw: dict[str, Any]) -> dict[str, Any]:
    # Fixed designs: no search (TRPO has no tuned CartPole settings, so by default it would be searched).
    return {**raw, "seeds": 2, "evaluation": EVALUATION, "audit": False, "tune": False}


def run_study(name: str, out: Path) -> list[dict[str, Any]]:
    """Every traces row of study `name`, sorted, as plain JSON values (NaN as None)."""
    from rlcheck.store import StudyStore
    from rlcheck.study.run import run_study as run
    from rlcheck.study.spec import build

    run(build(spec_of(STUDIES[name])), out, report=False)
    rows = StudyStore(out).read_traces().to_pylist()
    for row in rows:
        row["value"] = None if not math.isfinite(row["value"]) else row["value"]
    return sorted(rows, key=lambda r: (r["method"], r["config_id"], r["seed"], r["metric"], r["env_steps"]))


def differences(name: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """Rows that differ from the golden's. Metrics added since the golden was recorded (a new behaviour
    scalar, say) are not compared: they are not a change to what was computed before."""
    recorded = {row["metric"] for row in want}
    got = [row for row in got if row["metric"] in recorded]
    if len(got) != len(want):
        return [f"{name}: {len(got)} rows, golden has {len(want)}"]
    return [f"{name}: {g} != golden {w}" for g, w in zip(got, want, strict=True) if g != w]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--write", action="store_true", help="record the goldens from the current code")
    p.add_argument("--only", nargs="*", default=list(STUDIES))
    args = p.parse_args()
    GOLDENS.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            rows = run_study(name, Path(tmp) / name)
        path = GOLDENS / f"{name}.json"
        if args.write:
            path.write_text(json.dumps(rows, separators=(",", ":")) + "\n")
            print(f"{name}: wrote {len(rows)} rows to {path.relative_to(ROOT)} ({time.perf_counter() - start:.0f} s)")
        else:
            diff = differences(name, rows, json.loads(path.read_text()))
            failed += diff
            print(f"{name}: {'same' if not diff else f'{len(diff)} rows differ'} ({time.perf_counter() - start:.0f} s)")
    for line in failed[:20]:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
