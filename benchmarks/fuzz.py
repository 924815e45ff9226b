"""Issue 21, item 5: the long fuzzing profile of tests/test_fuzz.py (random command lines, study files,
junk files, misbehaving envs), with Hypothesis's statistics (how often each outcome came up).

    python benchmarks/fuzz.py [--examples 1500]

CI runs the same tests with a fixed, derandomised budget of 40 examples each (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--examples", type=int, default=1500, help="examples per test (the long profile's default)")
    a = p.parse_args()
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long", "RLCHECK_FUZZ_EXAMPLES": str(a.examples)}
    raise SystemExit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                                      str(ROOT / "tests" / "test_fuzz.py"), "--hypothesis-show-statistics",
                                      "--durations=0"], cwd=ROOT, env=env))


if __name__ == "__main__":
    main()
