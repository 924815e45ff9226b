"""Issue 6: SAC on MuJoCo through Gymnasium (host loop): throughput and returns.

    python benchmarks/sac_mujoco.py [--envs HalfCheetah-v5,Reacher-v5] [--seeds 3] [--steps 100000]

Each env: one process, `--seeds` seeds of rlcheck's SAC (SB3/RL Zoo defaults: 256x256, batch 256,
lr 3e-4, learning_starts 100 here; the Zoo uses 10k for HalfCheetah), 10 evaluations of 10 episodes.
Needs the mujoco extra: pip install -e ".[mujoco]".
"""

from __future__ import annotations

import argparse
import json

from _worker import measure


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--envs", default="HalfCheetah-v5,Reacher-v5")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--num-evals", type=int, default=10)
    a = p.parse_args()
    rows = []
    for env in a.envs.split(","):
        row = measure("rlcheck", "--env", env, "--algo", "sac", "--seeds", str(a.seeds), "--steps", str(a.steps),
                      "--num-evals", str(a.num_evals))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| env | seeds | steps/seed | wall s | compile s | env steps/s (aggregate) | final eval returns | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        finals = ", ".join(f"{x:.1f}" for x in r["final_returns"])
        print(f"| {r['env']} | {r['seeds']} | {r['steps_per_seed']} | {r['wall_s']:.0f} | {r['compile_s']:.0f} "
              f"| {r['steps_per_s']:,.0f} | {finals} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
