"""CPU-sized off-policy networks (methods/derived.py) against the published sizes, side by side in one run:
each case runs the same study twice, 64x64 and the reference networks, on the same seeds, and prints both
success rates (Wilson 95% intervals), the verdict labels, the final-return IQM and the wall time.

    python benchmarks/cpu_defaults.py                       # every case, 10 seeds
    python benchmarks/cpu_defaults.py --only pendulum-sac --seeds 3 --budget 3000   # a quick look

A case on an env with a tuned entry (Pendulum-v1) gives the CPU arm its size with --set, as derived.py
would for an env without one; a case on a user-style Python env (Gymnasium's Pendulum class, loaded by
class path, which rlcheck has no entry for) runs the defaults as they are and --reference-settings.
The order of the arms alternates between cases; each arm is one process's `api.run`, the study's own
wall time read from its summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rlcheck import api
from rlcheck.analysis.stats import success_rate

# name -> env, wrappers, method, budget, threshold, CPU arm's --set, reference arm's --set (None: --reference-settings)
CASES = {
    # RL Zoo sac.yml Pendulum-v1: 20k steps (its table entry, lr 1e-3, keeps SB3's 256x256)
    "pendulum-sac": ("Pendulum-v1", (), "sac", 20_000, -200.0, [("sac.hidden_sizes", "64,64")], []),
    # The same task as a user's own Python env (the class has no time limit of its own: Gymnasium's 200 given
    # as a user would): no entry, so SB3's SAC defaults and a derived 64x64
    "user-pendulum-sac": ("gymnasium.envs.classic_control.pendulum:PendulumEnv", ("TimeLimit:max_episode_steps=200",),
                          "sac", 20_000, -200.0, [], None),
}


def arm(env: str, wrappers: tuple, method: str, seeds: int, budget: int, threshold: float, sets: list | None) -> dict:
    spec = api.study_spec(env, seeds, budget, threshold, methods=method, tune=0, sets=sets or [], wrappers=wrappers,
                          reference_settings=sets is None)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = api.run(spec, Path(out) / "study")
        wall = time.perf_counter() - start
    m = summary.methods[0]
    rate = success_rate(m.successes, len(m.seeds))
    return {"hidden_sizes": m.config.get("hidden_sizes"), "successes": m.successes, "seeds": len(m.seeds),
            "rate": [rate.value, rate.low, rate.high], "label": m.label,
            "iqm": m.final_return["iqm"].value, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, help="env steps per seed (default: each case's)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    for i, name in enumerate(args.only or CASES):
        env, wrappers, method, budget, threshold, cpu, reference = CASES[name]
        budget = args.budget or budget
        arms = [("cpu", cpu), ("reference", reference)]
        for label, sets in arms if i % 2 == 0 else arms[::-1]:
            row = {"case": name, "arm": label, "budget": budget, **arm(env, wrappers, method, args.seeds, budget, threshold,
                                                                      sets)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n| case | arm | networks | successes | rate [95%] | label | IQM final | wall |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        v, lo, hi = r["rate"]
        print(f"| {r['case']} | {r['arm']} | {r['hidden_sizes']} | {r['successes']}/{r['seeds']} | {v:.0%} [{lo:.0%}, {hi:.0%}] "
              f"| {r['label']} | {r['iqm']:.1f} | {r['wall_s']:.0f} s |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
