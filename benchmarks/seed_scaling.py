"""Throughput and memory as the seed count grows: PPO on CartPole-v1 (CPU), 1 -> 10 -> 100 -> 1000 seeds
in one compiled, vmapped program each, every count in its own process (so its peak RSS is its own).

    python benchmarks/seed_scaling.py [--seeds 1,10,100,1000] [--steps 50000]

Reports wall, compile and run seconds, aggregate env steps/s, seconds per seed, peak RSS and the
share of seeds that end at 500. Run it with nothing else heavy on the machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _worker

HERE = Path(__file__).parent


def measure(seeds: int, steps: int) -> dict:
    return _worker.measure("rlcheck", "--algo", "ppo", "--seeds", str(seeds), "--steps", str(steps),
                           "--num-evals", "2", "--eval-episodes", "2")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="1,10,100,1000")
    p.add_argument("--steps", type=int, default=50_000, help="env steps per seed")
    p.add_argument("--out", type=Path, default=HERE / "out" / "seed_scaling.json")
    a = p.parse_args()
    rows = []
    for n in (int(s) for s in a.seeds.split(",")):
        row = measure(n, a.steps)
        row.pop("eval_curve", None)
        row["solved"] = sum(r >= 475 for r in row.pop("final_returns"))
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "checkpoint_steps"}), flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rows, indent=1))
    base = rows[0]["steps_per_s"]
    print("\n| seeds | steps/seed | wall s | compile s | run s | env steps/s (aggregate) | x 1 seed | run s per seed | "
          "peak RSS MB | final >= 475 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seeds']} | {r['steps_per_seed']:,} | {r['wall_s']:.1f} | {r['compile_s']:.1f} | {r['run_s']:.1f} | "
              f"{r['steps_per_s']:.3g} | {r['steps_per_s'] / base:.1f} | {r['run_s'] / r['seeds']:.3f} | "
              f"{r['peak_rss_mb']:.0f} | {r['solved']}/{r['seeds']} |")


if __name__ == "__main__":
    main()
