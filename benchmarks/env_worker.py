"""Issue 21: what the step timeout (every Python env call timed, watched from the thread that waits for
the chunk) costs on a fast Python env, against no timeout (RLCHECK_STEP_TIMEOUT=0), side by side in one
run, alternating so drift hits both. (A first design handed each call to a worker thread: 0.59-0.60 of
the untimed rate on 2 cores, from the wake-up latency of the hand-over, so it was replaced.)

    python benchmarks/env_worker.py [--seeds 4] [--steps 20000] [--rounds 2]

Host-loop PPO on Gymnasium's CartPole-v1 (a microsecond-scale step in Python, the worst case for a
per-call handoff); rate = learning env steps per second excluding compile, as in host_loop.py.
"""

from __future__ import annotations

import argparse
import json
import os

from _worker import measure


def run(timeout: str, seeds: int, steps: int) -> dict:
    return measure("rlcheck", "--env", "gymnasium:CartPole-v1", "--algo", "ppo", "--seeds", str(seeds), "--steps",
                   str(steps), "--num-evals", "2", env={**os.environ, "RLCHECK_STEP_TIMEOUT": timeout})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    rates: dict[str, list[float]] = {"0": [], "60": []}
    for _ in range(a.rounds):
        for timeout in rates:
            r = run(timeout, a.seeds, a.steps)
            rates[timeout].append(r["steps_per_s"])
            print(json.dumps({"step_timeout": timeout, "steps_per_s": r["steps_per_s"], "wall_s": r["wall_s"]}), flush=True)
    direct, bounded = (max(rates[k]) for k in ("0", "60"))
    print(f"\n| env calls | best env steps/s of {a.rounds} | relative |\n|---|---|---|")
    print(f"| no timeout (--step-timeout 0) | {direct:,.0f} | 1.00 |")
    print(f"| timed (default, 60 s) | {bounded:,.0f} | {bounded / direct:.2f} |")


if __name__ == "__main__":
    main()
