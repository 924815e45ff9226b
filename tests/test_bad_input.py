"""The bad-input catalogue: every mistake across CLI flags, YAML specs, environments and stores gives one
clear paragraph and its documented exit code (README, "Exit codes"), never a traceback.

0 ok, 1 error (store, internal), 2 usage (flags, specs, hyper-parameters), 3 environment failed
preflight, 4 some jobs failed or diverged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rlcheck.cli import main
from rlcheck.store import StudyStore

SMALL = {"env": "CartPole-v1", "methods": {"cem": {}}, "seeds": 2, "budget": 16_000,
         "evaluation": {"checkpoints": 2, "episodes": 2}, "audit": False}


def _yaml(tmp: Path, content: object, name: str = "study.yaml") -> str:
    path = tmp / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return str(path)


def _finished_study(tmp: Path) -> Path:
    out = tmp / "done"
    assert main(["run", _yaml(tmp, SMALL), "--out", str(out), "--quiet"]) == 0
    return out


def _corrupt(tmp: Path, name: str, text: str) -> str:
    out = _finished_study(tmp)
    (out / name).write_text(text)
    return str(out)


@dataclass(frozen=True)
class Case:
    name: str
    code: int
    message: str  # a phrase the paragraph must contain
    argv: Callable[[Path], list[str]]
    env: tuple[tuple[str, str], ...] = ()


def out(tmp: Path) -> str:
    return str(tmp / "out")


CASES = [
    # -- CLI flags: usage (2) ------------------------------------------------------------------
    Case("no-command", 2, "the following arguments are required", lambda t: []),
    Case("unknown-command", 2, "invalid choice: 'chek'", lambda t: ["chek", "CartPole-v1"]),
    Case("check-without-out", 2, "--out", lambda t: ["check", "CartPole-v1"]),
    Case("zero-seeds", 2, "--seeds must be positive", lambda t: ["check", "CartPole-v1", "--seeds", "0", "--out", out(t)]),
    Case("words-for-seeds", 2, "--seeds must be a positive whole number", lambda t: ["check", "CartPole-v1", "--seeds", "ten", "--out", out(t)]),
    Case("fractional-budget", 2, "--budget must be a positive whole number", lambda t: ["check", "CartPole-v1", "--budget", "1.5", "--out", out(t)]),
    Case("threshold-not-a-number", 2, "--threshold must be a number", lambda t: ["check", "CartPole-v1", "--threshold", "high", "--out", out(t)]),
    Case("unknown-method", 2, "Unknown algorithm 'ppg'", lambda t: ["check", "CartPole-v1", "--methods", "ppg", "--out", out(t)]),
    Case("method-wrong-action-space", 2, "discrete action space", lambda t: ["check", "Pendulum-v1", "--methods", "dqn", "--threshold", "-150", "--out", out(t)]),
    Case("unknown-hyper-parameter", 2, "Did you mean 'learning_rate'", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1000", "--set", "learnin_rate=1e-3", "--out", out(t)]),
    Case("non-numeric-hyper-parameter", 2, "expects a float", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1000", "--set", "learning_rate=fast", "--out", out(t)]),
    Case("set-without-equals", 2, "expected key=value", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1000", "--set", "learning_rate", "--out", out(t)]),
    Case("sweep-without-vary", 2, "needs at least one --vary", lambda t: ["sweep", "CartPole-v1", "--algo", "ppo", "--out", out(t)]),
    Case("vary-unknown-parameter", 2, "Unknown hyper-parameter 'nonlinearity'", lambda t: ["sweep", "CartPole-v1", "--algo", "ppo", "--vary", "nonlinearity=tanh,relu", "--out", out(t)]),
    Case("vary-non-numeric", 2, "expects a float", lambda t: ["sweep", "CartPole-v1", "--algo", "ppo", "--vary", "learning_rate=fast,slow", "--out", out(t)]),
    Case("vary-one-value", 2, "at least two values", lambda t: ["sweep", "CartPole-v1", "--algo", "ppo", "--vary", "learning_rate=3e-4", "--out", out(t)]),
    Case("unknown-reproduction", 2, "Available: cartpole-baselines", lambda t: ["reproduce", "pendulum-seed", "--out", out(t)]),
    Case("reproduce-without-out", 2, "needs --out DIR", lambda t: ["reproduce", "pendulum-seeds"]),
    Case("unknown-executor", 2, "invalid choice: 'slurm'", lambda t: ["check", "CartPole-v1", "--executor", "slurm", "--out", out(t)]),
    Case("address-without-ray", 2, "--address applies to --executor ray", lambda t: ["run", _yaml(t, SMALL), "--address", "127.0.0.1:6379", "--out", out(t)]),
    Case("threshold-nan", 2, "expected a finite number", lambda t: ["check", "CartPole-v1", "--threshold", "nan", "--out", out(t)]),
    Case("threshold-inf", 2, "expected a finite number", lambda t: ["check", "CartPole-v1", "--threshold=-inf", "--out", out(t)]),
    Case("max-seeds-below-seeds", 2, "below the 10 seeds", lambda t: ["check", "CartPole-v1", "--until-decided", "--seeds", "10", "--max-seeds", "5", "--out", out(t)]),
    Case("max-seeds-without-until-decided", 2, "Add --until-decided", lambda t: ["check", "CartPole-v1", "--max-seeds", "40", "--out", out(t)]),
    Case("until-decided-with-sweep", 2, "one setting per method", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"cem": {"sweep": {"population": [16, 32]}}}, "until_decided": {"max_seeds": 8}}), "--out", out(t)]),
    Case("until-decided-not-a-mapping", 2, "{max_seeds: 40}", lambda t: ["run", _yaml(t, {**SMALL, "until_decided": 40}), "--out", out(t)]),
    Case("tune-one-config", 2, "'tune.configs'", lambda t: ["check", "CartPole-v1", "--tune", "1", "--out", out(t)]),
    Case("tune-nothing-tunable", 2, "has numeric hyper-parameters to search", lambda t: ["check", "CartPole-v1", "--methods", "cem,lqr", "--tune", "4", "--out", out(t)]),
    Case("tune-seeds-without-search", 2, "--tune 0 turns the search off", lambda t: ["check", "CartPole-v1", "--tune", "0", "--tune-seeds", "3", "--out", out(t)]),
    Case("tune-range-empty", 2, "it is empty: the low end (0.01) must be below", lambda t: ["check", "CartPole-v1", "--tune-range", "ppo.learning_rate=1e-2:1e-4", "--out", out(t)]),
    Case("tune-range-not-positive", 2, "a log-scale range must be positive", lambda t: ["check", "CartPole-v1", "--tune-range", "ppo.learning_rate=0:1e-2", "--out", out(t)]),
    Case("tune-range-discount", 2, "must lie in [0, 1)", lambda t: ["check", "CartPole-v1", "--tune-range", "ppo.gamma=0.9:1.2", "--out", out(t)]),
    Case("tune-range-structural", 2, "'num_envs' is not a numeric field of ppo", lambda t: ["check", "CartPole-v1", "--tune-range", "ppo.num_envs=2:8", "--out", out(t)]),
    Case("tune-range-and-set", 2, "Set a field or search it, not both", lambda t: ["check", "CartPole-v1", "--set", "ppo.ent_coef=0.01", "--tune-range", "ppo.ent_coef=1e-3:1e-1", "--out", out(t)]),
    Case("tune-range-without-search", 2, "--tune 0 turns the search off", lambda t: ["check", "CartPole-v1", "--tune", "0", "--tune-range", "ppo.ent_coef=1e-3:1e-1", "--out", out(t)]),
    Case("tune-negative", 2, "--tune must be zero or more", lambda t: ["check", "CartPole-v1", "--tune", "-2", "--out", out(t)]),
    Case("env-kwargs-on-gymnax-env", 2, "--env-kwargs applies to Gymnasium envs", lambda t: ["check", "gymnax:CartPole-v1", "--env-kwargs", "g=9.8", "--out", out(t)]),
    # -- YAML specs: usage (2) -----------------------------------------------------------------
    Case("spec-file-missing", 2, "No such file", lambda t: ["run", str(t / "nope.yaml"), "--out", out(t)]),
    Case("spec-not-yaml", 2, "not valid YAML at line", lambda t: ["run", _yaml(t, "env: CartPole-v1\nseeds: [1, 2\n"), "--out", out(t)]),
    Case("spec-not-a-mapping", 2, "must be a mapping of fields", lambda t: ["run", _yaml(t, "- CartPole-v1\n"), "--out", out(t)]),
    Case("spec-unknown-field", 2, "'seed'", lambda t: ["run", _yaml(t, {**SMALL, "seed": 3}), "--out", out(t)]),
    Case("spec-negative-budget", 2, "'budget'", lambda t: ["run", _yaml(t, {**SMALL, "budget": -5}), "--out", out(t)]),
    Case("spec-unknown-method", 2, "Unknown algorithm 'ppo2'", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo2": {}}}), "--out", out(t)]),
    Case("set-unknown-path", 2, "'budgett'", lambda t: ["run", _yaml(t, SMALL), "--set", "budgett=5", "--out", out(t)]),
    # -- environments: preflight (3) -----------------------------------------------------------
    Case("unknown-env", 3, "Did you mean 'CartPole-v1'", lambda t: ["check", "CartPol-v1", "--out", out(t)]),
    Case("env-module-missing", 3, "cannot import module 'no_such_package.envs'", lambda t: ["check", "no_such_package.envs:Maze", "--out", out(t)]),
    Case("env-class-missing", 3, "has no environment class, factory or registered id 'Maze'", lambda t: ["check", "user_envs:Maze", "--out", out(t)]),
    Case("env-raises-in-step", 3, "failed preflight", lambda t: ["check", "user_envs:RaisesInStep", "--out", out(t)]),
    Case("env-wrong-observation-shape", 3, "failed preflight", lambda t: ["check", "user_envs:WrongObservationShape", "--out", out(t)]),
    Case("env-old-step-api", 3, "returns 5", lambda t: ["check", "user_envs:OldStepApi", "--out", out(t)]),
    Case("env-bad-kwargs", 3, "Check --env-kwargs", lambda t: ["check", "CartPole-v1", "--env-kwargs", "g=9.8", "--out", out(t)]),
    Case("unknown-trap", 3, "The trap environments are", lambda t: ["check", "trap/pit", "--out", out(t)]),
    Case("lint-unknown-env", 3, "Unknown environment", lambda t: ["lint", "Pendulm-v1"]),
    # -- stores: error (1) ---------------------------------------------------------------------
    Case("report-on-empty-dir", 1, "holds no study", lambda t: ["report", str(t)]),
    Case("seeds-pilot-not-a-study", 1, "holds no study", lambda t: ["seeds", "--pilot", str(t), "--effect", "10"]),
    Case("seeds-zero-effect", 2, "finite, non-zero", lambda t: ["seeds", "--pilot", str(t), "--effect", "0"]),
    Case("seeds-nan-effect", 2, "finite, non-zero", lambda t: ["seeds", "--pilot", str(t), "--effect", "nan"]),
    Case("seeds-power-out-of-range", 2, "strictly between 0 and 1", lambda t: ["seeds", "--pilot", str(t), "--effect", "5",
                                                                            "--power", "1.5"]),
    Case("out-is-a-file", 1, "is a file, not a directory", lambda t: ["run", _yaml(t, SMALL), "--out", _yaml(t, "x", "file.txt")]),
    Case("store-exists-without-resume", 1, "Pass --resume", lambda t: ["run", _yaml(t, SMALL), "--out", str(_finished_study(t))]),
    Case("resume-with-another-spec", 1, "different spec (budget: 16000 -> 24000)", lambda t: ["run", _yaml(t, {**SMALL, "budget": 24_000}, "other.yaml"), "--out", str(_finished_study(t)), "--resume"]),
    Case("corrupt-manifest", 1, "manifest.json cannot be read", lambda t: ["report", _corrupt(t, "manifest.json", "{not json")]),
    Case("corrupt-traces", 1, "traces.parquet cannot be read", lambda t: ["report", _corrupt(t, "traces.parquet", "PAR1 torn")]),
    # -- jobs: some failed or diverged (4), results kept ---------------------------------------
    Case("a-job-fails", 4, "memory cap", lambda t: ["check", "Pendulum-v1", "--methods", "sac", "--threshold", "-150", "--seeds", "2", "--budget", "2000", "--no-audit", "--num-evals", "2", "--out", out(t), "--quiet"],
         env=(("RLCHECK_MEMORY_CAP_GB", "1e-6"),)),
    Case("seeds-diverge", 4, "diverged", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "2048", "--seeds", "2", "--set", "learning_rate=1e30", "--num-evals", "2", "--eval-episodes", "2", "--out", out(t), "--quiet"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_catalogue(case: Case, tmp_path, capsys, monkeypatch):
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    argv = case.argv(tmp_path)
    capsys.readouterr()  # only what this command prints
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == case.code, text
    assert case.message in text, text
    assert "Traceback" not in text


def test_catalogue_covers_every_kind_of_input():
    assert len(CASES) >= 30
    assert {c.code for c in CASES} == {1, 2, 3, 4}


def test_locked_store_is_refused(tmp_path, capsys):
    with StudyStore(tmp_path / "busy").lock():
        assert main(["run", _yaml(tmp_path, SMALL), "--out", str(tmp_path / "busy"), "--quiet"]) == 1
    assert "Another rlcheck process is writing to" in capsys.readouterr().err


def test_unexpected_errors_are_one_paragraph(tmp_path, capsys, monkeypatch):
    import rlcheck.study.run

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(rlcheck.study.run, "_run_locked", broken)
    assert main(["run", _yaml(tmp_path, SMALL), "--out", str(tmp_path / "x"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "unexpected ZeroDivisionError: a bug" in err and "RLCHECK_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("RLCHECK_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["run", _yaml(tmp_path, SMALL), "--out", str(tmp_path / "y"), "--quiet"])


def test_a_successful_study_exits_zero_and_keeps_results(tmp_path):
    out = _finished_study(tmp_path)
    assert json.loads((out / "summary.json").read_text())["failed_jobs"] == []
