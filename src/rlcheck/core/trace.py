"""`Trace`: the one record every method returns, RL or not; and the rows it is assembled from
(`IterationLog` per training iteration, `Checkpoint` per evaluation).

All leaves carry a leading checkpoint axis T (the first checkpoint is the untrained
policy at env step 0); a vmapped run adds leading run axes in front of it.
"""

from __future__ import annotations

import jax
from flax import struct

# diagnostics key: the final policy's mean return when it acts as in training (sampled, epsilon-greedy,
# noised), NaN at the other checkpoints; with "_std", its spread over the evaluation episodes
STOCHASTIC = "eval_return_stochastic"


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


@struct.dataclass
class IterationLog:
    """What one iteration reports: finished training episodes and diagnostics. Methods whose
    iterations use a varying number of env steps (random search, CEM: episodes end early) report
    their cumulative real env steps in `env_steps`; the trace then records those, not the schedule's."""

    episode_return_sum: jax.Array
    episodes_finished: jax.Array
    diagnostics: dict[str, jax.Array]
    env_steps: jax.Array | None = None  # cumulative real env steps after this iteration
    model_calls: jax.Array | None = None  # cumulative simulator-as-model calls after this iteration


@struct.dataclass
class Checkpoint:
    """One row of a Trace (without the leading T axis)."""

    eval_returns: jax.Array
    train_returns: jax.Array
    train_episodes: jax.Array
    diagnostics: dict[str, jax.Array]
    env_steps: jax.Array  # cumulative real env steps as counted by the method; -1 = the schedule's count
    model_calls: jax.Array  # cumulative simulator-as-model calls
    behaviour: dict[str, jax.Array]  # the evaluated policy's behaviour scalars
