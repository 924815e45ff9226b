"""Speed: rlcheck PPO/DQN vs Stable-Baselines3 on CartPole-v1, in one run.

    python benchmarks/speed.py            # needs the sb3 extra: pip install -e ".[sb3]"

rlcheck: PPO at 1, 10 and 100 seeds x 500k steps, and DQN at 10 seeds x 500k, each in its own
process (compile time reported apart, peak RSS per process). SB3: PPO with the same rollout sizes
(4 envs x 128 steps, 4 epochs of 4 minibatches of 128, 64x64 tanh nets), one process, one torch
thread, and DQN with the same settings; SB3's rate is measured over --sb3-steps steps of one seed,
and one process runs seeds one after another, so its aggregate rate at N seeds is that same rate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _worker import measure

HERE = Path(__file__).parent


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=500_000)
    p.add_argument("--seeds", default="1,10,100")
    p.add_argument("--sb3-steps", type=int, default=50_000)
    p.add_argument("--out", type=Path, default=HERE / "out" / "speed.json")
    a = p.parse_args()
    rows = []
    for algo in ("ppo", "dqn"):
        sb3 = measure("sb3", "--algo", algo, "--steps", str(a.sb3_steps))
        rows.append(sb3)
        print(json.dumps(sb3), flush=True)
        seed_counts = [int(s) for s in a.seeds.split(",")] if algo == "ppo" else [10]
        for n in seed_counts:
            row = measure("rlcheck", "--algo", algo, "--seeds", str(n), "--steps", str(a.steps))
            row["speedup_vs_sb3"] = row["steps_per_s"] / sb3["steps_per_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rows, indent=2))
    print("\n| impl | algo | seeds | steps/seed | wall s | compile s | env steps/s (aggregate) | x SB3 | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['impl']} | {r['algo']} | {r['seeds']} | {r['steps_per_seed']} | {r['wall_s']:.1f} | {r['compile_s']:.1f} "
              f"| {r['steps_per_s']:,.0f} | {r.get('speedup_vs_sb3', 1.0):.1f} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
