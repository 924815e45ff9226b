"""`Trace`: the one record every method returns, RL or not.

All leaves carry a leading checkpoint axis T (the first checkpoint is the untrained
policy at env step 0); a vmapped run adds leading run axes in front of it.
"""

from __future__ import annotations

import jax
from flax import struct


@struct.dataclass
class Trace:
    env_steps: jax.Array  # [T] real env steps used for learning, counted exactly
    model_calls: jax.Array  # [T] simulator-as-model calls (planning); 0 for model-free RL
    eval_returns: jax.Array  # [T, K] deterministic-policy returns of K evaluation episodes
    train_returns: jax.Array  # [T] mean return of training episodes finished since the last checkpoint; nan if none
    train_episodes: jax.Array  # [T] training episodes finished since the last checkpoint
    diagnostics: dict[str, jax.Array]  # [T] method-specific losses etc., averaged over the interval
    # [T] what the evaluated policy does (diagnostics/behaviour.py): descriptors and the true objective
    behaviour: dict[str, jax.Array] = struct.field(default_factory=dict)
