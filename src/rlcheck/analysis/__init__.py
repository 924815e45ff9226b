"""Pure functions of stored traces: per-seed outcomes, statistics across seeds, verdicts."""
