"""The study spec: what to run and how success is judged. Built from CLI flags or a YAML file,
validated with errors that name the field and the fix.

YAML form (every field but `env` optional for envs rlcheck knows):

    env: CartPole-v1         # a gymnax name, a Gymnasium id, or package.module:ClassName
    env_kwargs: {}           # passed to gymnasium.make (Gymnasium envs only)
    imports: []              # packages to import first (they register their env ids), e.g. [minigrid]
    wrappers: []             # applied in order: Gymnasium's by name (TimeLimit:max_episode_steps=200) or module:Class[:k=v]
    methods:                 # a list of names, or name -> hyper-parameter overrides
      ppo: {}
      dqn: {learning_rate: 2.5e-4, sweep: {gamma: [0.99, 0.995]}}
    seeds: 10                # a count (seeds 0..N-1) or an explicit list
    budget: 500000           # env steps per seed
    threshold: 475           # success: final eval return >= threshold
    evaluation: {checkpoints: 20, episodes: 10}
    seed_block: null         # seeds per job (null: all seeds of a config in one vmapped job)
    true_objective: null     # the real goal, if not the reward: an info key, or module:function (see docs/audit.md)
    descriptors: null        # module:function -> extra behaviour descriptors per step
    audit: true              # lint the reward before training and audit behaviour after it
    until_decided: null      # {max_seeds: 40}: add seed blocks to undecided methods, up to 40 seeds (docs/verdicts.md)
    tune: auto               # a small search first, its best re-run on fresh seeds (docs/tuning.md): auto (8 configurations
                             # x 2 seeds, for learners with no tuned settings for the env), {configs: N, seeds: S}, or false
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from rlcheck import registry
from rlcheck.analysis.labels import looks
from rlcheck.core.config import describe, expand_sweep, sweepable_fields
from rlcheck.core.errors import RLCheckError
from rlcheck.envs import make_env
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import REWARD_THRESHOLDS
from rlcheck.envs.state_copy import copied_by_simulation
from rlcheck.methods import search

# Default budgets (env steps per seed) for `rlcheck check`, from the sources of each env's defaults.
DEFAULT_BUDGETS: dict[str, int] = {
    "CartPole-v1": 500_000,  # CleanRL PPO/DQN
    "Acrobot-v1": 500_000,  # CleanRL
    "MountainCar-v0": 1_000_000,  # RL Zoo PPO/DQN
    "Pendulum-v1": 20_000,  # RL Zoo SAC/TD3
    "MountainCarContinuous-v0": 50_000,  # RL Zoo SAC
    "Breakout-MinAtar": 10_000_000,  # gymnax-blines PPO
}
DEFAULT_SEEDS = 10
FIELDS = ("env", "env_kwargs", "imports", "wrappers", "methods", "seeds", "budget", "threshold", "evaluation", "seed_block", "true_objective",
          "descriptors", "audit", "until_decided", "tune", "time")
EVALUATION_FIELDS = ("checkpoints", "episodes")


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    name: str
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    sweep: dict[str, list[Any]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class StudySpec:
    env: str
    methods: tuple[MethodSpec, ...]
    seeds: tuple[int, ...]
    budget: int
    threshold: float | None  # None: success is not judged (returns only)
    num_evals: int = 20
    eval_episodes: int = 10
    seed_block: int | None = None
    skipped: tuple[tuple[str, str], ...] = ()  # baselines that do not apply here, with the reason
    env_kwargs: tuple[tuple[str, Any], ...] = ()
    true_objective: str | None = None
    descriptors: str | None = None
    audit: bool = True
    wrappers: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    max_seeds: int | None = None  # --until-decided: the most seeds a method may get (None: a fixed design)
    tune_configs: int | None = None  # --tune N: configurations searched per tunable method (None: no search)
    tune_seeds: int = 2  # search seeds per configuration (never the study's own seeds)
    tune_auto: bool = False  # no --tune given: search the learners that have no tuned settings for the env
    tune_ranges: tuple[tuple[str, str, float, float, str], ...] = ()  # --tune-range: (method, field, low, high, scale)
    time_limit: float | None = None  # --time: the seconds the study was fitted into (study/fit.py)
    time_cuts: tuple[str, ...] = ()  # what the fit cut, each with the flag that restores it

    @property
    def looks(self) -> tuple[int, ...]:
        """The seed counts at which labels are looked at: the first seeds, then each further seed block."""
        return looks(len(self.seeds), self.seed_block or len(self.seeds), self.max_seeds or len(self.seeds))

    def make_env(self):
        env = make_env(self.env, dict(self.env_kwargs), self.wrappers, self.imports)
        if self.true_objective or self.descriptors:
            env = dataclasses.replace(env, true_objective=self.true_objective or env.true_objective,
                                      descriptors=self.descriptors or env.descriptors)
        return env

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            **({"env_kwargs": dict(self.env_kwargs)} if self.env_kwargs else {}),
            **({"imports": list(self.imports)} if self.imports else {}),
            **({"wrappers": list(self.wrappers)} if self.wrappers else {}),
            "methods": {m.name: {**m.overrides, **({"sweep": m.sweep} if m.sweep else {})} for m in self.methods},
            "seeds": list(self.seeds),
            "budget": self.budget,
            "threshold": self.threshold,
            "evaluation": {"checkpoints": self.num_evals, "episodes": self.eval_episodes},
            "seed_block": self.seed_block,
            **({"skipped": {name: reason for name, reason in self.skipped}} if self.skipped else {}),
            **({"true_objective": self.true_objective} if self.true_objective else {}),
            **({"descriptors": self.descriptors} if self.descriptors else {}),
            **({} if self.audit else {"audit": False}),
            **({"until_decided": {"max_seeds": self.max_seeds}} if self.max_seeds else {}),
            "tune": ({"configs": self.tune_configs or "auto", "seeds": self.tune_seeds,
                      **({"ranges": {f"{m}.{f}": [lo, hi, sc] for m, f, lo, hi, sc in self.tune_ranges}}
                         if self.tune_ranges else {})}
                     if self.tune_configs or self.tune_auto else False),
            **({"time": {"limit_s": self.time_limit, "cuts": list(self.time_cuts)}} if self.time_limit else {}),
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def known_threshold(env: Any) -> float | None:
    """The env's success threshold: ours for the envs we know, else the env's own, else None."""
    return REWARD_THRESHOLDS.get(env.task, env.reward_threshold)


def _fail(field: str, problem: str, fix: str) -> RLCheckError:
    return RLCheckError(f"Study field {field!r}: {problem}. {fix}")


SEED_LIMIT = 2**32  # JAX's PRNGKey takes a uint32 seed


def _whole(field: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or float(value) != int(value)):
        raise _fail(field, f"expected a whole number, got {value!r}", f"Write e.g. {field}: {max(minimum, 10)}.")
    if int(value) < minimum:
        raise _fail(field, f"must be at least {minimum}, got {int(value)}", f"Give a value >= {minimum}.")
    if maximum is not None and int(value) > maximum:
        raise _fail(field, f"must be at most {maximum:,}, got {int(value):,}", f"Give a value <= {maximum:,}.")
    return int(value)


def _methods(raw: Any, env: Any) -> tuple[tuple[MethodSpec, ...], tuple[tuple[str, str], ...]]:
    """The methods to run, and the baselines skipped because they do not apply (with the reason).
    An RL method asked for by name that cannot run on the env is an error; a baseline is skipped."""
    skipped: list[tuple[str, str]] = []
    if raw is None:  # every default method that applies to this env (opt-in ones only when named)
        raw = []
        for record in registry.records():
            if not record.default:
                continue
            try:
                record.check(env)
            except RLCheckError as exc:
                if record.role == "baseline":
                    skipped.append((record.name, str(exc)))
                continue
            if record.kind == "planner" and isinstance(env.env, HostEnv) and copied_by_simulation(env):
                skipped.append((record.name, f"{record.name} would plan from copies of the Python env's state (verified "
                                "to replay exactly), at samples x horizon env steps per real step: slow, so it runs "
                                f"only when named (--methods ...,{record.name})."))
                continue
            raw.append(record.name)
    if isinstance(raw, str):
        raw = [m.strip() for m in raw.split(",") if m.strip()]
    if isinstance(raw, Sequence):
        odd = [name for name in raw if not isinstance(name, str)]
        if odd:
            raise _fail("methods", f"expected method names, got {odd[0]!r}", "Write e.g. methods: [ppo, dqn], or a "
                        "mapping name -> settings such as methods: {ppo: {learning_rate: 3e-4}}.")
        twice = sorted({str(name) for name in raw if list(raw).count(name) > 1})
        if twice:
            raise _fail("methods", f"{', '.join(twice)} named more than once",
                        "Name each method once; to compare settings of one method, use `rlcheck sweep` or a sweep: field.")
        raw = {name: {} for name in raw}
    if not isinstance(raw, Mapping) or not raw:
        raise _fail("methods", f"expected a list of names or a mapping name -> settings, got {raw!r}",
                    "Write e.g. methods: [ppo, dqn].")
    specs = []
    for name, settings in raw.items():
        record = registry.get(str(name))  # unknown name -> error listing the available ones
        if record.role == "baseline":
            try:
                record.check(env)
            except RLCheckError as exc:
                skipped.append((str(name), str(exc)))
                continue
        if settings is not None and not isinstance(settings, Mapping):
            raise _fail(f"methods.{name}", f"expected a mapping of hyper-parameters, got {settings!r}",
                        f"Write e.g. {name}: {{learning_rate: 3e-4}}, or {name}: {{}} for its defaults.")
        settings = dict(settings or {})
        sweep = settings.pop("sweep", {}) or {}
        if not isinstance(sweep, Mapping) or not all(isinstance(v, list) and v for v in sweep.values()):
            raise _fail(f"methods.{name}.sweep", f"expected key -> non-empty list of values, got {sweep!r}",
                        "Write e.g. sweep: {learning_rate: [1e-3, 3e-4]}.")
        try:
            config = registry.default_config(record.implementation, env, {k: _str_if_list(v) for k, v in settings.items()})
            expand_sweep(config, {k: [str(x) for x in v] for k, v in sweep.items()}, structural=True)
        except RLCheckError as exc:
            raise RLCheckError(f"Study field 'methods.{name}': {exc}") from None
        typed = describe(config)  # values as the config parsed them (YAML reads 3e-4 as text)
        swept = {k: [describe(c)[k] for c in expand_sweep(config, {k: [str(x) for x in v]}, structural=True)]
                 for k, v in sweep.items()}
        specs.append(MethodSpec(str(name), {k: typed[k] for k in settings}, swept))
    if not specs:
        reasons = "; ".join(f"{n}: {r}" for n, r in skipped)
        raise _fail("methods", f"none of them can run on {env.name} ({reasons})", "Choose methods that apply to this env.")
    return tuple(specs), tuple(skipped)


def _str_if_list(value: Any) -> str:
    """YAML values as `--set` strings, so the config's own parser checks their types."""
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def build(raw: Mapping[str, Any]) -> StudySpec:
    """Validate a study mapping (from YAML or CLI flags) into a StudySpec."""
    if not isinstance(raw, Mapping):
        raise RLCheckError(f"A study file must be a mapping of fields ({', '.join(FIELDS)}), got {type(raw).__name__}.")
    for key in raw:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RLCheckError(f"Unknown study field {key!r}.{hint} Valid fields: {', '.join(FIELDS)}.")
    if "env" not in raw or not raw["env"]:
        raise _fail("env", "missing", "Name the environment, e.g. env: CartPole-v1 (see `rlcheck envs`).")
    if not isinstance(raw["env"], str):
        raise _fail("env", f"expected a name, got {raw['env']!r}", "Write e.g. env: CartPole-v1 (quote a name YAML "
                    "would read as a number or a list).")
    env_name = raw["env"]
    env_kwargs = raw.get("env_kwargs") or {}
    if not isinstance(env_kwargs, Mapping):
        raise _fail("env_kwargs", f"expected a mapping, got {env_kwargs!r}", "Write e.g. env_kwargs: {render_mode: null}.")
    imports, wrappers = _strings(raw, "imports", "[minigrid]"), _strings(raw, "wrappers", "[FlattenObservation]")
    env = make_env(env_name, dict(env_kwargs), wrappers, imports)
    task = env.task

    seeds_raw = raw.get("seeds", DEFAULT_SEEDS)
    if isinstance(seeds_raw, list):
        seeds = tuple(_whole("seeds", s, 0, SEED_LIMIT - 1) for s in seeds_raw)
        if not seeds or len(set(seeds)) != len(seeds):
            raise _fail("seeds", f"expected a non-empty list of distinct seeds, got {seeds_raw!r}", "Write e.g. seeds: 10.")
    else:
        seeds = tuple(range(_whole("seeds", seeds_raw, 1, 100_000)))

    if raw.get("budget") is None and task not in DEFAULT_BUDGETS:
        raise _fail("budget", f"no default budget is known for {env_name}", "Give env steps per seed, e.g. --budget 100000.")
    budget = _whole("budget", raw.get("budget", DEFAULT_BUDGETS.get(task)), 1)

    threshold = raw["threshold"] if "threshold" in raw else known_threshold(env)
    if threshold is None and "threshold" not in raw:
        raise _fail("threshold", f"{env_name} has no known reward threshold", "Say what return counts as success, e.g. "
                    "--threshold -150 (or threshold: null in a study file to report returns without judging success).")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise _fail("threshold", f"expected a number, got {threshold!r}", "Write e.g. threshold: 475.")
    if threshold is not None and not math.isfinite(threshold):
        raise _fail("threshold", f"expected a finite number, got {threshold!r}: every return is above -inf and none "
                    "above inf or nan, so success would mean nothing", "Write e.g. threshold: 475.")

    evaluation = raw.get("evaluation") or {}
    if not isinstance(evaluation, Mapping):
        raise _fail("evaluation", f"expected a mapping, got {evaluation!r}", "Write e.g. evaluation: {checkpoints: 20, episodes: 10}.")
    for key in evaluation:
        if key not in EVALUATION_FIELDS:
            raise _fail(f"evaluation.{key}", "unknown field", f"Valid: {', '.join(EVALUATION_FIELDS)}.")
    num_evals = _whole("evaluation.checkpoints", evaluation.get("checkpoints", 20), 1)
    episodes = _whole("evaluation.episodes", evaluation.get("episodes", 10), 1)
    block = raw.get("seed_block")
    block = None if block is None else _whole("seed_block", block, 1)
    methods, skipped = _methods(raw.get("methods"), env)
    methods, too_small = _check_budget(methods, env, budget, named=raw.get("methods") is not None)
    if "checkpoints" in evaluation:  # the default (20) is "up to 20": the schedule gives a learner at most one per iteration
        _check_checkpoints(methods, env, budget, num_evals)
    skipped = tuple(skipped) + tuple(too_small)
    if not methods:
        raise _fail("budget", f"no method can use {budget:,} env steps on {env_name}: "
                    + "; ".join(reason for _, reason in too_small), "Raise the budget.")
    user = {}
    for field in ("true_objective", "descriptors"):
        value = raw.get(field)
        if value is not None and (not isinstance(value, str) or not value):
            raise _fail(field, f"expected an info key or 'module:function', got {value!r}", "Write e.g. true_objective: distance.")
        user[field] = value
    if user["descriptors"] and ":" not in user["descriptors"]:
        raise _fail("descriptors", f"expected 'module:function', got {user['descriptors']!r}",
                    "Info keys named descriptor_<name> are read without naming them; name a function here.")
    audit = raw.get("audit", True)
    if not isinstance(audit, bool):
        raise _fail("audit", f"expected true or false, got {audit!r}", "Write audit: false to skip the reward audit.")
    max_seeds = _until_decided(raw.get("until_decided"), seeds, threshold, methods)
    tune = _tune(raw.get("tune", "auto"), methods)
    return StudySpec(env_name, methods, seeds, budget, None if threshold is None else float(threshold), num_evals, episodes, block, skipped,
                     tuple(sorted(env_kwargs.items())), user["true_objective"], user["descriptors"], audit, wrappers, imports,
                     max_seeds, **tune, **_time(raw.get("time")))


def _time(raw: Any) -> dict[str, Any]:
    """`time`: written by --time (the limit in seconds and what was cut to fit it); read back on --resume."""
    if raw is None:
        return {}
    limit, cuts = (raw.get("limit_s"), raw.get("cuts", [])) if isinstance(raw, Mapping) else (None, None)
    if (not isinstance(limit, int | float) or isinstance(limit, bool) or not limit > 0 or not isinstance(cuts, list)
            or not all(isinstance(c, str) for c in cuts)):
        raise _fail("time", f"expected {{limit_s: SECONDS, cuts: [...]}}, got {raw!r}",
                    "Leave this field to --time (e.g. rlcheck check ENV --time 15m), which writes it.")
    return {"time_limit": float(limit), "time_cuts": tuple(cuts)}


def _tune(raw: Any, methods: Sequence[MethodSpec]) -> dict[str, Any]:
    """`tune`: auto (the default: search.AUTO_CONFIGS configurations for each learner without tuned settings for
    the env), false / null / 0 (no search), or {configs: N or auto, seeds: S, ranges: {METHOD.FIELD: [LOW, HIGH]
    or [LOW, HIGH, SCALE]}}: N >= 2 configurations per tunable method, S search seeds. Returns StudySpec fields."""
    if raw is None or raw is False or raw == 0:
        return {"tune_configs": None, "tune_auto": False}
    if raw == "auto":
        return {"tune_configs": None, "tune_auto": True}
    if not isinstance(raw, Mapping) or not set(raw) <= {"configs", "seeds", "ranges"} or "configs" not in raw:
        raise _fail("tune", f"expected auto, false, or {{configs: N, seeds: S, ranges: {{...}}}}, got {raw!r}",
                    "Write e.g. tune: {configs: 8, seeds: 2}, or tune: false for no search.")
    out = {"tune_seeds": _whole("tune.seeds", raw.get("seeds", search.AUTO_SEEDS), 1),
           "tune_ranges": _tune_ranges(raw.get("ranges") or {}, methods)}
    if raw["configs"] == "auto":
        return {**out, "tune_configs": None, "tune_auto": True}
    configs = _whole("tune.configs", raw["configs"], 2)
    tunable = [m.name for m in methods if search.tunable(m.name) or any(r[0] == m.name for r in out["tune_ranges"])]
    if not tunable:
        raise _fail("tune", f"none of the methods ({', '.join(m.name for m in methods)}) has numeric hyper-parameters to "
                    f"search", f"Add a learner ({', '.join(search.SPACES)}), or run without --tune.")
    swept = [m.name for m in methods if m.sweep and m.name in tunable]
    if swept:
        raise _fail("tune", f"{', '.join(swept)} also sweeps hyper-parameters", "Search or sweep a method, not both.")
    return {**out, "tune_configs": configs, "tune_auto": False}


def _tune_ranges(raw: Any, methods: Sequence[MethodSpec]) -> tuple[tuple[str, str, float, float, str], ...]:
    """`tune.ranges` (--tune-range METHOD.FIELD=LOW:HIGH[:SCALE]): each a numeric field of a method of the study."""
    if not isinstance(raw, Mapping):
        raise _fail("tune.ranges", f"expected {{METHOD.FIELD: [LOW, HIGH]}}, got {raw!r}",
                    "Write e.g. ranges: {ppo.learning_rate: [1e-4, 1e-2]}.")
    names = {m.name for m in methods}
    out = []
    for key, bounds in raw.items():
        where = f"tune.ranges.{key}"
        method, _, field = str(key).partition(".")
        if method not in names or not field:
            raise _fail(where, f"expected METHOD.FIELD with METHOD one of the study's methods ({', '.join(sorted(names))})",
                        "Write e.g. --tune-range ppo.learning_rate=1e-4:1e-2.")
        spec_of = next(m for m in methods if m.name == method)
        if field in spec_of.overrides:
            raise _fail(where, f"{method}.{field} is also set to {spec_of.overrides[field]!r}",
                        "Set a field or search it, not both.")
        numeric = sweepable_fields(registry.get_method(method).Config)
        if field not in numeric:
            raise _fail(where, f"{field!r} is not a numeric field of {method} (those share the compiled program: "
                        f"{', '.join(numeric)})", "Search a numeric field, or sweep a structural one with sweep:.")
        if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) not in (2, 3):
            raise _fail(where, f"expected [LOW, HIGH] or [LOW, HIGH, SCALE], got {bounds!r}", "Write e.g. [1e-4, 1e-2].")
        try:
            low, high = float(bounds[0]), float(bounds[1])
        except (TypeError, ValueError):
            raise _fail(where, f"expected numbers, got {bounds!r}", "Write e.g. [1e-4, 1e-2].") from None
        default = search.SPACES.get(method, {}).get(field)
        scale = str(bounds[2]) if len(bounds) == 3 else default.scale if default else ("log" if low > 0 else "linear")
        problem = search.range_problem(low, high, scale)
        if problem:
            raise _fail(where, f"the range {low:g} to {high:g} ({scale}): {problem}", "Give a range the search can sample.")
        out.append((method, field, low, high, scale))
    return tuple(out)


def _until_decided(raw: Any, seeds: tuple[int, ...], threshold: float | None,
                   methods: Sequence[MethodSpec]) -> int | None:
    """`until_decided`: null or false (a fixed number of seeds), true (up to 4x the seeds), or {max_seeds: N}."""
    if raw is None or raw is False:
        return None
    if raw is True:
        raw = {"max_seeds": 4 * len(seeds)}
    if not isinstance(raw, Mapping) or set(raw) != {"max_seeds"}:
        raise _fail("until_decided", f"expected true or {{max_seeds: N}}, got {raw!r}", "Write e.g. until_decided: {max_seeds: 40}.")
    most = _whole("until_decided.max_seeds", raw["max_seeds"], 1)
    if most < len(seeds):
        raise _fail("until_decided.max_seeds", f"{most} is below the {len(seeds)} seeds the study starts with",
                    f"Give at least {len(seeds)} (--max-seeds {4 * len(seeds)}), or start with fewer --seeds.")
    if threshold is None:
        raise _fail("until_decided", "a study without a success threshold has no labels to decide",
                    "Give a --threshold, or run without --until-decided.")
    swept = [m.name for m in methods if m.sweep]
    if swept:
        raise _fail("until_decided", f"{', '.join(swept)} sweep{'s' if len(swept) == 1 else ''} hyper-parameters; adding "
                    "seeds until decided is for one setting per method", "Run the sweep with a fixed number of seeds.")
    return most


def _strings(raw: Mapping[str, Any], field: str, example: str) -> tuple[str, ...]:
    value = raw.get(field) or ()
    value = (value,) if isinstance(value, str) else value
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise _fail(field, f"expected a list of names, got {value!r}", f"Write e.g. {field}: {example}.")
    return tuple(value)


# The settings that decide how many env steps one iteration takes, by the name a method's config gives them.
ITERATION_KEYS = ("num_envs", "num_steps", "population", "num_directions")


def _check_budget(methods: Sequence[MethodSpec], env: Any, budget: int, named: bool = True) -> tuple[
        tuple[MethodSpec, ...], list[tuple[str, str]]]:
    """The methods that can use the budget, and the skipped ones with the reason. A learner that cannot (one
    iteration larger than the budget, or no update before it ends) is refused with the numbers and the
    method's own keys where the user named it, and skipped, with the same text, where it is a default."""
    kept, skipped = [], []
    for m in methods:
        problem = _budget_problem(m, env, budget)
        if problem is None:
            kept.append(m)
        elif named:
            raise problem
        else:
            skipped.append((m.name, str(problem).removeprefix("Study field 'budget': ")))
    return tuple(kept), skipped


def _check_checkpoints(methods: Sequence[MethodSpec], env: Any, budget: int, num_evals: int) -> None:
    """More checkpoints than a learner has iterations in the budget cannot be honoured: refused with the
    most it can have, never silently cut."""
    for m in methods:
        record = registry.get(m.name)
        if not record.learns:
            continue
        config = registry.default_config(record.implementation, env, {k: _str_if_list(v) for k, v in m.overrides.items()})
        iterations = budget // record.implementation.steps_per_iteration(config)
        if num_evals > iterations:
            raise _fail("evaluation.checkpoints", f"{num_evals:,} checkpoints, but {m.name} has only {iterations:,} "
                        f"training iterations in {budget:,} env steps, and a checkpoint comes after an iteration",
                        f"Give at most {iterations:,} (e.g. --num-evals {min(iterations, 20)}), or raise the budget.")


def _budget_problem(m: MethodSpec, env: Any, budget: int) -> RLCheckError | None:
    record = registry.get(m.name)
    if not record.learns:
        return None  # planners use no learning steps
    config = registry.default_config(record.implementation, env, {k: _str_if_list(v) for k, v in m.overrides.items()})
    fields = {f.name for f in dataclasses.fields(config)}
    keys = [k for k in ITERATION_KEYS if k in fields]
    per_iteration = record.implementation.steps_per_iteration(config)
    if per_iteration > budget:
        settings = ", ".join(f"{k}={getattr(config, k)}" for k in keys)
        return _fail("budget", f"{budget:,} env steps is less than one {m.name} iteration on {env.name} "
                     f"({per_iteration:,} env steps{': ' + settings if settings else ''})",
                     "Raise the budget" + (f", or lower {' or '.join(f'{m.name}.{k}' for k in keys)} with --set"
                                           if keys else ""))
    starts = getattr(config, "learning_starts", None)
    if starts is not None and starts >= budget:
        return _fail("budget", f"{m.name} collects {starts:,} env steps before its first update (learning_starts), "
                     f"and the budget is {budget:,}, so it would never learn",
                     f"Raise the budget, or lower it, e.g. --set {m.name}.learning_starts={max(1, budget // 10)}")
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice (the second "
                                                        "would silently win); keep one", mark)
            seen.add(key if isinstance(key, Hashable) else repr(key))
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise RLCheckError(f"Cannot read the study file {path}: {exc.strerror}. Check the path.") from None
    except UnicodeDecodeError:
        raise RLCheckError(f"{path} is not a text file (it is not UTF-8), so it cannot be a YAML study file. Point "
                           "at the study's .yaml file.") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise RLCheckError(f"{path} is not valid YAML{at}: {getattr(exc, 'problem', exc)}. Fix the syntax there.") from None
    return data if data is not None else {}


def apply_sets(raw: dict[str, Any], sets: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """`--set a.b=c` on the raw study mapping; values are read as YAML scalars (3e-4, true, [1, 2])."""
    raw = json.loads(json.dumps(raw, default=str))  # deep copy
    for path, value in sets:
        keys = path.split(".")
        node = raw
        for key in keys[:-1]:
            if key == "methods" and isinstance(node.get(key), list):
                node[key] = {m: {} for m in node[key]}
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise RLCheckError(f"--set {path}: {key!r} is not a mapping in this study, so it has no sub-field. Check the path.")
        node[keys[-1]] = yaml_value(f"--set {path}", value)
    return raw


def yaml_value(flag: str, value: str) -> Any:
    """A flag's value read as a YAML scalar or list (3e-4, true, null, [1, 2]), or a clear error."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise RLCheckError(f"{flag}={value}: the value cannot be read ({getattr(exc, 'problem', None) or exc}). Write "
                           "a number, true/false, null, a word, or a list like [1, 2]; quote text with special "
                           "characters.") from None


def diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Field paths whose values differ, each as 'path: old -> new'."""
    lines = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            lines += diff(a, b, f"{prefix}{key}.")
        elif a != b:
            lines.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return lines
