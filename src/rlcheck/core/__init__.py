"""The bottom layer: types every other layer shares (budget and schedule, Trace, run results, checkpoints,
config fields, action scaling, errors, atomic writes, the method contracts). It imports nothing above it."""
