"""Defaults derived from the env, for envs without a reference entry in a method's per-env table.

CartPole's settings are a poor guess for a 1000-step lander or a robot: on LunarLander-v3 they leave
PPO worse than a random policy. So for an env rlcheck has no tuned entry for, the settings come from
what was published for envs of the same kind, chosen by what `diagnostics.facts` measures (the time
limit, the observations' scale under a random policy, the action space). Each derived value carries
its reason, which the manifest and the report show; `--set` overrides any of them.

Sources:
- RL Baselines3 Zoo `hyperparams/ppo.yml`, LunarLander-v2 and LunarLanderContinuous-v2 (1000-step
  episodes, unit-scale observations): 16 envs x 1024 steps, minibatches of 64, 4 epochs, gamma 0.999,
  GAE lambda 0.98, entropy 0.01; and for what the Zoo leaves unset, Stable-Baselines3's PPO defaults,
  which it runs with: lr 3e-4, constant, no clipping of the value update.
- CleanRL `ppo_continuous_action.py` (MuJoCo: 1000-step episodes, unnormalised velocities): 1 env x
  2048 steps, 32 minibatches, 10 epochs, lr 3e-4, no entropy bonus, observation normalisation;
  RL Zoo normalises every MuJoCo, Acrobot and MountainCar PPO run ("37 implementation details of
  PPO", details 3.x).
- gymnax-blines' PPO settings for Breakout-MinAtar, for the other MinAtar games.
- RL Zoo `hyperparams/dqn.yml`, the recipe it shares between Acrobot-v1 and LunarLander-v2: lr 6.3e-4,
  batch 128, 50k replay, no warm-up, target every 250 steps, epsilon to 0.1 over 12% of the budget,
  4 updates every 4 env steps, a 256x256 network.
- CPU-sized off-policy networks (SAC, TD3, DDPG) for low-dimensional control: 64x64, the size of OpenAI
  Baselines' default MLP (`baselines/common/models.py`, `mlp(num_layers=2, num_hidden=64)`, the network of
  its DDPG, PPO2 and TRPO on such tasks) and of RL Zoo's own SAC entry for MountainCarContinuous-v0. SB3's
  256x256 (TD3 paper: 400x300) cost 13 to 15 times the multiply-adds per update, and an update per env step is
  where an off-policy learner's time goes on a CPU; `--reference-settings` restores them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rlcheck.diagnostics.facts import EnvFacts

LONG_HORIZON = 1000  # steps: RL Zoo's Box2D and MuJoCo tasks
LARGE_OBS = 10.0  # |mean| + std of some observation dimension under a random policy
UNEVEN_OBS = 100.0  # ratio of the largest to the smallest per-dimension spread

LUNAR_PPO = "RL Zoo ppo.yml, LunarLander-v2 (1000-step episodes, unit-scale observations)"
MUJOCO_PPO = "CleanRL ppo_continuous_action.py (MuJoCo: 1000-step episodes, observations to normalise)"
ZOO_DQN = "RL Zoo dqn.yml, the recipe shared by Acrobot-v1 and LunarLander-v2"
MINATAR_PPO = "gymnax-blines ppo.yaml for Breakout-MinAtar (methods/ppo.py)"
MINATAR_SETTINGS = dict(num_envs=64, num_steps=128, update_epochs=4, num_minibatches=8, gamma=0.999, learning_rate=1e-3,
                        anneal_lr=False, hidden_sizes=(256, 256), activation="relu")


def _needs_normalising(facts: EnvFacts) -> bool:
    return (facts.obs_bounded is False
            or (facts.obs_scale is not None and facts.obs_scale > LARGE_OBS)
            or (facts.obs_std_ratio is not None and facts.obs_std_ratio > UNEVEN_OBS))


def _scale_reason(facts: EnvFacts) -> str:
    if facts.obs_bounded is False:
        return "the observation space is unbounded (as MuJoCo's: velocities a random policy never reaches)"
    return (f"observations under a random policy reach {facts.obs_scale:.3g} (|mean| + std), and their spreads differ "
            f"{facts.obs_std_ratio:.3g}-fold" if facts.obs_scale is not None and facts.obs_std_ratio is not None
            else "observation scale not measured")


def ppo(facts: EnvFacts) -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    if facts.family == "minatar":
        reason = f"{MINATAR_PPO}: another MinAtar game"
        return {k: (v, reason) for k, v in MINATAR_SETTINGS.items()}
    if facts.image:
        return out  # a CNN's defaults are Atari's (methods/ppo.py DEFAULTS["atari"]), not derived here
    normalise = _needs_normalising(facts)
    long = facts.horizon >= LONG_HORIZON and not facts.limit_assumed  # a cap rlcheck chose says nothing of the task
    why_long = f"the time limit is {facts.horizon} steps (>= {LONG_HORIZON})"
    if long and not facts.discrete and normalise:
        reason = f"{MUJOCO_PPO}: {why_long} and {_scale_reason(facts)}"
        out.update(num_envs=(1, reason), num_steps=(2048, reason), num_minibatches=(32, reason),
                   update_epochs=(10, reason), learning_rate=(3e-4, reason), ent_coef=(0.0, reason),
                   normalize_obs=(True, reason))
        return out
    if long:
        reason = f"{LUNAR_PPO}: {why_long}"
        out.update(num_envs=(16, reason), num_steps=(1024, reason), num_minibatches=(256, reason),
                   update_epochs=(4, reason), gamma=(0.999, reason), gae_lambda=(0.98, reason), ent_coef=(0.01, reason))
        sb3 = f"{reason}, with Stable-Baselines3's PPO defaults for what it leaves unset"
        out.update(learning_rate=(3e-4, sb3), anneal_lr=(False, sb3), clip_value_loss=(False, sb3))
    if normalise:
        out["normalize_obs"] = (True, f"RL Zoo normalises such observations (Acrobot, MountainCar, MuJoCo): "
                                      f"{_scale_reason(facts)}")
    return out


def dqn(facts: EnvFacts) -> dict[str, tuple[Any, str]]:
    if facts.image:
        return {}
    reason = ZOO_DQN
    settings = dict(learning_rate=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0,
                    target_update_interval=250, exploration_fraction=0.12, end_epsilon=0.1, num_envs=4,
                    gradient_steps=4, hidden_sizes=(256, 256))
    return {k: (v, reason) for k, v in settings.items()}


LOW_DIMENSIONAL = 64  # observation numbers: vector-state control (classic control, Box2D, MuJoCo locomotion)
CPU_NETWORK = (64, 64)
CPU_SIZED = "OpenAI Baselines' MLP (64x64) for low-dimensional control, sized for a CPU (methods/derived.py)"


def cpu_sized(facts: EnvFacts) -> dict[str, tuple[Any, str]]:
    """Off-policy networks sized to the problem: 64x64 for a low-dimensional observation and action."""
    if facts.image or facts.obs_dim is None or facts.obs_dim > LOW_DIMENSIONAL:
        return {}
    why = f"{CPU_SIZED}: {facts.obs_dim} observation numbers (<= {LOW_DIMENSIONAL})"
    return {"hidden_sizes": (CPU_NETWORK, why)}


RULES = {"ppo": ppo, "dqn": dqn, "sac": cpu_sized, "td3": cpu_sized, "ddpg": cpu_sized}
CPU_RULES = ("sac", "td3", "ddpg")  # the rules that trade the reference's size for time: --reference-settings undoes them


def derived_settings(method: str, facts: EnvFacts) -> dict[str, tuple[Any, str]]:
    """field -> (value, why) for `method` on an env with these facts; empty where nothing is derived."""
    rule = RULES.get(method)
    return rule(facts) if rule else {}


def cpu_sized_fields(method: str, facts: EnvFacts) -> tuple[str, ...]:
    """The fields whose derived value is sized for time rather than taken from a published recipe."""
    return tuple(derived_settings(method, facts)) if method in CPU_RULES else ()


MINIBATCH = 64  # the Zoo's batch_size: samples per PPO minibatch in the derived recipes


def adjust(method: str, config: Any, derived: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """Keep a derived recipe whole when the user changes part of it: PPO's minibatches stay of 64 samples
    when the user sets num_envs or num_steps (256 minibatches of a 256-step rollout would be of one)."""
    if (method != "ppo" or "num_minibatches" not in derived or "num_minibatches" in overrides
            or not {"num_envs", "num_steps"} & set(overrides)):
        return config
    batch = config.num_envs * config.num_steps
    count = max(1, batch // MINIBATCH)
    while batch % count:
        count -= 1
    return dataclasses.replace(config, num_minibatches=count)
