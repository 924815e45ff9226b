"""Python API: every verb the CLI has, with typed parameters. The CLI only parses arguments, calls these
and prints. `env` may be a name (a gymnax name, a Gymnasium id, 'package.module:ClassName', 'trap/...')
or an `EnvSpec` object (rlcheck.envs.spec_from_gymnax or a Python env's spec)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck import registry
from rlcheck.analysis.stats import seeds_needed as needed_seeds
from rlcheck.analysis.stats import spread_upper_limit
from rlcheck.core.config import expand_sweep
from rlcheck.core.contracts import ProgressFn
from rlcheck.core.errors import RLCheckError
from rlcheck.core.results import StudySummary
from rlcheck.diagnostics.lint import lint as run_lint
from rlcheck.engine.calibrate import machine_speed
from rlcheck.engine.executors import make_executor
from rlcheck.envs import EnvSpec, make_env, register_spec, registered_env_ids
from rlcheck.envs.resolve import import_packages
from rlcheck.export import export as run_export
from rlcheck.report import write_report
from rlcheck.reproduce import run as run_reproduction
from rlcheck.store import StudyStore
from rlcheck.study.fit import Fit, fit, method_seconds, parse_duration
from rlcheck.study.plan import describe_plan, env_speed
from rlcheck.study.run import analyse, check_complete, run_study
from rlcheck.study.spec import FIELDS, StudySpec, apply_sets, build, known_threshold, load_yaml

EnvLike = str | EnvSpec | gym.Env  # a name, or an env object (registered under a name of its own)


def _env_name(env: EnvLike) -> str:
    return env if isinstance(env, str) else register_spec(env)


def _env_fields(env: EnvLike, env_kwargs: Mapping[str, Any] | None, wrappers: Sequence[str],
                imports: Sequence[str]) -> dict[str, Any]:
    """The study fields that say which env: its name, gymnasium.make kwargs, wrappers and imports."""
    raw: dict[str, Any] = {"env": _env_name(env)}
    for field, value in (("env_kwargs", dict(env_kwargs or {})), ("wrappers", list(wrappers)), ("imports", list(imports))):
        if value:
            raw[field] = value
    return raw


def study_spec(env: EnvLike, seeds: int | Sequence[int] | None = None, budget: int | None = None,
               threshold: float | None = None, methods: Sequence[str] | str | Mapping[str, Any] | None = None,
               num_evals: int | None = None, eval_episodes: int | None = None,
               env_kwargs: Mapping[str, Any] | None = None, true_objective: str | None = None,
               descriptors: str | None = None, audit: bool = True, wrappers: Sequence[str] = (),
               imports: Sequence[str] = (), sets: Sequence[tuple[str, str]] = (), until_decided: bool = False,
               max_seeds: int | None = None, tune: int | None = None, tune_seeds: int | None = None,
               tune_ranges: Sequence[tuple[str, str]] = (), reference_settings: bool = False) -> StudySpec:
    """A validated StudySpec from `rlcheck check`-style arguments (None = the default). `sets` are
    ("METHOD.key", "value") overrides of the methods' settings (`--set ppo.learning_rate=1e-3`).
    `until_decided`: add seed blocks to undecided methods, up to `max_seeds` (default 4x the seeds).
    `tune`: search that many configurations per learner on `tune_seeds` other seeds first (docs/tuning.md); 0 for
    no search; None: the default, a search of the learners that have no tuned settings for the env. `tune_ranges`:
    ("METHOD.FIELD", "LOW:HIGH[:SCALE]") pairs, the search's range for that field (`--tune-range`).
    `reference_settings`: the methods' published values where rlcheck would size a setting for a CPU
    (methods/derived.py), as if each were given with --set."""
    if reference_settings:
        given = dict(env=env, seeds=seeds, budget=budget, threshold=threshold, methods=methods, num_evals=num_evals,
                     eval_episodes=eval_episodes, env_kwargs=env_kwargs, true_objective=true_objective,
                     descriptors=descriptors, audit=audit, wrappers=wrappers, imports=imports, until_decided=until_decided,
                     max_seeds=max_seeds, tune=tune, tune_seeds=tune_seeds, tune_ranges=tune_ranges)
        spec = study_spec(**given, sets=sets)
        return study_spec(**given, sets=[*sets, *_reference_sets(spec)])
    if max_seeds is not None and not until_decided:
        raise RLCheckError(f"--max-seeds {max_seeds} caps the seeds of --until-decided, which was not given. Add "
                           "--until-decided, or drop --max-seeds and set the seeds with --seeds.")
    raw = _env_fields(env, env_kwargs, wrappers, imports)
    if until_decided:
        raw["until_decided"] = True if max_seeds is None else {"max_seeds": max_seeds}
    if tune_seeds is not None and tune == 0:
        raise RLCheckError(f"--tune-seeds {tune_seeds} sets the search seeds, and --tune 0 turns the search off. Drop "
                           "one of them.")
    if tune == 0 and tune_ranges:
        raise RLCheckError("--tune-range gives the search a range, and --tune 0 turns the search off. Drop one of them.")
    if tune == 0:
        raw["tune"] = False
    elif tune is not None or tune_seeds is not None or tune_ranges:
        raw["tune"] = {"configs": "auto" if tune is None else tune, **({"seeds": tune_seeds} if tune_seeds is not None else {}),
                       **({"ranges": {key: value.split(":") for key, value in tune_ranges}} if tune_ranges else {})}
    if seeds is not None:
        raw["seeds"] = list(seeds) if not isinstance(seeds, int) else seeds
    for field, value in (("budget", budget), ("threshold", threshold), ("methods", methods),
                         ("true_objective", true_objective), ("descriptors", descriptors)):
        if value is not None:
            raw[field] = value
    evaluation = _evaluation(num_evals, eval_episodes)
    if evaluation:
        raw["evaluation"] = evaluation
    if not audit:
        raw["audit"] = False
    if not sets:
        return build(raw)
    if isinstance(raw.get("methods"), str):  # "ppo,dqn": named, so the settings have a place to go
        raw["methods"] = [m.strip() for m in raw["methods"].split(",") if m.strip()]
    chosen = None
    if "methods" not in raw:  # the default methods, named, so the settings apply to them and none is lost
        chosen = build(raw)
        raw["methods"] = [m.name for m in chosen.methods]
    named = dict(raw["methods"]) if isinstance(raw["methods"], Mapping) else {m: {} for m in raw["methods"]}
    if chosen is not None:  # a default method skipped for the budget comes back when a --set fits it
        named |= {name: {} for name, _ in chosen.skipped}
    for path, value in sets:
        method, dot, _ = path.partition(".")
        if not dot:
            raise RLCheckError(f"--set {path}={value}: a study of several methods needs the method in front, METHOD.KEY="
                               f"VALUE (e.g. --set ppo.{path}={value}).")
        if method not in named:
            registry.get(method)  # an unknown name: the error lists the known ones
            raise RLCheckError(f"--set {path}={value}: {method} is not among this study's methods ({', '.join(named)}), "
                               f"so the setting would run a method not asked for. Add {method} to --methods, or drop "
                               "the --set.")
    spec = build(apply_sets(raw, [(f"methods.{path}", value) for path, value in sets]))
    if chosen is None:
        return spec
    running = {m.name for m in spec.methods}  # a default skipped for the budget is back once a --set fits it
    skipped = {k: v for k, v in (dict(chosen.skipped) | dict(spec.skipped)).items() if k not in running}
    return dataclasses.replace(spec, skipped=tuple(skipped.items()))


def _reference_sets(spec: StudySpec) -> list[tuple[str, str]]:
    """("METHOD.FIELD", value) for every CPU-sized setting of the study's methods that the user did not set."""
    env, out = spec.make_env(), []
    for m in spec.methods:
        for field, value in registry.reference_overrides(registry.get_method(m.name), env).items():
            if field not in m.overrides and field not in m.sweep:
                out.append((f"{m.name}.{field}", ",".join(map(str, value)) if isinstance(value, tuple) else str(value)))
    return out


def file_spec(path: Path | str, sets: Sequence[tuple[str, str]] = ()) -> StudySpec:
    """The study described by a YAML file, with `--set a.b=c` overrides."""
    return build(apply_sets(load_yaml(Path(path)), sets))


def executor_for(executor: Any = "local", address: str | None = None, job_cpus: float = 1.0,
                 job_gpus: float = 0.0) -> Any:
    """An executor from its name ("local", "ray"), or the executor object given."""
    return make_executor(executor, address, job_cpus, job_gpus) if isinstance(executor, str) else executor


def run(spec: StudySpec, out: Path | str, resume: bool = False, progress: ProgressFn | None = None,
        executor: Any = "local", address: str | None = None, force: bool = False) -> StudySummary:
    """Run (or resume) a study into its store at `out`; write the report; return the summary. `force`:
    write into a non-empty directory that holds no study (refused otherwise)."""
    return run_study(spec, Path(out), resume=resume, progress=progress, executor=executor_for(executor, address),
                     force=force)


def check(env: EnvLike, out: Path | str, seeds: int | Sequence[int] | None = None, budget: int | None = None,
          threshold: float | None = None, methods: Sequence[str] | str | None = None, resume: bool = False,
          progress: ProgressFn | None = None, env_kwargs: Mapping[str, Any] | None = None,
          executor: Any = "local", address: str | None = None, num_evals: int | None = None,
          eval_episodes: int | None = None, true_objective: str | None = None, descriptors: str | None = None,
          audit: bool = True, wrappers: Sequence[str] = (), imports: Sequence[str] = (),
          sets: Sequence[tuple[str, str]] = (), until_decided: bool = False,
          max_seeds: int | None = None, tune: int | None = None, tune_seeds: int | None = None,
          tune_ranges: Sequence[tuple[str, str]] = (), force: bool = False) -> StudySummary:
    """Run every applicable method (or `methods`) on `env` over many seeds; write the store and the
    report to `out`; return the summary (with its verdict). `executor="ray"` runs the jobs as Ray
    tasks (on the cluster at `address`, or a private local Ray). `until_decided`: then give undecided
    methods further blocks of seeds, up to `max_seeds`, until their labels are decided (docs/verdicts.md)."""
    spec = study_spec(env, seeds, budget, threshold, methods, num_evals, eval_episodes, env_kwargs, true_objective,
                      descriptors, audit, wrappers, imports, sets, until_decided, max_seeds, tune, tune_seeds, tune_ranges)
    return run(spec, out, resume, progress, executor, address, force)


def run_file(path: Path | str, out: Path | str, sets: Sequence[tuple[str, str]] = (), resume: bool = False,
             progress: ProgressFn | None = None, executor: Any = "local", address: str | None = None,
             force: bool = False) -> StudySummary:
    """Run the study described by a YAML file (with `--set a.b=c` overrides)."""
    return run(file_spec(path, sets), out, resume, progress, executor, address, force)


def _evaluation(checkpoints: int | None, episodes: int | None) -> dict[str, int]:
    """The study's evaluation fields, given ones only: an unset checkpoint count means up to the default, one per
    iteration at most, while a given one is refused when a learner cannot honour it."""
    return {k: v for k, v in (("checkpoints", checkpoints), ("episodes", episodes)) if v is not None}


def train(env: EnvLike, algo: str, seeds: int | Sequence[int], steps: int, out: Path | str,
          overrides: Mapping[str, Any] | None = None, sweep: Mapping[str, Sequence[Any]] | None = None,
          num_evals: int | None = None, eval_episodes: int = 10, threshold: float | None = None,
          progress: ProgressFn | None = None, env_kwargs: Mapping[str, Any] | None = None,
          resume: bool = False, wrappers: Sequence[str] = (), imports: Sequence[str] = (),
          force: bool = False) -> StudySummary:
    """Train one algorithm on `env` for every seed (and every combination of numeric `sweep` values) in
    one vectorised program, into a one-method study at `out` (the same store as `check`, so `report`,
    `export` and `seeds` read it). Without a success threshold (none given, none known for the env), the
    summary reports returns and does not judge success."""
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:
        raise RLCheckError("No seeds given. Pass at least one seed, e.g. --seeds 10.")
    if steps <= 0:
        raise RLCheckError(f"The budget must be a positive number of env steps, got {steps}.")
    settings: dict[str, Any] = dict(overrides or {})
    if sweep:
        config = registry.default_config(registry.get_method(algo),
                                         make_env(_env_name(env), dict(env_kwargs or {}), wrappers, imports),
                                         {k: str(v) for k, v in settings.items()})
        expand_sweep(config, {k: [str(v) for v in values] for k, values in sweep.items()})  # numeric fields only
        settings["sweep"] = {k: list(v) for k, v in sweep.items()}
    raw = {**_env_fields(env, env_kwargs, wrappers, imports), "methods": {algo: settings}, "seeds": seeds,
           "budget": steps, "evaluation": _evaluation(num_evals, eval_episodes), "audit": False}
    known = known_threshold(make_env(raw["env"], dict(env_kwargs or {}), wrappers, imports))
    if threshold is not None or known is None:
        raw["threshold"] = threshold  # None: no success threshold, returns only
    return run(build(raw), out, resume, progress, force=force)


def sweep(env: EnvLike, algo: str, factors: Mapping[str, Sequence[Any]], out: Path | str,
          fixed: Mapping[str, Any] | None = None, seeds: int = 10, budget: int | None = None,
          threshold: float | None = None, num_evals: int | None = None, with_sb3: bool = False, resume: bool = False,
          progress: ProgressFn | None = None, executor: Any = "local", address: str | None = None,
          dry_run: bool = False, env_kwargs: Mapping[str, Any] | None = None, wrappers: Sequence[str] = (),
          imports: Sequence[str] = (), force: bool = False) -> StudySummary | str:
    """How fragile is a result? Vary hyper-parameters (the first value of each factor is the reference),
    many seeds per cell; the summary's `sweeps` holds the effect sizes. With `dry_run`, the plan's text."""
    fixed = dict(fixed or {})
    if not factors:
        raise RLCheckError("rlcheck sweep needs at least one --vary KEY=V1,V2 (e.g. --vary activation=tanh,relu).")
    for key, values in factors.items():
        if len(values) < 2:
            raise RLCheckError(f"--vary {key}: give each factor once, with at least two values separated by commas "
                               f"(e.g. --vary {key}=a,b).")
    clash = sorted(set(fixed) & set(factors))
    if clash:
        raise RLCheckError(f"{', '.join(clash)} is both fixed with --set and varied with --vary; keep one.")
    methods = {algo: {**fixed, "sweep": {k: list(v) for k, v in factors.items()}}}
    if with_sb3:
        methods[f"sb3-{algo}"] = {**fixed, **{k: v[0] for k, v in factors.items()}}
    raw: dict[str, Any] = {**_env_fields(env, env_kwargs, wrappers, imports), "methods": methods, "seeds": seeds,
                           "evaluation": _evaluation(num_evals, 10)}
    for field, value in (("budget", budget), ("threshold", threshold)):
        if value is not None:
            raw[field] = value
    spec = build(raw)
    if dry_run:
        return describe_plan(spec)
    return run(spec, out, resume, progress, executor, address, force)


def env_ids(imports: Sequence[str] = ()) -> list[str]:
    """Every env name rlcheck resolves by id: gymnax's, then each Gymnasium id registered after `imports`."""
    import_packages(imports)
    jax_ids = registered_env_ids()
    return jax_ids + sorted(i for i in gym.registry if i not in jax_ids)


def plan(spec: StudySpec) -> str:
    """The job matrix of a study and a rough cost on this machine, nothing run."""
    return describe_plan(spec, machine_speed())


def fit_time(spec: StudySpec, limit: float | str) -> Fit:
    """`--time`: the largest form of `spec` expected to finish within `limit` (seconds, or e.g. "15m") on this
    machine, with what was cut (study/fit.py); refused if even its smallest form would not."""
    seconds = parse_duration(limit) if isinstance(limit, str) else float(limit)
    env_rate, speed = env_speed(spec.make_env()), machine_speed()
    return fit(spec, seconds, lambda s: method_seconds(s, env_rate, speed))


def stored_spec(out: Path | str) -> StudySpec | None:
    """The spec a study directory was made with (None if it holds none): what `--resume` continues, whatever
    `--time` would choose today."""
    manifest = Path(out) / "manifest.json"
    if not manifest.is_file():
        return None
    raw = json.loads(manifest.read_text())["spec"]
    spec = build({k: v for k, v in raw.items() if k in FIELDS})
    return dataclasses.replace(spec, skipped=tuple((k, v) for k, v in (raw.get("skipped") or {}).items()))


def lint(env: EnvLike, env_kwargs: Mapping[str, Any] | None = None, episodes: int = 24, seed: int = 0,
         true_objective: str | None = None, wrappers: Sequence[str] = (), imports: Sequence[str] = (),
         max_seconds: float = 60.0) -> dict[str, Any]:
    """The reward lint and plausibility profile of `env`, without training: {env, findings, profile, probes}.
    On a Python env the probing is sized to take about `max_seconds`."""
    spec = make_env(_env_name(env), dict(env_kwargs or {}), wrappers, imports)
    if true_objective:
        spec = dataclasses.replace(spec, true_objective=true_objective)
    return run_lint(spec, episodes, seed, max_seconds=max_seconds).as_dict()


def report(out: Path | str) -> StudySummary:
    """Rebuild summary.json, report.html and report.md from a study's store."""
    store = StudyStore(out)
    store.manifest()  # no study there: say so before the lock would create anything
    with store.lock():
        manifest = store.manifest()
        store.fingerprint = manifest.get("fingerprint")
        check_complete(store, manifest)
        summary = analyse(store, manifest)
        store.write_summary(summary)
        write_report(store, summary)
    return summary


def set_aside_files(out: Path | str) -> list[str]:
    """Files the store moved to DIR/set-aside/ (foreign or unreadable job files and checkpoints)."""
    return StudyStore(out).set_aside_files()


def seeds_needed(pilot: Path | str, effect: float, power: float = 0.8, alpha: float = 0.05) -> list[dict[str, Any]]:
    """Seeds per method needed to detect a difference `effect` in mean final return with the given
    power, from the per-seed spread in a pilot study. One row per pair of methods in the pilot, and
    one per method against a hypothetical variant of itself (same spread). A pilot's spread is itself
    uncertain, so the seeds are sized for its one-sided 90% upper confidence limit (both are given): a
    pilot of 10 seeds then gives enough seeds in about 90% of pilots, not half."""
    for name, value, ok in (("--effect", effect, np.isfinite(effect) and effect != 0),
                            ("--power", power, 0 < power < 1), ("--alpha", alpha, 0 < alpha < 1)):
        if not ok:
            raise RLCheckError(f"{name} {value:g} is not usable: the effect must be a finite, non-zero difference in "
                               "mean final return, and power and alpha must lie strictly between 0 and 1.")
    summary = analyse(StudyStore(pilot))
    spreads, uppers = {}, {}
    for m in summary.methods:
        if len(m.scored_finals) < 2:
            raise RLCheckError(f"The pilot's {m.label_name} has fewer than 2 usable seeds, so its spread is unknown. "
                               "Run a pilot with more seeds.")
        spreads[m.label_name] = float(np.std(m.scored_finals, ddof=1))
        if spreads[m.label_name] == 0:
            raise RLCheckError(f"The pilot's {m.label_name} has no spread: its {len(m.scored_finals)} seeds all ended at "
                               f"{m.scored_finals[0]:g}, so the seeds a difference needs cannot be estimated from it. Run a "
                               "pilot with more seeds, or on a setting where the seeds differ.")
        uppers[m.label_name] = spread_upper_limit(spreads[m.label_name], len(m.scored_finals))
    names = list(spreads)
    pairs = [(a, a) for a in names] + [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    return [{"a": a, "b": b, "sd_a": spreads[a], "sd_b": spreads[b], "sd_a_upper": uppers[a], "sd_b_upper": uppers[b],
             "effect": effect, "power": power,
             "seeds_per_method": needed_seeds(uppers[a], uppers[b], effect, power, alpha),
             "seeds_at_observed_spread": needed_seeds(spreads[a], spreads[b], effect, power, alpha)} for a, b in pairs]


def reproduce(name: str, out: Path | str, quick: bool = False, sources: Sequence[Path | str] = (),
              progress: ProgressFn | None = None, resume: bool = False, executor: Any = "local",
              address: str | None = None) -> dict[str, Any]:
    """Run one of the essay's claims (`rlcheck reproduce list`) and judge it; returns reproduction.json's content."""
    return run_reproduction(name, Path(out), quick=quick, progress=progress, resume=resume,
                            sources=[Path(s) for s in sources], executor=executor_for(executor, address))


def export(out: Path | str, to: Sequence[str] = ("tensorboard",), **options: Any) -> dict[str, str]:
    """Copy the study at `out` into TensorBoard (`logdir=`), Weights & Biases (`project=`, `entity=`,
    `mode=`) or MLflow (`tracking_uri=`, `experiment=`); returns where each copy went."""
    return run_export(Path(out), list(to), **options)
