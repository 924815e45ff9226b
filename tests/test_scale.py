"""Scaling out: a study on a real local Ray cluster (two workers, a worker killed mid-job) gives the
local executor's store; seed blocks sharded over two (forced CPU) devices give the one-device results."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_faults import _cli, assert_same_store

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

# two jobs of a method that checkpoints after each of many chunks, two of a quick one
STUDY = {"env": "CartPole-v1", "methods": {"ppo": {}, "cem": {}}, "seeds": 2, "seed_block": 1, "budget": 60_000,
         "evaluation": {"checkpoints": 12, "episodes": 2}, "audit": False}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A real Ray head on loopback with two worker slots (`ray start --head`), stopped afterwards."""
    port = _free_port()
    ray_bin = Path(sys.executable).parent / "ray"
    subprocess.run([str(ray_bin), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                    "--include-dashboard=false", "--disable-usage-stats"], check=True, capture_output=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True)


def _ray_job_pids() -> list[int]:
    """Ray names a worker process after the task it runs."""
    out = subprocess.run(["pgrep", "-f", "ray::_ray_job"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow  # about 9 minutes on 2 cores: a Ray cluster, 8 jobs twice; `python -m pytest -m slow`
def test_ray_cluster_study_equals_local_even_with_a_worker_killed(tmp_path, ray_head):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY))
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    proc = subprocess.Popen(_cli("run", str(study), "--out", str(on_ray), "--quiet", "--executor", "ray",
                                 "--address", ray_head), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not list((on_ray / "checkpoints").glob("ppo-*.npz")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    pids = _ray_job_pids()
    assert pids, "no Ray worker was running a job"
    for pid in pids:  # as if their node died: Ray retries the tasks, which continue from their checkpoints
        subprocess.run(["kill", "-9", str(pid)])
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    subprocess.run(_cli("run", str(study), "--out", str(local), "--quiet"), check=True, capture_output=True)
    assert_same_store(on_ray, local)
    manifest = json.loads((on_ray / "manifest.json").read_text())
    assert manifest["executor"] == "ray"
    assert any(job.get("resumed_from_chunk", 0) >= 1 for job in manifest["jobs"].values()), manifest["jobs"]


def test_ray_executor_bad_address_is_a_clear_error(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({**STUDY, "methods": {"cem": {}}}))
    result = subprocess.run(_cli("run", str(study), "--out", str(tmp_path / "x"), "--quiet", "--executor", "ray",
                                 "--address", f"127.0.0.1:{_free_port()}"), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Could not connect to Ray" in result.stderr and "Traceback" not in result.stderr


MULTI_DEVICE = """
import json, sys
import jax, numpy as np
from rlcheck.engine.runner import run_devices, run_method
from rlcheck.envs import make_env
from rlcheck.core.budget import Budget
from rlcheck.registry import default_config, get_method
env = make_env("CartPole-v1")
method = get_method("ppo")
result = run_method(method, env, [default_config(method, env, {})], [0, 1, 2, 3], Budget(8192, 2, 2))
json.dump({"devices": len(jax.devices()), "used": len(run_devices(4)), "used_for_3": len(run_devices(3)),
           "eval": result.trace.eval_returns.tolist(), "train": np.nan_to_num(result.trace.train_returns).tolist()},
          sys.stdout)
"""


def _run_with_devices(count: int) -> dict:
    env = {"XLA_FLAGS": f"--xla_force_host_platform_device_count={count}", "JAX_PLATFORMS": "cpu",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", MULTI_DEVICE], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def test_seed_blocks_shard_over_devices_and_match_one_device():
    two, one = _run_with_devices(2), _run_with_devices(1)
    assert (two["devices"], two["used"], two["used_for_3"]) == (2, 2, 1)  # 3 runs do not split evenly over 2
    assert (one["devices"], one["used"]) == (1, 1)
    # each device compiles a batch of 2 rather than 4: equal up to float rounding, not bit for bit
    np.testing.assert_allclose(two["eval"], one["eval"], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(two["train"], one["train"], rtol=1e-4, atol=1e-3)
