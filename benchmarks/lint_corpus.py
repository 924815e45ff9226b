"""Issue 20: the reward lint on envs nobody here wrote, whose rewards are known to be sound, beside
rlcheck's traps, their -fixed twins and three envs of the issue's own making (tests/user_envs.py).

One row per env: every check that did not pass, and whether that is what the env should give:
- a sound env: no check fails (a warning is allowed: it says what the lint cannot tell);
- a trap whose intended check is a lint check: that check fails; a fixed twin: nothing fails;
- the own-made ones: the corridor with a penalty-free pit fails `early_termination`, the one without does
  not; the env that truncates itself at step 100 gets `time_limit` 100.

Run in the third-party venv (the packages are there):

    /work/venv-3p/bin/python benchmarks/lint_corpus.py --out /tmp/lint-corpus [--max-seconds 20]

Prints the markdown table for RESULTS and writes OUT/rows.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # user_envs:...

from rlcheck import api  # noqa: E402
from rlcheck.envs.traps import TRAPS  # noqa: E402

LINT_CHECKS = {"early_termination", "reward_loop", "reward_without_progress", "alive_bonus", "time_limit_as_termination"}


@dataclass(frozen=True)
class Case:
    env: str
    package: str
    kind: str  # "sound", "trap", "fixed" or "own"
    wrappers: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    env_kwargs: dict = field(default_factory=dict)
    must_fail: str | None = None  # a check that must fail (traps, the own-made pit)
    limit: int | None = None  # the time limit the lint must use


SOUND = [
    Case("gymnasium:CartPole-v1", "gymnasium classic control", "sound"),
    Case("gymnasium:Acrobot-v1", "gymnasium classic control", "sound"),
    Case("gymnasium:MountainCar-v0", "gymnasium classic control", "sound"),
    Case("gymnasium:MountainCarContinuous-v0", "gymnasium classic control", "sound"),
    Case("gymnasium:Pendulum-v1", "gymnasium classic control", "sound"),
    Case("FrozenLake-v1", "gymnasium toy text", "sound"),
    Case("Taxi-v4", "gymnasium toy text", "sound"),
    Case("CliffWalking-v1", "gymnasium toy text", "sound"),
    Case("Blackjack-v1", "gymnasium toy text", "sound"),
    Case("LunarLander-v3", "gymnasium Box2D", "sound"),
    Case("LunarLanderContinuous-v3", "gymnasium Box2D", "sound"),
    Case("BipedalWalker-v3", "gymnasium Box2D", "sound"),
    Case("InvertedPendulum-v5", "gymnasium MuJoCo", "sound"),
    Case("Hopper-v5", "gymnasium MuJoCo", "sound"),
    Case("HalfCheetah-v5", "gymnasium MuJoCo", "sound"),
    Case("Reacher-v5", "gymnasium MuJoCo", "sound"),
    Case("MiniGrid-Empty-5x5-v0", "minigrid", "sound", ("minigrid.wrappers:ImgObsWrapper",), ("minigrid",)),
    Case("MiniGrid-DoorKey-5x5-v0", "minigrid", "sound", ("FilterObservation:filter_keys=[image]",), ("minigrid",)),
    Case("popgym-RepeatPreviousEasy-v0", "popgym", "sound", imports=("popgym",)),
    Case("popgym-CountRecallEasy-v0", "popgym", "sound", imports=("popgym",)),
    Case("popgym-MineSweeperEasy-v0", "popgym", "sound", imports=("popgym",)),
    Case("highway-fast-v0", "highway-env", "sound", imports=("highway_env",)),
    Case("FlappyBird-v0", "flappy-bird-gymnasium", "sound", ("TimeLimit:max_episode_steps=1000",),
         ("flappy_bird_gymnasium",), {"use_lidar": False}),
    Case("PointMaze_UMaze-v3", "gymnasium-robotics", "sound", imports=("gymnasium_robotics",)),
    Case("Catch-bsuite", "gymnax bsuite", "sound"),
    Case("DeepSea-bsuite", "gymnax bsuite", "sound"),
    Case("MemoryChain-bsuite", "gymnax bsuite", "sound"),
    Case("UmbrellaChain-bsuite", "gymnax bsuite", "sound"),
    Case("DiscountingChain-bsuite", "gymnax bsuite", "sound"),
    Case("MetaMaze-misc", "gymnax misc", "sound"),
    Case("FourRooms-misc", "gymnax misc", "sound"),
    Case("navix:Navix-Empty-5x5-v0", "navix", "sound"),
    Case("jumanji:Snake-v1", "jumanji", "sound"),
]
OWN = [
    Case("user_envs:PitCorridor", "own: step cost, exit +10, penalty-free pit", "own", must_fail="early_termination"),
    Case("user_envs:StepCostCorridor", "own: step cost, exit +10, no pit", "own"),
    Case("user_envs:TruncatesItself", "own: truncates itself at 100, no TimeLimit", "own", limit=100),
]


def trap_cases() -> list[Case]:
    out = []
    for base, info in TRAPS.items():
        lint_check = info.intended_check if info.intended_check in LINT_CHECKS else None
        out.append(Case(f"trap/{base}", "rlcheck trap", "trap", must_fail=lint_check))
        out.append(Case(f"trap/{base}-fixed", "rlcheck trap, fixed twin", "fixed"))
    return out


def run(case: Case, max_seconds: float) -> dict:
    start = time.perf_counter()
    try:
        result = api.lint(case.env, case.env_kwargs, wrappers=case.wrappers, imports=case.imports,
                          max_seconds=max_seconds)
    except Exception as exc:  # an env that cannot be built here: recorded, not fatal
        return {"env": case.env, "package": case.package, "kind": case.kind, "error": f"{type(exc).__name__}: {exc}"}
    findings = {f["check"]: f for f in result["findings"]}
    failed = sorted(c for c, f in findings.items() if f["status"] == "fail")
    problems = []
    if case.kind in ("sound", "fixed") or (case.kind == "own" and case.must_fail is None):
        problems += [f"{c} fails" for c in failed]
    if case.must_fail and case.must_fail not in failed:
        problems.append(f"{case.must_fail} does not fail")
    if case.limit is not None and findings["time_limit"]["value"] != case.limit:
        problems.append(f"time limit {findings['time_limit']['value']}, not {case.limit}")
    return {"env": case.env, "package": case.package, "kind": case.kind, "seconds": round(time.perf_counter() - start, 1),
            "not_pass": {c: f["status"] for c, f in findings.items() if f["status"] != "pass"},
            "evidence": {c: f["evidence"] for c, f in findings.items() if f["status"] != "pass"},
            "time_limit": findings["time_limit"]["evidence"], "as_expected": not problems, "problems": problems}


def table(rows: list[dict]) -> str:
    lines = ["| env | package | kind | checks not passing | as expected |", "|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['env']} | {r['package']} | {r['kind']} | not built: {r['error'][:120]} | - |")
            continue
        shown = ", ".join(f"{c} {s}" for c, s in r["not_pass"].items()) or "all pass"
        lines.append(f"| {r['env']} | {r['package']} | {r['kind']} | {shown} | "
                     f"{'yes' if r['as_expected'] else 'NO: ' + '; '.join(r['problems'])} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-seconds", type=float, default=20.0)
    p.add_argument("--only", nargs="*")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in SOUND + trap_cases() + OWN:
        if a.only and case.env not in a.only:
            continue
        rows.append(run(case, a.max_seconds))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "evidence"}), flush=True)
        (a.out / "rows.json").write_text(json.dumps(rows, indent=1))
    built = [r for r in rows if "error" not in r]
    sound = [r for r in built if r["kind"] == "sound"]
    print(table(rows))
    print(f"\n{len(sound)} sound envs linted, {sum(not r['as_expected'] for r in sound)} with a failing check; "
          f"{sum(r['as_expected'] for r in built)}/{len(built)} rows as expected")


if __name__ == "__main__":
    main()
