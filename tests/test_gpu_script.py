"""benchmarks/gpu.sh, kept runnable while no GPU is lent: its dry run, at tiny sizes on CPU, writes a full table."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_benchmark_dry_run_writes_every_row(tmp_path):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(ROOT / "benchmarks" / "gpu.sh"), "--dry-run", "--out", str(tmp_path / "gpu.md")],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = (tmp_path / "gpu.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith(("| ppo", "| sac"))]
    assert len(rows) == 2 and not any("skipped" in row for row in rows), table
    assert "| cold |" in table and "| warm |" in table and "failed" not in table, table


def test_without_an_accelerator_the_full_run_says_so():
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", JAX_PLATFORMS="cpu")
    done = subprocess.run([str(ROOT / "benchmarks" / "gpu.sh")], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1 and "no accelerator" in done.stderr and "--dry-run" in done.stderr
