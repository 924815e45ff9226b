"""Fault tolerance of the study store: SIGKILL at random points then --resume gives the uninterrupted
store; a read-only or full directory gives one clear error and no partial files; a second process on
the same store is refused by its lock."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from rlcheck.cli import main
from rlcheck.store import StudyStore

# cheap to compile, several jobs (so kills land between jobs too), several chunks each
STUDY = {"env": "CartPole-v1", "methods": {"cem": {}, "ars": {}}, "seeds": 2, "seed_block": 1, "budget": 20_000,
         "evaluation": {"checkpoints": 8, "episodes": 2}, "audit": False}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rlcheck.cli", *args]


def _study_file(tmp_path: Path, raw: dict = STUDY) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def without_timings(value):
    """summary.json without wall-clock fields, which differ between any two runs."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if "seconds" not in k and "per_second" not in k}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def assert_same_store(a: Path, b: Path) -> None:
    ta, tb = pq.read_table(a / "traces.parquet"), pq.read_table(b / "traces.parquet")
    assert ta.num_rows == tb.num_rows
    for column in ("method", "config_id", "seed", "env_steps", "model_calls", "metric"):
        assert ta[column].to_pylist() == tb[column].to_pylist(), column
    np.testing.assert_array_equal(ta["value"].to_numpy(), tb["value"].to_numpy())  # NaN == NaN here
    sa, sb = (without_timings(json.loads((d / "summary.json").read_text())) for d in (a, b))
    assert sa == sb


def assert_no_partial_files(out: Path) -> None:
    """Every file is complete: no temp files from an interrupted write, and every store file parses."""
    leftovers = [p.name for p in out.rglob("*.tmp")]
    assert not leftovers, leftovers
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for path in out.rglob("*.npz"):
        with np.load(path) as data:
            list(data.items())


@pytest.mark.slow  # 3 minutes; benchmarks/chaos.py interrupts at many more random points
def test_sigkill_at_random_points_then_resume_equals_uninterrupted(tmp_path):
    study = _study_file(tmp_path)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    start = time.perf_counter()
    subprocess.run(_cli("run", str(study), "--out", str(clean), "--quiet"), check=True, capture_output=True)
    full = time.perf_counter() - start
    seed = random.randrange(2**31)
    rng = random.Random(seed)
    kills = []
    for _ in range(3):
        proc = subprocess.Popen(_cli("run", str(study), "--out", str(killed), "--quiet", "--resume"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Within the first half of the clean run's time: a later run can be faster (warm caches, a quieter
        # machine), and a kill drawn after it finishes would test nothing.
        at = rng.uniform(1.0, max(1.5, full / 2))
        try:
            proc.wait(timeout=at)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills.append(round(at, 2))
            assert_no_partial_files(killed)
    done = subprocess.run(_cli("run", str(study), "--out", str(killed), "--quiet", "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, (seed, kills, done.stderr)
    assert_same_store(killed, clean)
    assert not any((killed / "checkpoints").glob("*.npz")), (seed, kills)
    assert kills, f"no kill landed (random seed {seed})"


def _without_dac_override() -> list[str]:
    """A prefix that runs a command without root's power to write anywhere, so permissions apply."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be made read-only for us")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


@pytest.mark.parametrize("fresh", [True, False], ids=["new-study-dir", "existing-read-only-dir"])
def test_read_only_directory_is_a_clear_error_with_no_files_left(tmp_path, fresh):
    study = _study_file(tmp_path)
    parent = tmp_path / "ro"
    parent.mkdir()
    out = parent / "study" if fresh else parent
    parent.chmod(0o555)
    try:
        result = subprocess.run(_without_dac_override() + _cli("run", str(study), "--out", str(out), "--quiet"),
                                capture_output=True, text=True)
    finally:
        parent.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "Cannot write the study store" in result.stderr and "read-only" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(parent.iterdir()) == []


def _file_size_limit(limit: int) -> list[str]:
    """A prefix under which writes past `limit` bytes fail with EFBIG, as on a full disk (Python ignores
    SIGXFSZ, so the write returns the error)."""
    if shutil.which("prlimit") is None:
        pytest.skip("needs prlimit (util-linux) to limit file sizes")
    return ["prlimit", f"--fsize={limit}", "--"]


def test_full_disk_is_a_clear_error_and_resume_finishes(tmp_path):
    study = _study_file(tmp_path, {**STUDY, "methods": {"ppo": {}}, "seeds": 1, "budget": 4096,
                                   "evaluation": {"checkpoints": 2, "episodes": 2}})
    out, clean = tmp_path / "full", tmp_path / "clean"
    # room for the manifest, not for PPO's first checkpoint (its weights and optimiser state)
    result = subprocess.run(_file_size_limit(48_000) + _cli("run", str(study), "--out", str(out), "--quiet"),
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "Cannot write the study store" in result.stderr and "full" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_partial_files(out)
    assert json.loads((out / "manifest.json").read_text())["jobs"]["ppo-0"]["status"] == "pending"
    subprocess.run(_cli("run", str(study), "--out", str(out), "--quiet", "--resume"), check=True, capture_output=True)
    subprocess.run(_cli("run", str(study), "--out", str(clean), "--quiet"), check=True, capture_output=True)
    assert_same_store(out, clean)


def test_second_process_on_a_store_is_refused(tmp_path, capsys):
    study = _study_file(tmp_path)
    out = tmp_path / "busy"
    with StudyStore(out).lock():  # as a running study holds it
        code = main(["run", str(study), "--out", str(out), "--quiet"])
        result = subprocess.run(_cli("run", str(study), "--out", str(out), "--quiet"), capture_output=True, text=True)
    assert code == 1 and "Another rlcheck process is writing to" in capsys.readouterr().err
    assert result.returncode == 1 and "Another rlcheck process" in result.stderr and "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists()
