"""Resolve an environment name to an EnvSpec: JAX-native (gymnax API) where one exists, else a
Python Gymnasium env stepped on the host.

- `gymnax:NAME` forces the JAX version; `gymnasium:ID` forces Gymnasium's.
- A bare name that gymnax provides (CartPole-v1, Pendulum-v1, Breakout-MinAtar, ...) is the JAX version:
  the same dynamics, and the whole loop compiles.
- Any other name is a Gymnasium env as Gymnasium users write it (envs/resolve.py: a registered id after
  `imports`, `package:EnvId`, `package.module:ClassName` or `:factory`), with `env_kwargs` passed to
  `gymnasium.make` and `wrappers` applied in order, after a preflight.
- An env object given to the API (a gymnasium.Env, or an EnvSpec) is registered under a name of its own.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from rlcheck.core.errors import RLCheckError
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_adapters import JAX_LIBRARIES, make_library_env, with_time_limit
from rlcheck.envs.jax_env import EnvSpec, make_jax_env, registered_env_ids, spec_from_gymnax
from rlcheck.envs.python_env import make_python_env
from rlcheck.envs.resolve import WrapperSpec, import_packages, parse_wrapper, user_jax_class
from rlcheck.envs.traps import make_trap

# By name, kwargs and wrappers: one preflight and pool of copies per Python env; one spec per user JAX class.
_PYTHON_ENVS: dict[str, EnvSpec] = {}
_GIVEN: dict[str, EnvSpec] = {}  # env objects handed to the API, by name
_OBJECTS: dict[int, tuple[str, Any]] = {}  # env objects handed to the API: id -> (name, object)


def _fresh_name(base: str) -> str:
    taken = sum(name.split("#")[0] == base for name in _GIVEN)
    return base + (f"#{taken + 1}" if taken else "")


def _register_object(env: Any, build) -> str:
    """The name of an env object handed to the API, built into an EnvSpec once (`build(name, env)`)."""
    if id(env) not in _OBJECTS:
        name = _fresh_name(type(env).__name__)
        _GIVEN[name] = build(name, env)
        _OBJECTS[id(env)] = (name, env)  # the object is kept, so its id is not reused
    return _OBJECTS[id(env)][0]


def register_spec(spec: Any) -> str:
    """Make an env object resolvable by a name in this process (the API accepts env objects this way); returns
    the name. An EnvSpec keeps its name; a gymnasium.Env is stepped on the host from deep copies of the object
    as given (so give it unstepped). A different object under a taken name is refused."""
    if isinstance(spec, gym.Env):  # stepped on the host, from deep copies of the object as given
        return _register_object(spec, lambda name, env: make_python_env(name, factory=lambda: copy.deepcopy(env)))
    if not isinstance(spec, EnvSpec) and callable(getattr(spec, "reset", None)) and callable(getattr(spec, "step", None)):
        return _register_object(spec, spec_from_gymnax)  # a JAX env object (gymnax 1.x or 0.x API, navix, jumanji)
    if not isinstance(spec, EnvSpec):
        raise RLCheckError(f"Expected an environment name or an rlcheck EnvSpec, got {type(spec).__name__}. Pass a "
                           "gymnax name, a Gymnasium id, 'package.module:ClassName', or an EnvSpec "
                           "(rlcheck.envs.spec_from_gymnax(name, env, params)).")
    if _GIVEN.get(spec.name, spec) is not spec:
        raise RLCheckError(f"Another environment object is already registered as {spec.name!r}; give this one "
                           "another name (dataclasses.replace(spec, name=...)).")
    _GIVEN[spec.name] = spec
    return spec.name


def make_env(name: str, env_kwargs: dict[str, Any] | None = None, wrappers: Sequence[str] = (),
             imports: Sequence[str] = ()) -> EnvSpec:
    import_packages(imports)
    jax_env = (name.startswith(("trap/", "gymnax:")) or name.partition(":")[0] in JAX_LIBRARIES
               or (name in registered_env_ids() and not env_kwargs) or (name in _GIVEN and not env_kwargs))
    if jax_env and wrappers:
        spec = make_env(name, env_kwargs, (), ())
        if not isinstance(spec.env, HostEnv):
            return _jax_time_limited(spec, [parse_wrapper(w) for w in wrappers])
    if name in _GIVEN and not env_kwargs and not wrappers:
        return _GIVEN[name]
    if name.startswith("trap/"):
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a built-in trap env.")
        return make_trap(name)
    if name.partition(":")[0] in JAX_LIBRARIES:
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a JAX env.")
        return _library_env(name)
    if name.startswith("gymnax:") or (name in registered_env_ids() and not env_kwargs):
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a gymnax env. Drop the "
                               f"'gymnax:' prefix and write 'gymnasium:{name.removeprefix('gymnax:')}' to pass kwargs.")
        return make_jax_env(name)
    key = json.dumps([name, env_kwargs or {}, list(wrappers)], sort_keys=True, default=str)
    if key not in _PYTHON_ENVS and (env_class := user_jax_class(name)) is not None:
        _PYTHON_ENVS[key] = _user_jax_env(name, env_class, env_kwargs or {}, wrappers)
    if key not in _PYTHON_ENVS:
        _PYTHON_ENVS[key] = make_python_env(name, env_kwargs, wrappers=[parse_wrapper(w) for w in wrappers])
    return _PYTHON_ENVS[key]


def _jax_time_limited(spec: EnvSpec, wrappers: Sequence[WrapperSpec]) -> EnvSpec:
    """A JAX env takes one wrapper, Gymnasium's TimeLimit, as a change of its own time limit (the others wrap
    Python envs)."""
    other = [w.text for w in wrappers if w.wrapper is not gym.wrappers.TimeLimit]
    if other or not wrappers:
        raise RLCheckError(f"--wrap {', '.join(other)}: {spec.name!r} is a JAX env, which takes only "
                           "TimeLimit:max_episode_steps=N (its time limit); the other wrappers apply to Gymnasium envs. "
                           f"Write 'gymnasium:{spec.name.removeprefix('gymnax:')}' to wrap Gymnasium's version (if it has one).")
    kwargs = dict(wrappers[-1].kwargs)
    limit = kwargs.pop("max_episode_steps", None)
    if kwargs or isinstance(limit, bool) or not isinstance(limit, int):
        raise RLCheckError(f"--wrap {wrappers[-1].text}: on the JAX env {spec.name!r}, TimeLimit takes one argument, "
                           f"max_episode_steps, a whole number (got {', '.join(f'{k}={v!r}' for k, v in wrappers[-1].kwargs) or 'none'}). "
                           "Write e.g. --wrap TimeLimit:max_episode_steps=200.")
    env, params = with_time_limit(spec.env, spec.params, limit, spec.name)
    return dataclasses.replace(spec, env=env, params=params, max_episode_steps=limit,
                               wrappers=tuple(w.text for w in wrappers), limit_source="a TimeLimit wrapper")


def _user_jax_env(name: str, env_class: type, env_kwargs: dict[str, Any], wrappers: Sequence[str]) -> EnvSpec:
    """A user's gymnax-API class named as `module:ClassName`: built with no arguments, `env_kwargs` replacing
    fields of its default params (that is where a gymnax env keeps its settings)."""
    try:
        env = env_class()
    except Exception as exc:  # the user's constructor: any error is theirs to read
        raise RLCheckError(f"Environment {name!r}: {env_class.__name__}() failed ({type(exc).__name__}: {exc}). "
                           "A JAX env named as module:ClassName is built with no arguments; put its settings in "
                           "its params and pass them with --env-kwargs.") from exc
    params = env.default_params
    if env_kwargs:
        fields = {f.name for f in dataclasses.fields(params)} if dataclasses.is_dataclass(params) else set()
        unknown = sorted(set(env_kwargs) - fields)
        if unknown:
            raise RLCheckError(f"--env-kwargs {', '.join(unknown)}: not fields of {env_class.__name__}'s params "
                               f"({', '.join(sorted(fields)) or 'none'}). For a JAX env, --env-kwargs sets its params.")
        params = params.replace(**env_kwargs)
    spec = spec_from_gymnax(name, env, params)
    return _jax_time_limited(spec, [parse_wrapper(w) for w in wrappers]) if wrappers else spec


def _library_env(name: str) -> EnvSpec:
    if name not in _GIVEN:
        name, env, params, limit = make_library_env(name)
        _GIVEN[name] = spec_from_gymnax(name, env, params, max_episode_steps=limit)
    return _GIVEN[name]


__all__ = ["EnvSpec", "make_env", "register_spec", "make_jax_env", "registered_env_ids", "spec_from_gymnax"]
