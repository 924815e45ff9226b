"""Copies of a Python env's state, for planners that search from the real state (MPC, UCT).

Three ways, tried in this order:
- MuJoCo's `set_state(qpos, qvel)` (exact, cheap);
- the user's own `get_state()` / `set_state(state)` pair on the env;
- `copy.deepcopy` of the whole wrapped env, which copies most pure-Python simulators (RNG included).
The last two are verified before use: from a saved state, the real env and a copy are stepped with the
same actions and must give the same observations, rewards and ends. An env whose copies diverge (it keeps
state in a global, or pickles to a fresh env, as Box2D's and MuJoCo's EzPickle do) is refused with the reason.
ALE's emulator clone is used by UCT directly (baselines/uct.py).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from rlcheck.core.errors import NotApplicable
from rlcheck.envs.closing import close_quietly

CHECK_WARMUP, CHECK_STEPS = 5, 20  # steps before the saved state, and steps compared after it


class StateCopy:
    """`save(real) -> snapshot`; `branch(snapshot) -> env` positioned at it, stepped with `env.step(action)`.
    With `raw`, the branch is the unwrapped env (compare it with `real.unwrapped`)."""

    how = ""
    raw = False

    def __init__(self, make):
        self.make = make

    def save(self, real: Any) -> Any:
        raise NotImplementedError

    def branch(self, snapshot: Any) -> Any:
        raise NotImplementedError

    def vector(self, env: Any) -> np.ndarray | None:
        """The state of `env` (the real env or a branch) as one float vector, where the state is one (LQR
        linearises around it); None otherwise."""
        return None

    def set_vector(self, x: np.ndarray) -> Any:
        """The model env set to the state vector `x` (as `vector` gives it), stepped raw."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class _ModelEnv(StateCopy):
    """A copier that keeps one model env, set to each saved state and stepped raw (unwrapped)."""

    raw = True

    def __init__(self, make):
        super().__init__(make)
        self.model_env = make()
        self.model = self.model_env.unwrapped

    def close(self) -> None:
        close_quietly(self.model_env)


class MujocoState(_ModelEnv):
    how = "MuJoCo's set_state(qpos, qvel)"

    def save(self, real: Any) -> Any:
        return real.unwrapped.data.qpos.copy(), real.unwrapped.data.qvel.copy()

    def branch(self, snapshot: Any) -> Any:
        self.model.set_state(*snapshot)
        return self.model  # the raw env: rewards and terminations as the env computes them

    def vector(self, env: Any) -> np.ndarray:
        data = env.unwrapped.data
        return np.concatenate([data.qpos, data.qvel]).astype(np.float64)

    def set_vector(self, x: np.ndarray) -> Any:
        nq = self.model.data.qpos.shape[0]
        self.model.set_state(np.asarray(x[:nq]), np.asarray(x[nq:]))
        return self.model


class UserState(_ModelEnv):
    how = "the env's get_state()/set_state()"

    def __init__(self, make):
        super().__init__(make)
        self.model_env.reset(seed=0)

    def save(self, real: Any) -> Any:
        return copy.deepcopy(real.unwrapped.get_state())

    def branch(self, snapshot: Any) -> Any:
        self.model.set_state(copy.deepcopy(snapshot))
        return self.model

    def vector(self, env: Any) -> np.ndarray | None:
        state = env.unwrapped.get_state()
        if isinstance(state, np.ndarray | list | tuple) and np.asarray(state).dtype.kind in "fiu" and np.ndim(state) == 1:
            return np.asarray(state, np.float64)
        return None

    def set_vector(self, x: np.ndarray) -> Any:
        self.model.set_state(np.asarray(x, np.float64))
        return self.model


class DeepCopy(StateCopy):
    how = "copy.deepcopy of the env"

    def save(self, real: Any) -> Any:
        return copy.deepcopy(real)

    def branch(self, snapshot: Any) -> Any:
        return copy.deepcopy(snapshot)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except Exception:  # noqa: BLE001 (structured observations: compare as Python objects)
        return repr(a) == repr(b)


def _verify(make, state_copy: StateCopy, action_space: Any) -> str | None:
    """None if a copy replays like the real env; else the reason it does not."""
    real = make()
    try:
        real.reset(seed=0)
        action_space.seed(0)
        for _ in range(CHECK_WARMUP):
            if any(real.step(action_space.sample())[2:4]):
                real.reset(seed=1)
        snapshot = state_copy.save(real)
        actions = [action_space.sample() for _ in range(CHECK_STEPS)]
        branch = state_copy.branch(snapshot)
        stepped = real.unwrapped if state_copy.raw else real
        for t, action in enumerate(actions):
            want = stepped.step(action)
            got = branch.step(action)
            for label, i in (("observation", 0), ("reward", 1), ("terminated", 2)):
                if not _same(want[i], got[i]):
                    return (f"a copy made with {state_copy.how} diverged from the real env at step {t + 1} after "
                            f"the copy (its {label} differs: {got[i]!r} vs {want[i]!r}); the env keeps state the copy "
                            "does not hold (a global, a C object, an unseeded RNG)")
            if want[2] or want[3]:
                break
    except Exception as exc:  # noqa: BLE001 (e.g. EzPickle envs deep-copy to a fresh env that was never reset)
        return f"a copy made with {state_copy.how} cannot be stepped ({type(exc).__name__}: {exc})"
    finally:
        close_quietly(real)
    return None


def copied_by_simulation(env_spec: Any) -> bool:
    """True where a planner would search through copies of a whole Python env (get/set_state or deepcopy):
    correct but slow, so such planners run only when named."""
    found = _VERIFIED.get(id(env_spec.env))
    return isinstance(found, type) and found is not MujocoState


_VERIFIED: dict[int, type[StateCopy] | str] = {}  # per HostEnv: the way that works, or why none does


def state_copy(env_spec: Any, who: str) -> StateCopy:
    """A fresh copier by the first way of copying this Python env's state that works (verified once per env);
    NotApplicable with the reasons where none does."""
    host = env_spec.env
    if id(host) not in _VERIFIED:
        _VERIFIED[id(host)] = _choose(env_spec)
    found = _VERIFIED[id(host)]
    if isinstance(found, str):
        raise NotApplicable(f"{who} plans from copies of the env's state, and {env_spec.name}'s state cannot be copied: "
                            f"{found}. Give the env get_state() and set_state(state) methods that save and restore "
                            "everything its step depends on.")
    return found(host.make)


def _choose(env_spec: Any) -> type[StateCopy] | str:
    host = env_spec.env
    probe = host.make()
    raw, action_space = probe.unwrapped, probe.action_space
    close_quietly(probe)
    if hasattr(raw, "set_state") and hasattr(getattr(raw, "data", None), "qpos"):
        return MujocoState
    kinds: list[type[StateCopy]] = [DeepCopy]
    if callable(getattr(raw, "get_state", None)) and callable(getattr(raw, "set_state", None)):
        kinds.insert(0, UserState)
    reasons = []
    for kind in kinds:
        candidate = kind(host.make)
        reason = _verify(host.make, candidate, action_space)
        close_quietly(candidate)
        if reason is None:
            return kind
        reasons.append(reason)
    return "; ".join(reasons)
