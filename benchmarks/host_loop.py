"""Issue 6: host-loop PPO on Gymnasium's (Python) CartPole-v1 vs Stable-Baselines3 PPO run as two
parallel processes, in one run.

    python benchmarks/host_loop.py [--seeds 10] [--steps 100000] [--sb3-steps 50000]

rlcheck: one process, 10 seeds, the same JAX PPO as on gymnax, its envs stepped on the host (one
batched policy call per step for all seeds; 4 copies per seed). Its rate counts learning env steps
only, excluding compile time; evaluation episodes (also Python steps) are in the wall time but not
in the count. SB3: PPO with the same rollout and update sizes, one torch thread per process, two
processes at once on the 2 cores; its aggregate rate is both processes' steps over the longer of their learn() calls (process start and
imports left out, which favours SB3). rlcheck's rate is given without and with its compile time.
"""

from __future__ import annotations

import argparse
import json
import time

from _worker import collect, spawn


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--sb3-steps", type=int, default=50_000)
    a = p.parse_args()

    start = time.perf_counter()
    pair = [spawn("sb3", "--algo", "ppo", "--steps", str(a.sb3_steps), "--seed", str(s)) for s in (0, 1)]
    sb3 = [collect(proc) for proc in pair]
    sb3_wall = time.perf_counter() - start
    # SB3's rate over its learn() calls only (imports and process start left out): the stricter peer.
    sb3_rate = sum(r["steps_per_seed"] for r in sb3) / max(r["run_s"] for r in sb3)
    print(json.dumps({"impl": "sb3 x2 processes", "steps_per_s": sb3_rate, "wall_s": sb3_wall,
                      "steps_per_s_over_pair_wall": sum(r["steps_per_seed"] for r in sb3) / sb3_wall, "runs": sb3}), flush=True)

    ours = collect(spawn("rlcheck", "--env", "gymnasium:CartPole-v1", "--algo", "ppo", "--seeds", str(a.seeds),
                         "--steps", str(a.steps), "--num-evals", "5"))
    ours["speedup_vs_sb3_pair"] = ours["steps_per_s"] / sb3_rate
    ours["speedup_vs_sb3_pair_incl_compile"] = ours["steps_per_seed"] * a.seeds / ours["wall_s"] / sb3_rate
    print(json.dumps(ours), flush=True)
    print("\n| impl | seeds | steps/seed | wall s | compile s | env steps/s (aggregate) | x SB3 pair | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| SB3 PPO, 2 processes (rate over learn() only) | 2 | {a.sb3_steps} | {sb3_wall:.1f} | 0 | {sb3_rate:,.0f} | 1.0 | "
          f"{max(r['peak_rss_mb'] for r in sb3):.0f} each |")
    print(f"| rlcheck PPO, host loop | {a.seeds} | {ours['steps_per_seed']} | {ours['wall_s']:.1f} | {ours['compile_s']:.1f} "
          f"| {ours['steps_per_s']:,.0f} | {ours['speedup_vs_sb3_pair']:.1f} "
          f"({ours['speedup_vs_sb3_pair_incl_compile']:.1f} with compile) | {ours['peak_rss_mb']:.0f} |")
    print("final eval returns (rlcheck):", [round(r, 1) for r in ours["final_returns"]])


if __name__ == "__main__":
    main()
