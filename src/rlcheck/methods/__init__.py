"""Every learner has the same contract: `train(key, env, config, budget) -> Trace`, pure and
vmappable over keys and over stacked numeric config values."""

from __future__ import annotations

import difflib
from typing import Any

from rlcheck.envs.jax_env import EnvSpec
from rlcheck.errors import RLCheckError
from rlcheck.methods.config import apply_overrides
from rlcheck.methods.ddpg import DDPG
from rlcheck.methods.dqn import DQN
from rlcheck.methods.loop import Budget, Method, train
from rlcheck.methods.naf import NAF
from rlcheck.methods.ppo import PPO
from rlcheck.methods.sac import SAC
from rlcheck.methods.td3 import TD3

METHODS: dict[str, Method] = {m.name: m for m in (PPO(), DQN(), SAC(), TD3(), DDPG(), NAF())}

__all__ = ["METHODS", "Budget", "Method", "default_config", "get_method", "train"]


def get_method(name: str) -> Method:
    if name not in METHODS:
        close = difflib.get_close_matches(name, list(METHODS), n=2)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RLCheckError(f"Unknown algorithm {name!r}.{hint} Available: {', '.join(METHODS)}.")
    return METHODS[name]


def default_config(method: Method, env: EnvSpec, overrides: dict[str, Any] | None = None) -> Any:
    """The method's defaults for this env (source named in the method module), then user overrides."""
    if hasattr(method, "check"):
        method.check(env)
    config = apply_overrides(method.Config(), method.defaults.get(env.name, {}))
    config = apply_overrides(config, overrides or {})
    if hasattr(method, "validate"):
        method.validate(config)
    return config
