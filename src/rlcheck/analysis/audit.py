"""The training half of the reward audit, from stored traces: proxy-vs-true divergence, sharp behaviour
shifts, behaviour modes across seeds and action collapse. Pure functions of `Outcome`s (their
`behaviour` curves) and, for collapse, the lint's constant-action probe returns.

Thresholds (documented in docs/audit.md):
- divergence: the proxy (eval return) rises from the first checkpoint to the last by more than its
  95% interval and by at least 5% of the range of returns seen, while the true objective ends below
  its peak by more than its interval ("falls") or gains less than 5% of its range ("flat");
- shift: a checkpoint-to-checkpoint jump in the standardised behaviour vector over 3 units and 4x the
  median jump (not counting the first interval: leaving the untrained policy always moves);
- modes: seeds' final behaviour vectors clustered (Ward linkage) on the descriptors whose seed-to-seed
  differences exceed evaluation noise (Cochran's Q on each seed's value and its standard error over its
  evaluation episodes, p < 0.05 / the number of descriptors) and their natural scale; k > 1 modes when
  the best k has a mean silhouette >= 0.5; a mode split "fires" when the modes' returns differ (Welch
  p < 0.05). Seeds that differ only by which start states they drew are one mode;
- collapse: a policy that plays one action most of the time (discrete: one action >= 80% of its steps;
  continuous: every action dimension's spread under 5% of its range, at a mean within 5% of the range of a
  probed corner) and returns, short of the success threshold, within noise of what always playing *that*
  action returns (the lint's probe of it: twice the standard error of the difference, with the probe's
  spread for both): it learned what a constant action earns, not the task. A seed that plays one action
  but earns far more or less than that action alone is no collapse; nor is a constant action that solves
  the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats
from scipy.cluster.hierarchy import fcluster, linkage

from rlcheck.analysis.behaviour_words import ObservationNames, change, compare
from rlcheck.analysis.outcomes import Outcome
from rlcheck.diagnostics.behaviour import STDERR

EFFECT_SHARE = 0.05
SHIFT_UNITS, SHIFT_FACTOR = 3.0, 4.0
SILHOUETTE = 0.5
MODE_P = 0.05
COLLAPSE_SHARE = 0.80
COLLAPSE_SPREAD = 0.05
Z95 = 1.96
NOT_DESCRIPTORS = ("true_return", "true_return_std")


def _num(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def divergence(o: Outcome, eval_episodes: int) -> dict[str, Any] | None:
    """Per seed: did the proxy rise while the true objective fell or stayed flat?"""
    true = o.behaviour.get("true_return")
    if true is None or o.eval_returns.shape[1] < 2:
        return None
    true_std = o.behaviour.get("true_return_std", np.zeros_like(true))
    proxy_std = o.eval_return_std if o.eval_return_std is not None else np.zeros_like(o.eval_returns)
    k = max(eval_episodes, 1)
    proxy_range = np.nanmax(o.eval_returns) - np.nanmin(o.eval_returns)
    true_range = np.nanmax(true) - np.nanmin(true)
    seeds = []
    for i, seed in enumerate(o.seeds):
        gain = o.eval_returns[i, -1] - o.eval_returns[i, 0]
        gain_half = Z95 * np.sqrt((proxy_std[i, -1] ** 2 + proxy_std[i, 0] ** 2) / k)
        peak = int(np.nanargmax(true[i]))
        drop = true[i, -1] - true[i, peak]
        drop_half = Z95 * np.sqrt((true_std[i, -1] ** 2 + true_std[i, peak] ** 2) / k)
        true_gain = true[i, -1] - true[i, 0]
        proxy_up = gain - gain_half > 0 and gain >= EFFECT_SHARE * proxy_range and proxy_range > 0
        falls = drop + drop_half < 0 and -drop >= EFFECT_SHARE * true_range and true_range > 0
        flat = true_gain < EFFECT_SHARE * max(true_range, abs(float(np.nanmax(np.abs(true[i])))), 1e-9)
        kind = ("falls" if falls else "flat") if proxy_up and (falls or flat) else None
        seeds.append({"seed": int(seed), "diverged": kind is not None, "kind": kind,
                      "proxy_gain": {"value": _num(gain), "low": _num(gain - gain_half), "high": _num(gain + gain_half)},
                      "true_change_from_peak": {"value": _num(drop), "low": _num(drop - drop_half), "high": _num(drop + drop_half)},
                      "true_first": _num(true[i, 0]), "true_peak": _num(true[i, peak]), "true_final": _num(true[i, -1]),
                      "proxy_first": _num(o.eval_returns[i, 0]), "proxy_final": _num(o.eval_returns[i, -1])})
    flagged = [s for s in seeds if s["diverged"]]
    n = len(seeds)
    text = (f"{o.label}: {len(flagged)}/{n} seeds raised the training reward while the true objective "
            f"{'fell or stayed flat' if flagged else 'kept up'}.")
    return {"method": o.label, "flagged": len(flagged), "seeds_total": n, "fires": bool(flagged), "seeds": seeds,
            "text": text}


def _descriptor_names(behaviour: dict[str, np.ndarray]) -> list[str]:
    """The behaviour descriptors: not the true objective, not a descriptor's standard error."""
    return [k for k in sorted(behaviour) if k not in NOT_DESCRIPTORS and not k.startswith(STDERR)]


def _descriptor_matrix(o: Outcome, column: int | slice = -1) -> tuple[list[str], np.ndarray]:
    names = _descriptor_names(o.behaviour)
    if not names:
        return [], np.zeros((len(o.seeds), 0))
    return names, np.stack([o.behaviour[k][:, column] for k in names], axis=-1)


def _natural_scale(names: list[str], x: np.ndarray, behaviour: dict[str, np.ndarray]) -> np.ndarray:
    """The size of a difference in each descriptor that means different behaviour, not noise: shares
    (in [0, 1]) 0.05; an observation's or action's mean a quarter of its within-episode spread; spreads,
    lengths and user descriptors 10% of their typical magnitude."""
    scale = []
    for j, name in enumerate(names):
        kind, _, index = name.partition("/")
        if "share" in kind or kind == "action_saturation":
            scale.append(0.05)
        elif kind in ("obs_mean", "action_mean") and f"{kind[:-5]}_std/{index}" in behaviour:
            scale.append(0.25 * float(np.nanmean(behaviour[f"{kind[:-5]}_std/{index}"])) + 1e-6)
        else:
            scale.append(0.1 * float(np.nanmean(np.abs(x[..., j]))) + 1e-6)
    return np.asarray(scale)


def _standardise(x: np.ndarray, axis: tuple[int, ...], names: list[str], behaviour: dict[str, np.ndarray]) -> np.ndarray:
    """Each descriptor over its pooled spread; descriptors whose spread is under their natural scale
    (`_natural_scale`) are dropped, so noise in them cannot split seeds into "modes"."""
    spread = np.nanstd(x, axis=axis, keepdims=True)
    keep = spread > _natural_scale(names, x, behaviour)
    z = (x - np.nanmean(x, axis=axis, keepdims=True)) / np.where(keep, spread, 1.0)
    return np.where(keep, np.nan_to_num(z), 0.0)


def beyond_noise(names: list[str], x: np.ndarray, behaviour: dict[str, np.ndarray]) -> np.ndarray:
    """Per descriptor: do the seeds' final values differ by more than evaluation noise? Cochran's Q of
    the values against their standard errors (`stderr/NAME`, over each seed's evaluation episodes),
    Bonferroni over the descriptors. Without stored standard errors (older studies): True."""
    keep = np.ones(len(names), bool)
    for j, name in enumerate(names):
        se = behaviour.get(STDERR + name)
        if se is None:
            continue
        values, errors = x[:, j], np.asarray(se[:, -1], float)
        ok = np.isfinite(values) & np.isfinite(errors)
        if ok.sum() < 2:
            continue
        values, errors = values[ok], errors[ok]
        floor = 1e-6 * (1.0 + float(np.abs(values).max()))  # identical episodes: any difference is real
        w = 1.0 / np.maximum(errors, floor) ** 2
        centre = float(np.sum(w * values) / np.sum(w))
        q = float(np.sum(w * (values - centre) ** 2))
        keep[j] = scipy_stats.chi2.sf(q, len(values) - 1) < MODE_P / len(names)
    return keep


def shifts(o: Outcome, observation_names: ObservationNames = None) -> dict[str, Any] | None:
    """Sharp checkpoint-to-checkpoint behaviour changes per seed."""
    names = _descriptor_names(o.behaviour)
    if not names or o.eval_returns.shape[1] < 3:
        return None
    x = np.stack([o.behaviour[k] for k in names], axis=-1)  # [N, T, D]
    z = _standardise(x, (0, 1), names, o.behaviour)
    jumps = np.linalg.norm(np.diff(z, axis=1), axis=-1)  # [N, T-1]
    typical = float(np.median(jumps)) if jumps.size else 0.0
    found = []
    for i, seed in enumerate(o.seeds):
        j = 1 + int(np.argmax(jumps[i, 1:]))  # the first interval (from the untrained policy) always moves
        if jumps[i, j] > SHIFT_UNITS and jumps[i, j] > SHIFT_FACTOR * typical:
            delta = np.abs(np.diff(z[i, j: j + 2], axis=0))[0]
            top = int(np.argmax(delta))
            found.append({"seed": int(seed), "from_step": int(o.steps[i, j]), "to_step": int(o.steps[i, j + 1]),
                          "size": float(jumps[i, j]), "descriptor": names[top],
                          "before": float(x[i, j, top]), "after": float(x[i, j + 1, top]),
                          "text": change(names[top], float(x[i, j, top]), float(x[i, j + 1, top]), observation_names)})
    return {"method": o.label, "typical_jump": typical, "shifts": found, "fires": False,
            "text": f"{o.label}: {len(found)} sharp behaviour shift(s) between checkpoints." if found else ""}


def _silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    d = np.linalg.norm(z[:, None] - z[None], axis=-1)
    scores = []
    for i in range(len(z)):
        same = (labels == labels[i]) & (np.arange(len(z)) != i)
        if not same.any():
            scores.append(0.0)
            continue
        a = d[i, same].mean()
        b = min(d[i, labels == c].mean() for c in np.unique(labels) if c != labels[i])
        scores.append((b - a) / max(a, b, 1e-12))
    return float(np.mean(scores))


def modes(o: Outcome, observation_names: ObservationNames = None) -> dict[str, Any] | None:
    """Cluster the seeds' final behaviour; report each mode with its seeds, returns and what sets it apart
    (in words; the raw descriptor keys stay in `distinct`)."""
    names, x = _descriptor_matrix(o)
    if len(o.seeds) < 4 or not names:
        return None
    z = _standardise(x, (0,), names, o.behaviour) * beyond_noise(names, x, o.behaviour)
    final = o.final
    best_k, best_score, labels = 1, -1.0, np.ones(len(o.seeds), int)
    if np.any(z != 0):
        tree = linkage(z, "ward")
        for k in range(2, min(4, len(o.seeds) - 1) + 1):
            candidate = fcluster(tree, k, "maxclust")
            if len(np.unique(candidate)) < 2:
                continue
            score = _silhouette(z, candidate)
            if score > best_score:
                best_k, best_score, labels = len(np.unique(candidate)), score, candidate
        if best_score < SILHOUETTE:
            best_k, labels = 1, np.ones(len(o.seeds), int)
    groups = []
    for label in np.unique(labels):
        member = labels == label
        others = ~member
        distinct = []
        if others.any():
            gap = np.abs(z[member].mean(0) - z[others].mean(0))
            distinct = [{"descriptor": names[j], "value": float(np.nanmean(x[member, j])),
                         "others": float(np.nanmean(x[others, j]))} for j in np.argsort(gap)[::-1][:3] if gap[j] > 0]
        returns = final[member]
        groups.append({"seeds": [int(s) for s in o.seeds[member]], "count": int(member.sum()),
                       "mean_return": _num(np.nanmean(returns)) if np.isfinite(returns).any() else None,
                       "distinct": distinct})
    groups.sort(key=lambda g: -(g["mean_return"] if g["mean_return"] is not None else -np.inf))
    p_value = None
    if best_k == 2:
        a, b = (final[labels == c] for c in np.unique(labels))
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        p_value = _return_p_value(a, b)
    fires = best_k > 1 and p_value is not None and p_value < MODE_P
    text = _modes_text(o, best_k, groups, fires, p_value, observation_names) if best_k > 1 else ""
    return {"method": o.label, "count": best_k, "silhouette": None if best_k == 1 else best_score, "modes": groups,
            "return_p_value": p_value, "fires": bool(fires), "text": text}


def _return_p_value(a: np.ndarray, b: np.ndarray) -> float | None:
    """Do two modes' final returns differ? Welch's t-test; a mode of one seed against the other mode's
    prediction interval (is that seed's return outside the spread of the others'?); None when it cannot be
    tested (a mode with no finite return, or two single seeds)."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0 or len(b) < 2:
        return None
    if len(a) == 1:
        spread = b.std(ddof=1) * np.sqrt(1.0 + 1.0 / len(b))
        if spread == 0:
            return 0.0 if a[0] != b[0] else 1.0
        return float(2 * scipy_stats.t.sf(abs(a[0] - b.mean()) / spread, len(b) - 1))
    if a.std() > 0 or b.std() > 0:
        return float(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)
    return 0.0 if a.mean() != b.mean() else 1.0  # identical returns within each mode


def _modes_text(o: Outcome, k: int, groups: list[dict[str, Any]], fires: bool, p_value: float | None,
                observation_names: ObservationNames) -> str:
    """"ppo: 2 behaviour modes, returning differently: seeds 1, 4 (2/10, return 180): the average cart
    position is 0.41 m, 0.39 m higher than in the other seeds (0.02 m); ..." """
    n = len(o.seeds)
    returns = {g["mean_return"] for g in groups}
    if fires:
        how = ", returning differently"
    elif len(returns) == 1 and None not in returns:
        how = ", at the same return"
    elif p_value is not None:
        how = ", at returns that cannot be told apart"
    else:
        how = ""
    head = f"{o.label}: {k} behaviour modes{how}"
    parts = []
    for g in groups:
        ids = ", ".join(map(str, g["seeds"]))
        ret = f", return {g['mean_return']:.4g}" if g["mean_return"] is not None else ""
        what = compare(g["distinct"][0]["descriptor"], g["distinct"][0]["value"], g["distinct"][0]["others"],
                       observation_names) if g["distinct"] else "no single descriptor sets them apart"
        parts.append(f"seed{'s' if g['count'] > 1 else ''} {ids} ({g['count']}/{n}{ret}): {what}")
    return head + ": " + "; ".join(parts) + "."


def collapse(o: Outcome, constants: dict[str, dict[str, Any]], threshold: float | None, discrete: bool,
             action_range: Sequence[float] | None = None, eval_episodes: int = 10) -> dict[str, Any] | None:
    """Seeds whose final policy is (near) one constant action and returns what playing that action alone
    returns (within noise), short of success. `constants`: the lint's constant-action probes by name, each
    {mean_return, return_std, episodes, action}."""
    if not constants or not o.behaviour:
        return None
    finite = o.final[np.isfinite(o.final)]
    target = threshold if threshold is not None else (float(finite.max()) if finite.size else np.inf)
    seeds = []
    for i, seed in enumerate(o.seeds):
        played = _played_constant(o, i, constants, discrete, action_range)
        if played is None:
            return None
        near_constant, what, probe, dominant = played
        final, reference = o.final[i], constants.get(probe) if probe else None
        matches, noise = False, None
        if near_constant and reference is not None and np.isfinite(final) and final < target:
            spread = reference.get("return_std") or 0.0
            noise = max(2.0 * spread * np.sqrt(1.0 / max(reference["episodes"], 1) + 1.0 / max(eval_episodes, 1)),
                        1e-6 * (1.0 + abs(reference["mean_return"])))
            matches = bool(abs(final - reference["mean_return"]) <= noise)
        seeds.append({"seed": int(seed), "collapsed": bool(near_constant and matches), "near_constant": bool(near_constant),
                      "final_return": _num(final), "what": what, "probe": probe,
                      "probe_return": None if reference is None else _num(reference["mean_return"]),
                      "noise": _num(noise), **dominant})
    flagged = [s for s in seeds if s["collapsed"]]
    by_probe: dict[str, list[int]] = {}
    for s in flagged:
        by_probe.setdefault(s["probe"], []).append(s["seed"])
    text = " ".join(f"{o.label}: {len(ids)}/{len(seeds)} seeds (seed{'s' if len(ids) > 1 else ''} "
                    f"{', '.join(map(str, ids))}) collapsed: they play {probe.removeprefix('constant ')} nearly "
                    f"always and return what always playing it returns ({constants[probe]['mean_return']:.4g})."
                    for probe, ids in by_probe.items())
    return {"method": o.label, "flagged": len(flagged), "seeds_total": len(seeds), "fires": bool(flagged),
            "seeds": seeds, "text": text}


def _played_constant(o: Outcome, i: int, constants: dict[str, dict[str, Any]], discrete: bool,
                     action_range: Sequence[float] | None) -> tuple[bool, str, str | None, dict] | None:
    """(near constant, in words, the lint probe of the action it plays or None, extra fields) for seed `i`'s final
    policy; None if its behaviour has no action statistics."""
    if discrete:
        shares = {k: v[i, -1] for k, v in o.behaviour.items() if k.startswith("action_share/")}
        if not shares:
            return None
        key, share = max(shares.items(), key=lambda kv: kv[1])
        action = int(key.split("/")[1])
        probe = f"constant action {action}"
        return (share >= COLLAPSE_SHARE, f"action {action} {share:.0%} of the time", probe if probe in constants else None,
                {"action": action, "share": _num(share)})
    spreads = [v[i, -1] for k, v in sorted(o.behaviour.items()) if k.startswith("action_std/")]
    means = np.asarray([v[i, -1] for k, v in sorted(o.behaviour.items()) if k.startswith("action_mean/")])
    if not spreads:
        return None
    ranges = np.asarray(action_range if action_range is not None else [1.0] * len(spreads), float)
    near_constant = all(s < COLLAPSE_SPREAD * r for s, r in zip(spreads, ranges, strict=False))
    probe = None
    for name, c in constants.items():  # a corner the lint probed, if the policy sits on one
        corner = np.asarray((c.get("action") or [[]])[0], float).reshape(-1)
        if means.size and corner.shape == means.shape and np.all(np.abs(means - corner) <= COLLAPSE_SPREAD * ranges):
            probe = name
    return near_constant, "every action dimension nearly constant", probe, {}


def stochastic_gap(o: Outcome, threshold: float | None) -> dict[str, Any] | None:
    """The gap between the deterministic policy rlcheck evaluates and the same policy acting as in training
    (sampled, epsilon-greedy, noised), at the final checkpoint, over seeds: a 95% t-interval on the mean
    paired gap. It "fires" when the interval excludes 0 and the gap is at least 5% of the scale of returns
    (the threshold's size or the range of returns seen, whichever is larger): evaluating the other way
    (SB3's `deterministic=False`, say) would report a different figure."""
    if o.stochastic_final is None:
        return None
    deterministic, sampled = o.final, o.stochastic_final
    ok = np.isfinite(deterministic) & np.isfinite(sampled)
    if not ok.any():
        return None
    gaps = deterministic[ok] - sampled[ok]
    n, gap = int(ok.sum()), float(gaps.mean())
    low = high = None
    if n >= 2:
        half = float(scipy_stats.t.ppf(0.975, n - 1) * gaps.std(ddof=1) / np.sqrt(n))
        low, high = gap - half, gap + half
    seen = o.eval_returns[np.isfinite(o.eval_returns)]
    scale = max(abs(threshold) if threshold is not None else 0.0, float(np.ptp(seen)) if seen.size else 0.0, 1e-9)
    clear = low is not None and (low > 0 or high < 0)
    fires = bool(clear and abs(gap) >= EFFECT_SHARE * scale)
    d_mean, s_mean = float(deterministic[ok].mean()), float(sampled[ok].mean())
    interval = f" (95% CI {low:.3g} to {high:.3g})" if low is not None else ""
    rates = ""
    if threshold is not None:
        rates = (f"; {int((deterministic[ok] >= threshold).sum())}/{n} seeds reach {threshold:g} deterministically, "
                 f"{int((sampled[ok] >= threshold).sum())}/{n} sampled")
    if fires:
        better = "deterministic" if gap > 0 else "sampled"
        text = (f"{o.label}: the deterministic policy (what rlcheck evaluates) returns {d_mean:.4g} on average, the "
                f"policy as it acts in training {s_mean:.4g}: the {better} one does better by {abs(gap):.3g}{interval}"
                f"{rates}. An evaluation that samples actions reports the sampled figure.")
    else:
        text = (f"{o.label}: the deterministic and the sampled policy return the same within noise ({d_mean:.4g} "
                f"against {s_mean:.4g}, gap{interval or ' ' + format(gap, '.3g')}){rates}.")
    return {"method": o.label, "deterministic_mean": d_mean, "sampled_mean": s_mean, "gap": gap,
            "gap_low": low, "gap_high": high, "seeds_total": n, "fires": fires, "text": text,
            "seeds": [{"seed": int(s), "deterministic": _num(d), "sampled": _num(x)}
                      for s, d, x in zip(o.seeds, deterministic, sampled, strict=True)]}


def audit(outcomes: Sequence[Outcome], lint: dict[str, Any] | None, eval_episodes: int, discrete: bool,
          action_range: Sequence[float] | None = None, errors: Sequence[str] = (),
          threshold: float | None = None, observation_names: ObservationNames = None) -> dict[str, Any]:
    """summary.json's `audit`: {lint, profile, probes, divergence, shifts, modes, collapse, evaluation, errors}.
    `observation_names`: (name, unit) per observation entry, for the texts."""
    constant = {}
    if lint:
        constant = {p["probe"]: p for p in lint["probes"] if p["probe"].startswith("constant")}
    learners = [o for o in outcomes if o.eval_returns.shape[1] > 1]  # planners have one checkpoint: nothing learned
    keep = lambda xs: [x for x in xs if x is not None]
    return {
        "lint": lint["findings"] if lint else [],
        "profile": lint["profile"] if lint else None,
        "probes": lint["probes"] if lint else [],
        "divergence": keep(divergence(o, eval_episodes) for o in outcomes),
        "shifts": keep(shifts(o, observation_names) for o in learners),
        "modes": keep(modes(o, observation_names) for o in outcomes),
        "collapse": keep(collapse(o, constant, threshold, discrete, action_range, eval_episodes) for o in learners),
        "evaluation": keep(stochastic_gap(o, threshold) for o in learners),
        "errors": list(errors),
    }
