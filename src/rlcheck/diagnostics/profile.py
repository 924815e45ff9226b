"""The plausibility profile: the properties under which deep RL tends to work, measured on the env.

- reward density: the share of steps with a non-zero reward, and of episodes with a positive return,
  under the random probe;
- experience speed: env steps per second on this machine, and what 1M steps would take;
- delay: the largest lag k at which the reward r[t+k] still depends on the action a[t] under the random
  probe (dependence: the share of r[t+k]'s variance explained by a[t], above a permutation null);
- return levels: how many distinct mean returns the probes reach; several levels hint at plateaus a
  learner can stop on (local optima).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcheck.diagnostics import probes as probes_module
from rlcheck.diagnostics.probes import Rollout
from rlcheck.envs.jax_env import EnvSpec

MAX_LAG = 50
NULL_PERMUTATIONS = 20
DEPENDENCE_FACTOR = 3.0  # dependence counts when it exceeds 3x the permutation null's 95th percentile
RETURN_LEVEL_TOLERANCE = 0.05  # mean returns within 5% of the probes' range are one level


def plausibility_profile(env: EnvSpec, rollouts: Sequence[Rollout], measure_speed: bool = True,
                         info_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    random = next(r for r in rollouts if r.probe.kind == "random")
    rewards = random.reward[random.valid]
    speed = (probes_module.steps_per_second(env, [r.probe for r in rollouts], len(random.reward), info_keys,
                                            horizon=random.reward.shape[1]) if measure_speed else None)
    return {
        "nonzero_reward_share": float(np.mean(rewards != 0)) if rewards.size else 0.0,
        "positive_return_episode_share": float(np.mean(random.returns > 0)),
        "env_steps_per_second": speed,
        "seconds_per_million_steps": None if not speed else 1e6 / speed,
        "action_effect_lag": action_effect_lag(random, env.discrete),
        "return_levels": return_levels(rollouts),
    }


def _dependence(actions: np.ndarray, rewards: np.ndarray, discrete: bool) -> float:
    """Share of the rewards' variance explained by the action: the between-group variance over the
    groups of equal actions (continuous: quintile bins, per dimension, the largest), which also catches
    effects that are not linear (a cost in u squared)."""
    variance = rewards.var()
    if variance == 0 or rewards.size < 10:
        return 0.0
    if discrete:
        return _explained(actions, rewards, variance)
    actions = actions.reshape(len(actions), -1)
    best = 0.0
    for d in range(actions.shape[1]):
        edges = np.quantile(actions[:, d], [0.2, 0.4, 0.6, 0.8])
        best = max(best, _explained(np.searchsorted(edges, actions[:, d]), rewards, variance))
    return best


def _explained(groups: np.ndarray, rewards: np.ndarray, variance: float) -> float:
    between = sum((groups == g).sum() * (rewards[groups == g].mean() - rewards.mean()) ** 2 for g in np.unique(groups))
    return float(between / rewards.size / variance)


def action_effect_lag(random: Rollout, discrete: bool, max_lag: int = MAX_LAG, seed: int = 0) -> dict[str, Any]:
    """The largest lag (in steps) at which an action still measurably changes the reward."""
    rng = np.random.default_rng(seed)
    horizon = random.reward.shape[1]
    if np.unique(random.reward[random.valid]).size < 2:
        return {"lag": None, "note": "the reward does not vary under the random probe; actions matter only "
                "through how long episodes last"}
    last_dependent = None
    for lag in range(min(max_lag, horizon - 1) + 1):
        both = random.valid[:, : horizon - lag] & random.valid[:, lag:]
        a = random.actions[:, : horizon - lag][both]
        r = random.reward[:, lag:][both]
        if r.size < 50:
            break
        observed = _dependence(a, r, discrete)
        null = [_dependence(rng.permutation(a), r, discrete) for _ in range(NULL_PERMUTATIONS)]
        if observed > DEPENDENCE_FACTOR * max(np.quantile(null, 0.95), 1e-12):
            last_dependent = lag
    note = ("the reward responds to actions immediately" if last_dependent == 0 else
            f"actions still change the reward {last_dependent} steps later" if last_dependent is not None else
            f"at no lag up to {max_lag} does the action explain a measurable share of the reward's variance "
            "(the state dominates the reward; effects through the state are not separated out)")
    if last_dependent == max_lag:
        note = f"actions still change the reward {max_lag}+ steps later (the longest lag tested)"
    return {"lag": last_dependent, "note": note}


def return_levels(rollouts: Sequence[Rollout]) -> dict[str, Any]:
    means = sorted(float(r.returns.mean()) for r in rollouts)
    spread = means[-1] - means[0]
    levels = [means[0]]
    for m in means[1:]:
        if m - levels[-1] > RETURN_LEVEL_TOLERANCE * spread:
            levels.append(m)
    return {"count": len(levels) if spread > 0 else 1, "levels": levels if spread > 0 else [means[0]]}
