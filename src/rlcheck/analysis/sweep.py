"""Sensitivity sweeps in the style of "Deep RL That Matters" (Henderson et al. 2018): which factors
change the outcome, by how much, and is that more than seeds alone do?

For a method swept over factors (activation, reward scale, ...), each cell (one combination of
values) has its seeds' final returns. Per factor and per non-reference level: the main effect (mean
final return at that level minus at the reference level, pooled over the other factors' cells) with a
95% bootstrap interval, Hedges' g and Welch's t-test; p-values Holm-corrected over every comparison of
the sweep. The noise floor is the same comparison between two halves of the reference cell's own seeds
("5 vs 5 of identical settings"): a factor "matters" when its corrected p < 0.05.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from rlcheck.analysis import stats
from rlcheck.analysis.outcomes import Outcome

ALPHA = 0.05


def _difference_interval(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    if len(a) < 2 or len(b) < 2 or np.ptp(np.concatenate([a, b])) == 0:
        return float(a.mean() - b.mean()), float(a.mean() - b.mean())
    res = scipy_stats.bootstrap((a, b), lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                                n_resamples=stats.RESAMPLES, method="percentile", vectorized=True,
                                rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def analyse_sweep(outcomes: Sequence[Outcome], configs: Sequence[Mapping[str, Any]], factors: Mapping[str, Sequence[Any]],
                  threshold: float | None, seed: int = 0) -> dict[str, Any]:
    """`outcomes` of one method (one per config id), `configs[config_id]` its config (plain JSON) and
    `factors` the swept values, in the order given (the first is the reference level)."""
    finals = {o.config_id: o.final[np.isfinite(o.final)] for o in outcomes}
    cells = []
    for o in sorted(outcomes, key=lambda o: o.config_id):
        levels = {f: configs[o.config_id][f] for f in factors}
        x = finals[o.config_id]
        mean = stats.bootstrap(x, stats.mean, seed) if len(x) else stats.Estimate(np.nan, np.nan, np.nan)
        solved = int(np.sum(x >= threshold)) if threshold is not None else None
        cells.append({"config_id": o.config_id, "levels": levels, "seeds": int(len(o.seeds)),
                      "mean_final": mean.as_dict(), "finals": x.tolist(), "solved": solved})
    effects = []
    for factor, values in factors.items():
        if len(values) < 2:
            continue
        reference = values[0]
        ref = np.concatenate([np.asarray(c["finals"]) for c in cells if c["levels"][factor] == reference] or [np.array([])])
        for level in values[1:]:
            other = np.concatenate([np.asarray(c["finals"]) for c in cells if c["levels"][factor] == level] or [np.array([])])
            if len(ref) < 2 or len(other) < 2:
                continue
            low, high = _difference_interval(other, ref, seed)
            compared = stats.compare(other, ref, seed)
            effects.append({"factor": factor, "level": level, "reference": reference, "n": int(len(other)),
                            "n_reference": int(len(ref)), "effect": float(other.mean() - ref.mean()),
                            "low": low, "high": high, "hedges_g": compared["hedges_g"], "welch_p": compared["welch_p"]})
    for e, adjusted in zip(effects, stats.holm([e["welch_p"] for e in effects]), strict=True):
        e["holm_p"] = adjusted
        e["matters"] = bool(adjusted < ALPHA)
    reference_cell = next((c for c in cells if all(c["levels"][f] == v[0] for f, v in factors.items())), None)
    floor = stats.noise_floor(reference_cell["finals"], seed) if reference_cell else None
    matters = sorted({e["factor"] for e in effects if e["matters"]})
    text = (f"Factors that change the final return (Holm-corrected Welch p < {ALPHA}): {', '.join(matters)}."
            if matters else f"No factor changes the final return detectably (Holm-corrected Welch p >= {ALPHA}).")
    if floor:
        typical, high = floor["abs_mean_difference"]["median"], floor["abs_mean_difference"]["p95"]
        text += (f" Noise floor: two random halves of the reference cell's own seeds differ by {typical:.4g} in mean "
                 f"final return (median over {floor['splits']} splits; 95th percentile "
                 f"{'n/a' if high is None else f'{high:.4g}'}).")
    return {"factors": {k: list(v) for k, v in factors.items()}, "cells": cells, "effects": effects,
            "noise_floor": floor, "matters": matters, "text": text}
