"""Open report.html in headless Chromium: no console errors, the plots are in the rendered DOM, and
a screenshot is saved as an artifact (tests/artifacts/report.png). Skipped, saying why, where
Chromium is not installed (.ci/run installs Debian's `chromium` when it can)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rlcheck import api

ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _find() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed here if missing and we may (root with apt-get); else a skip that says why."""
    if _find() is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=600, env=env)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, timeout=900, env=env)
        except subprocess.TimeoutExpired:
            pass
    path = _find()
    if path is None:
        pytest.skip("Chromium is not installed and could not be installed here (needs root and apt-get: "
                    "`apt-get install chromium`); report.html was NOT checked in a browser")
    return path


def test_report_renders_in_headless_chromium(tmp_path, chromium):
    out = tmp_path / "study"
    api.check("CartPole-v1", out, seeds=3, budget=8192, methods="ppo", threshold=20.0, num_evals=3, eval_episodes=2)
    url = (out / "report.html").resolve().as_uri()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([chromium, *FLAGS, *profile, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console == [], console
    assert dom.stdout.count("<svg") == 3 and 'id="verdict"' in dom.stdout and "plot-survival" in dom.stdout
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([chromium, *FLAGS, *profile, "--window-size=1100,2400", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000
    (ARTIFACTS / "report-summary.json").write_text(json.dumps(json.loads((out / "summary.json").read_text())["verdict"]))
