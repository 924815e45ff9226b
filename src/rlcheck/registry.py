"""One record per method: every list of methods (CLI help, `plan`, the defaults of `check`, labels in the
summary and the report) is derived from here, and the engine dispatches on a record's kind.

A new method is one `register(MethodRecord(...))` call, in its own file (docs/extending.md):

    register(MethodRecord("toy", kind="learner", family="on-policy", actions=("discrete",),
                          doc="a toy learner", implementation=Toy()))
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rlcheck.baselines.ars import ARS
from rlcheck.baselines.cem import CEM
from rlcheck.baselines.cmaes import CMAES
from rlcheck.baselines.lqr import LQR
from rlcheck.baselines.mcts import MCTS
from rlcheck.baselines.mpc import MPC
from rlcheck.baselines.uct import UCT
from rlcheck.core import contracts
from rlcheck.core.config import apply_overrides
from rlcheck.core.errors import NotApplicable, RLCheckError
from rlcheck.diagnostics.facts import env_facts
from rlcheck.envs.atari import is_atari
from rlcheck.methods import derived
from rlcheck.methods.ddpg import DDPG
from rlcheck.methods.dqn import DQN
from rlcheck.methods.naf import NAF
from rlcheck.methods.ppo import PPO
from rlcheck.methods.rainbow import Rainbow
from rlcheck.methods.sac import SAC
from rlcheck.methods.sb3 import OURS, SB3Method
from rlcheck.methods.td3 import TD3
from rlcheck.methods.trpo import TRPO

Kind = Literal["learner", "policy search", "planner", "external"]
KINDS: dict[str, tuple[type, ...]] = {  # the contract each kind must meet (rlcheck.core.contracts)
    "learner": (contracts.Learner,),
    "policy search": (contracts.Learner,),
    "planner": (contracts.Planner, contracts.HostPlanner),
    "external": (contracts.External,),
}
ACTION_SPACES = ("discrete", "continuous", "multi_discrete")  # multi_discrete: see EnvSpec.action_space
PLANNER_SECONDS = 10.0  # `plan`'s guess for a planner: one evaluation, its cost set by the search, not the budget


@dataclass(frozen=True)
class MethodRecord:
    name: str
    kind: Kind
    family: str  # e.g. "on-policy", "off-policy actor-critic", "evolution strategy", "tree search"
    actions: tuple[str, ...]  # the action spaces it supports: "discrete", "continuous"
    doc: str  # one line, for `--help` and the report
    implementation: Any  # meets the contract of its kind
    default: bool = True  # run by `check` wherever it applies; False: opt-in, only when named
    # `plan`'s rough speed: aggregate env steps/s at 10 seeds with its default settings on the project's
    # 2-core CPU (benchmarks/RESULTS.md); None where not measured (1e3 is assumed)
    steps_per_second: float | None = None

    @property
    def learns(self) -> bool:
        """Whether it uses env steps to learn (planners use none: one evaluation, the env as a model)."""
        return self.kind != "planner"

    @property
    def role(self) -> str:
        """"rl" (deep RL, ours or another library's) or "baseline" (policy search, control, planning)."""
        return "rl" if self.kind in ("learner", "external") else "baseline"

    def check(self, env: Any) -> None:
        """Raise NotApplicable if this method cannot run on `env`."""
        self.implementation.check(env)  # its own reasons first: they name the method to use instead
        space = env.action_space
        if space not in self.actions:
            what = (f"a factorised action of {len(env.action_nvec)} parts with {env.num_actions:,} combinations (too many "
                    "for one joint head; PPO, TRPO and policy search play it factorised)" if space == "multi_discrete"
                    else f"{space} actions")
            raise NotApplicable(f"{self.name} handles {' and '.join(a for a in self.actions if a != 'multi_discrete')} "
                                f"actions, and {env.name} has {what}.")

    def estimate_seconds(self, runs: int, budget: int, compile_seconds: float, config: Any = None) -> float:
        if not self.learns:
            return PLANNER_SECONDS
        work = 1.0 if config is None else relative_work(self.name, config)
        return compile_seconds + runs * budget * work / (self.steps_per_second or 1e3)

    def describe(self) -> dict[str, Any]:
        """The record as plain JSON (stored in a study's manifest, so analysis needs no registry)."""
        return {"name": self.name, "kind": self.kind, "role": self.role, "family": self.family,
                "actions": list(self.actions), "doc": self.doc, "learns": self.learns}


_RECORDS: dict[str, MethodRecord] = {}


def register(record: MethodRecord) -> MethodRecord:
    """Add a method. Its implementation must meet its kind's contract; a name is registered once."""
    if record.kind not in KINDS:
        raise RLCheckError(f"Method {record.name!r}: unknown kind {record.kind!r}; use one of {', '.join(KINDS)}.")
    bad = [a for a in record.actions if a not in ACTION_SPACES]
    if bad or not record.actions:
        raise RLCheckError(f"Method {record.name!r}: actions must be some of {', '.join(ACTION_SPACES)}, got {record.actions}.")
    if not any(isinstance(record.implementation, p) for p in KINDS[record.kind]):
        contract = " or ".join(p.__name__ for p in KINDS[record.kind])
        raise RLCheckError(f"Method {record.name!r} is registered as a {record.kind}, but its implementation does not "
                           f"meet the {contract} contract (rlcheck.core.contracts): give it the members listed there.")
    if record.name in _RECORDS and _RECORDS[record.name] is not record:
        raise RLCheckError(f"A method named {record.name!r} is already registered; choose another name.")
    if record.implementation.name != record.name:
        raise RLCheckError(f"Method {record.name!r}: its implementation is named {record.implementation.name!r}; "
                           "give both the same name.")
    _RECORDS[record.name] = record
    return record


def unregister(name: str) -> None:
    """Remove a registered method (a plugin's or a test's); unknown names are ignored."""
    _RECORDS.pop(name, None)


def records() -> list[MethodRecord]:
    """Every registered method, in registration order (the order `check` runs them in)."""
    return list(_RECORDS.values())


def names(kind: str | None = None, default: bool | None = None) -> list[str]:
    return [r.name for r in _RECORDS.values()
            if (kind is None or r.kind == kind) and (default is None or r.default == default)]


def get(name: str) -> MethodRecord:
    if name not in _RECORDS:
        close = difflib.get_close_matches(name, list(_RECORDS), n=2)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RLCheckError(f"Unknown algorithm {name!r}.{hint} Available: {', '.join(_RECORDS)}.")
    return _RECORDS[name]


def get_method(name: str) -> Any:
    """The implementation registered under `name`."""
    return get(name).implementation


def reference_defaults(method: Any, env: Any) -> dict[str, Any] | None:
    """The method's tuned settings for this env (its per-env table, or Atari's), or None if it has none.
    A built-in trap's reference is the method's own defaults: each trap is calibrated on them (its docstring
    says "DQN (defaults) ..."), so nothing is derived for it."""
    table = method.defaults
    if env.task.startswith("trap/"):
        return table.get(env.task, {})
    if env.task in table:
        return table[env.task]
    return table["atari"] if is_atari(env.task) and "atari" in table else None


def derived_defaults(method: Any, env: Any) -> dict[str, tuple[Any, str]]:
    """Settings derived from the env (methods/derived.py), field -> (value, why), where the method has no
    reference entry for it; empty otherwise."""
    if reference_defaults(method, env) is not None or method.name not in derived.RULES:
        return {}
    return derived.derived_settings(method.name, env_facts(env))


def reference_overrides(method: Any, env: Any) -> dict[str, Any]:
    """`--reference-settings`: the method's own (published) values of the fields rlcheck sized for a CPU on
    this env, field -> value; empty where nothing was sized."""
    if reference_defaults(method, env) is not None:
        return {}
    reference = method.Config()
    return {k: getattr(reference, k) for k in derived.cpu_sized_fields(method.name, env_facts(env))}


def default_config(method: Any, env: Any, overrides: Mapping[str, Any] | None = None) -> Any:
    """The method's defaults for this env (source named in the method module), then user overrides.
    Raises NotApplicable if the method cannot run on `env`."""
    record = _RECORDS.get(method.name)
    if record is not None and record.implementation is method:
        record.check(env)  # its action spaces, then its own check
    else:
        method.check(env)
    defaults, derived_now = reference_defaults(method, env), {}
    if defaults is None:  # no tuned entry for this env: settings derived from what it measures
        derived_now = {k: v for k, (v, _) in derived_defaults(method, env).items()}
        defaults = derived_now
    config = apply_overrides(method.Config(), defaults)
    config = apply_overrides(config, overrides or {})
    if derived_now:
        config = derived.adjust(method.name, config, derived_now, dict(overrides or {}))
    method.validate(config)
    return config


# The networks the off-policy rates below were measured with (SAC: SB3's on Pendulum-v1; TD3 and DDPG: RL
# Zoo's on Pendulum-v1), and the share of such a step that is not the networks' (measured: SAC 10 seeds on
# Pendulum-v1, 64x64 against 256x256, benchmarks/RESULTS.md "CPU-sized networks").
RATED_NETWORKS = {"sac": (256, 256), "td3": (400, 300), "ddpg": (400, 300)}
NOT_NETWORK = 0.05


def _network_size(widths: tuple[int, ...]) -> int:
    """Multiply-adds of a hidden stack, roughly (the small input and output layers counted as width one)."""
    return sum(a * b for a, b in itertools.pairwise(widths)) + 2 * sum(widths)


def relative_work(method: str, config: Any) -> float:
    """An off-policy config's cost per env step against the one its rate was measured with: the network's
    multiply-adds times the updates per env step, plus the share that does not scale with them."""
    rated = RATED_NETWORKS.get(method)
    if rated is None or not hasattr(config, "hidden_sizes"):
        return 1.0
    updates = config.gradient_steps / config.num_envs  # the rates' settings make one update per env step
    return NOT_NETWORK + (1 - NOT_NETWORK) * updates * _network_size(tuple(config.hidden_sizes)) / _network_size(rated)


RATES = {"ppo": 2.0e5, "dqn": 6.2e4, "sac": 230.0, "td3": 120.0, "ddpg": 150.0, "naf": 3.4e3,
         "ars": 5e5, "cem": 5e5, "cmaes": 5e5}
BOTH = ("discrete", "continuous")
FACTORISED = ACTION_SPACES  # and MultiDiscrete/MultiBinary of any size, as a factorised policy
for _record in (
    MethodRecord("ppo", "learner", "on-policy", FACTORISED, "PPO (clipped surrogate, GAE), after PureJaxRL and CleanRL", PPO()),
    MethodRecord("dqn", "learner", "value-based", ("discrete",), "DQN with a target network, after CleanRL", DQN()),
    MethodRecord("rainbow", "learner", "value-based", ("discrete",),
                 "Rainbow: double, dueling, n-step, distributional, noisy, prioritised DQN", Rainbow(), default=False),
    MethodRecord("trpo", "learner", "on-policy", FACTORISED, "TRPO: natural gradient with a KL line search, GAE", TRPO(),
                 default=False),
    MethodRecord("sac", "learner", "off-policy actor-critic", ("continuous",), "SAC with automatic entropy tuning", SAC()),
    MethodRecord("td3", "learner", "off-policy actor-critic", ("continuous",), "TD3: twin critics, target smoothing, "
                 "delayed actor", TD3()),
    MethodRecord("ddpg", "learner", "off-policy actor-critic", ("continuous",), "DDPG: one critic, no smoothing or delay",
                 DDPG()),
    MethodRecord("naf", "learner", "off-policy actor-critic", ("continuous",), "NAF: normalised advantage functions",
                 NAF()),
    MethodRecord("ars", "policy search", "random search", FACTORISED, "augmented random search (V2) over linear policies",
                 ARS()),
    MethodRecord("cem", "policy search", "evolution strategy", FACTORISED, "the cross-entropy method over policy parameters",
                 CEM()),
    MethodRecord("cmaes", "policy search", "evolution strategy", FACTORISED, "CMA-ES (evosax) over policy parameters", CMAES()),
    MethodRecord("lqr", "planner", "optimal control", BOTH, "LQR around a known equilibrium of the true dynamics", LQR()),
    MethodRecord("mpc", "planner", "model-predictive control", BOTH, "MPC with the true model: predictive sampling, "
                 "MPPI or CEM-MPC (JAX envs, and Python envs from a copy of their state)", MPC()),
    MethodRecord("mcts", "planner", "tree search", ("discrete",), "Gumbel MuZero tree search (mctx) with the JAX env as "
                 "the model", MCTS()),
    MethodRecord("uct", "planner", "tree search", ("discrete",), "UCT tree search on Python envs from copies of their "
                 "state (Atari: ALE's clone/restore)", UCT()),
    *(MethodRecord(f"sb3-{algo}", "external", OURS_FAMILY, ours_actions, f"Stable-Baselines3's {algo.upper()}, the "
                   "same settings as ours", SB3Method(algo), default=False)
      for algo, OURS_FAMILY, ours_actions in (("ppo", "on-policy", BOTH), ("dqn", "value-based", ("discrete",)),
                                              ("sac", "off-policy actor-critic", ("continuous",)),
                                              ("td3", "off-policy actor-critic", ("continuous",)),
                                              ("ddpg", "off-policy actor-critic", ("continuous",)))
      if algo in OURS),
):
    register(dataclasses.replace(_record, steps_per_second=RATES.get(_record.name)))
