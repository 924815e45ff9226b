"""Stable-Baselines3 as a second implementation: `sb3-ppo`, `sb3-dqn`, `sb3-sac`, `sb3-td3` and
`sb3-ddpg` take rlcheck's own config for that algorithm (same defaults, same `--set` keys), map it onto
SB3's arguments, and train on Gymnasium's version of the env, one process per seed, evaluated at the
same env steps as rlcheck's learners. A study can then put "ppo" beside "sb3-ppo" and test whether the
implementations differ. Needs the `sb3` extra (`pip install -e ".[sb3]"`; torch pinned to the CPU build).

What SB3 cannot mirror is listed by `unmatched(config)`: SB3's DQN has no double-DQN or n-step
returns and always uses the Huber loss; SB3 normalises PPO observations with VecNormalize, whose
statistics are updated differently from rlcheck's running normaliser.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent import futures
from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck.core.budget import Budget, make_schedule
from rlcheck.core.contracts import MethodBase
from rlcheck.core.errors import NotApplicable, RLCheckError
from rlcheck.core.results import RunResult
from rlcheck.core.trace import Trace
from rlcheck.envs import make_env
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.python_env import resolve_id
from rlcheck.methods.ddpg import DDPG
from rlcheck.methods.dqn import DQN
from rlcheck.methods.ppo import PPO
from rlcheck.methods.sac import SAC
from rlcheck.methods.td3 import TD3

OURS = {"ppo": PPO(), "dqn": DQN(), "sac": SAC(), "td3": TD3(), "ddpg": DDPG()}


def checkpoint_steps(steps_per_iteration: int, budget: Budget) -> list[int]:
    """The env steps at which rlcheck's loop evaluates (0 first), so both implementations line up."""
    s = make_schedule(steps_per_iteration, budget)
    interval = s.iters_per_interval * s.steps_per_iteration
    steps = [0] + [interval * (i + 1) for i in range(s.num_intervals)]
    if s.remainder_iters:
        steps.append(s.total_iterations * s.steps_per_iteration)
    return steps


def unmatched(algo: str, config: Any) -> list[str]:
    notes = []
    if algo == "dqn":
        if config.double_dqn:
            notes.append("double_dqn=true: SB3's DQN takes the plain max-Q target")
        if config.n_step != 1:
            notes.append(f"n_step={config.n_step}: SB3's DQN uses one-step targets")
        if not config.huber_loss:
            notes.append("huber_loss=false: SB3's DQN always uses the Huber loss")
    if algo == "ppo" and config.normalize_obs:
        notes.append("normalize_obs: SB3 uses VecNormalize")
    if float(getattr(config, "reward_scale", 1.0)) != 1.0:
        notes.append(f"reward_scale={float(config.reward_scale):g}: SB3 trains on the env's own rewards")
    return notes


def sb3_arguments(algo: str, config: Any, env: EnvSpec) -> tuple[int, dict[str, Any]]:
    """(n_envs, keyword arguments for the SB3 class) matching rlcheck's `config`."""
    import torch  # the sb3 extra (torch, Stable-Baselines3): imported only when an sb3-* method runs

    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[config.activation]
    policy = {"net_arch": list(config.hidden_sizes), "activation_fn": activation}
    lr = float(config.learning_rate)
    if algo == "ppo":
        batch = config.num_envs * config.num_steps // config.num_minibatches
        return config.num_envs, dict(
            learning_rate=(lambda remaining: remaining * lr) if config.anneal_lr else lr, n_steps=config.num_steps,
            batch_size=batch, n_epochs=config.update_epochs, gamma=float(config.gamma), gae_lambda=float(config.gae_lambda),
            clip_range=float(config.clip_eps), clip_range_vf=float(config.clip_eps) if config.clip_value_loss else None,
            ent_coef=float(config.ent_coef), vf_coef=float(config.vf_coef), max_grad_norm=float(config.max_grad_norm),
            normalize_advantage=bool(config.normalize_advantages), policy_kwargs=policy)
    if algo == "dqn":
        return config.num_envs, dict(
            learning_rate=lr, gamma=float(config.gamma), tau=float(config.tau), buffer_size=config.buffer_size,
            batch_size=config.batch_size, learning_starts=config.learning_starts, train_freq=1,
            gradient_steps=config.gradient_steps, target_update_interval=config.target_update_interval,
            exploration_initial_eps=float(config.start_epsilon), exploration_final_eps=float(config.end_epsilon),
            exploration_fraction=float(config.exploration_fraction), max_grad_norm=float(config.max_grad_norm),
            policy_kwargs=policy)
    common = dict(learning_rate=lr, gamma=float(config.gamma), tau=float(config.tau), buffer_size=config.buffer_size,
                  batch_size=config.batch_size, learning_starts=config.learning_starts, train_freq=1,
                  gradient_steps=config.gradient_steps, policy_kwargs=policy)
    if algo == "sac":
        alpha = float(config.init_alpha)
        return config.num_envs, dict(common, ent_coef=f"auto_{alpha}" if config.autotune else alpha,
                                     target_entropy=-float(config.target_entropy_scale) * env.num_actions)
    from stable_baselines3.common.noise import (  # the sb3 extra, as above
        NormalActionNoise,
        OrnsteinUhlenbeckActionNoise,
    )

    half_range = (env.action_high - env.action_low) / 2
    sigma = float(config.exploration_noise) * half_range
    noise = (OrnsteinUhlenbeckActionNoise(np.zeros(env.num_actions), sigma, theta=float(config.ou_theta), dt=float(config.ou_dt))
             if config.noise_type == "ou" else NormalActionNoise(np.zeros(env.num_actions), sigma))
    args = dict(common, action_noise=noise)
    if algo == "td3":
        args.update(policy_delay=config.policy_delay, target_policy_noise=float(config.target_policy_noise),
                    target_noise_clip=float(config.target_noise_clip))
    return config.num_envs, args


class SB3Method(MethodBase):
    """One SB3 algorithm behind rlcheck's method interface (it runs outside JAX: `external`)."""

    def __init__(self, algo: str):
        self.algo = algo
        self.name = f"sb3-{algo}"
        self.ours = OURS[algo]
        self.Config = self.ours.Config
        self.defaults = self.ours.defaults

    def steps_per_iteration(self, config: Any) -> int:
        return self.ours.steps_per_iteration(config)

    def validate(self, config: Any) -> None:
        self.ours.validate(config)

    def check(self, env: EnvSpec) -> None:
        try:
            import stable_baselines3  # noqa: F401  (the sb3 extra: is it installed?)
        except ImportError:
            raise NotApplicable(f"{self.name} needs Stable-Baselines3: pip install -e \".[sb3]\" (torch==2.13.0, the CPU build).") from None
        self.ours.check(env)
        if gymnasium_id(env) is None:
            raise NotApplicable(f"{self.name} trains on Gymnasium envs, and Gymnasium has no {env.task}.")

    def run(self, env: EnvSpec, configs: list[Any], seeds: list[int], budget: Budget, progress=None):
        start = time.perf_counter()
        runs = [(c, i, s) for i, c in enumerate(configs) for s in seeds]
        kwargs = dict(env.env_kwargs)
        jobs = [(self.algo, env.name, gymnasium_id(env), dict(kwargs), config, seed, budget) for config, _, seed in runs]
        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        results: list[dict | None] = [None] * len(jobs)
        with futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending = {pool.submit(train_one, *job): k for k, job in enumerate(jobs)}
            for done_count, fut in enumerate(futures.as_completed(pending), 1):
                k = pending[fut]
                try:
                    results[k] = fut.result()
                except Exception as exc:  # keep the other seeds; this one is recorded as failed (NaN)
                    results[k] = {"error": f"{type(exc).__name__}: {exc}"}
                if progress:
                    progress(done_count * budget.env_steps, len(jobs) * budget.env_steps)
        steps = checkpoint_steps(self.steps_per_iteration(configs[0]), budget)
        failed = [r["error"] for r in results if "error" in r]
        if len(failed) == len(results):
            raise RLCheckError(f"{self.name} failed on every seed; the first error: {failed[0]}")
        trace = Trace(
            env_steps=np.array([steps] * len(runs), np.int64),
            model_calls=np.zeros((len(runs), len(steps)), np.int64),
            eval_returns=np.stack([r.get("eval_returns", np.full((len(steps), budget.eval_episodes), np.nan)) for r in results]),
            train_returns=np.stack([r.get("train_returns", np.full(len(steps), np.nan)) for r in results]),
            train_episodes=np.stack([r.get("train_episodes", np.zeros(len(steps))) for r in results]),
            diagnostics={},
        )
        diverged = [0 if "error" in r else None for r in results]
        return RunResult(self.name, [c for c, _, _ in runs], [i for _, i, _ in runs], [s for _, _, s in runs], trace,
                         time.perf_counter() - start, 0.0, diverged)


def gymnasium_id(env: EnvSpec) -> str | None:
    """The Gymnasium name of `env` (gymnax's CartPole-v1 is Gymnasium's CartPole-v1), or None."""
    if isinstance(env.env, HostEnv):
        return env.name
    return env.task if env.task in gym.registry else None


def train_one(algo: str, name: str, env_id: str, env_kwargs: dict, config: Any, seed: int, budget: Budget) -> dict:
    """One seed in its own process: train, evaluating at rlcheck's checkpoints. Returns trace rows."""
    import stable_baselines3 as sb3  # the sb3 extra, in the worker process
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    torch.set_num_threads(1)
    spec = make_env(name, env_kwargs or None)
    gym_id = resolve_id(env_id.removeprefix("gymnasium:"))
    n_envs, kwargs = sb3_arguments(algo, config, spec)
    vec = make_vec_env(gym_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs)
    eval_env = make_vec_env(gym_id, n_envs=1, seed=seed + 10_000, env_kwargs=env_kwargs)
    cls = {"ppo": sb3.PPO, "dqn": sb3.DQN, "sac": sb3.SAC, "td3": sb3.TD3, "ddpg": sb3.DDPG}[algo]
    model = cls("MlpPolicy", vec, device="cpu", seed=seed, **kwargs)
    steps = checkpoint_steps(OURS[algo].steps_per_iteration(config), budget)
    on_policy = algo == "ppo"

    class Checkpoints(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next, self.rows, self.episodes = 0, [], []

        def evaluate(self):
            returns, _ = evaluate_policy(self.model, eval_env, n_eval_episodes=budget.eval_episodes,
                                         deterministic=True, return_episode_rewards=True)
            done = self.episodes
            self.rows.append((returns, float(np.mean(done)) if done else np.nan, len(done)))
            self.episodes = []
            self.next += 1

        def _due(self) -> bool:
            return self.next < len(steps) - 1 and self.num_timesteps >= steps[self.next]

        def _on_training_start(self):
            self.evaluate()  # the untrained policy, at step 0

        def _on_rollout_start(self):  # on-policy: after the previous update, as rlcheck evaluates
            while on_policy and self._due():
                self.evaluate()

        def _on_step(self) -> bool:
            self.episodes += [i["episode"]["r"] for i in self.locals.get("infos", []) if "episode" in i]
            while not on_policy and self._due():
                self.evaluate()
            return True

    callback = Checkpoints()
    model.learn(total_timesteps=steps[-1], callback=callback)
    callback.evaluate()  # the final policy
    rows = callback.rows[: len(steps)]
    return {"eval_returns": np.array([r[0] for r in rows], np.float64),
            "train_returns": np.array([r[1] for r in rows], np.float64),
            "train_episodes": np.array([r[2] for r in rows], np.float64)}


SB3_METHODS = tuple(f"sb3-{a}" for a in OURS)
