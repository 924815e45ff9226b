"""The job matrix of a study (method x config x seed block) and a rough estimate of its cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlcheck import registry
from rlcheck.analysis.tuning import TUNED
from rlcheck.core.config import describe, expand_sweep, structure_groups
from rlcheck.diagnostics.probes import steps_per_second
from rlcheck.envs.host import HostEnv
from rlcheck.methods import search
from rlcheck.study.spec import StudySpec

COMPILE_SECONDS = 12.0  # per job, typical; each method's speed is in its registry record


@dataclass(frozen=True)
class Job:
    job_id: str
    method: str
    configs: tuple[Any, ...]  # concrete configs (a sweep gives several); vmapped together
    seeds: tuple[int, ...]
    config_ids: tuple[int, ...] = ()  # the configs' ids within the method (several jobs split a structural sweep)
    trace_name: str = ""  # the method's name in the traces, if not `method` (a search's runs: "ppo:tune")

    def global_ids(self) -> tuple[int, ...]:
        return self.config_ids or tuple(range(len(self.configs)))

    @property
    def runs(self) -> int:
        return len(self.configs) * len(self.seeds)


TUNE_SEEDS_FROM = 1_000_000  # search seeds start here: never one of the study's own seeds


def jobs(spec: StudySpec, chosen: dict[str, Any] | None = None) -> list[Job]:
    """The study's jobs; a method in `chosen` (its search's best configuration) runs that configuration."""
    env = spec.make_env()
    block = spec.seed_block or len(spec.seeds)
    out = []
    for m in spec.methods:
        configs = [chosen[m.name]] if chosen and m.name in chosen else method_configs(spec, m, env)
        groups = structure_groups(configs)  # structural values: one compiled program (job) each
        for g, group in enumerate(groups):
            prefix = m.name if len(groups) == 1 else f"{m.name}-s{g}"
            for b in range(0, len(spec.seeds), block):
                out.append(Job(f"{prefix}-{b // block}", m.name, tuple(configs[i] for i in group),
                               spec.seeds[b:b + block], tuple(group)))
    return out


def tuned_methods(spec: StudySpec, env: Any = None) -> dict[str, int]:
    """Method -> configurations to search: every tunable learner under --tune N; with no --tune (auto), each
    tunable learner that has no tuned settings for this env and sweeps nothing, and any the user gave a
    --tune-range (methods/search.py)."""
    ranged = {r[0] for r in spec.tune_ranges}
    if spec.tune_configs:
        return {m.name: spec.tune_configs for m in spec.methods if search.tunable(m.name) or m.name in ranged}
    if not spec.tune_auto:
        return {}
    env = env or spec.make_env()
    return {m.name: search.AUTO_CONFIGS for m in spec.methods
            if m.name in ranged or (search.tunable(m.name) and not m.sweep
                                    and registry.reference_defaults(registry.get_method(m.name), env) is None)}


def tune_ranges(spec: StudySpec, method: str) -> dict[str, search.Range]:
    return {field: search.Range(low, high, scale) for m, field, low, high, scale in spec.tune_ranges if m == method}


def tune_jobs(spec: StudySpec, env: Any = None) -> list[Job]:
    """The search: per searched method, its configurations (the default first, methods/search.py) on the
    search seeds, in one vmapped job whose runs are stored as METHOD:tune."""
    env = env or spec.make_env()
    counts = tuned_methods(spec, env)
    seeds = tuple(range(TUNE_SEEDS_FROM, TUNE_SEEDS_FROM + spec.tune_seeds))
    out = []
    for m in spec.methods:
        if m.name not in counts:
            continue
        configs = search.sample_configs(method_configs(spec, m, env)[0], m.name, counts[m.name],
                                        fixed=tuple(m.overrides), ranges=tune_ranges(spec, m.name))
        out.append(Job(f"{m.name}-tune", m.name, tuple(configs), seeds, tuple(range(len(configs))), m.name + TUNED))
    return out


def more_seeds(spec: StudySpec, method: str, look: int, chosen: dict[str, Any] | None = None) -> list[Job]:
    """`--until-decided`: the jobs that take `method` from `spec.looks[look - 1]` to `spec.looks[look]` seeds.
    The new seeds follow the study's highest seed (0..9, then 10..19, ...)."""
    first, extra = len(spec.seeds), max(spec.seeds) + 1
    seeds = tuple(range(extra + spec.looks[look - 1] - first, extra + spec.looks[look] - first))
    m = next(m for m in spec.methods if m.name == method)
    configs = [chosen[method]] if chosen and method in chosen else method_configs(spec, m)
    return [Job(f"{method}-more{look}", method, tuple(configs), seeds, tuple(range(len(configs))))]


def method_configs(spec: StudySpec, m: Any, env: Any = None) -> list[Any]:
    """Every concrete config of one method of the study, in config-id order."""
    env = env or spec.make_env()
    base = registry.default_config(registry.get_method(m.name), env, {k: _text(v) for k, v in m.overrides.items()})
    return expand_sweep(base, {k: [str(x) for x in v] for k, v in m.sweep.items()}, structural=True)


def derived_settings(spec: StudySpec, env: Any = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per method, the settings derived for this env (methods/derived.py) that the user did not set:
    field -> {value, reason}. Methods with a reference entry for the env have none."""
    env = env or spec.make_env()
    out = {}
    for m in spec.methods:
        derived = registry.derived_defaults(registry.get_method(m.name), env)
        if not derived:
            continue
        config = method_configs(spec, m, env)[0]  # the values in use (a recipe adjusted to the user's --set)
        mine = {k: {"value": list(v) if isinstance(v := getattr(config, k), tuple) else v, "reason": why}
                for k, (_, why) in derived.items() if k not in m.overrides and k not in m.sweep}
        if mine:
            out[m.name] = mine
    return out


def _text(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def learning_steps(job: Job, budget: int) -> int:
    return job.runs * budget if registry.get(job.method).learns else 0


def estimate_seconds(job: Job, budget: int, env_rate: float | None = None, speed: float = 1.0) -> float:
    """From the method's benchmarked speed (scaled, for off-policy learners, by their networks' size and
    updates per step: registry.relative_work), on a machine `speed` times the reference one
    (engine/calibrate.py); on a Python env, never faster than the env itself steps (`env_rate`, measured
    here): every learning step of every run is one step of a Python copy."""
    config = job.configs[0] if job.configs else None  # the networks and update rate set the off-policy cost
    seconds = registry.get(job.method).estimate_seconds(job.runs, budget, COMPILE_SECONDS, config) / speed
    if env_rate and registry.get(job.method).learns:
        seconds = max(seconds, COMPILE_SECONDS / speed + job.runs * budget / env_rate)
    return seconds


def env_speed(env: Any, seconds: float = 2.0) -> float | None:
    """Env steps per second of one Python copy on this machine (None for a JAX env: compiled with the learner)."""
    return steps_per_second(env, [], 0, seconds=seconds) if isinstance(env.env, HostEnv) else None


def describe_plan(spec: StudySpec, speed: float = 1.0, env_rate: float | None = None) -> str:
    """A table of the jobs, their env steps, and a rough wall-time estimate."""
    success = "not judged (no threshold)" if spec.threshold is None else f"final eval return >= {spec.threshold:g}"
    rows = [f"Study on {spec.env}: {len(spec.seeds)} seeds x {spec.budget:,} env steps, success = {success} "
            f"({spec.eval_episodes} episodes at each of {spec.num_evals} checkpoints).",
            "", f"{'job':<12} {'method':<6} {'configs':>7} {'seeds':>5} {'max env steps':>14} {'rough time':>11}"]
    planners = [m.name for m in spec.methods if not registry.get(m.name).learns]
    if planners:
        rows.insert(1, f"Planners ({', '.join(planners)}) use no learning env steps; they plan with the env as a model.")
    total_steps, total_seconds = 0, 0.0
    plan = jobs(spec)
    env_rate = env_rate or env_speed(spec.make_env())
    if env_rate:
        rows.insert(1, f"The env steps {env_rate:,.0f} times a second on this machine (one Python copy, measured over 2 s): "
                       "no learner trains faster than that.")
    plan = tune_jobs(spec) + plan
    for job in plan:
        steps = learning_steps(job, spec.budget)
        seconds = estimate_seconds(job, spec.budget, env_rate, speed)
        total_steps += steps
        total_seconds += seconds
        rows.append(f"{job.job_id:<12} {job.method:<6} {len(job.configs):>7} {len(job.seeds):>5} {steps:>14,} {clock(seconds):>11}")
    rows.append(f"{'total':<12} {'':<6} {'':>7} {'':>5} {total_steps:>14,} {clock(total_seconds):>11}")
    rows.append("")
    rows.append("Times are rough: from this project's 2-core CPU benchmarks at 10 seeds with default settings, "
                f"scaled by this machine's measured speed (x{speed:.2g})" + (", and the env's measured speed." if env_rate else "."))
    if spec.max_seeds and len(spec.looks) > 1:
        rows.append(f"--until-decided: each undecided method may get more seeds, looked at after {', '.join(map(str, spec.looks))} "
                    f"seeds: at most {spec.max_seeds / len(spec.seeds):.1f}x the steps and time above.")
    for name, fields in derived_settings(spec).items():
        rows.append(f"{name}: no tuned settings for {spec.env}; derived: "
                    + ", ".join(f"{k}={v['value']}" for k, v in fields.items())
                    + f" ({next(iter(fields.values()))['reason']}). Change any with --set {name}.FIELD=VALUE.")
    for name, count in tuned_methods(spec).items():
        ranged = any(r[0] == name for r in spec.tune_ranges)
        why = (f"--tune {count}" if spec.tune_configs else "--tune-range" if ranged else
               f"by default, as rlcheck has no tuned settings for {name} on {spec.env}; --tune 0 turns it off")
        rows.append(f"{name}: first a search of {count} configurations x {spec.tune_seeds} seeds ({name}-tune, {why}); "
                    f"its best is re-run on the study's seeds, which alone enter the verdict.")
    rows += [f"Skipped {name}: {reason}" for name, reason in spec.skipped]
    for job in plan:
        swept = {k: [describe(c)[k] for c in job.configs] for k in describe(job.configs[0])
                 if len({str(describe(c)[k]) for c in job.configs}) > 1}
        if swept:
            what = "searches" if job.trace_name else "sweeps"
            rows.append(f"{job.job_id}: {what} " + "; ".join(
                f"{k} " + ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in values)
                for k, values in swept.items()))
    return "\n".join(rows)


def clock(seconds: float) -> str:
    """A duration as a person reads it: 45 s, 12 min, 2.3 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
