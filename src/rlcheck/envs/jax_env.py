"""JAX-native environments with the gymnax 1.x API.

`reset(key, params) -> (obs, state)` and
`step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)`,
with automatic reset and `info["final_observation"]` holding the true next observation.
Learners keep `terminated` and `truncated` apart: truncation bootstraps from
`final_observation`, termination does not.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import gymnax
import numpy as np
from gymnax.environments import spaces

from rlcheck.core.errors import EnvError
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_adapters import adapt, limit_source

# Gymnasium's `reward_threshold` for the classic-control tasks; None where Gymnasium sets none.
REWARD_THRESHOLDS: dict[str, float] = {
    "CartPole-v1": 475.0,
    "Acrobot-v1": -100.0,
    "MountainCar-v0": -110.0,
    "MountainCarContinuous-v0": 90.0,
}


MAX_JOINT_ACTIONS = 64  # a factorised action with more combinations goes only to factorised policies


@dataclass(frozen=True)
class EnvSpec:
    """An environment, its parameters and what learners need to know about its spaces."""

    name: str
    env: Any  # gymnax.environments.environment.Environment
    params: Any
    obs_shape: tuple[int, ...]
    discrete: bool
    num_actions: int  # discrete: number of actions; continuous: action dimension
    action_low: np.ndarray | None
    action_high: np.ndarray | None
    max_episode_steps: int
    reward_threshold: float | None
    warnings: tuple[str, ...] = ()  # preflight warnings, shown in the report
    env_kwargs: tuple[tuple[str, Any], ...] = ()  # what gymnasium.make was given (Python envs)
    wrappers: tuple[str, ...] = ()  # the wrappers applied, in order, as the user wrote them (Python envs)
    # The task's real goal when it differs from the training reward: an `info` key holding each step's
    # contribution, or `module:function` of (obs, action, reward, next_obs) -> that contribution.
    true_objective: str | None = None
    descriptors: str | None = None  # `module:function` of (obs, action, reward, next_obs) -> extra behaviour descriptors
    # A MultiDiscrete or MultiBinary action played as one Discrete over its combinations: the sizes of its
    # parts (the joint index has the last part fastest). PPO, TRPO and policy search read it as a factorised
    # policy; value-based methods see the joint Discrete (when it is small enough: see `action_space`).
    action_nvec: tuple[int, ...] = ()
    # A Dict or Tuple observation with one image part: the observation is flat, the image's entries first
    # (HxWxC, values 0-255) and the rest after; the CNN reads the image part (envs/spaces.py: ImageFirst).
    image_shape: tuple[int, ...] = ()
    # Where `max_episode_steps` came from, in words ("the registration's max_episode_steps", "the env params'
    # max_steps_in_episode", "rlcheck's default: the env declares none"): the lint says which it used.
    limit_source: str = ""

    @property
    def action_space(self) -> str:
        """The registry's word for the action space: discrete, continuous, or multi_discrete (a factorised
        action with more combinations than a joint Discrete head should have)."""
        if not self.discrete:
            return "continuous"
        return "multi_discrete" if self.action_nvec and self.num_actions > MAX_JOINT_ACTIONS else "discrete"

    @property
    def policy_outputs(self) -> int:
        """Outputs of a policy head: logits (one block per factor), or the action dimension."""
        return sum(self.action_nvec) if self.discrete and self.action_nvec else self.num_actions

    @property
    def task(self) -> str:
        """The name without a backend prefix: per-env defaults are keyed by it."""
        return self.name.removeprefix("gymnasium:").removeprefix("gymnax:")

    @property
    def backend(self) -> str:
        return "gymnasium (Python, host loop)" if isinstance(self.env, HostEnv) else "JAX (gymnax API)"

    @property
    def obs_size(self) -> int:
        return int(np.prod(self.obs_shape))


def registered_env_ids() -> list[str]:
    return list(gymnax.registered_envs)


def make_jax_env(name: str) -> EnvSpec:
    """Resolve a gymnax-registered name (`CartPole-v1`, `Breakout-MinAtar`, ...) to an EnvSpec."""
    name = name.removeprefix("gymnax:")
    known = registered_env_ids()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise EnvError(
            f"Unknown environment {name!r}.{hint} rlcheck knows the JAX-native (gymnax) "
            f"environments: {', '.join(known)}. Pass one of these names to --env."
        )
    try:
        env, params = gymnax.make(name)
    except Exception as exc:  # e.g. MNISTBandit downloads its data set on creation
        raise EnvError(
            f"Environment {name!r} could not be created ({type(exc).__name__}: {exc}). "
            "It may need a download or an optional package; pick another environment."
        ) from exc
    return spec_from_gymnax(name, env, params, REWARD_THRESHOLDS.get(name))


def spec_from_gymnax(name: str, env: Any, params: Any = None, reward_threshold: float | None = None,
                     max_episode_steps: int | None = None) -> EnvSpec:
    """Wrap a JAX environment object as an EnvSpec: the gymnax 1.x API (yours included), gymnax 0.x-style envs
    (craftax's among them), navix and jumanji (envs/jax_adapters.py). Spaces are read by their fields, so
    another package's copy of gymnax's Box and Discrete classes works too."""
    env, params, limit = adapt(env, params, max_episode_steps)
    source = "given as max_episode_steps" if max_episode_steps else limit_source(env, params)
    action_space = env.action_space(params)
    obs_shape = tuple(env.observation_space(params).shape)
    if _is_discrete(action_space):
        discrete, num_actions, low, high = True, int(action_space.n), None, None
    elif all(hasattr(action_space, f) for f in ("low", "high", "shape")):
        shape = tuple(action_space.shape) or (1,)
        discrete, num_actions = False, int(np.prod(shape))
        low = np.broadcast_to(np.asarray(action_space.low, np.float32), shape).reshape(-1)
        high = np.broadcast_to(np.asarray(action_space.high, np.float32), shape).reshape(-1)
    else:
        raise EnvError(
            f"Environment {name!r} has a {type(action_space).__name__} action space ({type(action_space).__module__}); "
            "rlcheck's learners take one discrete action (a space with `n`) or a Box (with `low`, `high`, `shape`)."
        )
    return EnvSpec(
        name=name,
        env=env,
        params=params,
        obs_shape=obs_shape,
        discrete=discrete,
        num_actions=num_actions,
        action_low=low,
        action_high=high,
        max_episode_steps=limit,
        reward_threshold=reward_threshold,
        limit_source=source,
    )


def _is_discrete(space: Any) -> bool:
    return isinstance(space, spaces.Discrete) or (hasattr(space, "n") and not hasattr(space, "nvec")
                                                  and np.ndim(getattr(space, "n")) == 0)
