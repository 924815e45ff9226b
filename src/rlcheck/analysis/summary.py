"""The study's `summary.json`: per method, every seed and the statistics across seeds, pairwise
comparisons, and the verdict. A pure function of the stored traces and the manifest."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcheck.analysis import stats
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


def _num(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def method_summary(o: Outcome, threshold: float, budget: int, seed: int = 0, role: str = "rl") -> dict[str, Any]:
    final = o.final
    finite = final[np.isfinite(final)]
    succeeded = o.succeeded(threshold)
    first = o.first_reached(threshold)
    survival = stats.kaplan_meier(first, o.steps[:, -1].astype(float))
    returns = {name: (stats.bootstrap(finite, fn, seed) if len(finite) else stats.Estimate(np.nan, np.nan, np.nan)).as_dict()
               for name, fn in (("iqm", stats.iqm), ("median", stats.median), ("mean", stats.mean))}
    cvar = stats.bootstrap(finite, stats.cvar25, seed) if len(finite) else stats.Estimate(np.nan, np.nan, np.nan)
    k = int(succeeded.sum())
    return {
        "name": o.method,
        "config_id": o.config_id,
        "label_name": o.label,
        "seeds": [
            {"seed": int(s), "final_return": _num(f), "env_steps": int(n), "model_calls": int(c),
             "solved": bool(ok), "first_reached": r, "diverged": bool(d), **_final_descriptors(o, i)}
            for i, (s, f, n, c, ok, r, d) in enumerate(zip(o.seeds, final, o.steps[:, -1], o.model_calls, succeeded,
                                                           first, o.diverged, strict=True))
        ],
        "successes": k,
        "success_rate": stats.success_rate(k, len(o.seeds)).as_dict(),
        "steps_to_threshold": {"median": _num(survival.median.value), "low": _num(survival.median.low),
                               "high": _num(survival.median.high)},
        "final_return": returns,
        "cvar25": cvar.as_dict(),
        "diverged_seeds": [int(s) for s in o.seeds[o.diverged]],
        "collapsed_seeds": [int(s) for s in o.seeds[o.collapsed(threshold)]],
        "noise_floor": stats.noise_floor(finite, seed),
        "survival": {"steps": survival.steps.tolist(), "solved": survival.solved.tolist(),
                     "low": survival.low.tolist(), "high": survival.high.tolist()},
        "label": method_label(k, len(o.seeds)),
        "kind": role,
        "learning_env_steps": int(np.median(o.steps[:, -1])),
        "model_calls": int(np.median(o.model_calls)),
        "eval_model_calls_per_episode": None if o.eval_model_calls is None else float(np.median(o.eval_model_calls)),
    }


def _final_descriptors(o: Outcome, i: int) -> dict[str, Any]:
    """The user's (and built-in) descriptors of seed i's final policy: {"descriptors": {name: value}}, or {}."""
    values = {k.removeprefix("user/"): _num(v[i, -1]) for k, v in sorted(o.behaviour.items()) if k.startswith("user/")}
    return {"descriptors": values} if values else {}


def _finals(m: dict[str, Any]) -> np.ndarray:
    return np.array([s["final_return"] for s in m["seeds"] if s["final_return"] is not None])


def implementation_pairs(methods: list[dict[str, Any]], done: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """rlcheck's X against Stable-Baselines3's X (`sb3-X`) for every config pair present and not
    compared yet: do the two implementations of one algorithm differ?"""
    out = []
    for ours in methods:
        for theirs in methods:
            if theirs["name"] != f"sb3-{ours['name']}" or theirs["config_id"] != ours["config_id"]:
                continue
            pair = {ours["label_name"], theirs["label_name"]}
            existing = [c for c in done if {c["a"], c["b"]} == pair]
            for c in existing:
                c["implementations"] = True
            a, b = _finals(ours), _finals(theirs)
            if not existing and len(a) >= 2 and len(b) >= 2:
                out.append({"a": ours["label_name"], "b": theirs["label_name"], "metric": "final_return",
                            "implementations": True, **stats.compare(a, b, seed)})
    return out


def summarize_study(outcomes: list[Outcome], manifest: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    spec = manifest["spec"]
    judged = spec["threshold"] is not None  # `train` without a threshold: returns only, success not judged
    threshold, budget = float(spec["threshold"]) if judged else float("inf"), int(spec["budget"])
    jobs = manifest.get("jobs", {})
    methods = []
    for o in outcomes:
        m = method_summary(o, threshold, budget, seed, manifest["methods"][o.method]["role"])
        configs = manifest.get("configs", {}).get(o.method, [])
        m["config"] = configs[o.config_id] if o.config_id < len(configs) else {}
        mine = [j for j in jobs.values() if j.get("method") == o.method and j.get("status") == "done"]
        m["wall_seconds"] = sum(j.get("wall_seconds", 0.0) for j in mine)
        m["compile_seconds"] = sum(j.get("compile_seconds", 0.0) for j in mine)
        if not judged:
            m["label"] = NOT_JUDGED
        m["verdict_text"] = method_text(m, spec["env"], threshold, budget) if judged else returns_text(m, spec["env"], budget)
        methods.append(m)
    ranked = sorted(methods, key=rank_key)
    comparisons = []
    if ranked:
        best = ranked[0]
        best_final = np.array([s["final_return"] for s in best["seeds"] if s["final_return"] is not None])
        for other in ranked[1:]:
            other_final = np.array([s["final_return"] for s in other["seeds"] if s["final_return"] is not None])
            if len(best_final) >= 2 and len(other_final) >= 2:
                comparisons.append({"a": best["label_name"], "b": other["label_name"], "metric": "final_return",
                                    **stats.compare(best_final, other_final, seed)})
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
                          manifest.get("audit_errors", []), threshold)
    versus = baselines_vs_rl(methods, threshold)
    if versus["text"]:
        verdict["text"] += " " + versus["text"]
        verdict["lines"] = verdict.get("lines", []) + [versus["text"]]
    return {
        "env": spec["env"],
        "budget": {"env_steps": budget, "num_evals": spec["evaluation"]["checkpoints"],
                   "eval_episodes": spec["evaluation"]["episodes"]},
        "reward_threshold": manifest.get("reward_threshold"),
        "env_backend": manifest.get("env_info", {}).get("backend"),
        "env_warnings": manifest.get("env_info", {}).get("preflight_warnings", []),
        "threshold": threshold if judged else None,
        "verdict": verdict,
        "baselines_vs_rl": versus["rows"],
        "skipped": [{"method": k, "reason": v} for k, v in spec.get("skipped", {}).items()],
        "methods": methods,
        "comparisons": comparisons,
        "audit": audit_section,
        "sweeps": sweeps,
        "failed_jobs": [{"job": k, "method": j.get("method"), "error": j["error"]} for k, j in jobs.items() if j.get("status") == "failed"],
        "wall_seconds": manifest.get("wall_seconds"),
        "rlcheck_version": manifest.get("rlcheck_version"),
        "fingerprint": manifest.get("fingerprint"),
    }
