"""One measured run in its own process (so peak memory is its own). Prints one JSON line.

The benchmarks start it with `spawn` (or `measure`, which also waits) and read its line with `collect`."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def spawn(*args: str, env: dict | None = None) -> subprocess.Popen:
    """This script in a process of its own, with `args` (`rlcheck ...` or `sb3 ...`)."""
    return subprocess.Popen([sys.executable, str(Path(__file__)), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def collect(proc: subprocess.Popen) -> dict:
    """The run's JSON line, once it has finished (its stderr in the error if it failed)."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker {proc.args[2:]} failed with exit code {proc.returncode}: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def measure(*args: str, env: dict | None = None) -> dict:
    return collect(spawn(*args, env=env))


def rlcheck_run(env: str, algo: str, seeds: int, steps: int, num_evals: int = 20, eval_episodes: int = 10,
                overrides: dict | None = None) -> dict:
    from rlcheck.core.budget import Budget
    from rlcheck.engine import run_method
    from rlcheck.envs import make_env
    from rlcheck.registry import default_config, get_method

    spec, method = make_env(env), get_method(algo)
    config = default_config(method, spec, overrides or {})
    start = time.perf_counter()
    result = run_method(method, spec, [config], list(range(seeds)), Budget(steps, num_evals, eval_episodes))
    wall = time.perf_counter() - start
    env_steps = int(result.trace.env_steps[:, -1].sum())
    final = result.trace.eval_returns[:, -1].mean(-1)
    return {
        "impl": "rlcheck", "env": env, "algo": algo, "seeds": seeds, "steps_per_seed": int(result.trace.env_steps[0, -1]),
        "wall_s": wall, "compile_s": result.compile_seconds, "run_s": wall - result.compile_seconds,
        "steps_per_s": env_steps / (wall - result.compile_seconds), "final_returns": final.tolist(),
        "checkpoint_steps": result.trace.env_steps[0].tolist(), "eval_curve": result.trace.eval_returns.mean(-1).tolist(),
    }


def sb3_run(env: str, algo: str, steps: int, seed: int = 0) -> dict:
    import torch
    from stable_baselines3 import DQN, PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    if algo == "ppo":  # same rollout and update sizes as rlcheck's CartPole default (PureJaxRL/CleanRL)
        vec = make_vec_env(env, n_envs=4, seed=seed)
        model = PPO("MlpPolicy", vec, n_steps=128, batch_size=128, n_epochs=4, learning_rate=2.5e-4, gamma=0.99,
                    gae_lambda=0.95, clip_range=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
                    policy_kwargs=dict(net_arch=[64, 64]), device="cpu", seed=seed)
    elif algo == "sac":  # RL Zoo Pendulum-v1 SAC: lr 1e-3, SB3 defaults (batch 256, 256x256, learning_starts 100)
        model = SAC("MlpPolicy", env, learning_rate=1e-3, device="cpu", seed=0)
    else:
        vec = make_vec_env(env, n_envs=1, seed=0)
        model = DQN("MlpPolicy", vec, learning_rate=2.5e-4, buffer_size=10_000, learning_starts=10_000, batch_size=128,
                    train_freq=10, target_update_interval=500, exploration_fraction=0.5, exploration_final_eps=0.05,
                    policy_kwargs=dict(net_arch=[120, 84]), device="cpu", seed=0)
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - start
    return {"impl": "sb3", "env": env, "algo": algo, "seeds": 1, "steps_per_seed": steps, "wall_s": wall,
            "compile_s": 0.0, "run_s": wall, "steps_per_s": steps / wall, "final_returns": []}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("impl", choices=["rlcheck", "sb3"])
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--algo", default="ppo")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--steps", type=int, default=500_000)
    p.add_argument("--num-evals", type=int, default=20)
    p.add_argument("--seed", type=int, default=0, help="sb3: the seed")
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--set", dest="overrides", action="append", default=[], help="rlcheck: KEY=VALUE")
    a = p.parse_args()
    out = rlcheck_run(a.env, a.algo, a.seeds, a.steps, a.num_evals, a.eval_episodes,
                                                     dict(kv.split("=", 1) for kv in a.overrides)) if a.impl == "rlcheck" else sb3_run(a.env, a.algo, a.steps, a.seed)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
