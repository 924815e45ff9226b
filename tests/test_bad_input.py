"""The bad-input catalogue: every mistake across CLI flags, YAML specs, environments and stores gives one
clear paragraph and its documented exit code (README, "Exit codes"), never a traceback.

0 ok, 1 error (store, internal), 2 usage (flags, specs, hyper-parameters), 3 environment failed
preflight, 4 some jobs failed or diverged."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rlcheck.cli import main
from rlcheck.store import StudyStore

SMALL = {"env": "CartPole-v1", "methods": {"cem": {}}, "seeds": 2, "budget": 16_000,
         "evaluation": {"checkpoints": 2, "episodes": 2}, "audit": False}


CART = "CartPole-v1"


def _yaml(tmp: Path, content: object, name: str = "study.yaml") -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return str(path)


def _mine(tmp: Path) -> str:
    """An --out directory holding the user's own file."""
    (tmp / "out").mkdir()
    (tmp / "out" / "notes.txt").write_text("mine")
    return str(tmp / "out")


def _users_report(tmp: Path) -> str:
    (tmp / "out").mkdir()
    (tmp / "out" / "report.html").write_text("<p>my own report</p>")
    (tmp / "out" / "summary.json").write_text("{}")
    return str(tmp / "out")


def _without(tmp: Path, name: str) -> str:
    out = _finished_study(tmp)
    (out / name).unlink()
    return str(out)


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
    Case("time-not-a-duration", 2, "--time 'soon' is not a duration", lambda t: ["check", "CartPole-v1", "--time", "soon", "--out", out(t)]),
    Case("time-cannot-fit", 2, "The study cannot fit in --time 1 s", lambda t: ["plan", "CartPole-v1", "--methods", "ppo", "--time", "1s"],
         env=(("RLCHECK_MACHINE_SPEED", "1"),)),
    Case("machine-speed", 2, "RLCHECK_MACHINE_SPEED is '-1'", lambda t: ["plan", "CartPole-v1", "--methods", "ppo"],
         env=(("RLCHECK_MACHINE_SPEED", "-1"),)),
    Case("spec-time-field", 2, "Leave this field to --time", lambda t: ["run", _yaml(t, {**SMALL, "time": 5}), "--out", out(t)]),
    Case("compile-cache-size", 2, "RLCHECK_COMPILE_CACHE_GB is 'lots'", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1024", "--out", out(t)],
         env=(("RLCHECK_COMPILE_CACHE_GB", "lots"),)),
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
    # -- more flags, specs, environments and stores (issue 21's catalogue) ----------------------
    Case("budget-zero", 2, 'argument --budget: --budget must be positive, got 0. Run', lambda t: ["check", CART, "--budget", "0", "--out", out(t)]),
    Case("seeds-negative", 2, 'argument --seeds: --seeds must be positive, got -3. Run', lambda t: ["check", CART, "--seeds", "-3", "--out", out(t)]),
    Case("num-evals-zero", 2, 'argument --num-evals: --num-evals must be positive, got 0.', lambda t: ["check", CART, "--num-evals", "0", "--out", out(t)]),
    Case("eval-episodes-zero", 2, 'argument --eval-episodes: --eval-episodes must be positive,', lambda t: ["check", CART, "--eval-episodes", "0", "--out", out(t)]),
    Case("num-evals-above-iterations", 2, "Study field 'evaluation.checkpoints': 50 checkpoints, but", lambda t: ["check", CART, "--methods", "ppo", "--budget", "4096", "--num-evals", "50", "--out", out(t)]),
    Case("methods-empty", 2, "Study field 'methods': expected a list of names or a", lambda t: ["check", CART, "--methods", "", "--out", out(t)]),
    Case("methods-duplicate", 2, "Study field 'methods': ppo named more than once. Name each", lambda t: ["check", CART, "--methods", "ppo,ppo", "--out", out(t)]),
    Case("check-set-without-method", 2, '--set learning_rate=1e-3: a study of several methods needs', lambda t: ["check", CART, "--set", "learning_rate=1e-3", "--out", out(t)]),
    Case("check-set-unknown-method", 2, "Unknown algorithm 'ppg'. Did you mean 'ppo'? Available:", lambda t: ["check", CART, "--set", "ppg.learning_rate=1e-3", "--out", out(t)]),
    Case("set-negative-learning-rate", 2, "Study field 'methods.ppo': Hyper-parameter 'learning_rate'", lambda t: ["check", CART, "--methods", "ppo", "--set", "ppo.learning_rate=-1", "--out", out(t)]),
    Case("set-nan-learning-rate", 2, "Study field 'methods.ppo': Hyper-parameter 'learning_rate'", lambda t: ["check", CART, "--methods", "ppo", "--set", "ppo.learning_rate=nan", "--out", out(t)]),
    Case("set-discount-above-one", 2, "Study field 'methods.ppo': Hyper-parameter 'gamma' of", lambda t: ["check", CART, "--methods", "ppo", "--set", "ppo.gamma=5", "--out", out(t)]),
    Case("set-zero-width", 2, "Study field 'methods.ppo': Hyper-parameter 'hidden_sizes'", lambda t: ["check", CART, "--methods", "ppo", "--set", "ppo.hidden_sizes=[0]", "--out", out(t)]),
    Case("set-zero-population", 2, "Study field 'methods.cem': Hyper-parameter 'population' of", lambda t: ["check", CART, "--methods", "cem", "--set", "cem.population=0", "--out", out(t)]),
    Case("set-unparsable-list", 2, '--set methods.ppo.hidden_sizes=[64,: the value cannot be', lambda t: ["check", CART, "--methods", "ppo", "--set", "ppo.hidden_sizes=[64,", "--out", out(t)]),
    Case("set-for-a-method-not-run", 2, "--set ppo.learning_rate=1e-3: ppo is not among this study's", lambda t: ["check", CART, "--methods", "cem", "--set", "ppo.learning_rate=1e-3", "--out", out(t)]),
    Case("step-timeout-negative", 2, 'argument --step-timeout: --step-timeout must be a number of', lambda t: ["check", CART, "--step-timeout", "-1", "--out", out(t)]),
    Case("step-timeout-words", 2, 'argument --step-timeout: --step-timeout must be a number of', lambda t: ["check", CART, "--step-timeout", "soon", "--out", out(t)]),
    Case("wrap-unknown", 3, "Wrapper 'NoSuchWrapper': gymnasium.wrappers has no wrapper", lambda t: ["check", CART, "--wrap", "NoSuchWrapper", "--out", out(t)]),
    Case("wrap-bad-kwargs", 2, "--wrap TimeLimit:max_steps=5: on the JAX env 'CartPole-v1',", lambda t: ["check", CART, "--wrap", "TimeLimit:max_steps=5", "--out", out(t)]),
    Case("import-missing", 3, '--import no_such_pkg_xyz: the package cannot be imported', lambda t: ["check", CART, "--import", "no_such_pkg_xyz", "--out", out(t)]),
    Case("export-unknown-sink", 2, 'argument --export: unknown export neptune; choose from', lambda t: ["check", CART, "--export", "neptune", "--out", out(t)]),
    Case("job-cpus-without-ray", 2, '--job-cpus applies to --executor ray (the resources of each', lambda t: ["check", CART, "--job-cpus", "2", "--out", out(t)]),
    Case("job-cpus-zero", 2, '--job-cpus must be positive and --job-gpus at least 0, got', lambda t: ["check", CART, "--executor", "ray", "--job-cpus", "0", "--out", out(t)]),
    Case("train-seed-start-negative", 2, "Study field 'seeds': must be at least 0, got -1. Give a", lambda t: ["train", "--env", CART, "--algo", "ppo", "--steps", "1000", "--seed-start", "-1", "--out", out(t)]),
    Case("train-unknown-algo", 2, "Unknown algorithm 'ppg'. Did you mean 'ppo'? Available:", lambda t: ["train", "--env", CART, "--algo", "ppg", "--steps", "1000", "--out", out(t)]),
    Case("train-without-env", 2, 'the following arguments are required: --env. Run `rlcheck', lambda t: ["train", "--algo", "ppo", "--steps", "1000", "--out", out(t)]),
    Case("train-steps-zero", 2, 'argument --steps: --steps must be positive, got 0. Run', lambda t: ["train", "--env", CART, "--algo", "ppo", "--steps", "0", "--out", out(t)]),
    Case("train-sweep-non-numeric", 2, "Hyper-parameter 'learning_rate' expects a float, got 'a'.", lambda t: ["train", "--env", CART, "--algo", "ppo", "--steps", "1000", "--sweep", "learning_rate=a,b", "--out", out(t)]),
    Case("train-sweep-structural", 2, "'num_envs' is structural (it changes array shapes or the", lambda t: ["train", "--env", CART, "--algo", "ppo", "--steps", "1000", "--sweep", "num_envs=2,4", "--out", out(t)]),
    Case("train-sweep-without-equals", 2, "argument --sweep: expected key=value, got 'learning_rate'", lambda t: ["train", "--env", CART, "--algo", "ppo", "--steps", "1000", "--sweep", "learning_rate", "--out", out(t)]),
    Case("train-continuous-algo-discrete-env", 2, "Study field 'methods.sac': SAC needs continuous (Box)", lambda t: ["train", "--env", CART, "--algo", "sac", "--steps", "1000", "--out", out(t)]),
    Case("lint-zero-episodes", 2, 'argument --episodes: --episodes must be positive, got 0.', lambda t: ["lint", CART, "--episodes", "0"]),
    Case("lint-negative-max-seconds", 2, 'argument --max-seconds: --max-seconds must be a positive', lambda t: ["lint", CART, "--max-seconds", "-1"]),
    Case("seeds-alpha-out-of-range", 2, '--alpha 2 is not usable: the effect must be a finite,', lambda t: ["seeds", "--pilot", str(t), "--effect", "5", "--alpha", "2"]),
    Case("seeds-effect-words", 2, "argument --effect: --effect must be a number, got 'big'", lambda t: ["seeds", "--pilot", str(t), "--effect", "big"]),
    Case("seeds-without-pilot", 2, 'the following arguments are required: --pilot. Run `rlcheck', lambda t: ["seeds", "--effect", "5"]),
    Case("export-unknown-sink-cmd", 2, 'argument --to: unknown export neptune; choose from', lambda t: ["export", str(t), "--to", "neptune"]),
    Case("export-empty-dir", 1, 'holds no finished study (no manifest.json or', lambda t: ["export", str(t), "--to", "tensorboard"]),
    Case("report-missing-dir", 1, 'holds no study (no manifest.json). Point at a directory', lambda t: ["report", str(t / "nope")]),
    Case("report-on-a-file", 1, 'holds no study (no manifest.json). Point at a directory', lambda t: ["report", _yaml(t, "x", "file.txt")]),
    Case("tune-range-without-equals", 2, 'argument --tune-range: expected key=value, got', lambda t: ["check", CART, "--tune-range", "ppo.learning_rate", "--out", out(t)]),
    Case("tune-range-words", 2, "Study field 'tune.ranges.ppo.learning_rate': expected", lambda t: ["check", CART, "--tune-range", "ppo.learning_rate=a:b", "--out", out(t)]),
    Case("tune-range-unknown-method", 2, "Study field 'tune.ranges.ppg.learning_rate': expected", lambda t: ["check", CART, "--tune-range", "ppg.learning_rate=1e-4:1e-2", "--out", out(t)]),
    Case("tune-range-bad-scale", 2, "Study field 'tune.ranges.ppo.learning_rate': the range", lambda t: ["check", CART, "--tune-range", "ppo.learning_rate=1e-4:1e-2:cubic", "--out", out(t)]),
    Case("env-kwargs-without-equals", 2, "argument --env-kwargs: expected key=value, got 'gravity'", lambda t: ["check", CART, "--env-kwargs", "gravity", "--out", out(t)]),
    Case("env-kwargs-unparsable", 2, '--env-kwargs a=[: the value cannot be read (expected the', lambda t: ["check", CART, "--env-kwargs", "a=[", "--out", out(t)]),
    Case("descriptors-without-colon", 2, "Study field 'descriptors': expected 'module:function', got", lambda t: ["check", CART, "--descriptors", "nocolon", "--out", out(t)]),
    Case("plan-study-with-methods", 2, '--methods plans a study of an env; a study file says that', lambda t: ["plan", _yaml(t, SMALL), "--methods", "ppo"]),
    Case("plan-study-with-reference-settings", 2, '--reference-settings plans a study of an env; a study file says',
         lambda t: ["plan", _yaml(t, SMALL), "--reference-settings"]),
    Case("plan-study-with-wrap", 2, '--wrap plans a study of an env; a study file says that itself',
         lambda t: ["plan", _yaml(t, SMALL), "--wrap", "FlattenObservation"]),
    Case("plan-zero-seeds", 2, 'argument --seeds: --seeds must be positive, got 0. Run', lambda t: ["plan", CART, "--seeds", "0"]),
    Case("sweep-set-and-vary-clash", 2, 'learning_rate is both fixed with --set and varied with', lambda t: ["sweep", CART, "--algo", "ppo", "--set", "learning_rate=1e-3", "--vary", "learning_rate=1e-3,1e-4", "--out", out(t)]),
    Case("sweep-vary-twice", 2, '--vary learning_rate=1e-2,1e-5: give each factor once, with', lambda t: ["sweep", CART, "--algo", "ppo", "--vary", "learning_rate=1e-3,1e-4", "--vary", "learning_rate=1e-2,1e-5", "--out", out(t)]),
    Case("envs-extra-arg", 2, 'unrecognized arguments: CartPole. Run `rlcheck --help` for', lambda t: ["envs", "CartPole"]),
    Case("spec-seed-too-large", 2, "Study field 'seeds': must be at most 4,294,967,295, got", lambda t: ["run", _yaml(t, {**SMALL, "seeds": [2**32]}), "--out", out(t)]),
    Case("spec-seeds-duplicate", 2, "Study field 'seeds': expected a non-empty list of distinct", lambda t: ["run", _yaml(t, {**SMALL, "seeds": [1, 1]}), "--out", out(t)]),
    Case("spec-seeds-empty-list", 2, "Study field 'seeds': expected a non-empty list of distinct", lambda t: ["run", _yaml(t, {**SMALL, "seeds": []}), "--out", out(t)]),
    Case("spec-seeds-words", 2, "Study field 'seeds': expected a whole number, got 'ten'.", lambda t: ["run", _yaml(t, {**SMALL, "seeds": "ten"}), "--out", out(t)]),
    Case("spec-seeds-negative-in-list", 2, "Study field 'seeds': must be at least 0, got -1. Give a", lambda t: ["run", _yaml(t, {**SMALL, "seeds": [0, -1]}), "--out", out(t)]),
    Case("spec-budget-fraction", 2, "Study field 'budget': expected a whole number, got 1.5.", lambda t: ["run", _yaml(t, {**SMALL, "budget": 1.5}), "--out", out(t)]),
    Case("spec-budget-bool", 2, "Study field 'budget': expected a whole number, got True.", lambda t: ["run", _yaml(t, {**SMALL, "budget": True}), "--out", out(t)]),
    Case("spec-threshold-words", 2, "Study field 'threshold': expected a number, got 'high'.", lambda t: ["run", _yaml(t, {**SMALL, "threshold": "high"}), "--out", out(t)]),
    Case("spec-threshold-inf", 2, "Study field 'threshold': expected a finite number, got inf:", lambda t: ["run", _yaml(t, "env: CartPole-v1\nthreshold: .inf\nmethods: {cem: {}}\n"), "--out", out(t)]),
    Case("spec-evaluation-not-mapping", 2, "Study field 'evaluation': expected a mapping, got 5. Write", lambda t: ["run", _yaml(t, {**SMALL, "evaluation": 5}), "--out", out(t)]),
    Case("spec-evaluation-unknown-field", 2, "Study field 'evaluation.checkpoint': unknown field. Valid:", lambda t: ["run", _yaml(t, {**SMALL, "evaluation": {"checkpoint": 2}}), "--out", out(t)]),
    Case("spec-checkpoints-zero", 2, "Study field 'evaluation.checkpoints': must be at least 1,", lambda t: ["run", _yaml(t, {**SMALL, "evaluation": {"checkpoints": 0}}), "--out", out(t)]),
    Case("spec-episodes-negative", 2, "Study field 'evaluation.episodes': must be at least 1, got", lambda t: ["run", _yaml(t, {**SMALL, "evaluation": {"episodes": -1}}), "--out", out(t)]),
    Case("spec-checkpoints-above-iterations", 2, "Study field 'evaluation.checkpoints': 100,000 checkpoints,", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {}}, "budget": 4096, "evaluation": {"checkpoints": 100000}}), "--out", out(t)]),
    Case("spec-method-settings-not-mapping", 2, "Study field 'methods.ppo': expected a mapping of", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": 5}}), "--out", out(t)]),
    Case("spec-methods-empty", 2, "Study field 'methods': expected a list of names or a", lambda t: ["run", _yaml(t, {**SMALL, "methods": {}}), "--out", out(t)]),
    Case("spec-negative-learning-rate", 2, "Study field 'methods.ppo': Hyper-parameter 'learning_rate'", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {"learning_rate": -1}}}), "--out", out(t)]),
    Case("spec-discount-above-one", 2, "Study field 'methods.ppo': Hyper-parameter 'gamma' of", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {"gamma": 5}}}), "--out", out(t)]),
    Case("spec-sweep-not-a-list", 2, "Study field 'methods.ppo.sweep': expected key -> non-empty", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {"sweep": {"learning_rate": 1e-3}}}}), "--out", out(t)]),
    Case("spec-sweep-not-mapping", 2, "Study field 'methods.ppo.sweep': expected key -> non-empty", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {"sweep": [1e-3]}}}), "--out", out(t)]),
    Case("spec-unknown-hyper-parameter", 2, "Study field 'methods.ppo': Unknown hyper-parameter 'lr' for", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"ppo": {"lr": 1e-3}}}), "--out", out(t)]),
    Case("spec-duplicate-key", 2, "is not valid YAML at line 3, column 1: the key 'seeds' is", lambda t: ["run", _yaml(t, "env: CartPole-v1\nseeds: 2\nseeds: 3\nmethods: {cem: {}}\n"), "--out", out(t)]),
    Case("spec-binary-file", 2, 'is not a text file (it is not UTF-8), so it cannot be a', lambda t: ["run", _yaml(t, b"\x89PNG\r\n\x1a\n\x00\x00"), "--out", out(t)]),
    Case("spec-empty-file", 2, "Study field 'env': missing. Name the environment, e.g. env:", lambda t: ["run", _yaml(t, ""), "--out", out(t)]),
    Case("spec-without-env", 2, "Study field 'env': missing. Name the environment, e.g. env:", lambda t: ["run", _yaml(t, {k: v for k, v in SMALL.items() if k != "env"}), "--out", out(t)]),
    Case("spec-env-a-number", 2, "Study field 'env': expected a name, got 5. Write e.g. env:", lambda t: ["run", _yaml(t, {**SMALL, "env": 5}), "--out", out(t)]),
    Case("spec-audit-words", 2, "Study field 'audit': expected true or false, got 'yes'.", lambda t: ["run", _yaml(t, {**SMALL, "audit": "yes"}), "--out", out(t)]),
    Case("spec-seed-block-zero", 2, "Study field 'seed_block': must be at least 1, got 0. Give a", lambda t: ["run", _yaml(t, {**SMALL, "seed_block": 0}), "--out", out(t)]),
    Case("spec-true-objective-number", 2, "Study field 'true_objective': expected an info key or", lambda t: ["run", _yaml(t, {**SMALL, "true_objective": 5}), "--out", out(t)]),
    Case("spec-descriptors-without-colon", 2, "Study field 'descriptors': expected 'module:function', got", lambda t: ["run", _yaml(t, {**SMALL, "descriptors": "nocolon"}), "--out", out(t)]),
    Case("spec-tune-words", 2, "Study field 'tune': expected auto, false, or {configs: N,", lambda t: ["run", _yaml(t, {**SMALL, "tune": "lots"}), "--out", out(t)]),
    Case("spec-tune-unknown-field", 2, "Study field 'tune': expected auto, false, or {configs: N,", lambda t: ["run", _yaml(t, {**SMALL, "tune": {"config": 4}}), "--out", out(t)]),
    Case("spec-until-decided-max-seeds-small", 2, "Study field 'until_decided.max_seeds': 1 is below the 2", lambda t: ["run", _yaml(t, {**SMALL, "until_decided": {"max_seeds": 1}}), "--out", out(t)]),
    Case("spec-wrappers-not-list", 2, "Study field 'wrappers': expected a list of names, got 5.", lambda t: ["run", _yaml(t, {**SMALL, "wrappers": 5}), "--out", out(t)]),
    Case("spec-wrapper-unknown", 3, "Wrapper 'NoSuchWrapper': gymnasium.wrappers has no wrapper", lambda t: ["run", _yaml(t, {**SMALL, "wrappers": ["NoSuchWrapper"]}), "--out", out(t)]),
    Case("spec-imports-missing", 3, '--import no_such_pkg_xyz: the package cannot be imported', lambda t: ["run", _yaml(t, {**SMALL, "imports": ["no_such_pkg_xyz"]}), "--out", out(t)]),
    Case("spec-env-kwargs-not-mapping", 2, "Study field 'env_kwargs': expected a mapping, got 5. Write", lambda t: ["run", _yaml(t, {**SMALL, "env_kwargs": 5}), "--out", out(t)]),
    Case("spec-file-is-a-directory", 2, 'Is a directory. Check the path.', lambda t: ["run", str(t), "--out", out(t)]),
    Case("spec-zero-population", 2, "Study field 'methods.cem': Hyper-parameter 'population' of", lambda t: ["run", _yaml(t, {**SMALL, "methods": {"cem": {"population": 0}}}), "--out", out(t)]),
    Case("run-set-non-numeric", 2, "Study field 'methods.cem': Hyper-parameter 'population'", lambda t: ["run", _yaml(t, SMALL), "--set", "methods.cem.population=many", "--out", out(t)]),
    Case("spec-tab-indented", 2, "is not valid YAML at line 3, column 1: found character '\\t'", lambda t: ["run", _yaml(t, "env: CartPole-v1\nmethods:\n\tcem: {}\n"), "--out", out(t)]),
    Case("env-reward-none", 3, "Environment 'user_envs:RewardNone' failed preflight:", lambda t: ["check", "user_envs:RewardNone", "--out", out(t)]),
    Case("env-reward-string", 3, "Environment 'user_envs:RewardString' failed preflight:", lambda t: ["check", "user_envs:RewardString", "--out", out(t)]),
    Case("env-reward-shape-one", 3, "Environment 'user_envs:RewardOfShapeOne' failed preflight:", lambda t: ["check", "user_envs:RewardOfShapeOne", "--out", out(t)]),
    Case("env-unbounded-actions", 3, "Environment 'user_envs:UnboundedActions' failed preflight:", lambda t: ["check", "user_envs:UnboundedActions", "--out", out(t)]),
    Case("env-factory-not-an-env", 3, "Environment 'user_envs:not_an_env' could not be created:", lambda t: ["check", "user_envs:not_an_env", "--out", out(t)]),
    Case("env-close-raises", 3, "Environment 'user_envs:CloseRaises' failed preflight:", lambda t: ["check", "user_envs:CloseRaises", "--out", out(t)]),
    Case("env-empty-name", 2, "Study field 'env': missing. Name the environment, e.g. env:", lambda t: ["check", "", "--out", out(t)]),
    Case("env-name-colon-only", 3, "Environment ':': 'package:EnvId' and", lambda t: ["check", ":", "--out", out(t)]),
    Case("lint-raises-in-step", 3, "Environment 'user_envs:RaisesInStep' failed preflight:", lambda t: ["lint", "user_envs:RaisesInStep"]),
    Case("lint-old-step-api", 3, "Environment 'user_envs:OldStepApi' failed preflight: [step", lambda t: ["lint", "user_envs:OldStepApi"]),
    Case("out-non-store-dir", 1, 'is not empty (notes.txt) and holds no rlcheck study', lambda t: ["run", _yaml(t, SMALL), "--out", _mine(t)]),
    Case("report-traces-missing", 1, "traces.parquet is missing, but the manifest records", lambda t: ["report", _without(t, "traces.parquet")]),
    Case("out-holds-users-report", 1, "holds no rlcheck study, so writing there could overwrite", lambda t: ["run", _yaml(t, SMALL), "--out", _users_report(t)]),
    # -- jobs: some failed or diverged (4), results kept ---------------------------------------
    Case("a-job-fails", 4, "memory cap", lambda t: ["check", "Pendulum-v1", "--methods", "sac", "--threshold", "-150", "--seeds", "2", "--budget", "2000", "--no-audit", "--num-evals", "2", "--out", out(t), "--quiet"],
         env=(("RLCHECK_MEMORY_CAP_GB", "1e-6"),)),
    Case("seeds-diverge", 4, "diverged", lambda t: ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "2048", "--seeds", "2", "--set", "learning_rate=1e30", "--num-evals", "2", "--eval-episodes", "2", "--out", out(t), "--quiet"]),
]


DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
LOG_PATH = re.compile(r"\S*rlcheck-\d{8}T\d{6}-\d+\.log")


def _run(case: Case, tmp: Path) -> tuple[int, str, str, str]:
    """(exit code, everything printed, the first line the user reads: stderr's when it has one, the command),
    with the temporary directory written as TMP and log-file names as LOG."""
    argv = case.argv(tmp)
    command = "rlcheck " + " ".join(shlex.quote(a) for a in argv).replace(str(tmp), "TMP")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code

    def clean(text: str) -> str:
        return LOG_PATH.sub("LOG", text.replace(str(tmp), "TMP"))

    lines = [ln for ln in clean(err.getvalue()).splitlines() if ln.strip()] or \
            [ln for ln in clean(out.getvalue()).splitlines() if ln.strip()]
    return code, out.getvalue() + err.getvalue(), lines[0].strip() if lines else "", command


def _documented() -> dict[str, tuple[int, str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0].startswith("`") and cells[2].isdigit():
            rows[cells[0].strip("`")] = (int(cells[2]), cells[3].strip("`"))
    return rows


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_catalogue(case: Case, tmp_path, monkeypatch):
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    code, text, first, _ = _run(case, tmp_path)
    assert code == case.code, text
    assert case.message in text, text
    assert "Traceback" not in text
    documented = _documented()
    assert case.name in documented, f"{case.name} is not in {DOC.name}: run `python tests/test_bad_input.py`"
    assert documented[case.name] == (code, first), f"{DOC.name} is out of date for {case.name}: run `python tests/test_bad_input.py`"


def test_catalogue_covers_every_kind_of_input():
    assert len(CASES) >= 120
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


def write_doc(only: Sequence[str] = ()) -> None:
    """docs/bad-input.md from the catalogue: each case run as the test runs it, its command, exit code and
    the first line it prints. `only`: rerun just these cases, keeping the other rows as they are."""
    kept = {line.split("`")[1]: line for line in DOC.read_text().splitlines() if line.startswith("| `")} if only else {}
    rows = []
    for case in CASES:
        if only and case.name not in only and case.name in kept:
            rows.append(kept[case.name])
            continue
        with tempfile.TemporaryDirectory() as tmp:
            saved = {key: os.environ.get(key) for key, _ in case.env}
            os.environ.update(dict(case.env))
            try:
                code, _, first, command = _run(case, Path(tmp))
            finally:
                for key, value in saved.items():
                    os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
        def cell(text: str) -> str:
            return text.replace("|", "\\|")
        rows.append(f"| `{case.name}` | `{cell(command)}` | {code} | {cell(first)} |")
        print(rows[-1][:160], file=sys.stderr)
    head = DOC.read_text().split("<!-- catalogue -->")[0] if DOC.exists() else ""
    DOC.write_text(head + "<!-- catalogue -->\n\n| case | command | exit | first line printed |\n|---|---|---|---|\n"
                   + "\n".join(rows) + "\n")


if __name__ == "__main__":
    write_doc(sys.argv[1:])  # python tests/test_bad_input.py [CASE ...]
