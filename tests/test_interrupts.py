"""Non-finite is never success, interrupts stop a study at once, a hung env fails its job, and nothing
but rlcheck's own paragraphs reaches stderr (issue 21, items 2-4). Run as a user would: `python -m
rlcheck.cli` in a subprocess, so stderr holds everything the libraries print too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SMALL = ["--methods", "ppo", "--threshold", "2", "--seeds", "2", "--budget", "4096", "--num-evals", "2",
         "--eval-episodes", "2", "--no-audit", "--tune", "0", "--quiet"]


def _rlcheck(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    return subprocess.run([sys.executable, "-m", "rlcheck.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "unexpected" not in text, text


def test_an_env_that_raises_mid_training_leaves_no_traceback_on_stderr(tmp_path):
    out = tmp_path / "out"
    done = _rlcheck("check", "user_envs:FailsLate", *SMALL, "--out", str(out))
    assert done.returncode == 4
    _no_traceback(done.stderr)
    assert "raised RuntimeError: the sensor broke" in done.stdout
    assert "pure_callback failed" in (out / "rlcheck.log").read_text()  # JAX's log went to the store's log
    assert f"are in {out / 'rlcheck.log'}" in done.stderr


def test_a_hung_env_step_fails_its_job_after_the_step_timeout(tmp_path):
    start = time.monotonic()
    done = _rlcheck("check", "user_envs:HangsLate", *SMALL, "--step-timeout", "2", "--out", str(tmp_path / "o"))
    assert time.monotonic() - start < 240  # not the hour the step sleeps
    assert done.returncode == 4
    _no_traceback(done.stderr)
    assert "did not return from step(" in done.stdout and "within the step timeout of 2 s" in done.stdout


def test_an_infinite_reward_is_divergence_never_success(tmp_path):
    out = tmp_path / "out"
    done = _rlcheck("check", "user_envs:InfiniteRewardLate", *SMALL, "--threshold=-1e9", "--out", str(out))
    assert done.returncode == 4  # diverged seeds
    _no_traceback(done.stderr)
    summary = json.loads((out / "summary.json").read_text())
    ppo = summary["methods"][0]
    assert ppo["successes"] == 0 and sorted(ppo["diverged_seeds"]) == [0, 1]


@pytest.mark.parametrize("env, phrase", [("RewardOfShapeOne", "of shape (1,)"), ("RewardNone", "type NoneType"),
                                         ("RewardString", "type str")])
def test_a_reward_that_is_not_a_number_is_named(tmp_path, env, phrase):
    done = _rlcheck("check", f"user_envs:{env}", *SMALL, "--out", str(tmp_path / "o"))
    assert done.returncode == 3
    _no_traceback(done.stderr)
    assert phrase in done.stderr and "returns one number per step" in done.stderr


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_stops_the_study_at_once_and_resume_finishes_it(tmp_path, sig, code):
    out = tmp_path / "out"
    args = ["check", "user_envs:SlowSteps", "--methods", "cem,ppo", "--threshold", "2", "--seeds", "2", "--budget",
            "2048", "--num-evals", "4", "--eval-episodes", "2", "--no-audit", "--tune", "0", "--quiet", "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.Popen([sys.executable, "-m", "rlcheck.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 600  # a loaded CI machine (two test workers) compiles slowly
    while not (out / "checkpoints").is_dir() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # until mid-job, the Python env stepping
    time.sleep(1.0)
    assert proc.poll() is None, f"the study ended (exit {proc.returncode}) before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert time.monotonic() - sent < 30  # at once: not the rest of the job
    _no_traceback(err)
    assert "resume with the same command and --resume" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(r.get("status") == "failed" for r in manifest["jobs"].values())  # an interrupt is not a failure
    done = _rlcheck(*args, "--resume")
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)


@pytest.mark.slow  # 150 s; tests/test_python_env.py checks the same snapshot in-process, benchmarks/chaos.py at scale
def test_a_python_env_killed_mid_job_resumes_its_episodes_exactly(tmp_path):
    """SIGKILL after a checkpoint of a host-loop PPO job, then --resume: the copies saved with the checkpoint
    continue their episodes, so the traces equal an uninterrupted run's (with fresh copies they would not)."""
    import pandas as pd

    args = ["check", "user_envs:slow_cartpole", "--methods", "ppo", "--threshold", "475", "--seeds", "2", "--budget",
            "4096", "--num-evals", "4", "--eval-episodes", "2", "--no-audit", "--tune", "0", "--quiet"]
    whole = _rlcheck(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "cut"
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.Popen([sys.executable, "-m", "rlcheck.cli", *args, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not list((out / "checkpoints").glob("*.npz")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not (out / "traces.parquet").exists(), "the job finished before the kill: nothing was resumed"
    resumed = _rlcheck(*args, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a, b = pd.read_parquet(tmp_path / "whole" / "traces.parquet"), pd.read_parquet(out / "traces.parquet")
    assert {"eval_return", "train_return"} <= set(a["metric"])  # training returns: the episodes themselves
    pd.testing.assert_frame_equal(a, b)
