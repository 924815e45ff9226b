"""The study engine: spec validation, plan, store and report, resume after SIGKILL, divergence and
failed jobs isolated."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from rlcheck import api
from rlcheck.cli import main
from rlcheck.core.errors import RLCheckError
from rlcheck.study.spec import apply_sets, build

SMALL = {"env": "CartPole-v1", "methods": ["ppo"], "seeds": 3, "budget": 8192, "evaluation": {"checkpoints": 4, "episodes": 3}}


def test_spec_defaults_from_env_and_applicable_methods():
    spec = build({"env": "CartPole-v1"})
    assert spec.threshold == 475.0 and spec.budget == 500_000 and len(spec.seeds) == 10
    assert [m.name for m in spec.methods] == ["ppo", "dqn", "ars", "cem", "cmaes", "lqr", "mpc", "mcts"]  # continuous-only RL left out
    assert {m.name for m in build({"env": "Pendulum-v1", "threshold": -200}).methods} == {"ppo", "sac", "td3", "ddpg", "naf", "ars", "cem", "cmaes", "lqr", "mpc"}


@pytest.mark.parametrize("raw, field", [
    ({**SMALL, "seeds": 0}, "seeds"),
    ({**SMALL, "budget": -5}, "budget"),
    ({**SMALL, "budget": "lots"}, "budget"),
    ({**SMALL, "threshold": "high"}, "threshold"),
    ({**SMALL, "methods": ["ppo", "a2c"]}, "a2c"),
    ({**SMALL, "budgte": 100}, "budget"),  # typo: suggests the right field
    ({**SMALL, "methods": {"ppo": {"learning_rat": 1e-3}}}, "learning_rate"),
    ({**SMALL, "methods": {"ppo": {"learning_rate": "fast"}}}, "learning_rate"),
    ({**SMALL, "methods": {"dqn": {"sweep": {"learning_rate": 3e-4}}}}, "methods.dqn.sweep"),
    ({**SMALL, "evaluation": {"episode": 3}}, "evaluation.episode"),
    ({"env": "Pendulum-v1", "threshold": -200, "methods": ["dqn"]}, "discrete"),
    ({"env": "Pendulum-v1"}, "no known reward threshold"),
    ({"env": "Pendulum-v1", "threshold": -200, "methods": ["ppo"], "budget": 1000}, "less than one ppo iteration"),
    ({"env": "CartPole-v2"}, "CartPole-v1"),
])
def test_bad_spec_names_the_field(raw, field):
    with pytest.raises(RLCheckError, match=field):
        build(raw)


def test_yaml_and_set_overrides(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "methods": {"ppo": {"learning_rate": 1e-3}}}))
    from rlcheck.study.spec import load_yaml

    spec = build(apply_sets(load_yaml(path), [("budget", "4096"), ("methods.ppo.learning_rate", "3e-4"), ("threshold", "100")]))
    assert spec.budget == 4096 and spec.threshold == 100.0
    assert spec.methods[0].overrides == {"learning_rate": 3e-4}
    bad = tmp_path / "bad.yaml"
    bad.write_text("env: CartPole-v1\nseeds: [1, 2\n")
    with pytest.raises(RLCheckError, match="not valid YAML at line"):
        load_yaml(bad)


def test_plan_prints_jobs_and_cost(capsys):
    assert main(["plan", "CartPole-v1", "--seeds", "4", "--budget", "20000"]) == 0
    out = capsys.readouterr().out
    assert "ppo-0" in out and "dqn-0" in out and "80,000" in out and "rough" in out
    assert main(["plan", "CartPole-v1", "--seeds", "4", "--budget", "10000"]) == 0  # DQN would never update: skipped
    out = capsys.readouterr().out
    assert "dqn-0" not in out and "Skipped dqn" in out and "learning_starts" in out


def test_cli_bad_input_exits_nonzero(capsys, tmp_path):
    assert main(["check", "CartPole-v1", "--methods", "ppo,nope", "--out", str(tmp_path / "x")]) == 2
    assert "Unknown algorithm 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["check", "CartPole-v1", "--threshold", "abc", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["check", "CartPole-v1", "--seeds", "0", "--out", str(tmp_path / "x")])
    assert e.value.code == 2


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    summary = api.check("CartPole-v1", out, seeds=3, budget=8192, methods="ppo", threshold=20.0, num_evals=4, eval_episodes=3)
    return out, summary


def test_study_store_summary_and_report(small_study):
    out, summary = small_study
    for name in ("manifest.json", "traces.parquet", "summary.json", "report.html", "report.md", "report_files/curves.svg"):
        assert (out / name).exists(), name
    table = pq.read_table(out / "traces.parquet")
    assert table.column_names == ["method", "config_id", "seed", "env_steps", "model_calls", "metric", "value"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["libraries"]["jax"] and manifest["machine"]["cpu_count"] and manifest["fingerprint"]
    stored = json.loads((out / "summary.json").read_text())["methods"][0]
    assert set(stored["success_rate"]) == {"value", "low", "high", "approximate"}
    assert set(stored["final_return"]) == {"iqm", "median", "mean"}
    assert set(stored["steps_to_threshold"]) == {"median", "low", "high", "after", "low_after"}
    assert "cvar25" in stored
    m = summary.methods[0]
    assert len(m.seeds) == 3 and summary.threshold == 20.0 and m.diverged_seeds == ()
    shown = [m.final_return[k] for k in ("iqm", "median", "mean")] + [m.cvar25]
    assert all(i.approximate for i in shown if i.low is not None)  # 3 seeds: below 90% coverage (coverage.py)
    assert not m.success_rate.approximate
    assert summary.verdict.label and summary.verdict.text
    k = sum(s.solved for s in m.seeds)
    assert m.success_rate.value == pytest.approx(k / 3)
    html = (out / "report.html").read_text()
    reached = any(s.first_reached is not None for s in m.seeds)  # else words replace the steps-to-threshold plot
    assert "Verdict" in html and html.count("<svg") == (3 if reached else 2) and ('id="no-survival"' in html) != reached
    for text in (html, (out / "report.md").read_text()):
        assert not re.search(r"\bnan\b|\binf\b", text, re.IGNORECASE)  # a missing number is a dash
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(https?:|<script""", html)  # self-contained, no network
    assert json.loads((out / "summary.json").read_text())["verdict"] == summary.to_json()["verdict"]


def test_report_rebuilds_from_the_store(small_study, capsys):
    out, summary = small_study
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").exists() and "Verdict" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["methods"][0]["seeds"] == summary.to_json()["methods"][0]["seeds"]


def test_seeds_needed_from_a_pilot(small_study, capsys):
    out, _ = small_study
    assert main(["seeds", "--pilot", str(out), "--effect", "50"]) == 0
    assert "seeds each" in capsys.readouterr().out


def test_existing_store_needs_resume_and_same_spec(small_study):
    out, _ = small_study
    with pytest.raises(RLCheckError, match="--resume"):
        api.check("CartPole-v1", out, seeds=3, budget=8192, methods="ppo", threshold=20.0, num_evals=4, eval_episodes=3)
    with pytest.raises(RLCheckError, match=r"different spec \(budget: 8192 -> 4096"):
        api.check("CartPole-v1", out, seeds=3, budget=4096, methods="ppo", threshold=20.0, num_evals=4, eval_episodes=3,
                  resume=True)


def test_diverged_seeds_are_marked_and_others_go_on(tmp_path):
    raw = {**SMALL, "methods": {"ppo": {"sweep": {"learning_rate": [3e-4, 1e30]}}}}
    from rlcheck.study.run import run_study

    summary = run_study(build(raw), tmp_path, report=False)
    healthy, exploded = summary.methods
    assert healthy.diverged_seeds == () and all(s.final_return is not None for s in healthy.seeds)
    assert exploded.diverged_seeds == (0, 1, 2) and exploded.successes == 0
    assert "diverged" in exploded.verdict_text
    worst = min(healthy.finals)  # diverged seeds count at the study's worst final return, not dropped
    assert exploded.diverged_as == worst and exploded.scored_finals == [worst] * 3
    assert exploded.final_return["mean"].value == pytest.approx(worst) and f"({worst:.1f})" in exploded.verdict_text


def test_failed_job_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.setenv("RLCHECK_MEMORY_CAP_GB", "1e-6")  # SAC's replay buffer cannot fit: its job fails
    summary = api.check("Pendulum-v1", tmp_path, seeds=2, budget=8192, threshold=-200, methods="ppo,sac", num_evals=2, eval_episodes=2)
    assert [f["method"] for f in summary.failed_jobs] == ["sac"] and "memory cap" in summary.failed_jobs[0]["error"]
    assert [m.name for m in summary.methods] == ["ppo"]


def _cli(*args):
    return [sys.executable, "-m", "rlcheck.cli", *args]


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({**SMALL, "seeds": 2, "budget": 200_000, "evaluation": {"checkpoints": 40, "episodes": 2}}))
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen(_cli("run", str(study), "--out", str(killed), "--quiet"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoint = killed / "checkpoints" / "ppo-0.npz"
    deadline = time.time() + 300
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # a few chunks in
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "traces.parquet").exists(), "the study finished before it could be killed"
    assert checkpoint.exists()
    subprocess.run(_cli("run", str(study), "--out", str(killed), "--quiet", "--resume"), check=True, capture_output=True)
    subprocess.run(_cli("run", str(study), "--out", str(clean), "--quiet"), check=True, capture_output=True)
    resumed_table, clean_table = pq.read_table(killed / "traces.parquet"), pq.read_table(clean / "traces.parquet")
    assert resumed_table.num_rows == clean_table.num_rows
    for column in ("seed", "env_steps", "metric"):
        assert resumed_table[column].to_pylist() == clean_table[column].to_pylist()
    np.testing.assert_array_equal(resumed_table["value"].to_numpy(), clean_table["value"].to_numpy())
    assert not any((killed / "checkpoints").iterdir())
    assert os.path.exists(killed / "report.html")


def test_until_decided_adds_seed_blocks_and_resumes(tmp_path, capsys):
    """LQR solves CartPole on every seed, but 3/3 and 6/6 cannot show a rate above 70%: --until-decided
    adds blocks of 3 seeds until 9/9 decides it, says why it stopped, and a resume adds nothing."""
    argv = ["check", "CartPole-v1", "--methods", "lqr", "--seeds", "3", "--until-decided", "--max-seeds", "9",
            "--budget", "2000", "--num-evals", "2", "--eval-episodes", "2", "--no-audit", "--quiet", "--out",
            str(tmp_path / "s")]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert {k: v["seeds"] for k, v in manifest["jobs"].items()} == {"lqr-0": [0, 1, 2], "lqr-more1": [3, 4, 5],
                                                                    "lqr-more2": [6, 7, 8]}
    lqr = summary["methods"][0]
    assert [s["seed"] for s in lqr["seeds"]] == list(range(9)) and lqr["label"] == "reliable"
    assert summary["sequential"]["looks"] == [3, 6, 9]
    assert summary["sequential"]["methods"][0]["stopped"] == "decided after 9 seeds"
    assert "decided after 9 seeds" in summary["verdict"]["text"] and "looked at after 3, 6, 9 seeds" in summary["verdict"]["text"]
    before = (tmp_path / "s" / "traces.parquet").read_bytes()
    assert main([*argv, "--resume"]) == 0
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["jobs"].keys() == manifest["jobs"].keys()
    assert pq.read_table(tmp_path / "s" / "traces.parquet").num_rows == pq.read_table(io.BytesIO(before)).num_rows
