"""Resolve a Gymnasium env (a registered id, or `package.module:ClassName`) to an EnvSpec whose
stepping happens on the host (envs/host.py). A preflight runs first (envs/preflight.py)."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck.core.errors import EnvError
from rlcheck.envs import atari
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.preflight import preflight

DEFAULT_TIME_LIMIT = 1000  # for envs registered without one; preflight warns


def resolve_id(name: str) -> str:
    """A Gymnasium id for `name`. `package.module:ClassName` imports the module and registers the class
    under that name on the fly; other `module:Id` forms are Gymnasium's own."""
    if name.startswith("ALE/") and name not in gym.registry:
        atari.register()
    if name in gym.registry:
        return name
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise EnvError(
                f"Environment {name!r}: cannot import module {module_name!r} ({exc}). Install the package that "
                f"provides it (pip install ...), or check the spelling of 'package.module:ClassName'."
            ) from exc
        target = getattr(module, attr, None)
        if isinstance(target, type):
            env_id = f"rlcheck/{module_name}.{attr}-v0"  # gymnasium reads 'module:Id' in make() as its own form
            if env_id not in gym.registry:
                gym.register(id=env_id, entry_point=target)
            return env_id
        if name in gym.registry:  # the import registered `module:Id` itself
            return name
        if attr in gym.registry:
            return attr
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type) and hasattr(v, "step"))
        raise EnvError(
            f"Environment {name!r}: module {module_name!r} has no environment class or registered id {attr!r}. "
            f"Classes with a step method there: {', '.join(classes) or 'none'}."
        )
    close = difflib.get_close_matches(name, list(gym.registry), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise EnvError(
        f"Unknown environment {name!r}.{hint} Give a gymnax name (rlcheck envs), a registered Gymnasium id "
        "(after importing the package that registers it), or 'package.module:ClassName' for your own env class."
    )


def make_python_env(name: str, env_kwargs: dict[str, Any] | None = None, check: bool = True) -> EnvSpec:
    """An EnvSpec over copies of `gymnasium.make(id, **env_kwargs)`, after a preflight (errors raise)."""
    env_id = resolve_id(name.removeprefix("gymnasium:"))
    kwargs = dict(env_kwargs or {})
    warnings: list[str] = []

    if atari.is_atari(env_id):  # training copies lose a life as a termination and clip rewards; evaluation copies don't
        def make() -> Any:
            return atari.make_atari(env_id, kwargs, train=True)

        def make_eval() -> Any:
            return atari.make_atari(env_id, kwargs, train=False)
    else:
        make_eval = None

    def make_plain() -> Any:
        env = gym.make(env_id, disable_env_checker=True, **kwargs)
        if env.spec is None or env.spec.max_episode_steps is None:
            env = gym.wrappers.TimeLimit(env, DEFAULT_TIME_LIMIT)
        if not isinstance(env.observation_space, gym.spaces.Box):
            env = gym.wrappers.FlattenObservation(env)
        return env

    if make_eval is None:
        make = make_plain

    try:
        probe = make()
    except Exception as exc:
        raise EnvError(
            f"Environment {name!r} could not be created: {type(exc).__name__}: {exc}. Check --env-kwargs and that "
            "the package it needs is installed."
        ) from exc
    if check:
        warnings = preflight(name, make)
    if gym.spec(env_id).max_episode_steps is None and make_eval is None:
        warnings.append(f"[time limit] the env is registered without max_episode_steps; rlcheck added a "
                        f"{DEFAULT_TIME_LIMIT}-step time limit. Register it with max_episode_steps to choose one.")
    obs_space, action_space = probe.observation_space, probe.action_space
    spec = probe.spec
    limit = spec.max_episode_steps if spec is not None and spec.max_episode_steps else DEFAULT_TIME_LIMIT
    if make_eval is not None:
        limit = atari.TIME_LIMIT
    probe.close()
    if isinstance(action_space, gym.spaces.Discrete):
        discrete, num_actions, low, high, action_shape = True, int(action_space.n), None, None, ()
    elif isinstance(action_space, gym.spaces.Box):
        discrete, action_shape = False, tuple(action_space.shape)
        num_actions = int(np.prod(action_shape))
        low = np.asarray(action_space.low, np.float32).reshape(-1)
        high = np.asarray(action_space.high, np.float32).reshape(-1)
    else:
        raise EnvError(
            f"Environment {name!r} has a {type(action_space).__name__} action space; rlcheck's learners support "
            "Discrete and Box. Wrap it (for example gymnasium.wrappers.FlattenObservation does not apply to actions; "
            "write an ActionWrapper that maps a Discrete or Box action onto it)."
        )
    obs_dtype = np.uint8 if obs_space.dtype == np.uint8 else np.float32
    host = HostEnv(name, make, tuple(obs_space.shape), obs_dtype, action_shape, discrete, make_eval)
    threshold = spec.reward_threshold if spec is not None else None
    return EnvSpec(name=name, env=host, params=None, obs_shape=tuple(obs_space.shape), discrete=discrete,
                   num_actions=num_actions, action_low=low, action_high=high, max_episode_steps=int(limit),
                   reward_threshold=threshold, warnings=tuple(warnings),
                   env_kwargs=tuple(sorted(kwargs.items())))
