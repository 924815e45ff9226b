"""Matplotlib figures as SVG text: learning curves (every seed thin, IQM with a 95% band), the
fraction of seeds solved by each env step (Kaplan-Meier), and final returns per seed per method."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rlcheck.analysis import stats
from rlcheck.analysis.outcomes import Outcome
from rlcheck.core.results import MethodSummary

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _svg(fig: Any, name: str) -> str:
    """The figure as an <svg> element; ids salted by figure name so several can share one page."""
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)  # no dates: reproducible


def _steps_axis(ax: Any) -> None:
    ax.set_xlabel("env steps")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    ax.grid(alpha=0.3)


def _steps_figure(fig: Any, ax: Any, ylabel: str, title: str, name: str) -> str:
    """Labels, env-steps x axis and legend of a one-axes figure over env steps, then its SVG."""
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _steps_axis(ax)
    ax.legend(fontsize=8)
    return _svg(fig, name)


def learning_curves(outcomes: list[Outcome], threshold: float | None, seed: int = 0) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, o in enumerate(outcomes):
        color = COLORS[i % len(COLORS)]
        if o.steps.shape[1] == 1:  # a planner: one evaluation, at 0 learning steps
            ax.scatter(np.zeros(len(o.seeds)), o.eval_returns[:, 0], color=color, s=12, alpha=0.5)
        for steps, curve in zip(o.steps, o.eval_returns, strict=True):
            ax.plot(steps, curve, color=color, lw=0.6, alpha=0.35)
        x = np.median(o.steps, axis=0)  # seeds that count their own steps differ a little
        band = [stats.bootstrap(col[np.isfinite(col)], stats.iqm, seed, resamples=1000) if np.isfinite(col).any()
                else stats.Estimate(np.nan, np.nan, np.nan) for col in o.eval_returns.T]
        ax.plot(x, [b.value for b in band], color=color, lw=2, marker="o" if len(x) == 1 else None,
                label=f"{o.label} (IQM, {len(o.seeds)} seeds)")
        ax.fill_between(x, [b.low for b in band], [b.high for b in band], color=color, alpha=0.2, lw=0)
    if threshold is not None:  # None: `train` without a success threshold
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    return _steps_figure(fig, ax, "eval return", "Learning curves: every seed (thin), IQM with 95% bootstrap band",
                         "curves")


def survival(methods: Sequence[MethodSummary], budget: int) -> str | None:
    """One small panel per method that had a seed reach the threshold (up to 8 stay readable: bands never
    overlap), on shared axes; None when no seed of any method reached it (the report says so in words)."""
    reached = [(i, m) for i, m in enumerate(methods) if max(m.survival.get("solved") or [0.0]) > 0]
    if not reached:
        return None
    cols = 1 if len(reached) == 1 else 2
    rows = -(-len(reached) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7, 0.7 + 1.7 * rows), sharex=True, sharey=True, squeeze=False)
    for ax, (i, m) in zip(axes.flat, reached, strict=False):
        color = COLORS[i % len(COLORS)]
        s = m.survival
        steps = np.append(s["steps"], budget)
        solved, low, high = (np.append(s[k], s[k][-1]) for k in ("solved", "low", "high"))
        ax.fill_between(steps, np.nan_to_num(low), np.nan_to_num(high, nan=1.0), step="post", color=color, alpha=0.25, lw=0)
        ax.step(steps, solved, where="post", color=color, lw=2)
        ax.set_title(f"{m.label_name}: {m.successes}/{len(m.seeds)} seeds end above it", fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    for ax in list(axes.flat)[len(reached):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("env steps")
    for ax in axes[:, 0]:
        ax.set_ylabel("share solved")
    fig.suptitle("Share of seeds that have reached the threshold by each env step (Kaplan-Meier, 95% band)",
                 fontsize=10)
    fig.tight_layout()
    return _svg(fig, "survival")


def final_returns(methods: Sequence[MethodSummary], threshold: float | None) -> str:
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.7 * max(1, len(methods))))
    rng = np.random.default_rng(0)
    for i, m in enumerate(methods):
        color = COLORS[i % len(COLORS)]
        finals = np.array(m.finals, float)
        ax.scatter(finals, i + rng.uniform(-0.15, 0.15, len(finals)), color=color, s=18, zorder=3)
        iqm = m.final_return["iqm"]
        if iqm.value is not None:
            ax.plot([iqm.value] * 2, [i - 0.3, i + 0.3], color="k", lw=2)
            if iqm.low is not None:
                ax.plot([iqm.low, iqm.high], [i, i], color="k", lw=1)
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1)
    ax.set_yticks(range(len(methods)), [m.label_name for m in methods])
    ax.set_ylim(-0.6, len(methods) - 0.4)
    ax.set_xlabel("final eval return (one dot per seed; bar: IQM and its 95% interval)")
    ax.grid(alpha=0.3, axis="x")
    return _svg(fig, "finals")


def proxy_vs_true(outcomes: list[Outcome], divergence: list[dict[str, Any]]) -> str | None:
    """Per method with a true objective: the training reward (eval return) and the true objective per
    seed over env steps; seeds flagged as diverging drawn in red."""
    methods = [o for o in outcomes if "true_return" in o.behaviour and o.steps.shape[1] > 1]
    if not methods:
        return None
    flagged = {(d["method"], s["seed"]) for d in divergence for s in d["seeds"] if s["diverged"]}
    fig, axes = plt.subplots(len(methods), 2, figsize=(9, 2.8 * len(methods)), squeeze=False)
    for row, o in zip(axes, methods, strict=True):
        for i, seed in enumerate(o.seeds):
            bad = (o.label, int(seed)) in flagged
            style = dict(color="#c00" if bad else "#555", lw=1.2 if bad else 0.7, alpha=0.9 if bad else 0.5)
            row[0].plot(o.steps[i], o.eval_returns[i], **style)
            row[1].plot(o.steps[i], o.behaviour["true_return"][i], **style)
        row[0].set_title(f"{o.label}: training reward (eval return)", fontsize=9)
        row[1].set_title(f"{o.label}: true objective (red: diverging seeds)", fontsize=9)
        for ax in row:
            _steps_axis(ax)
    fig.tight_layout()
    return _svg(fig, "proxy_true")
