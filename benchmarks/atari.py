"""Issue 6: smoke benchmark on ALE Breakout (standard preprocessing, Nature CNN): PPO and Rainbow
throughput, and returns at a short budget (far too short to learn Breakout: this checks that the whole
pipeline runs and measures its speed on this CPU).

    python benchmarks/atari.py [--steps 20000] [--seeds 1]

Needs the atari extra: pip install -e ".[atari]". Each run in its own process; evaluation plays 2
whole games (no life-loss terminal, raw scores) at 0 steps and at the end.
"""

from __future__ import annotations

import argparse
import json

from _worker import measure


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="ALE/Breakout-v5")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--algos", default="ppo,rainbow")
    a = p.parse_args()
    rows = []
    for algo in a.algos.split(","):
        row = measure("rlcheck", "--env", a.env, "--algo", algo, "--seeds", str(a.seeds), "--steps", str(a.steps),
                      "--num-evals", "1", "--eval-episodes", "2",
                      *(["--set", "learning_starts=5000"] if algo in ("dqn", "rainbow") else []))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| algo | seeds | steps/seed | wall s | compile s | env steps/s (aggregate, learning steps) | eval returns at 0 -> end | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        curve = " -> ".join(f"{x:.1f}" for x in r["eval_curve"][0])
        print(f"| {r['algo']} | {r['seeds']} | {r['steps_per_seed']} | {r['wall_s']:.0f} | {r['compile_s']:.0f} "
              f"| {r['steps_per_s']:,.0f} | {curve} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
