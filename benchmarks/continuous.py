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

# (study, env, algo, seeds, steps, threshold, required successes or None to only report, overrides)
STUDIES = [
    ("sac-pendulum", "Pendulum-v1", "sac", 10, 20_000, -200.0, 8, {}),
    ("td3-pendulum", "Pendulum-v1", "td3", 10, 20_000, -200.0, 8, {}),
    # The essay's study: NAF (the paper's settings: 200x200, batch 100, tau 1e-3, OU noise), 10 seeds x 200k.
    ("naf-pendulum", "Pendulum-v1", "naf", 10, 200_000, -150.0, None, {}),
    # RL Zoo's DDPG Pendulum settings, but 64x64 nets and batch 64 (OpenAI Baselines' DDPG scale): with
    # the Zoo's 400x300 nets 10 x 200k steps would take about 3 hours on 2 cores.
    ("ddpg-pendulum", "Pendulum-v1", "ddpg", 10, 200_000, -150.0, None, {"hidden_sizes": (64, 64), "batch_size": 64}),
    ("sac-mountaincarcontinuous", "MountainCarContinuous-v0", "sac", 10, 50_000, 90.0, None, {}),
]


def reached(out: Path, threshold: float) -> list[int | None]:
    """Per seed: the first checkpoint's env steps with eval return >= threshold (None if never)."""
    import pyarrow.compute as pc

    from rlcheck.store import StudyStore

    t = StudyStore(out).read_traces().filter(pc.equal(pc.field("metric"), "eval_return")).to_pylist()
    first: dict[int, int | None] = {}
    for row in sorted(t, key=lambda r: (r["seed"], r["env_steps"])):
        first.setdefault(row["seed"], None)
        if first[row["seed"]] is None and row["value"] >= threshold:
            first[row["seed"]] = row["env_steps"]
    return [first[s] for s in sorted(first)]


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
    for name, env, algo, seeds, steps, threshold, required, overrides in STUDIES:
        if a.only and name not in a.only.split(","):
            continue
        start = time.perf_counter()
        out = HERE / "out" / name
        summary = api.train(env=env, algo=algo, seeds=range(seeds), steps=steps, num_evals=a.num_evals,
                            overrides=overrides, out=out)
        finals = [s.final_return for s in summary.methods[0].seeds]
        first = reached(out, threshold)
        row = {"study": name, "steps": steps, "threshold": threshold, "successes": sum(f >= threshold for f in finals),
               "ever_reached": sum(f is not None for f in first), "first_reached_steps": first, "seeds": seeds,
               "required": required, "overrides": overrides, "finals": finals,
               "wall_s": time.perf_counter() - start, "compile_s": summary.methods[0].compile_seconds}
        rows.append(row)
        print(json.dumps(row, default=str), flush=True)
    print("\n| study | steps | threshold | final >= threshold | reached at a checkpoint | required | final eval returns | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        finals = ", ".join(f"{x:.0f}" for x in r["finals"])
        need = "report" if r["required"] is None else f"{r['required']}/{r['seeds']}"
        print(f"| {r['study']} | {r['steps']} | {r['threshold']:g} | {r['successes']}/{r['seeds']} | "
              f"{r['ever_reached']}/{r['seeds']} | {need} | {finals} | {r['wall_s']:.0f} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--seeds", default="1,10,100")
    s.add_argument("--steps", type=int, default=20_000)
    s.add_argument("--sb3-steps", type=int, default=5_000)
    c = sub.add_parser("correctness")
    c.add_argument("--only")
    c.add_argument("--num-evals", type=int, default=20, help="evaluation checkpoints per run")
    args = p.parse_args()
    speed(args) if args.what == "speed" else correctness(args)
