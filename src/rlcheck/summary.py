"""`summary.json`: per method and config, every seed's final return and env steps.

{"env", "budget", "reward_threshold", "methods": [{"name", "config_id", "config", "seeds":
[{"seed", "final_return", "env_steps", "solved"}], "wall_seconds", "compile_seconds"}],
"wall_seconds", "rlcheck_version"}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcheck import __version__
from rlcheck.engine.runner import RunResult
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods.config import describe
from rlcheck.methods.loop import Budget


def summarize(env: EnvSpec, budget: Budget, results: Sequence[RunResult], wall_seconds: float) -> dict[str, Any]:
    methods = []
    for result in results:
        final = result.trace.eval_returns[:, -1].mean(-1)
        steps = result.trace.env_steps[:, -1]
        for config_id in sorted(set(result.config_ids)):
            runs = [i for i, c in enumerate(result.config_ids) if c == config_id]
            seeds = [
                {
                    "seed": int(result.seeds[i]),
                    "final_return": _finite_or_none(final[i]),
                    "env_steps": int(steps[i]),
                    "solved": None if env.reward_threshold is None else bool(final[i] >= env.reward_threshold),
                }
                for i in runs
            ]
            methods.append({
                "name": result.method,
                "config_id": config_id,
                "config": describe(result.configs[runs[0]]),
                "seeds": seeds,
                "diverged_seeds": [int(result.seeds[i]) for i in runs
                                   if result.diverged_at and result.diverged_at[i] is not None],
                "wall_seconds": result.wall_seconds,
                "compile_seconds": result.compile_seconds,
            })
    return {
        "env": env.name,
        "budget": {"env_steps": budget.env_steps, "num_evals": budget.num_evals, "eval_episodes": budget.eval_episodes},
        "reward_threshold": env.reward_threshold,
        "methods": methods,
        "wall_seconds": wall_seconds,
        "rlcheck_version": __version__,
    }


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
