#!/usr/bin/env bash
# Issue 22, item 6: seed scaling (PPO CartPole 1-4096 seeds, SAC Pendulum 1-256) and the main job, cold and
# warm, on an accelerator in under 8 minutes; the table goes to benchmarks/out/gpu.md.
#   benchmarks/gpu.sh            on a machine whose JAX sees a GPU
#   benchmarks/gpu.sh --dry-run  tiny sizes on any device (tests/test_gpu_script.py runs it on CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # one process per row: none should hold the whole device
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" exec python benchmarks/gpu.py "$@"
