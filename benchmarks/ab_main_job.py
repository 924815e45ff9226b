"""A/B wall time of the main job (`rlcheck check CartPole-v1`, its defaults) between a base commit and
the working tree, side by side in one run, interleaved (A B A B ...) so machine drift hits both.

    python benchmarks/ab_main_job.py --base 3e0f957 --rounds 2

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


def one_run(src: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlcheck.cli", "check", "CartPole-v1", "--out", str(out), "--quiet"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="the commit to compare against (A)")
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
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


if __name__ == "__main__":
    main()
