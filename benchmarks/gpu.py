"""Issue 22, item 6: seed scaling and the main job on an accelerator, in under 8 minutes, as one table.

    python benchmarks/gpu.py [--out benchmarks/out/gpu.md] [--limit-s 450]
    python benchmarks/gpu.py --dry-run        # tiny sizes on whatever device JAX has (a test runs it on CPU)

Rows: PPO on CartPole-v1 (gymnax) at 1 to 4096 seeds x 500k steps; SAC on Pendulum-v1 at 1 to 256 seeds
x 20k steps; then `rlcheck check CartPole-v1` with its defaults. Each row runs in a process of its own
(`_worker.py`: compile and run time apart, peak host memory). A row that would start after `--limit-s`
is skipped and listed as such, so the whole stays inside the device time it was given.
Anchors: PureJaxRL trains 2048 PPO CartPole agents in about 98 s on one A100; rejax reports 0.2 s per
agent for MinAtar Breakout PPO at 300 agents.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _worker

HERE = Path(__file__).parent
FULL = {"ppo": ("CartPole-v1", [1, 16, 256, 1024, 2048, 4096], 500_000),
        "sac": ("Pendulum-v1", [1, 16, 64, 256], 20_000)}
DRY = {"ppo": ("CartPole-v1", [2], 1024), "sac": ("Pendulum-v1", [2], 256)}
SOLVED = {"CartPole-v1": 475.0, "Pendulum-v1": -200.0}


def device() -> str:
    out = subprocess.run([sys.executable, "-c", "import jax; d = jax.devices()[0]; print(d.platform, d.device_kind)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def main_job(dry: bool) -> dict:
    """The main job from the command line, cold (an empty compilation cache) then warm."""
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RLCHECK_COMPILE_CACHE=str(Path(tmp) / "cache"))
        extra = ["--methods", "ppo", "--seeds", "2", "--budget", "1024", "--no-audit"] if dry else []
        for run in ("cold", "warm"):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "rlcheck.cli", "check", "CartPole-v1", *extra, "--quiet",
                                   "--out", str(Path(tmp) / run)], env=env, capture_output=True, text=True, check=False)
            rows[run] = {"wall_s": time.perf_counter() - start, "exit": done.returncode, "error": done.stderr[-500:]}
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dry-run", action="store_true", help="tiny sizes, any device")
    p.add_argument("--limit-s", type=float, default=450.0, help="no row starts after this many seconds")
    p.add_argument("--out", type=Path, default=HERE / "out" / "gpu.md")
    a = p.parse_args()
    start, plan = time.perf_counter(), DRY if a.dry_run else FULL
    where = device()
    if not a.dry_run and not where.startswith(("gpu", "cuda", "rocm", "tpu")):
        raise SystemExit(f"JAX sees no accelerator here ({where}); run with --dry-run to try the script on CPU.")
    header = ("| method | env | seeds | steps/seed | wall s | compile s | run s | env steps/s (aggregate) | "
              "run s per seed | peak host RSS MB | final >= solved |")
    lines = [f"Device: {where}. Command: `python benchmarks/gpu.py{' --dry-run' if a.dry_run else ''}`.", "",
             header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for algo, (env, seed_counts, steps) in plan.items():
        for seeds in seed_counts:
            if time.perf_counter() - start > a.limit_s:
                lines.append(f"| {algo} | {env} | {seeds} | {steps:,} | skipped: past --limit-s {a.limit_s:g} | | | | | | |")
                continue
            r = _worker.measure("rlcheck", "--env", env, "--algo", algo, "--seeds", str(seeds), "--steps", str(steps),
                                "--num-evals", "2", "--eval-episodes", "2")
            solved = sum(x >= SOLVED[env] for x in r["final_returns"])
            lines.append(f"| {algo} | {env} | {seeds} | {r['steps_per_seed']:,} | {r['wall_s']:.1f} | {r['compile_s']:.1f} | "
                         f"{r['run_s']:.1f} | {r['steps_per_s']:.3g} | {r['run_s'] / seeds:.4f} | {r['peak_rss_mb']:.0f} | "
                         f"{solved}/{seeds} |")
            print(lines[-1], flush=True)
    if time.perf_counter() - start > a.limit_s:
        lines += ["", "Main job: skipped (past --limit-s)."]
    else:
        job = main_job(a.dry_run)
        lines += ["", "| `rlcheck check CartPole-v1` | wall s | exit |", "|---|---|---|"]
        lines += [f"| {run} | {r['wall_s']:.1f} | {r['exit']} |" for run, r in job.items()]
        for run, r in job.items():
            if r["exit"] != 0:
                lines.append(f"\n{run} run failed: {r['error']}")
    lines += ["", f"Total: {time.perf_counter() - start:.0f} s."]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({"out": str(a.out)}))


if __name__ == "__main__":
    main()
