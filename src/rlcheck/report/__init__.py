"""The study report: report.html (self-contained, inline SVG), report.md (+ SVG files) and the
summary they are built from. Pure functions of the store."""

from rlcheck.report.render import write_report

__all__ = ["write_report"]
