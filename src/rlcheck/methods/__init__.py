"""The learners: one file per algorithm, each meeting the `Learner` contract (rlcheck.core.contracts)
and trained by the shared loop in `loop.py`: `train(key, env, config, budget) -> Trace`, pure and
vmappable over keys and over stacked numeric config values. They are listed in rlcheck.registry."""
