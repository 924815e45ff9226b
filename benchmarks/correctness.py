"""Correctness against public reference scores (../shared/reference/reference_scores.csv).

    python benchmarks/correctness.py              # PPO/DQN CartPole and PPO Acrobot, 10 seeds x 500k
    python benchmarks/correctness.py --breakout   # also PPO Breakout-MinAtar, 3 seeds x 10M (long)

Each study is one `rlcheck.api.train` call; its traces and summary go to benchmarks/out/<study>/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rlcheck import api

HERE = Path(__file__).parent

# (study, env, algo, seeds, steps, criterion text, check(final returns) -> bool)
STUDIES = [
    ("ppo-cartpole", "CartPole-v1", "ppo", 10, 500_000, ">= 9/10 seeds reach 475",
     lambda f: sum(x >= 475 for x in f) >= 9),
    ("dqn-cartpole", "CartPole-v1", "dqn", 10, 500_000, ">= 8/10 seeds reach 475",
     lambda f: sum(x >= 475 for x in f) >= 8),
    ("ppo-acrobot", "Acrobot-v1", "ppo", 10, 500_000, "median final >= -100",
     lambda f: statistics.median(f) >= -100),
]
BREAKOUT = ("ppo-breakout-minatar", "Breakout-MinAtar", "ppo", 3, 10_000_000, "median final >= 25",
            lambda f: statistics.median(f) >= 25)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--breakout", action="store_true", help="also run the 10M-step Breakout-MinAtar study")
    p.add_argument("--only", help="run only this study")
    a = p.parse_args()
    studies = STUDIES + ([BREAKOUT] if a.breakout else [])
    if a.only:
        studies = [s for s in studies if s[0] == a.only] or ([BREAKOUT] if a.only == BREAKOUT[0] else [])
    rows = []
    for name, env, algo, seeds, steps, criterion, check in studies:
        start = time.perf_counter()
        summary = api.train(env=env, algo=algo, seeds=range(seeds), steps=steps, out=HERE / "out" / name)
        wall = time.perf_counter() - start
        finals = [s.final_return for s in summary.methods[0].seeds]
        row = {"study": name, "criterion": criterion, "passed": bool(check(finals)), "finals": finals,
               "median": statistics.median(finals), "wall_s": wall}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| study | criterion | final eval returns (per seed) | median | passed | wall s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        finals = ", ".join(f"{x:.0f}" for x in r["finals"])
        print(f"| {r['study']} | {r['criterion']} | {finals} | {r['median']:.1f} | {'yes' if r['passed'] else 'NO'} | {r['wall_s']:.0f} |")


if __name__ == "__main__":
    main()
