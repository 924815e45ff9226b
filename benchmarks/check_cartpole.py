"""Issue 4: `rlcheck check CartPole-v1` with its defaults (PPO and DQN, 10 seeds x 500k env steps,
report included) must finish in <= 3 minutes on the project's 2-core CPU.

    python benchmarks/check_cartpole.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out" / "check-cartpole"

if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlcheck.cli", "check", "CartPole-v1", "--out", str(OUT), "--quiet"], check=True)
    wall = time.perf_counter() - start
    summary = json.loads((OUT / "summary.json").read_text())
    print(json.dumps({"wall_s": round(wall, 1), "verdict": summary["verdict"]["label"],
                      "methods": {m["label_name"]: {"successes": m["successes"], "seeds": len(m["seeds"]),
                                                    "wall_s": round(m["wall_seconds"], 1),
                                                    "compile_s": round(m["compile_seconds"], 1)}
                                  for m in summary["methods"]}}))
    print(f"\n`rlcheck check CartPole-v1`: {wall:.0f} s wall including report (target <= 180 s): "
          f"{'met' if wall <= 180 else 'NOT met'}")
