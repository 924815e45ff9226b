"""Trap environments: small JAX (gymnax API) tasks on which a learner optimising the reward does the
wrong thing, each reproducing one story from the reward-hacking / local-optimum literature, and
each with a `-fixed` variant (the same task with the reward repaired) as a negative control.

`make_trap("trap/NAME")` or `make_trap("trap/NAME-fixed")` -> EnvSpec with `true_objective` set to
the `info` key every trap env fills (see `_base`). `TRAPS` says, per trap, what it is, which
rlcheck check should fire on it, which learner and setting gets trapped, and what return counts as solved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rlcheck.core.errors import EnvError
from rlcheck.envs.jax_env import EnvSpec, spec_from_gymnax
from rlcheck.envs.traps._base import TrapEnv
from rlcheck.envs.traps.biased_catch import BiasedCatch
from rlcheck.envs.traps.flip_block import FlipBlock
from rlcheck.envs.traps.flipped_runner import FlippedRunner
from rlcheck.envs.traps.pit_corridor import PitCorridor
from rlcheck.envs.traps.sensor_tile import SensorTile
from rlcheck.envs.traps.side_target_race import SideTargetRace


@dataclass(frozen=True)
class TrapInfo:
    intended_check: str  # the rlcheck check that should fire on the trap (and not on its -fixed variant)
    trained_by: tuple[str, dict[str, Any], int]  # (algo, config overrides, env-step budget)
    # "Solved" = the proxy return of the intended behaviour (scripted returns in each module's docstring).
    # On a trap variant the hack reaches it too, or more: the verdict says "solved" while the audit says
    # what was learned. That gap is the point.
    reward_threshold: float
    env_class: type[TrapEnv] = field(repr=False, default=TrapEnv)

    @property
    def description(self) -> str:
        """One line: the trap, and the setting that gets trapped (the env class's docstring, unwrapped)."""
        return " ".join((self.env_class.__doc__ or "").split())


TRAPS: dict[str, TrapInfo] = {
    env_class.base_name: TrapInfo(check, trained_by, threshold, env_class)
    for env_class, check, trained_by, threshold in [
        (PitCorridor, "early_termination", ("dqn", {}, 30_000), -8.0),
        (SideTargetRace, "reward_loop", ("dqn", {}, 50_000), 11.0),
        (FlipBlock, "reward_without_progress", ("dqn", {}, 30_000), 0.97),
        (FlippedRunner, "modes", ("ppo", {}, 100_000), 180.0),
        (BiasedCatch, "collapse", ("ppo", {"ent_coef": 0.0}, 100_000), 9.0),
        (SensorTile, "divergence", ("dqn", {}, 30_000), 89.0),
    ]
}


def trap_names() -> list[str]:
    return [f"trap/{base}{suffix}" for base in TRAPS for suffix in ("", "-fixed")]


def make_trap_env(name: str) -> TrapEnv:
    base = name.removeprefix("trap/")
    fixed = base.endswith("-fixed")
    base = base.removesuffix("-fixed")
    if not name.startswith("trap/") or base not in TRAPS:
        raise EnvError(
            f"Unknown trap environment {name!r}. The trap environments are: {', '.join(trap_names())}."
        )
    return TRAPS[base].env_class(fixed=fixed)


def make_trap(name: str) -> EnvSpec:
    """The EnvSpec of a trap env (`trap/NAME` or `trap/NAME-fixed`), its true objective named."""
    env = make_trap_env(name)
    threshold = TRAPS[name.removeprefix("trap/").removesuffix("-fixed")].reward_threshold
    spec = spec_from_gymnax(name, env, env.default_params, threshold)
    return dataclasses.replace(spec, true_objective="true_objective")


__all__ = ["TRAPS", "TrapInfo", "make_trap", "make_trap_env", "trap_names"]
