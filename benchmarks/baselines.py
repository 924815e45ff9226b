"""Issue 5: non-RL baselines with the same sample accounting.

    python benchmarks/baselines.py [--only SUBSTRING-OF-A-ROW-NAME]

- LQR on CartPole-v1: fraction of 1000 episodes kept up for 500 steps, 0 learning env steps.
- Swing-up + LQR on Pendulum-v1: mean return over 100 episodes, 0 learning env steps.
- ARS (V2, linear policy) and CEM with added noise on CartPole-v1: median env steps to a 475
  evaluation over 10 seeds.
- MPC (MPPI with the true model) on Pendulum-v1: mean return, model calls per episode.
- MCTS (mctx Gumbel MuZero, env as model) on CartPole-v1 and Breakout-MinAtar: return, model calls.
"""

from __future__ import annotations

import json
import time
from functools import partial

import numpy as np

from rlcheck.analysis import stats
from rlcheck.baselines.ars import ARS, ARSConfig
from rlcheck.baselines.cem import CEM, CEMConfig
from rlcheck.baselines.cmaes import CMAES, CMAESConfig
from rlcheck.baselines.lqr import LQR, LQRConfig
from rlcheck.baselines.mcts import MCTS, MCTSConfig
from rlcheck.baselines.mpc import MPC, MPCConfig
from rlcheck.baselines.planner import run_planner_batch
from rlcheck.core.budget import Budget
from rlcheck.engine import run_method
from rlcheck.envs import make_env


def planner_row(name, planner, config, env_name, seeds, episodes):
    start = time.perf_counter()
    trace = run_planner_batch(planner, make_env(env_name), config, list(range(seeds)), Budget(1, 1, episodes))
    returns = trace.eval_returns.reshape(-1)
    return {"baseline": name, "env": env_name, "episodes": int(returns.size), "mean_return": float(returns.mean()),
            "min_return": float(returns.min()), "frac_500": float((returns >= 500).mean()),
            "learning_env_steps": int(trace.env_steps.max()), "setup_model_calls": int(trace.model_calls.max()),
            "model_calls_per_episode": float(trace.diagnostics["eval_model_calls_per_episode"].mean()),
            "seed_means": np.round(trace.eval_returns.mean(-1)[:, 0], 1).tolist(),
            "wall_s": time.perf_counter() - start}


def sample_means_row(name, planner, config, env_name, samples, target):
    """Mean return of `samples` disjoint 100-episode samples (10 seeds x 10 episodes each): how often a
    100-episode criterion is met, since one sample's mean moves by its standard error."""
    start = time.perf_counter()
    trace = run_planner_batch(planner, make_env(env_name), config, list(range(10 * samples)), Budget(1, 1, 10))
    means = trace.eval_returns.reshape(samples, -1).mean(axis=1)
    return {"baseline": name, "env": env_name, "sample_means": np.round(means, 1).tolist(),
            "samples_meeting_target": int((means >= target).sum()), "target": target,
            "pooled_mean": float(means.mean()), "wall_s": time.perf_counter() - start}


def search_row(name, method, config, seeds=10, budget=100_000):
    start = time.perf_counter()
    result = run_method(method, make_env("CartPole-v1"), [config], list(range(seeds)), Budget(budget, 50, 10))
    returns, steps = result.trace.eval_returns.mean(-1), result.trace.env_steps
    first = [int(s[np.argmax(r >= 475)]) if (r >= 475).any() else None for r, s in zip(returns, steps, strict=True)]
    km = stats.kaplan_meier(first, steps[:, -1].astype(float))
    return {"baseline": name, "env": "CartPole-v1", "seeds": seeds, "first_reached_475": first,
            "median_steps_to_475": km.median.value, "median_low": km.median.low, "median_high": km.median.high,
            "final_returns": returns[:, -1].tolist(), "wall_s": time.perf_counter() - start}


if __name__ == "__main__":
    import sys

    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""  # substring of a row name
    rows = [
        partial(planner_row, "lqr", LQR(), LQRConfig(), "CartPole-v1", 10, 100),
        partial(planner_row, "swing-up + lqr", LQR(), LQRConfig(), "Pendulum-v1", 10, 10),
        partial(sample_means_row, "swing-up + lqr (10 disjoint 100-episode samples)", LQR(), LQRConfig(), "Pendulum-v1", 10, -160.0),
        partial(planner_row, "swing-up + lqr (1000 episodes)", LQR(), LQRConfig(), "Pendulum-v1", 10, 100),
        partial(planner_row, "mpc (mppi, 128 x 30)", MPC(), MPCConfig(), "Pendulum-v1", 10, 10),
        partial(planner_row, "mpc (mppi, 128 x 30, 1000 episodes)", MPC(), MPCConfig(), "Pendulum-v1", 10, 100),
        partial(planner_row, "mpc cartpole defaults (sampling, 64 x 80)", MPC(), MPCConfig(**MPC.defaults["CartPole-v1"]), "CartPole-v1", 10, 10),
        partial(planner_row, "mpc cartpole (sampling, 64 x 40, the old default)", MPC(), MPCConfig(variant="sampling", num_samples=64, horizon=40), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts cartpole defaults (4 sims, 80-step rollouts along a plan, 64 replans, prior 0.75 on the plan's action, gumbel 0.5)", MCTS(), MCTSConfig(**MCTS.defaults["CartPole-v1"]), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts cartpole defaults, 30 seeds", MCTS(), MCTSConfig(**MCTS.defaults["CartPole-v1"]), "CartPole-v1", 30, 10),
        partial(planner_row, "mcts cartpole plan rollouts, uniform prior, gumbel 1 (the previous default)", MCTS(), MCTSConfig(**{**MCTS.defaults["CartPole-v1"], "plan_prior": 0.0, "gumbel_scale": 1.0}), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts cartpole (8 sims, 50-step random rollouts, the old default)", MCTS(), MCTSConfig(num_simulations=8, rollout_steps=50, gamma=1.0), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts cartpole (4 sims, best of 32 100-step rollouts)", MCTS(), MCTSConfig(num_simulations=4, rollout_steps=100, rollouts=32, rollout_value="max", gamma=1.0), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts (gumbel muzero, 16 sims, 100-step rollouts)", MCTS(), MCTSConfig(num_simulations=16, rollout_steps=100, gamma=1.0), "CartPole-v1", 10, 10),
        partial(planner_row, "mcts (gumbel muzero, 64 sims, 40-step rollouts)", MCTS(), MCTSConfig(num_simulations=64, rollout_steps=40), "Breakout-MinAtar", 10, 1),
        partial(planner_row, "mcts (gumbel muzero, 128 sims, 80-step rollouts)", MCTS(), MCTSConfig(num_simulations=128, rollout_steps=80, gamma=0.995), "Breakout-MinAtar", 10, 1),
        partial(planner_row, "mcts (gumbel muzero, 64 sims, best of 8 held-action 40-step rollouts)", MCTS(), MCTSConfig(num_simulations=64, rollout_steps=40, rollouts=8, rollout_value="max", rollout_repeat=0.8, gamma=1.0), "Breakout-MinAtar", 10, 1),
        partial(search_row, "ars", ARS(), ARSConfig()),
        partial(search_row, "cem (added noise)", CEM(), CEMConfig()),
        partial(search_row, "cma-es (evosax)", CMAES(), CMAESConfig()),
        partial(search_row, "ars, mlp 16", ARS(), ARSConfig(hidden_sizes=(16,))),
        partial(search_row, "cem, mlp 16", CEM(), CEMConfig(hidden_sizes=(16,))),
        partial(search_row, "cma-es, mlp 16", CMAES(), CMAESConfig(hidden_sizes=(16,))),
    ]
    for row in rows:
        if only in row.args[0]:  # the row's name
            print(json.dumps(row()), flush=True)
