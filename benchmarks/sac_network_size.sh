#!/usr/bin/env bash
# SAC on Pendulum-v1, 10 seeds x 2,000 steps, 256x256 and 64x64 networks alternating (A B A B), each run in
# its own process; prints: networks, run seconds, compile seconds, env steps/s (compilation excluded).
#   bash benchmarks/sac_network_size.sh
set -euo pipefail
cd "$(dirname "$0")"
for h in 256,256 64,64 256,256 64,64; do
  python - "$h" <<'PY'
import sys
import _worker
h = sys.argv[1]
r = _worker.rlcheck_run("Pendulum-v1", "sac", 10, 2000, num_evals=2, eval_episodes=2, overrides={"hidden_sizes": h})
print(h, round(r["run_s"], 1), round(r["compile_s"], 1), round(r["steps_per_s"], 1), flush=True)
PY
done
