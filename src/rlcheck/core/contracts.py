"""The one typed contract per kind of method. The registry (rlcheck.registry) records each method's
kind, and the engine dispatches on it: a compiled training loop for learners and policy search, one
planned evaluation for planners, or another library's own processes for external implementations.

Every method has a `name`, a `Config` (a flax struct dataclass: numeric fields vmappable, structural
ones static; rlcheck.core.config), per-env `defaults` ({env name or "atari": overrides}), and:
  check(env)          refuse an env it cannot handle (raise NotApplicable with the reason)
  validate(config)    refuse a config that cannot work (raise RLCheckError naming the field)
`MethodBase` gives both as no-ops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import jax

from rlcheck.core.budget import Schedule, make_schedule

if TYPE_CHECKING:
    from rlcheck.core.budget import Budget
    from rlcheck.core.results import RunResult
    from rlcheck.core.trace import IterationLog

class ProgressFn(Protocol):
    """progress(done, total, phase) as work advances: env steps of all runs (a job reports its own, the study
    scales them to its share), and the phase a person reads on the bar ("reward lint", "ppo", "report")."""

    def __call__(self, done: int, total: int, phase: str | None = None) -> None: ...


@runtime_checkable
class Method(Protocol):
    name: str
    Config: type
    defaults: Mapping[str, Mapping[str, Any]]

    def check(self, env: Any) -> None: ...
    def validate(self, config: Any) -> None: ...


@runtime_checkable
class Learner(Method, Protocol):
    """Kinds "learner" and "policy search": trained by the engine's compiled loop (rlcheck.methods.loop),
    pure and vmappable over keys and stacked numeric configs."""

    def steps_per_iteration(self, config: Any) -> int: ...  # static: env steps one `iterate` uses
    def schedule(self, config: Any, budget: Budget) -> Schedule: ...  # iterations between checkpoints
    def init(self, key: jax.Array, env: Any, config: Any, budget: Budget) -> Any: ...
    def iterate(self, state: Any, env: Any, config: Any, budget: Budget) -> tuple[Any, IterationLog]: ...
    def act(self, state: Any, env: Any, config: Any, obs: jax.Array) -> jax.Array: ...  # deterministic
    def eval_key(self, state: Any) -> jax.Array: ...
    # refuse a batch that would not fit in memory, before allocating it
    def check_resources(self, env: Any, config: Any, budget: Budget, runs: int) -> None: ...
    def watched(self, state: Any) -> Any: ...  # the part of the state where a NaN means divergence


@runtime_checkable
class Planner(Method, Protocol):
    """Kind "planner": learns nothing; plans every real step with the env as a model
    (rlcheck.baselines.planner runs it, compiled over seeds and evaluation episodes)."""

    def setup(self, env: Any, config: Any) -> Any: ...  # host-side, e.g. linearise and solve a Riccati equation
    def setup_model_calls(self, params: Any) -> int: ...
    def init_carry(self, params: Any, env: Any, config: Any, obs: jax.Array) -> Any: ...
    # -> (action, carry, model calls)
    def plan(self, params: Any, env: Any, config: Any, obs: jax.Array, env_state: Any, carry: Any,
             key: jax.Array) -> tuple[jax.Array, Any, jax.Array]: ...


@runtime_checkable
class HostPlanner(Method, Protocol):
    """Kind "planner" on a Python env: plans on the host from the simulator's saved state."""

    def run_host(self, env: Any, configs: Sequence[Any], seeds: Sequence[int], budget: Budget,
                 progress: ProgressFn | None = None) -> RunResult: ...


@runtime_checkable
class External(Method, Protocol):
    """Kind "external": another library's implementation, trained in its own processes."""

    def steps_per_iteration(self, config: Any) -> int: ...
    def run(self, env: Any, configs: Sequence[Any], seeds: Sequence[int], budget: Budget,
            progress: ProgressFn | None = None) -> RunResult: ...


class MethodBase:
    """Defaults every method may keep: accept every env and config, check no resources, watch the whole
    state for divergence."""

    name: ClassVar[str]
    defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def check(self, env: Any) -> None:
        return None

    def validate(self, config: Any) -> None:
        return None

    def check_resources(self, env: Any, config: Any, budget: Budget, runs: int) -> None:
        return None

    def watched(self, state: Any) -> Any:
        return state

    def schedule(self, config: Any, budget: Budget) -> Schedule:
        """A learner's iterations between checkpoints: by default `steps_per_iteration` env steps each."""
        return make_schedule(self.steps_per_iteration(config), budget)  # type: ignore[attr-defined]


class KeyedMethod(MethodBase):
    """A method whose state carries its training `key`: evaluation episodes draw from a key folded out
    of it, so evaluating never consumes (or shifts) the training randomness."""

    def eval_key(self, state: Any) -> jax.Array:
        return jax.random.fold_in(state.key, 1)
