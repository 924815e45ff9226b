"""A/B wall time of the main job (`rlcheck check CartPole-v1`, its defaults) between a base commit and
the working tree, side by side in one run, interleaved (A B A B ...) so machine drift hits both.

    python benchmarks/ab_main_job.py --base 3e0f957 --rounds 2
    python benchmarks/ab_main_job.py --cache --rounds 2   # this tree, cold (empty compilation cache) then warm

With --cache, each round runs the working tree twice on a new, empty compilation cache directory: cold, then
warm (the same directory, filled by the cold run); cold and warm alternate, as A and B do.

The base is checked out into a temporary git worktree and run with this venv's Python and
`PYTHONPATH=<worktree>/src` (the dependencies are the same). Nothing else heavy should run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(src: Path, out: Path, cache: Path | None = None) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), **({"RLCHECK_COMPILE_CACHE": str(cache)} if cache else {})}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlcheck.cli", "check", "CartPole-v1", "--out", str(out), "--quiet"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", help="the commit to compare against (A)")
    p.add_argument("--cache", action="store_true", help="compare cold and warm compilation caches instead")
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    if a.cache:
        return cold_and_warm(a.rounds)
    if not a.base:
        p.error("give --base COMMIT, or --cache")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), a.base], check=True,
                       stdout=subprocess.DEVNULL)
        try:
            walls: dict[str, list[float]] = {"base": [], "head": []}
            for r in range(a.rounds):
                for name, src in (("base", base / "src"), ("head", ROOT / "src")):
                    wall = one_run(src, Path(tmp) / f"{name}-{r}")
                    walls[name].append(wall)
                    print(json.dumps({"round": r, "code": name, "wall_s": round(wall, 1)}), flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    a_med, b_med = statistics.median(walls["base"]), statistics.median(walls["head"])
    print(f"\nmedian wall: base {a_med:.1f} s, head {b_med:.1f} s; head/base = {b_med / a_med:.3f} "
          f"({'within' if b_med <= 1.05 * a_med else 'NOT within'} 5%)")


def cold_and_warm(rounds: int) -> None:
    walls: dict[str, list[float]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            cache = Path(tmp) / f"cache-{r}"
            for name in ("cold", "warm"):
                wall = one_run(ROOT / "src", Path(tmp) / f"{name}-{r}", cache)
                walls[name].append(wall)
                print(json.dumps({"round": r, "cache": name, "wall_s": round(wall, 1)}), flush=True)
    print(f"\nmedian wall: cold {statistics.median(walls['cold']):.1f} s, warm {statistics.median(walls['warm']):.1f} s "
          f"(targets: <= 150 s cold, <= 60 s warm)")


if __name__ == "__main__":
    main()
