"""Resolve an environment name to an EnvSpec: JAX-native (gymnax API) where one exists, else a
Python Gymnasium env stepped on the host.

- `gymnax:NAME` forces the JAX version; `gymnasium:ID` forces Gymnasium's.
- A bare name that gymnax provides (CartPole-v1, Pendulum-v1, Breakout-MinAtar, ...) is the JAX version:
  the same dynamics, and the whole loop compiles.
- Any other name is a registered Gymnasium id or `package.module:ClassName`, with `env_kwargs` passed
  to `gymnasium.make`, after a preflight.
"""

from __future__ import annotations

from typing import Any

from rlcheck.envs.jax_env import (
    EnvSpec,
    make_jax_env,
    registered_env_ids,
    spec_from_gymnax,
)
from rlcheck.errors import RLCheckError

_PYTHON_ENVS: dict[str, EnvSpec] = {}  # one preflight and one pool of copies per env and kwargs


def make_env(name: str, env_kwargs: dict[str, Any] | None = None) -> EnvSpec:
    if name.startswith("trap/"):
        from rlcheck.envs.traps import make_trap

        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a built-in trap env.")
        return make_trap(name)
    if name.startswith("gymnax:") or (name in registered_env_ids() and not env_kwargs):
        if env_kwargs:
            raise RLCheckError(f"--env-kwargs applies to Gymnasium envs; {name!r} is a gymnax env. Drop the "
                               f"'gymnax:' prefix and write 'gymnasium:{name.removeprefix('gymnax:')}' to pass kwargs.")
        return make_jax_env(name)
    import json

    from rlcheck.envs.python_env import make_python_env

    key = json.dumps([name, env_kwargs or {}], sort_keys=True, default=str)
    if key not in _PYTHON_ENVS:
        _PYTHON_ENVS[key] = make_python_env(name, env_kwargs)
    return _PYTHON_ENVS[key]


__all__ = ["EnvSpec", "make_env", "make_jax_env", "registered_env_ids", "spec_from_gymnax"]
