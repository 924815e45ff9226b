"""MPC with the true model on MuJoCo envs run through Gymnasium: the model is a second copy of the
env whose physics state is set to the real env's (`set_state(qpos, qvel)`, MuJoCo's save/restore),
then stepped through the env's own `step`, so rewards and terminations are exactly the env's. The
same variants as the JAX MPC (predictive sampling, MPPI, CEM-MPC) with a warm-started plan, in numpy
on the host. Every simulated step is a model call; no env step is used for learning.

This is slow in Python (one MuJoCo step through Gymnasium is tens of microseconds, times samples x
horizon per real step), so budgets are small; the model calls per episode are in the report."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcheck.baselines.planner import NotApplicable, run_host_planner
from rlcheck.diagnostics.behaviour import EpisodeRecorder
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.loop import Budget


def check_mujoco(env: EnvSpec) -> None:
    copy = env.env.make()
    raw = copy.unwrapped
    supported = hasattr(raw, "set_state") and hasattr(getattr(raw, "data", None), "qpos")
    copy.close()
    if not supported:
        raise NotApplicable(f"MPC plans from a copy of the env's state; {env.name} is a Python env without MuJoCo's "
                            "set_state(qpos, qvel), so its state cannot be copied.")
    if env.discrete:
        raise NotApplicable(f"MPC on Python envs handles continuous actions; {env.name} has discrete ones.")


def _returns(model: Any, qpos: np.ndarray, qvel: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, int]:
    """Undiscounted return of each candidate action sequence from (qpos, qvel); model calls used."""
    out = np.zeros(len(candidates))
    calls = 0
    for i, sequence in enumerate(candidates):
        model.set_state(qpos, qvel)
        for action in sequence:
            _, reward, terminated, _, _ = model.step(action)
            out[i] += reward
            calls += 1
            if terminated:
                break
    return out, calls


def play_episode(env: EnvSpec, config: Any, seed: int, recorder: EpisodeRecorder | None = None) -> tuple[float, int, int]:
    """One episode of MPC on a fresh real copy; returns (return, model calls, steps). `recorder` gets
    every real step, for the behaviour descriptors."""
    rng = np.random.default_rng(seed)
    real, model_env = env.env.make_eval(), env.env.make()
    model = model_env.unwrapped
    low, high = env.action_low, env.action_high
    scale = (high - low) / 2
    plan = np.zeros((config.horizon, env.num_actions))
    obs, _ = real.reset(seed=int(seed))
    total, calls, steps, done = 0.0, 0, 0, False
    while not done:
        qpos, qvel = real.unwrapped.data.qpos.copy(), real.unwrapped.data.qvel.copy()
        mean, std = plan, np.full_like(plan, float(config.noise_std))
        for _ in range(max(1, config.iterations)):
            noise = rng.normal(size=(config.num_samples, *plan.shape)) * std
            candidates = np.clip(mean + noise, -1.0, 1.0)
            candidates[0] = np.clip(mean, -1.0, 1.0)  # the shifted previous plan is always a candidate
            returns, used = _returns(model, qpos, qvel, low + (candidates + 1.0) * scale)
            calls += used
            if config.variant == "sampling":
                mean = candidates[np.argmax(returns)]
            elif config.variant == "mppi":
                weights = np.exp((returns - returns.max()) / float(config.temperature))
                mean = np.tensordot(weights / weights.sum(), candidates, axes=1)
            else:  # cem
                elite = candidates[np.argsort(returns)[-max(2, int(config.elite_fraction * config.num_samples)):]]
                mean, std = elite.mean(0), elite.std(0) + 1e-3
        action = low + (mean[0] + 1.0) * scale
        next_obs, reward, terminated, truncated, info = real.step(action)
        if recorder is not None:
            recorder.add(obs, action, reward, terminated, next_obs, info)
        obs = next_obs
        total += float(reward)
        steps += 1
        done = terminated or truncated
        plan = np.concatenate([mean[1:], mean[-1:]])
    real.close()
    model_env.close()
    return total, calls, steps


def run_host_mpc(method: Any, env: EnvSpec, configs: list[Any], seeds: list[int], budget: Budget, progress=None):
    return run_host_planner(method, env, lambda config, seed, recorder: play_episode(env, config, seed, recorder), configs,
                            seeds, budget, progress)
