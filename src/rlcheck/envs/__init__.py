"""Resolve an environment name to an EnvSpec: JAX-native (gymnax API) where one exists, else a
Python Gymnasium env stepped on the host.

- `gymnax:NAME` forces the JAX version; `gymnasium:ID` forces Gymnasium's.
- A bare name that gymnax provides (CartPole-v1, Pendulum-v1, Breakout-MinAtar, ...) is the JAX version:
  the same dynamics, and the whole loop compiles.
- Any other name is a registered Gymnasium id or `package.module:ClassName`, with `env_kwargs` passed
  to `gymnasium.make`, after a preflight.
"""

from __future__ import annotations

import json
from typing import Any

from rlcheck.core.errors import RLCheckError
from rlcheck.envs.jax_env import EnvSpec, make_jax_env, registered_env_ids, spec_from_gymnax
from rlcheck.envs.python_env import make_python_env
from rlcheck.envs.traps import make_trap

_PYTHON_ENVS: dict[str, EnvSpec] = {}  # one preflight and one pool of copies per env and kwargs
_GIVEN: dict[str, EnvSpec] = {}  # env objects handed to the API, by name


def register_spec(spec: EnvSpec) -> str:
    """Make an EnvSpec built in Python resolvable by its name in this process (the API accepts env objects
    this way); returns the name. A different object under a taken name is refused."""
    if not isinstance(spec, EnvSpec):
        raise RLCheckError(f"Expected an environment name or an rlcheck EnvSpec, got {type(spec).__name__}. Pass a "
                           "gymnax name, a Gymnasium id, 'package.module:ClassName', or an EnvSpec "
                           "(rlcheck.envs.spec_from_gymnax(name, env, params)).")
    if _GIVEN.get(spec.name, spec) is not spec:
        raise RLCheckError(f"Another environment object is already registered as {spec.name!r}; give this one "
                           "another name (dataclasses.replace(spec, name=...)).")
    _GIVEN[spec.name] = spec
    return spec.name


def make_env(name: str, env_kwargs: dict[str, Any] | None = None) -> EnvSpec:
    if name in _GIVEN and not env_kwargs:
        return _GIVEN[name]
    if name.startswith("trap/"):
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a built-in trap env.")
        return make_trap(name)
    if name.startswith("gymnax:") or (name in registered_env_ids() and not env_kwargs):
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a gymnax env. Drop the "
                               f"'gymnax:' prefix and write 'gymnasium:{name.removeprefix('gymnax:')}' to pass kwargs.")
        return make_jax_env(name)
    key = json.dumps([name, env_kwargs or {}], sort_keys=True, default=str)
    if key not in _PYTHON_ENVS:
        _PYTHON_ENVS[key] = make_python_env(name, env_kwargs)
    return _PYTHON_ENVS[key]


__all__ = ["EnvSpec", "make_env", "register_spec", "make_jax_env", "registered_env_ids", "spec_from_gymnax"]
