"""Fuzzing the front door (issue 21, item 5): random command lines built from the parser's own flags, random
study files (plausible fields with odd values, and plain junk text), and Gymnasium envs whose every return
is drawn at random. The property in each case: rlcheck either accepts the input or refuses it with one of
its own errors (exit 1-4, one paragraph); never a traceback, never "unexpected" (the catch-all for bugs).

Studies are not run: accepting one stops at the point where training would begin. CI runs a fixed,
derandomised example budget (the `ci` profile in conftest.py); `python benchmarks/fuzz.py` runs the long
profile and prints what it found.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import rlcheck.api
import rlcheck.study.run
from rlcheck.cli import build_parser, main
from rlcheck.core.errors import RLCheckError
from rlcheck.envs.preflight import PROBE_STEPS
from rlcheck.envs.python_env import make_python_env

INTERNAL = "This is not a known input error"  # the catch-all's words: a bug, not a refusal
SLOW_OK = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Accepted(BaseException):
    """Raised where a study, a lint or a reproduction would start: the input got through every check."""


@pytest.fixture
def no_runs(monkeypatch):
    def accept(*args: Any, **kwargs: Any) -> None:
        raise Accepted

    monkeypatch.setattr(rlcheck.study.run, "_run_locked", accept)
    monkeypatch.setattr(rlcheck.api, "run_lint", accept)
    monkeypatch.setattr(rlcheck.api, "run_reproduction", accept)
    monkeypatch.setattr(rlcheck.api, "run_export", accept)


def _invoke(argv: list[str]) -> tuple[int | None, str]:
    """(exit code or None when accepted, everything printed)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | None = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except Accepted:
            code = None
    return code, out.getvalue() + err.getvalue()


def _assert_handled(argv: list[str], code: int | None, text: str) -> None:
    event("accepted" if code is None else f"exit {code}")
    assert "Traceback" not in text, (argv, text)
    assert INTERNAL not in text, (argv, text)
    assert code in (None, 0, 1, 2, 3, 4), (argv, code, text)
    if code not in (None, 0):
        assert "rlcheck" in text, (argv, code, text)  # a refusal says so, with the tool's name


# -- command lines ---------------------------------------------------------------------------------
def _flags() -> dict[str, list[str]]:
    """Every subcommand's option strings, read from the parser itself (a new flag is fuzzed without a change here)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: sorted(o for action in p._actions for o in action.option_strings if o.startswith("--") and o != "--help")
            for name, p in sub.choices.items()}


FLAGS = _flags()
ENVS = ["CartPole-v1", "Pendulum-v1", "gymnax:Acrobot-v1", "CartPol-v1", "trap/pit", "user_envs:Countdown",
        "user_envs:Nope", ":", "a:b:c", "ALE/Nope-v5", "", "MountainCar-v0 ", "ü", "-"]
WORDS = ["0", "1", "-1", "2", "10", "1e9", "1.5", "nan", "inf", "-inf", "1e400", "", " ", "ten", "ppo", "ppo,dqn",
         "cem,lqr", "ppo,", ",", "a=b", "learning_rate=1e-3", "ppo.learning_rate=1e-3", "ppo.gamma=2", "ppo.num_envs=2:8",
         "ppo.learning_rate=1e-4:1e-2", "learning_rate=1e-3,1e-4", "x=[", "TimeLimit:max_episode_steps=5", "tensorboard",
         "ray", "local", "CartPole-v1", "ü", "--", "-", "{a: 1}", "[1, 2]", "null", "true", "0x10", "1_000", "5e5"]


@st.composite
def command_lines(draw: st.DrawFn, tmp: Path) -> list[str]:
    command = draw(st.sampled_from(sorted(FLAGS)))
    argv = [command]
    if command in ("check", "lint", "plan", "sweep"):
        argv.append(draw(st.sampled_from(ENVS)))
    elif command in ("report", "export"):
        argv.append(str(tmp / draw(st.sampled_from(["", "missing", "a file"]))))
    elif command == "reproduce":
        argv.append(draw(st.sampled_from(["list", "pendulum-seeds", "nope", ""])))
    elif command == "run":
        argv.append(str(tmp / "study.yaml"))
    flags = FLAGS[command]
    for flag in draw(st.lists(st.sampled_from(flags), max_size=6)) if flags else []:
        argv.append(flag)
        if draw(st.booleans()) or flag not in ("--resume", "--force", "--quiet", "--dry-run", "--no-audit", "--until-decided"):
            argv.append(draw(st.sampled_from(WORDS) | st.text(max_size=8)))
    if command in ("check", "train", "sweep", "run", "reproduce") and draw(st.booleans()):
        argv += ["--out", str(tmp / "out")]
    return argv


@SLOW_OK
@given(data=st.data())
def test_random_command_lines_are_accepted_or_refused_in_one_paragraph(data, tmp_path, no_runs):
    (tmp_path / "study.yaml").write_text("env: CartPole-v1\nmethods: {cem: {}}\nseeds: 2\nbudget: 16000\n")
    (tmp_path / "a file").write_text("not a study")
    argv = data.draw(command_lines(tmp_path))
    with contextlib.chdir(tmp_path):  # a relative path among the words (`--out 0`) lands here, not in the checkout
        code, text = _invoke(argv)
    _assert_handled(argv, code, text)


# -- study files -----------------------------------------------------------------------------------
SCALARS = (st.none() | st.booleans() | st.integers(-3, 2**33) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from(WORDS) | st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=6)
METHOD_NAMES = ["ppo", "dqn", "cem", "lqr", "sac", "ars", "mcts", "uct", "ppo2", "sb3-ppo"]
PARAMETERS = ["learning_rate", "gamma", "hidden_sizes", "population", "num_envs", "sweep", "elite_frac", "lr", "ent_coef"]
FIELD_VALUES = {
    "env": st.sampled_from(ENVS) | VALUES,
    "methods": (st.dictionaries(st.sampled_from(METHOD_NAMES),
                                st.none() | st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=3), max_size=3)
                | st.lists(st.sampled_from(METHOD_NAMES), max_size=3) | VALUES),
    "seeds": st.integers(-2, 12) | st.lists(st.integers(-1, 2**33), max_size=4) | VALUES,
    "budget": st.integers(-10, 40_000) | VALUES,
    "threshold": st.floats(allow_nan=True, allow_infinity=True) | VALUES,
    "evaluation": st.dictionaries(st.sampled_from(["checkpoints", "episodes", "checkpoint"]), st.integers(-1, 10**6) | VALUES, max_size=2) | VALUES,
    "audit": VALUES, "seed_block": st.integers(-1, 5) | VALUES, "tune": VALUES, "until_decided": VALUES,
    "true_objective": VALUES, "descriptors": VALUES, "env_kwargs": VALUES, "wrappers": VALUES, "imports": VALUES,
}


@st.composite
def study_files(draw: st.DrawFn) -> Any:
    study = {"env": "CartPole-v1", "methods": {"cem": {}}, "seeds": 2, "budget": 16_000}
    for field in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=4, unique=True)):
        study[field] = draw(FIELD_VALUES[field])
    if draw(st.booleans()):
        study[draw(st.text(max_size=6))] = draw(VALUES)  # a field that does not exist (or an empty name)
    return draw(st.sampled_from([study, [study], draw(VALUES)])) if draw(st.integers(0, 9)) == 0 else study


@SLOW_OK
@given(study=study_files())
def test_random_study_files_are_accepted_or_refused_in_one_paragraph(study, tmp_path, no_runs):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study, allow_unicode=True))
    argv = ["run", str(path), "--out", str(tmp_path / "out")]
    code, text = _invoke(argv)
    _assert_handled(argv, code, text)
    assert code != 0, "a study run stops where training begins"


@SLOW_OK
@given(text=st.text(max_size=200) | st.binary(max_size=64))
def test_junk_study_files_are_refused_in_one_paragraph(text, tmp_path, no_runs):
    path = tmp_path / "study.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    argv = ["run", str(path), "--out", str(tmp_path / "out")]
    code, text_out = _invoke(argv)
    _assert_handled(argv, code, text_out)


# -- environments that misbehave at random --------------------------------------------------------
ODD = st.sampled_from([None, "1.0", float("nan"), float("inf"), -1e300, [1.0], np.array([1.0]), np.array(1.0), True, {}, object()])


@st.composite
def behaviours(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "discrete": draw(st.booleans()),
        "obs_size": draw(st.integers(1, 4)),
        "reset": draw(st.sampled_from(["ok", "obs only", "three values", "wrong shape", "nan", "list", "ints", "none"])),
        "step_values": draw(st.sampled_from([5, 5, 5, 4, 6])),
        "obs": draw(st.sampled_from(["ok", "ok", "wrong shape", "nan", "list", "none", "string", "huge"])),
        "reward": draw(st.sampled_from(["float", "int", "numpy"]) | ODD),
        "terminated": draw(st.sampled_from([True, False, np.bool_(True), 1, 0, None, "yes"])),
        "info": draw(st.sampled_from([{}, {"is_success": 1.0}, None, [], "info"])),
        "length": draw(st.integers(1, 30)),
        "raise_at": draw(st.none() | st.integers(0, 40) | st.integers(PROBE_STEPS + 10, PROBE_STEPS + 100)),
        # misbehaves only after this many steps of its life (not of an episode): beyond preflight's probing
        # for the larger values, so that the host loop meets it in "training"
        "odd_after": draw(st.integers(0, 40) | st.integers(PROBE_STEPS + 10, PROBE_STEPS + 100)),
    }


class FuzzEnv(gym.Env):
    def __init__(self, b: dict[str, Any]):
        self.b, self.t, self.life = b, 0, 0
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (b["obs_size"],), np.float32)
        self.action_space = gym.spaces.Discrete(3) if b["discrete"] else gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def _obs(self, kind: str) -> Any:
        n = self.b["obs_size"]
        return {"ok": np.zeros(n, np.float32), "wrong shape": np.zeros(n + 1, np.float32), "nan": np.full(n, np.nan, np.float32),
                "list": [0.0] * n, "ints": np.zeros(n, np.int64), "none": None, "string": "obs",
                "huge": np.full(n, 1e30, np.float32)}[kind]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        kind = self.b["reset"]
        if kind == "obs only":
            return self._obs("ok")
        if kind == "three values":
            return self._obs("ok"), {}, 0
        return self._obs("ok" if kind == "ok" else kind), {}

    def step(self, action: Any) -> Any:
        self.t += 1
        self.life += 1
        odd = self.life > self.b["odd_after"]
        if self.b["raise_at"] is not None and self.life > self.b["raise_at"]:
            raise RuntimeError("the fuzzed env broke")
        named = {"float": 1.0, "int": 1, "numpy": np.float32(1.0)}
        reward = self.b["reward"]
        reward = named[reward] if isinstance(reward, str) and reward in named else reward
        done = self.t >= self.b["length"]
        terminated = self.b["terminated"] if odd and done else done
        obs = self._obs(self.b["obs"] if odd else "ok")
        info = self.b["info"] if odd else {}
        out = (obs, reward if odd else 1.0, terminated, False, info)
        return {5: out, 4: out[:3] + (info,), 6: (*out, None)}[self.b["step_values"]] if odd else out


@SLOW_OK
@given(b=behaviours())
def test_envs_that_misbehave_at_random_are_refused_as_env_errors(b):
    """Preflight, then the host loop's own reset and steps (the code every Python env goes through in
    training): either they work, or an RLCheckError names what the env did."""
    try:
        spec = make_python_env("fuzz", factory=lambda: FuzzEnv(b))
    except RLCheckError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        event(f"refused before training: {type(exc).__name__}")
        return
    host = spec.env
    rng = np.random.default_rng(0)
    try:
        _, slots = host._host_reset("train", np.arange(3))
        owners, t = np.full(3, host.owner, np.int32), np.zeros(3, np.int32)
        for _ in range(PROBE_STEPS + 120):
            actions = rng.integers(0, 3, 3) if b["discrete"] else rng.uniform(-1, 1, (3, 2)).astype(np.float32)
            obs, reward, terminated, truncated, final = host._host_step(slots, owners, t, actions)
            assert obs.shape == (3, b["obs_size"]) and reward.shape == (3,) and terminated.dtype == bool
        event("stepped without a fault")
    except RLCheckError as exc:
        assert str(exc)
        event(f"refused while stepping: {type(exc).__name__}")
