"""Preflight for a Python env before any training: Gymnasium's own env checker plus rlcheck's checks
(spaces the learners can use, the 1.x reset/step API, observation shapes, finite rewards, determinism
under a seed). Errors abort with what is wrong and how to fix it; warnings go into the report."""

from __future__ import annotations

import re
import warnings as warnings_module
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from rlcheck.core.errors import EnvError
from rlcheck.envs.closing import close_quietly
from rlcheck.envs.spaces import action_kind

PROBE_STEPS = 200  # random-action steps the preflight takes
DETERMINISM_STEPS = 20


class PreflightError(EnvError):
    """The env failed preflight (exit code 3)."""

    exit_code = 3


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    check: str
    message: str


def preflight(name: str, make: Callable[[], Any]) -> list[str]:
    """Run every check on fresh copies from `make`; raise PreflightError on errors, return warnings."""
    findings = run_checks(make)
    errors = [f for f in findings if f.level == "error"]
    if errors:
        details = " ".join(f"[{f.check}] {f.message}" for f in errors)
        raise PreflightError(f"Environment {name!r} failed preflight: {details}")
    return [f"[{f.check}] {f.message}" for f in findings if f.level == "warning"]


def run_checks(make: Callable[[], Any]) -> list[Finding]:
    findings: list[Finding] = []
    env = make()
    findings += _spaces(gym, env)
    if any(f.level == "error" for f in findings):
        return findings
    findings += _rollout(gym, env)  # first: its messages for an old API or a wrong shape are the clearer
    if not any(f.level == "error" for f in findings):
        findings += _gymnasium_checker(gym, env)
    if not any(f.level == "error" for f in findings):
        findings += _determinism(make)
    close_quietly(env)
    return findings


def _spaces(gym, env) -> list[Finding]:
    out = []
    space = env.action_space
    if isinstance(space, gym.spaces.Box):
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            out.append(Finding("error", "bounded actions",
                               f"the Box action space has infinite bounds ({space}); continuous learners squash actions "
                               "into [low, high]. Give the action space finite bounds (e.g. Box(-1, 1)) and scale inside the env."))
    elif isinstance(space, gym.spaces.Discrete):
        if int(space.start) != 0:
            out.append(Finding("error", "discrete actions", f"the Discrete action space starts at {space.start}; "
                               "rlcheck's learners emit 0..n-1. Use Discrete(n) and shift inside the env."))
    else:
        try:
            action_kind(space, "the env")
        except EnvError as exc:  # the refusal, with the wrapper that would fix it
            out.append(Finding("error", "action space", str(exc)))
    if not isinstance(env.observation_space, gym.spaces.Box):
        out.append(Finding("error", "observation space", f"{type(env.observation_space).__name__} observations "
                           "could not be flattened to a Box; give the env a Box observation space."))
    return out


def _gymnasium_checker(gym, env) -> list[Finding]:
    out = []
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        try:
            check_env(env.unwrapped, skip_render_check=True)
        except Exception as exc:  # the checker asserts; its message says what is wrong
            out.append(Finding("error", "gymnasium env checker", f"{type(exc).__name__}: {exc}"))
    seen = set()
    for w in caught:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(w.message)).removeprefix("WARN: ").strip()
        # Unbounded observation spaces are normal (learners normalise); render checks do not apply.
        if text not in seen and "render" not in text.lower() and "infinity" not in text:
            seen.add(text)
            out.append(Finding("warning", "gymnasium env checker", text))
    return out


def _rollout(gym, env) -> list[Finding]:
    out: list[Finding] = []
    try:
        reset = env.reset(seed=0)
    except Exception as exc:
        return [Finding("error", "reset", f"reset(seed=0) raised {type(exc).__name__}: {exc}")]
    if not (isinstance(reset, tuple) and len(reset) == 2):
        return [Finding("error", "reset API", "reset() must return (obs, info) in the Gymnasium 1.x API.")]
    shape = env.observation_space.shape
    if np.shape(reset[0]) != shape:
        out.append(Finding("error", "observation shape", f"reset() returned an observation of shape "
                           f"{np.shape(reset[0])}, but observation_space says {shape}."))
    env.action_space.seed(0)
    try:  # the raw env first: wrappers (TimeLimit) unpack five values and would hide an old 4-tuple API
        raw = env.unwrapped.step(env.action_space.sample())
    except Exception:
        raw = None  # reported by the wrapped steps below
    if isinstance(raw, tuple) and len(raw) != 5:
        return out + [Finding("error", "step API", f"step() returned {len(raw)} values; the Gymnasium 1.x API returns 5 "
                              "(obs, reward, terminated, truncated, info). Port the env (or wrap an old one with shimmy).")]
    env.reset(seed=0)
    for step in range(PROBE_STEPS):
        try:
            result = env.step(env.action_space.sample())
        except Exception as exc:
            out.append(Finding("error", "step", f"step() raised {type(exc).__name__}: {exc} (random actions, step {step}). "
                               "Fix the env so every action in its action space is accepted."))
            return out
        if not (isinstance(result, tuple) and len(result) == 5):
            n = len(result) if isinstance(result, tuple) else type(result).__name__
            out.append(Finding("error", "step API", f"step() returned {n} values; the Gymnasium 1.x API returns 5 "
                               "(obs, reward, terminated, truncated, info). Port the env (or wrap an old one with shimmy)."))
            return out
        obs, reward, terminated, truncated, _ = result
        if np.shape(obs) != shape:
            out.append(Finding("error", "observation shape", f"step() returned an observation of shape "
                               f"{np.shape(obs)}, but observation_space says {shape}."))
            return out
        if not (isinstance(reward, int | float | np.number)
                or (isinstance(reward, np.ndarray) and reward.shape == () and np.issubdtype(reward.dtype, np.number))):
            kind = f" of shape {reward.shape}" if isinstance(reward, np.ndarray) else ""
            out.append(Finding("error", "rewards are numbers", f"step() returned a reward of type "
                               f"{type(reward).__name__}{kind} ({reward!r:.60}) at step {step}; a Gymnasium env "
                               "returns one number per step. Return float(reward) (or reward[0] for a batch of one)."))
            return out
        if not np.isfinite(float(reward)):
            out.append(Finding("error", "finite rewards", f"step() returned reward {reward} at step {step}."))
            return out
        if not np.all(np.isfinite(np.asarray(obs, np.float64))):
            out.append(Finding("error", "finite observations", f"step() returned a non-finite observation at step {step}."))
            return out
        if terminated or truncated:
            env.reset()
    return out


def _determinism(make) -> list[Finding]:
    """Same seed, same actions: the same observations and rewards?"""
    runs = []
    for _ in range(2):
        env = make()
        env.action_space.seed(1)
        obs, _ = env.reset(seed=1)
        trail = [np.asarray(obs, np.float64).ravel()]
        for _ in range(DETERMINISM_STEPS):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trail.append(np.append(np.asarray(obs, np.float64).ravel(), float(reward)))
            if terminated or truncated:
                break
        close_quietly(env)
        runs.append(trail)
    same = len(runs[0]) == len(runs[1]) and all(np.allclose(a, b) for a, b in zip(*runs, strict=True))
    if same:
        return []
    return [Finding("warning", "determinism", "two runs with the same seed and actions differ; seeds will not "
                    "reproduce results. Seed every random source from reset(seed=...).")]
