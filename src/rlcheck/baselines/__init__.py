"""Non-RL baselines with the same sample accounting as the RL learners: real env steps used for
learning and simulator-as-model calls are counted apart. Planners (LQR, MPC) learn nothing: their
trace is one checkpoint at 0 env steps, with the model calls they made."""
