"""Rainbow (Hessel et al. 2018): DQN with all six parts on: double-DQN targets, prioritised replay,
dueling heads, 3-step returns, C51 distributional values and noisy nets (so no epsilon-greedy).
The loop is DQN's (methods/dqn.py); only the defaults differ, from Dopamine's Rainbow where they are
not per-env: Adam 6.25e-5 (eps 1.5e-4), 51 atoms in [-10, 10], alpha 0.5, beta 0.4 -> 1.
Any switch can be turned back off with --set (e.g. --set noisy=false)."""

from __future__ import annotations

from typing import Any

from flax import struct

from rlcheck.core.config import numeric, static
from rlcheck.methods.dqn import DQN, DQNConfig


@struct.dataclass
class RainbowConfig(DQNConfig):
    learning_rate: float = numeric(6.25e-5, "Adam step size")
    adam_eps: float = numeric(1.5e-4, "Adam epsilon")
    start_epsilon: float = numeric(0.0, "no epsilon-greedy: noisy nets explore")
    end_epsilon: float = numeric(0.0, "no epsilon-greedy: noisy nets explore")
    double_dqn: bool = static(True, "select the next action with the online net, value it with the target net")
    n_step: int = static(3, "n-step returns")
    distributional: bool = static(True, "C51: learn a categorical return distribution")
    dueling: bool = static(True, "separate value and advantage streams")
    noisy: bool = static(True, "noisy dense layers (factorised Gaussian) for exploration")
    prioritized: bool = static(True, "prioritised replay, proportional to the C51 loss")


DEFAULTS: dict[str, dict[str, Any]] = {
    # Any Atari game: Dopamine's Rainbow (batch 32, target every 8000, an update every 4 env steps,
    # learning_starts 20k, Nature CNN then 512 units).
    "atari": dict(batch_size=32, target_update_interval=8000, num_envs=4, learning_starts=20_000,
                  buffer_size=1_000_000, hidden_sizes=(512,)),
    # CartPole: DQN's CleanRL sizes, with Rainbow's learning rate raised for the short budget.
    "CartPole-v1": {"learning_rate": 1e-3, "v_min": 0.0, "v_max": 100.0},
}


class Rainbow(DQN):
    name = "rainbow"
    Config = RainbowConfig
    defaults = DEFAULTS
