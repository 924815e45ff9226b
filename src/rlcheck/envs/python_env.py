"""A Gymnasium env (see envs/resolve.py for the names it takes), wrapped as asked and with observations
the learners can read (envs/spaces.py), as an EnvSpec whose stepping happens on the host (envs/host.py).
A preflight runs first (envs/preflight.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck.core.errors import EnvError
from rlcheck.envs import atari
from rlcheck.envs.closing import close_quietly
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.preflight import preflight
from rlcheck.envs.resolve import WrapperSpec, checked_factory, resolve_id, wrap
from rlcheck.envs.spaces import action_kind, image_shape_of, joint_factors, readable_actions, readable_observations

DEFAULT_TIME_LIMIT = 1000  # for envs registered without one; preflight warns


def make_python_env(name: str, env_kwargs: dict[str, Any] | None = None, check: bool = True,
                    wrappers: Sequence[WrapperSpec] = (), factory: Callable[[], Any] | None = None) -> EnvSpec:
    """An EnvSpec over copies of `gymnasium.make(id, **env_kwargs)` (or of `factory()`), wrapped in order, after a
    preflight (errors raise)."""
    kwargs = dict(env_kwargs or {})
    warnings: list[str] = []
    if factory is not None:
        env_id, base = None, checked_factory(name, factory)
    else:
        env_id = resolve_id(name.removeprefix("gymnasium:"))

        def base() -> Any:
            return gym.make(env_id, disable_env_checker=True, **kwargs)

    if env_id is not None and atari.is_atari(env_id):  # training copies lose a life as a termination and clip rewards
        def make() -> Any:
            return wrap(atari.make_atari(env_id, kwargs, train=True), wrappers)

        def make_eval() -> Any:
            return wrap(atari.make_atari(env_id, kwargs, train=False), wrappers)
    else:
        make_eval = None

    def make_plain() -> Any:
        env = wrap(base(), wrappers)
        if _time_limit(env) is None:
            env = gym.wrappers.TimeLimit(env, _declared_limit(env)[1] or DEFAULT_TIME_LIMIT)
        return readable_actions(readable_observations(env, name)[0], name)[0]

    if make_eval is None:
        make = make_plain

    own_limit = None
    try:
        if make_eval is None:
            raw = wrap(base(), wrappers)
            own_limit, (_, notes) = _time_limit(raw), readable_observations(raw, name)
            warnings += notes + readable_actions(raw, name)[1]
            close_quietly(raw)
        probe = make()
    except EnvError:
        raise
    except Exception as exc:
        raise EnvError(
            f"Environment {name!r} could not be created: {type(exc).__name__}: {exc}. Check --env-kwargs and that "
            "the package it needs is installed."
        ) from exc
    if check:
        warnings = preflight(name, make) + warnings
    attr, declared = _declared_limit(probe)
    if make_eval is None and own_limit is None:
        if declared:
            warnings.append(f"[time limit] the env has no TimeLimit wrapper but declares {attr}={declared}; rlcheck uses "
                            f"that as its time limit. Choose another with --wrap TimeLimit:max_episode_steps=N.")
        else:
            warnings.append(f"[time limit] the env has no time limit (registered without max_episode_steps, no "
                            f"TimeLimit wrapper, no max_steps attribute); rlcheck added a {DEFAULT_TIME_LIMIT}-step "
                            "one. Choose one with --wrap TimeLimit:max_episode_steps=N.")
    obs_space, action_space, factors = probe.observation_space, probe.action_space, joint_factors(probe)
    spec = probe.spec
    limit = _time_limit(probe) or DEFAULT_TIME_LIMIT
    if make_eval is not None:
        limit = atari.TIME_LIMIT
    source = _limit_source(spec, own_limit, attr if declared else None, is_atari=make_eval is not None)
    probe.close()
    if action_kind(action_space, name) == "discrete":
        discrete, num_actions, low, high, action_shape = True, int(action_space.n), None, None, ()
    else:
        discrete, action_shape = False, tuple(action_space.shape)
        num_actions = int(np.prod(action_shape))
        low = np.asarray(action_space.low, np.float32).reshape(-1)
        high = np.asarray(action_space.high, np.float32).reshape(-1)
    obs_dtype = np.uint8 if obs_space.dtype == np.uint8 else np.float32
    host = HostEnv(name, make, tuple(obs_space.shape), obs_dtype, action_shape, discrete, make_eval)
    threshold = spec.reward_threshold if spec is not None else None
    return EnvSpec(name=name, env=host, params=None, obs_shape=tuple(obs_space.shape), discrete=discrete,
                   num_actions=num_actions, action_low=low, action_high=high, max_episode_steps=int(limit),
                   reward_threshold=threshold, warnings=tuple(warnings),
                   env_kwargs=tuple(sorted(kwargs.items())), wrappers=tuple(w.text for w in wrappers),
                   action_nvec=factors, image_shape=image_shape_of(probe), limit_source=source)


# Attributes under which envs without a TimeLimit wrapper declare the step at which they truncate themselves
# (minigrid: max_steps; popgym: max_episode_length).
DECLARED_LIMITS = ("max_steps", "max_episode_steps", "max_episode_length")


def _declared_limit(env: Any) -> tuple[str | None, int | None]:
    raw = env.unwrapped
    for attr in DECLARED_LIMITS:
        value = getattr(raw, attr, None)
        if isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0:
            return attr, int(value)
    return None, None


def _limit_source(spec: Any, own_limit: int | None, declared_attr: str | None, is_atari: bool) -> str:
    """Where the time limit came from, in words (the lint says which it used)."""
    if is_atari:
        return f"rlcheck's Atari limit ({atari.TIME_LIMIT:,} agent steps)"
    if own_limit is not None:
        registered = spec is not None and spec.max_episode_steps == own_limit
        return "the registration's max_episode_steps" if registered else "a TimeLimit wrapper"
    if declared_attr is not None:
        return f"the env's own {declared_attr}"
    return "rlcheck's default: the env declares none"


def _time_limit(env: Any) -> int | None:
    """The env's time limit: a TimeLimit wrapper anywhere in the stack (gymnasium.make adds the registered one)."""
    while env is not None:
        if isinstance(env, gym.wrappers.TimeLimit):
            return int(env._max_episode_steps)
        env = getattr(env, "env", None)
    return None
