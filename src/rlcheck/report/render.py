"""Render report.html (one self-contained file: inline SVG and CSS, no scripts, no network) and
report.md (with its figures as SVG files beside it) from summary.json and the stored traces."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from rlcheck.analysis.outcomes import read
from rlcheck.core.results import StudySummary
from rlcheck.report import plots
from rlcheck.store import StudyStore


def _fmt(value: Any, digits: int = 1) -> str:
    """A number for a table: "–" where there is none (None, NaN or infinite: never "nan" in a report)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("rlcheck.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = _fmt
    env.filters["pct"] = _pct
    return env


def figures(store: StudyStore, summary: StudySummary) -> dict[str, str]:
    methods = summary.methods
    if not methods:
        return {}
    outcomes = read(store)
    out = {"curves": plots.learning_curves(outcomes, summary.threshold)}
    if summary.threshold is not None and (survival := plots.survival(methods, summary.budget["env_steps"])):
        out["survival"] = survival
    out["finals"] = plots.final_returns(methods, summary.threshold)
    proxy_true = plots.proxy_vs_true(outcomes, (summary.audit or {}).get("divergence", []))
    if proxy_true:
        out["proxy_true"] = proxy_true
    return out


def write_report(store: StudyStore, summary: StudySummary) -> tuple[Path, Path]:
    """report.html, report.md and its figures, into the study's store."""
    manifest = store.read_manifest() or {}
    svgs = figures(store, summary)
    env = _environment()
    context = {"s": summary, "manifest": manifest, "figures": svgs}
    html = store.write_text("report.html", env.get_template("report.html.j2").render(**context))
    for name, svg in svgs.items():
        store.write_text(f"report_files/{name}.svg", svg)
    markdown = store.write_text("report.md", env.get_template("report.md.j2").render(**context))
    return html, markdown
