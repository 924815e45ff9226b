"""DDPG: TD3's loop with one critic, no target smoothing and no policy delay (as Stable-Baselines3
defines it); exploration by Gaussian or Ornstein-Uhlenbeck noise (`--set noise_type=ou`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flax import struct

from rlcheck.core.config import numeric, static
from rlcheck.methods.td3 import TD3, ZOO_PENDULUM, TD3Config


@struct.dataclass
class DDPGConfig(TD3Config):
    target_policy_noise: float = numeric(0.0, "DDPG: no target policy smoothing")
    policy_delay: int = static(1, "DDPG: actor updated with every critic update")
    num_critics: int = static(1, "DDPG: one critic")


DEFAULTS: dict[str, dict[str, Any]] = {
    # RL Baselines3 Zoo ddpg.yml Pendulum-v1: the same settings as its TD3 entry.
    "Pendulum-v1": ZOO_PENDULUM,
    # RL Zoo ddpg.yml MountainCarContinuous-v0: OU noise 0.5.
    "MountainCarContinuous-v0": dict(noise_type="ou", exploration_noise=0.5),
}

assert {f.name for f in dataclasses.fields(DDPGConfig)} == {f.name for f in dataclasses.fields(TD3Config)}


class DDPG(TD3):
    name = "ddpg"
    Config = DDPGConfig
    defaults = DEFAULTS
