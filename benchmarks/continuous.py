"""Continuous control (issue 3): SAC speed vs Stable-Baselines3, and correctness on Pendulum.

    python benchmarks/continuous.py speed --seeds 1,10,100 --steps 20000 --sb3-steps 5000
    python benchmarks/continuous.py correctness [--only sac-pendulum]

Speed: SAC on Pendulum-v1 with RL Zoo's settings (lr 1e-3, batch 256, 256x256 nets, one update per
env step) for rlcheck (vmapped seeds, one process) and SB3 (one process, one torch thread).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from speed import measure

from rlcheck import api

HERE = Path(__file__).parent

# (study, env, algo, seeds, steps, threshold, required successes or None to only report)
STUDIES = [
    ("sac-pendulum", "Pendulum-v1", "sac", 10, 20_000, -200.0, 8),
    ("td3-pendulum", "Pendulum-v1", "td3", 10, 20_000, -200.0, 8),
    ("ddpg-pendulum", "Pendulum-v1", "ddpg", 10, 200_000, -150.0, None),
    ("naf-pendulum", "Pendulum-v1", "naf", 10, 200_000, -150.0, None),
    ("sac-mountaincarcontinuous", "MountainCarContinuous-v0", "sac", 10, 50_000, 90.0, None),
]


def speed(a: argparse.Namespace) -> None:
    rows = [measure("sb3", "--algo", "sac", "--env", "Pendulum-v1", "--steps", str(a.sb3_steps))]
    print(json.dumps(rows[-1]), flush=True)
    for n in [int(s) for s in a.seeds.split(",")]:
        row = measure("rlcheck", "--algo", "sac", "--env", "Pendulum-v1", "--seeds", str(n), "--steps", str(a.steps),
                      "--num-evals", "2")
        row["speedup_vs_sb3"] = row["steps_per_s"] / rows[0]["steps_per_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| impl | seeds | steps/seed | wall s | compile s | env steps/s (aggregate) | x SB3 | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['impl']} | {r['seeds']} | {r['steps_per_seed']} | {r['wall_s']:.1f} | {r['compile_s']:.1f} "
              f"| {r['steps_per_s']:,.0f} | {r.get('speedup_vs_sb3', 1.0):.1f} | {r['peak_rss_mb']:.0f} |")


def correctness(a: argparse.Namespace) -> None:
    rows = []
    for name, env, algo, seeds, steps, threshold, required in STUDIES:
        if a.only and name not in a.only.split(","):
            continue
        start = time.perf_counter()
        summary = api.train(env=env, algo=algo, seeds=range(seeds), steps=steps, num_evals=10, out=HERE / "out" / name)
        finals = [s["final_return"] for s in summary["methods"][0]["seeds"]]
        successes = sum(f >= threshold for f in finals)
        row = {"study": name, "threshold": threshold, "successes": successes, "seeds": seeds, "required": required,
               "finals": finals, "wall_s": time.perf_counter() - start}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| study | steps | threshold | seeds succeeding | required | final eval returns | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r, s in zip(rows, [s for s in STUDIES if not a.only or s[0] in a.only.split(",")], strict=True):
        finals = ", ".join(f"{x:.0f}" for x in r["finals"])
        print(f"| {r['study']} | {s[4]} | {r['threshold']:g} | {r['successes']}/{r['seeds']} | "
              f"{'report' if r['required'] is None else str(r['required']) + '/10'} | {finals} | {r['wall_s']:.0f} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--seeds", default="1,10,100")
    s.add_argument("--steps", type=int, default=20_000)
    s.add_argument("--sb3-steps", type=int, default=5_000)
    c = sub.add_parser("correctness")
    c.add_argument("--only")
    args = p.parse_args()
    speed(args) if args.what == "speed" else correctness(args)
