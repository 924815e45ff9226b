"""Issue 20's must-show for the training half of the audit: the collapse, mode and evaluation-protocol
checks on envs nobody here wrote, after short PPO and DQN training, plus the biased catch trap (the one
env built to collapse) and its fixed twin.

A flag is a claim about a seed, so each flagged seed is printed with the evidence the rule used: for
collapse, the share of its dominant action and its return against that action's own probe return; for
modes, the groups, their returns and the test of those returns. A flag on a seed that did not collapse
(it earns something other than its constant action) is a false alarm, and the rule is not done.

    PYTHONPATH=src /work/venv-3p/bin/python benchmarks/audit_corpus.py --out /tmp/audit-corpus [--only Catch-bsuite]

Rows go to OUT/rows.json (resumable: rows already there are kept); the markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rlcheck.study.run import run_study
from rlcheck.study.spec import build

SEEDS, BUDGET = 5, 50_000
# env -> (methods, extra spec fields). Discrete envs get PPO and DQN, continuous ones PPO; defaults throughout.
CORPUS: dict[str, tuple[tuple[str, ...], dict]] = {
    "CartPole-v1": (("ppo", "dqn"), {}),
    "Acrobot-v1": (("ppo", "dqn"), {}),
    "MountainCar-v0": (("ppo", "dqn"), {}),
    "Pendulum-v1": (("ppo",), {"threshold": -200.0}),
    "Catch-bsuite": (("ppo", "dqn"), {"threshold": 0.5}),  # thresholds: half the best return (bsuite, misc set none)
    "DeepSea-bsuite": (("ppo", "dqn"), {"threshold": 0.5}),
    "UmbrellaChain-bsuite": (("ppo", "dqn"), {"threshold": 0.5}),
    "DiscountingChain-bsuite": (("ppo", "dqn"), {"threshold": 1.05}),  # the best arm pays 1.1
    "MemoryChain-bsuite": (("ppo", "dqn"), {"threshold": 0.5}),
    "FourRooms-misc": (("ppo", "dqn"), {"threshold": 0.5}),
    "MetaMaze-misc": (("ppo", "dqn"), {"threshold": None}),  # returns reported, success not judged
    "FrozenLake-v1": (("ppo", "dqn"), {}),
    "CliffWalking-v1": (("ppo", "dqn"), {"threshold": -20.0}),  # the shortest safe path returns -13
    "LunarLander-v3": (("ppo", "dqn"), {}),
    "MiniGrid-Empty-5x5-v0": (("ppo", "dqn"), {"imports": ["minigrid"], "wrappers": ["minigrid.wrappers:ImgObsWrapper"],
                                              "threshold": 0.5}),  # reward 1 - 0.9 t/T at the goal: 0.5 is a path of 55%
}
TRAPS = ("trap/biased-catch", "trap/biased-catch-fixed")  # at the trap's own setting (envs/traps), 10 seeds


def spec_for(env: str, out_seeds: int) -> dict:
    if env.startswith("trap/"):
        from rlcheck.envs.traps import TRAPS as BUILT

        algo, overrides, budget = BUILT[env.removeprefix("trap/").removesuffix("-fixed")].trained_by
        return {"env": env, "methods": {algo: dict(overrides)}, "seeds": 10, "budget": budget,
                "evaluation": {"checkpoints": 5, "episodes": 10}}
    methods, extra = CORPUS[env]
    return {"env": env, "methods": {m: {} for m in methods}, "seeds": out_seeds, "budget": BUDGET,
            "evaluation": {"checkpoints": 5, "episodes": 10}, "tune": False, **extra}


def evidence(audit: dict) -> dict:
    """What fired, with each flagged seed's evidence."""
    collapse = []
    for c in audit["collapse"]:
        for s in c["seeds"]:
            if s["collapsed"]:
                collapse.append({"method": c["method"], "seed": s["seed"], "what": s["what"], "final": s["final_return"],
                                 "probe": s["probe"], "probe_return": s["probe_return"], "noise": s["noise"]})
    near = [{"method": c["method"], "seed": s["seed"], "what": s["what"], "final": s["final_return"],
             "probe_return": s["probe_return"]} for c in audit["collapse"] for s in c["seeds"]
            if s["near_constant"] and not s["collapsed"]]
    modes = [{"method": m["method"], "count": m["count"], "fires": m["fires"], "p": m["return_p_value"], "text": m["text"]}
             for m in audit["modes"] if m["count"] > 1]
    evaluation = [{"method": e["method"], "fires": e["fires"], "gap": e["gap"], "low": e["gap_low"], "high": e["gap_high"],
                   "text": e["text"]} for e in audit.get("evaluation", [])]
    return {"collapsed": collapse, "near_constant_not_collapsed": near, "modes": modes, "evaluation": evaluation}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--only", nargs="*")
    p.add_argument("--seeds", type=int, default=SEEDS)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "rows.json"
    rows = json.loads(path.read_text()) if path.exists() else {}
    for env in a.only or [*CORPUS, *TRAPS]:
        if env in rows:
            continue
        start = time.perf_counter()
        try:
            summary = run_study(build(spec_for(env, a.seeds)), a.out / env.replace("/", "_").replace(":", "_"), report=False)
            row = {"finals": {m.label_name: [s.final_return for s in m.seeds] for m in summary.methods},
                   **evidence(summary.audit)}
        except Exception as exc:  # noqa: BLE001 (a row that cannot run is a result too; the others go on)
            row = {"error": f"{type(exc).__name__}: {exc}"}
        row["wall_s"] = round(time.perf_counter() - start, 1)
        rows[env] = row
        path.write_text(json.dumps(rows, indent=1, default=str))
        print(env, json.dumps(row, default=str)[:600], flush=True)
    print("\n| env | collapse flags (seed: action share, return vs its probe) | modes | deterministic vs sampled |")
    print("|---|---|---|---|")
    for env, row in rows.items():
        if "error" in row:
            print(f"| {env} | error: {row['error'][:120]} | | |")
            continue
        flags = "; ".join(f"{c['method']} seed {c['seed']}: {c['what']}, {c['final']:.4g} vs {c['probe_return']:.4g}"
                          for c in row["collapsed"]) or "none"
        modes = "; ".join(f"{m['method']} {m['count']}{' (returns differ)' if m['fires'] else ''}" for m in row["modes"]) or "one"
        gaps = "; ".join(f"{e['method']} {e['gap']:+.3g}{'*' if e['fires'] else ''}" for e in row["evaluation"]) or "-"
        print(f"| {env} | {flags} | {modes} | {gaps} |")


if __name__ == "__main__":
    main()
