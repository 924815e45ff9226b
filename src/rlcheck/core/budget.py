"""The env-step budget and evaluation protocol of a run, and how it maps to training iterations."""

from __future__ import annotations

from dataclasses import dataclass

from rlcheck.core.errors import RLCheckError


@dataclass(frozen=True)
class Budget:
    """Env-step budget and evaluation protocol (deterministic policy, K episodes per checkpoint)."""

    env_steps: int
    num_evals: int = 20
    eval_episodes: int = 10


@dataclass(frozen=True)
class Schedule:
    """How a budget maps to iterations: `num_intervals` intervals of `iters_per_interval`, then
    `remainder_iters` more (evaluated too). Env steps are always a whole number of iterations."""

    steps_per_iteration: int
    iters_per_interval: int
    num_intervals: int
    remainder_iters: int

    @property
    def total_iterations(self) -> int:
        return self.iters_per_interval * self.num_intervals + self.remainder_iters

    @property
    def total_env_steps(self) -> int:
        return self.total_iterations * self.steps_per_iteration

    @property
    def checkpoint_steps(self) -> list[int]:
        steps = [i * self.iters_per_interval * self.steps_per_iteration for i in range(self.num_intervals + 1)]
        if self.remainder_iters:
            steps.append(self.total_env_steps)
        return steps


def make_schedule(steps_per_iteration: int, budget: Budget) -> Schedule:
    total_iters = budget.env_steps // steps_per_iteration
    if total_iters < 1:
        raise RLCheckError(
            f"The budget of {budget.env_steps} env steps is smaller than one training iteration "
            f"({steps_per_iteration} env steps). Raise the budget, or lower the method's settings that size an "
            "iteration (e.g. num_envs, num_steps, population) with --set."
        )
    num_evals = max(1, min(budget.num_evals, total_iters))
    per = total_iters // num_evals
    return Schedule(steps_per_iteration, per, num_evals, total_iters - per * num_evals)
