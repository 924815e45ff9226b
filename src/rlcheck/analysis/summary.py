"""The study's `summary.json`: per method, every seed and the statistics across seeds, pairwise
comparisons, and the verdict. A pure function of the stored traces and the manifest."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from rlcheck.analysis import sequential, stats, tuning
from rlcheck.analysis.audit import audit
from rlcheck.analysis.outcomes import Outcome
from rlcheck.analysis.sweep import analyse_sweep
from rlcheck.analysis.verdict import (
    NOT_JUDGED,
    baselines_vs_rl,
    method_label,
    method_text,
    rank_key,
    returns_text,
    study_verdict,
    unjudged_verdict,
)
from rlcheck.core.results import Interval, MethodSummary, SeedResult, StepsToThreshold, StudySummary
from rlcheck.envs.observation_names import observation_names


def _num(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _interval(e: stats.Estimate, approximate: bool = False) -> Interval:
    return Interval(_num(e.value), _num(e.low), _num(e.high), approximate and e.low == e.low)


# Below these seed counts a statistic's bootstrap interval covered less than 90% for at least one of the
# distributions in benchmarks/coverage.py (1000 replications at n = 3, 5, 10, 20, 30, 50; RESULTS, issue 19):
# IQM and median reach it from 10 seeds. The mean and CVaR-25% never do for heavy-tailed returns (a t with 2
# degrees of freedom: 88% and 83% at 50 seeds), so they are marked at every count. Such intervals are marked
# approximate (shown with a "~").
APPROXIMATE_BELOW = {"iqm": 10, "median": 10, "mean": math.inf, "cvar25": math.inf}


NO_ESTIMATE = stats.Estimate(np.nan, np.nan, np.nan)


def method_summary(o: Outcome, threshold: float, seed: int = 0, role: str = "rl",
                   diverged_as: float | None = None, label_level: float = 0.05) -> MethodSummary:
    """One method-and-config's seeds and the statistics across them (verdict text and run costs are
    filled in by `summarize_study`). A diverged seed counts at `diverged_as` (the study's worst final
    return) in every return statistic, so "worst-seed risk" includes the worst seeds."""
    final = o.final
    finite = final[np.isfinite(final)]
    if diverged_as is not None:
        finite = np.where(np.isfinite(final), final, diverged_as)
    succeeded = o.succeeded(threshold)
    first = o.first_reached(threshold)
    survival = stats.kaplan_meier(first, o.steps[:, -1].astype(float))
    n = len(finite)
    returns = {name: _interval(stats.bootstrap(finite, fn, seed) if n else NO_ESTIMATE, n < APPROXIMATE_BELOW[name])
               for name, fn in (("iqm", stats.iqm), ("median", stats.median), ("mean", stats.mean))}
    k = int(succeeded.sum())
    seeds = tuple(
        SeedResult(int(s), _num(f), int(n), int(c), bool(ok), r, bool(d), _final_descriptors(o, i))
        for i, (s, f, n, c, ok, r, d) in enumerate(zip(o.seeds, final, o.steps[:, -1], o.model_calls, succeeded,
                                                       first, o.diverged, strict=True)))
    return MethodSummary(
        name=o.method, config_id=o.config_id, label_name=o.label, kind=role, label=method_label(k, len(o.seeds), label_level),
        seeds=seeds, successes=k, success_rate=_interval(stats.success_rate(k, len(o.seeds))),
        steps_to_threshold=StepsToThreshold(_num(survival.median.value), _num(survival.median.low),
                                            _num(survival.median.high), _checkpoint_before(o, first, survival.median.value),
                                            _checkpoint_before(o, first, survival.median.low)),
        final_return=returns, cvar25=_interval(stats.bootstrap(finite, stats.cvar25, seed) if n else NO_ESTIMATE,
                                               n < APPROXIMATE_BELOW["cvar25"]),
        diverged_seeds=tuple(int(s) for s in o.seeds[o.diverged]),
        fell_back_seeds=tuple(int(s) for s in o.seeds[o.fell_back(threshold)]),
        learning_env_steps=int(np.median(o.steps[:, -1])), model_calls=int(np.median(o.model_calls)),
        eval_model_calls_per_episode=None if o.eval_model_calls is None else float(np.median(o.eval_model_calls)),
        verdict_text="", noise_floor=stats.noise_floor(finite, seed), diverged_as=diverged_as, label_level=label_level,
        survival={"steps": survival.steps.tolist(), "solved": survival.solved.tolist(), "low": survival.low.tolist(),
                  "high": survival.high.tolist()},
    )


def _checkpoint_before(o: Outcome, first: list[int | None], at: float) -> float | None:
    """The checkpoint before a first-reached step `at`: the threshold was crossed after it. Of the seeds that
    first reached it at `at`, the earliest such checkpoint (0 if `at` was their first checkpoint)."""
    if not np.isfinite(at):
        return None
    before = [float(steps[steps < at].max(initial=0)) for steps, f in zip(o.steps, first, strict=True) if f == at]
    if not before:  # not a seed's first-reached step: the earliest checkpoint below it in any seed
        before = [float(steps[steps < at].max(initial=0)) for steps in o.steps]
    return min(before)


def _final_descriptors(o: Outcome, i: int) -> dict[str, float | None] | None:
    """The user's (and built-in) descriptors of seed i's final policy, or None if there are none."""
    values = {k.removeprefix("user/"): _num(v[i, -1]) for k, v in sorted(o.behaviour.items()) if k.startswith("user/")}
    return values or None


def compare(a: MethodSummary, b: MethodSummary, seed: int, **extra: Any) -> dict[str, Any] | None:
    """`a` against `b` on final return, or None if either has fewer than two usable seeds."""
    if len(a.scored_finals) < 2 or len(b.scored_finals) < 2:
        return None
    return {"a": a.label_name, "b": b.label_name, "metric": "final_return", **extra,
            **stats.compare(np.array(a.scored_finals), np.array(b.scored_finals), seed)}


def best_versus_others(ranked: list[MethodSummary], seed: int) -> list[dict[str, Any]]:
    """The best method (first of `ranked`) against each other one. It was picked from the same seeds, so
    the p-values are Holm-corrected over the comparisons and, what decides "differs", adjusted for the
    selection by a max-T permutation test (stats.selection_adjusted_p)."""
    out = [c for other in ranked[1:] if (c := compare(ranked[0], other, seed, best_selected=True))]
    if not out:
        return out
    for c, welch, mwu in zip(out, stats.holm([c["welch_p"] for c in out]), stats.holm([c["mann_whitney_p"] for c in out]),
                             strict=True):
        c.update(welch_p_holm=welch, mann_whitney_p_holm=mwu)
    usable = [m for m in ranked if len(m.scored_finals) >= 2]
    if usable and usable[0] is ranked[0]:
        adjusted = stats.selection_adjusted_p([m.scored_finals for m in usable], 0, seed)
        by_name = {m.label_name: q for m, q in zip(usable, adjusted, strict=True)}
        for c in out:
            c["p_selection_adjusted"] = by_name.get(c["b"])
            c["differs"] = c["p_selection_adjusted"] is not None and c["p_selection_adjusted"] < 0.05
    return out


def comparisons_text(comparisons: list[dict[str, Any]]) -> str:
    """One sentence on the best-vs-others comparisons, in words that the selection-adjusted p allows."""
    chosen = [c for c in comparisons if c.get("best_selected") and "differs" in c]
    if not chosen:
        return ""
    best, differ = chosen[0]["a"].upper(), [c["b"].upper() for c in chosen if c["differs"]]
    same = [c["b"].upper() for c in chosen if not c["differs"]]
    text = (f"Final returns, {best} (ranked first) against the {len(chosen)} other method{'s' if len(chosen) > 1 else ''}, "
            "with p-values adjusted for picking the best from these same seeds (max-T permutation test): ")
    text += (f"{', '.join(differ)} differ{'s' if len(differ) == 1 else ''} (p < 0.05)" if differ else "")
    text += ("; " if differ and same else "") + (f"{', '.join(same)} cannot be told apart from {best} at these seeds"
                                               if same else "")
    return text + "."


def implementation_pairs(methods: list[MethodSummary], done: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """rlcheck's X against Stable-Baselines3's X (`sb3-X`) for every config pair present and not
    compared yet: do the two implementations of one algorithm differ?"""
    out = []
    for ours in methods:
        for theirs in methods:
            if theirs.name != f"sb3-{ours.name}" or theirs.config_id != ours.config_id:
                continue
            existing = [c for c in done if {c["a"], c["b"]} == {ours.label_name, theirs.label_name}]
            for c in existing:
                c["implementations"] = True
            pair = None if existing else compare(ours, theirs, seed, implementations=True)
            if pair:
                out.append(pair)
    return out


def summarize_study(outcomes: list[Outcome], manifest: dict[str, Any], seed: int = 0) -> StudySummary:
    spec = manifest["spec"]
    judged = spec["threshold"] is not None  # `train` without a threshold: returns only, success not judged
    threshold, budget = float(spec["threshold"]) if judged else float("inf"), int(spec["budget"])
    jobs = manifest.get("jobs", {})
    searched = [o for o in outcomes if o.method.endswith(tuning.TUNED)]  # --tune's runs: not in the verdict
    outcomes = [o for o in outcomes if not o.method.endswith(tuning.TUNED)]
    searches = manifest.get("tuning", {})
    methods = []
    finite = [f for o in outcomes for f in o.final[np.isfinite(o.final)]]
    diverged_as = float(min(finite)) if finite and any(o.diverged.any() for o in outcomes) else None
    plan = sequential.schedule(spec) if judged else None
    for o in outcomes:
        level = sequential.label_level(spec, len(o.seeds)) if judged else 0.05
        m = method_summary(o, threshold, seed, manifest["methods"][o.method]["role"], diverged_as, level)
        configs = manifest.get("configs", {}).get(o.method, [])
        mine = [j for j in jobs.values() if j.get("method") == o.method and j.get("status") == "done"]
        m = dataclasses.replace(m, config=configs[o.config_id] if o.config_id < len(configs) else {},
                                derived_settings=manifest.get("derived", {}).get(o.method, {}),
                                search=_search_of(searches.get(o.method), spec),
                                wall_seconds=sum(j.get("wall_seconds", 0.0) for j in mine),
                                compile_seconds=sum(j.get("compile_seconds", 0.0) for j in mine),
                                label=m.label if judged else NOT_JUDGED)
        text = method_text(m, spec["env"], threshold, budget) if judged else returns_text(m, spec["env"], budget)
        methods.append(dataclasses.replace(m, verdict_text=text))
    design = None
    if plan is not None:  # --until-decided: each method's line says how many seeds it took and why it stopped
        design = sequential.section(methods, plan)
        stops = {row["method"]: row["stopped"] for row in design["methods"]}
        methods = [dataclasses.replace(m, verdict_text=_with_stop(m.verdict_text, m.label_name, stops)) for m in methods]
    ranked = sorted(methods, key=rank_key)
    comparisons = best_versus_others(ranked, seed)
    comparisons += implementation_pairs(methods, comparisons, seed)
    verdict = study_verdict(methods, spec["env"], threshold, budget) if judged else unjudged_verdict(methods)
    sweeps = []
    for name, settings in spec["methods"].items():
        factors = (settings or {}).get("sweep")
        mine = [o for o in outcomes if o.method == name]
        if factors and mine:
            sweeps.append({"method": name, **analyse_sweep(mine, manifest.get("configs", {}).get(name, []), factors,
                                                            threshold, seed)})
    env_info = manifest.get("env_info", {})
    audit_section = audit(outcomes, manifest.get("audit_lint"), int(spec["evaluation"]["episodes"]),
                          bool(env_info.get("discrete", True)), env_info.get("action_range"),
                          manifest.get("audit_errors", []), threshold, observation_names(str(spec["env"]), env_info.get("obs_size")))
    if design is not None:
        verdict = dataclasses.replace(verdict, lines=(*verdict.lines, sequential.design_text(plan) + "."))
        verdict = dataclasses.replace(verdict, text=" ".join(verdict.lines))
    tuned = []
    for name, record in searches.items():
        mine = [o for o in searched if o.method == name + tuning.TUNED]
        if mine:
            fresh = next((m for m in methods if m.name == name), None)
            tuned.append(tuning.section(name, mine, record["configs"], record["chosen"], fresh, spec["threshold"],
                                        record["fields"]))
    for entry in tuned:
        said_search = tuning.text(entry, spec["threshold"])
        verdict = dataclasses.replace(verdict, text=f"{verdict.text} {said_search}", lines=(*verdict.lines, said_search))
    said = comparisons_text(comparisons)
    if said and judged:
        verdict = dataclasses.replace(verdict, text=f"{verdict.text} {said}", lines=(*verdict.lines, said))
    versus = baselines_vs_rl(methods, threshold)
    if versus["text"]:
        verdict = dataclasses.replace(verdict, text=f"{verdict.text} {versus['text']}",
                                      lines=(*verdict.lines, versus["text"]))
    return StudySummary(
        env=spec["env"],
        budget={"env_steps": budget, "num_evals": spec["evaluation"]["checkpoints"],
                "eval_episodes": spec["evaluation"]["episodes"]},
        threshold=threshold if judged else None,
        verdict=verdict,
        methods=tuple(methods),
        reward_threshold=manifest.get("reward_threshold"),
        env_backend=env_info.get("backend"),
        env_warnings=tuple(env_info.get("preflight_warnings", [])),
        baselines_vs_rl=tuple(versus["rows"]),
        skipped=tuple({"method": k, "reason": v} for k, v in spec.get("skipped", {}).items()),
        time_fit=spec.get("time"),
        comparisons=tuple(comparisons),
        audit=audit_section,
        sweeps=tuple(sweeps),
        failed_jobs=tuple({"job": k, "method": j.get("method"), "error": j["error"]} for k, j in jobs.items()
                          if j.get("status") == "failed"),
        wall_seconds=manifest.get("wall_seconds"),
        rlcheck_version=manifest.get("rlcheck_version"),
        fingerprint=manifest.get("fingerprint"),
        sequential=design,
        tuning=tuple(tuned),
    )


def _search_of(record: dict[str, Any] | None, spec: dict[str, Any]) -> dict[str, Any]:
    if not record:
        return {}
    return {"configs": len(record["configs"]), "search_seeds": int((spec.get("tune") or {}).get("seeds", 0)),
            "chosen": record["chosen"]}


def _with_stop(line: str, name: str, stops: dict[str, str]) -> str:
    return f"{line.removesuffix('.')} ({stops[name]})." if name in stops else line
