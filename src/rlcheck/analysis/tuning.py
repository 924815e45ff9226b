"""`--tune N`: which searched configuration to re-run, and what the search shows.

The search runs N configurations of a learner on a few search seeds (never the study's own). The best,
by successes on the search seeds and then mean final return, is re-run on the study's seeds, and only
that fresh re-run enters the verdict: the search's own best score is optimistic (it was picked as the
maximum of N noisy scores), and the gap between the two is reported as the selection bias. The
sensitivity says how the outcome moves along each searched hyper-parameter (Spearman's rank correlation
over the N configurations, and the mean final return in each third of its range), in the spirit of
Adkins et al. (NeurIPS 2024): how much does the verdict depend on the setting?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from rlcheck.analysis.outcomes import Outcome
from rlcheck.core.results import MethodSummary

TUNED = ":tune"  # a search's runs are stored under METHOD:tune


def _score(o: Outcome, threshold: float | None) -> tuple[int, float]:
    final = o.final
    wins = 0 if threshold is None else int(o.succeeded(threshold).sum())
    return wins, float(np.mean(np.nan_to_num(final, nan=-np.inf)))


def choose(configs: Sequence[Outcome], threshold: float | None) -> int:
    """The config id with the most search seeds at the threshold, then the highest mean final return
    (a diverged seed counts as -inf); ties go to the lower id, so the default wins a tie."""
    best = max(configs, key=lambda o: (*_score(o, threshold), -o.config_id))
    return best.config_id


def section(method: str, searched: Sequence[Outcome], configs: Sequence[Mapping[str, Any]], chosen: int,
            fresh: MethodSummary | None, threshold: float | None, fields: Sequence[str]) -> dict[str, Any]:
    """summary.json's `tuning` entry for one method."""
    by_id = {o.config_id: o for o in searched}
    means = np.array([_score(by_id[i], threshold)[1] if i in by_id else np.nan for i in range(len(configs))])
    reached = [bool(by_id[i].succeeded(threshold).all()) for i in range(len(configs)) if i in by_id] if threshold is not None else []
    chosen_search = float(means[chosen]) if np.isfinite(means[chosen]) else None
    fresh_mean = None if fresh is None else fresh.final_return["mean"].value
    sensitivity = {}
    for name in fields:
        values = np.array([float(c[name]) for c in configs])
        ok = np.isfinite(means)
        rho = stats.spearmanr(values[ok], means[ok]).statistic if ok.sum() >= 3 and np.ptp(values[ok]) > 0 and np.ptp(means[ok]) > 0 else np.nan
        by_third = []
        for third in np.array_split(np.argsort(values), 3):
            seen = means[third][np.isfinite(means[third])]
            by_third.append(float(seen.mean()) if len(seen) else None)
        sensitivity[name] = {"spearman": None if not np.isfinite(rho) else float(rho),
                             "range": [float(values.min()), float(values.max())], "mean_final_by_third": by_third}
    return {
        "method": method, "configs": len(configs), "search_seeds": len(searched[0].seeds) if searched else 0,
        "chosen": chosen, "chosen_settings": {k: configs[chosen][k] for k in fields},
        "default_settings": {k: configs[0][k] for k in fields},
        "default_search_mean": None if not np.isfinite(means[0]) else float(means[0]),
        "chosen_search_mean": chosen_search, "chosen_fresh_mean": fresh_mean,
        "selection_bias": None if chosen_search is None or fresh_mean is None else chosen_search - fresh_mean,
        "share_reaching": None if not reached else float(np.mean(reached)),
        "search_means": [None if not np.isfinite(m) else float(m) for m in means],
        "sensitivity": sensitivity,
    }


def text(entry: Mapping[str, Any], threshold: float | None) -> str:
    """One sentence for the verdict: what the search tried and what its best did on fresh seeds."""
    name = entry["method"].upper()
    settings = ", ".join(f"{k} {v:.3g}" for k, v in entry["chosen_settings"].items())
    out = (f"{name} was searched: {entry['configs']} configurations on {entry['search_seeds']} search seeds each; "
           + ("the defaults stayed best" if entry["chosen"] == 0 else f"the best ({settings}) was re-run on the study's "
              "seeds, and only that re-run is in the verdict"))
    if entry["share_reaching"] is not None and threshold is not None:
        out += f"; {100 * entry['share_reaching']:.0f}% of the configurations reached {threshold:g} on every search seed"
    if entry["selection_bias"] is not None and entry["chosen"] != 0:
        out += (f"; the best's mean final return was {entry['chosen_search_mean']:.1f} on the search seeds and "
                f"{entry['chosen_fresh_mean']:.1f} on fresh ones (selection bias {entry['selection_bias']:+.1f})")
    return out + "."
