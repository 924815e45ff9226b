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
from rlcheck.methods.rainbow import Rainbow
from rlcheck.methods.sac import SAC
from rlcheck.methods.td3 import TD3
from rlcheck.methods.trpo import TRPO

RL_METHODS = ("ppo", "dqn", "rainbow", "trpo", "sac", "td3", "ddpg", "naf")
BASELINES = ("ars", "cem", "cmaes", "lqr", "mpc", "mcts")
SECOND_IMPLEMENTATIONS = ("sb3-ppo", "sb3-dqn", "sb3-sac", "sb3-td3", "sb3-ddpg")  # Stable-Baselines3, opt-in
OPT_IN = ("rainbow", "trpo", *SECOND_IMPLEMENTATIONS)  # run only when named in --methods
_REGISTRY: dict[str, Method] = {}


def __getattr__(name: str) -> Any:
    """`METHODS` is built on first use: the baselines import this package's modules, so importing
    them here eagerly would be circular."""
    if name == "METHODS":
        if not _REGISTRY:
            from rlcheck.baselines.ars import ARS
            from rlcheck.baselines.cem import CEM
            from rlcheck.baselines.cmaes import CMAES
            from rlcheck.baselines.lqr import LQR
            from rlcheck.baselines.mcts import MCTS
            from rlcheck.baselines.mpc import MPC

            from rlcheck.methods.sb3 import OURS, SB3Method

            _REGISTRY.update({m.name: m for m in (PPO(), DQN(), Rainbow(), TRPO(), SAC(), TD3(), DDPG(), NAF(), ARS(), CEM(), CMAES(), LQR(), MPC(), MCTS())})
            _REGISTRY.update({f"sb3-{algo}": SB3Method(algo) for algo in OURS})  # opt-in: --methods ppo,sb3-ppo
        return _REGISTRY
    raise AttributeError(name)

__all__ = ["BASELINES", "METHODS", "RL_METHODS", "Budget", "Method", "default_config", "get_method", "train"]


def get_method(name: str) -> Method:
    methods = __getattr__("METHODS")
    if name not in methods:
        close = difflib.get_close_matches(name, list(methods), n=2)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RLCheckError(f"Unknown algorithm {name!r}.{hint} Available: {', '.join(methods)}.")
    return methods[name]


def default_config(method: Method, env: EnvSpec, overrides: dict[str, Any] | None = None) -> Any:
    """The method's defaults for this env (source named in the method module), then user overrides."""
    if hasattr(method, "check"):
        method.check(env)
    from rlcheck.envs.atari import is_atari

    defaults = method.defaults.get(env.task, method.defaults.get("atari", {}) if is_atari(env.task) else {})
    config = apply_overrides(method.Config(), defaults)
    config = apply_overrides(config, overrides or {})
    if hasattr(method, "validate"):
        method.validate(config)
    return config
