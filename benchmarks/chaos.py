"""Issue 21, item 6: interrupt studies at random points with SIGKILL, SIGINT or SIGTERM, resume each to the
end (interrupting some resumes too), and check that every store ends identical to an uninterrupted run's.

    python benchmarks/chaos.py [--points 50] [--seed 0] [--out /tmp/rlcheck-chaos]

Two studies, run alternately: a JAX env (gymnax CartPole) with a JAX learner and a policy search (PPO,
CEM), and a Python env (Gymnasium's CartPole slowed to 1 ms a step, tests/user_envs.py) with PPO on the
host loop. Each is first run uninterrupted for the reference. A trial then starts the study, sends a
random signal at a random moment within the reference's wall time, and resumes it (with, half of the
time, another random interrupt) until it finishes. Identical means: traces.parquet equal value for value,
and summary.json equal once its timings are left out. Prints one JSON line per interrupt and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDIES = {
    "jax": {"env": "CartPole-v1", "methods": {"ppo": {}, "cem": {}}, "seeds": 2, "budget": 8192,
            "evaluation": {"checkpoints": 4, "episodes": 2}, "audit": False, "tune": False},
    "python": {"env": "user_envs:slow_cartpole", "methods": {"ppo": {}}, "seeds": 2, "budget": 2048, "threshold": 475,
               "evaluation": {"checkpoints": 4, "episodes": 2}, "audit": False, "tune": False},
}
SIGNALS = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM}
EXPECTED = {"KILL": -signal.SIGKILL, "INT": 130, "TERM": 143}
TIMING = ("seconds", "wall", "time", "created", "duration", "elapsed", "rate", "per_s")


def _start(spec: Path, out: Path, resume: bool) -> subprocess.Popen:
    # The code next to this script (a worktree can run the chaos while its checkout changes), and user_envs.
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}")
    command = Path(sys.executable).with_name("rlcheck")  # the installed command, as a user runs it (rlcheck.entry)
    return subprocess.Popen([str(command), "run", str(spec), "--out", str(out), "--quiet",
                             *(["--resume"] if resume else [])], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not any(t in k.lower() for t in TIMING)}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _store(out: Path) -> tuple[pd.DataFrame, dict]:
    return pd.read_parquet(out / "traces.parquet"), _untimed(json.loads((out / "summary.json").read_text()))


def _same(out: Path, reference: tuple[pd.DataFrame, dict]) -> str:
    traces, summary = _store(out)
    try:
        pd.testing.assert_frame_equal(traces, reference[0])
    except AssertionError as exc:
        return f"traces differ: {str(exc).splitlines()[0]}"
    if summary != reference[1]:
        keys = [k for k in summary if summary.get(k) != reference[1].get(k)]
        return f"summary differs in {keys}"
    return ""


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--points", type=int, default=50, help="interrupts to deliver in all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("/tmp/rlcheck-chaos"))
    a = p.parse_args()
    rng = random.Random(a.seed)
    shutil.rmtree(a.out, ignore_errors=True)
    a.out.mkdir(parents=True)
    specs, refs, walls = {}, {}, {}
    for name, study in STUDIES.items():
        specs[name] = a.out / f"{name}.yaml"
        specs[name].write_text(yaml.safe_dump(study))
        start = time.perf_counter()
        proc = _start(specs[name], a.out / f"{name}-reference", resume=False)
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"reference {name} failed ({proc.returncode}): {err}")
        walls[name] = time.perf_counter() - start
        refs[name] = _store(a.out / f"{name}-reference")
        print(json.dumps({"reference": name, "wall_s": round(walls[name], 1)}), flush=True)

    points, trials, problems = [], 0, []
    while len(points) < a.points:
        name = list(STUDIES)[trials % len(STUDIES)]
        trials += 1
        out = a.out / f"trial-{trials}"
        resume, finished = False, False
        while not finished:
            proc = _start(specs[name], out, resume)
            interrupt = len(points) < a.points and (not resume or rng.random() < 0.5)
            if interrupt:
                kind = rng.choice(sorted(SIGNALS))
                delay = rng.uniform(0.5, walls[name])
                try:
                    proc.wait(timeout=delay)  # finished before the moment came: no interrupt this time
                except subprocess.TimeoutExpired:
                    proc.send_signal(SIGNALS[kind])
            _, err = proc.communicate()
            code = proc.returncode
            if interrupt and code != 0:
                ok = code == EXPECTED[kind] and "Traceback" not in err
                points.append({"trial": trials, "study": name, "signal": kind, "at_s": round(delay, 2), "exit": code, "ok": ok})
                print(json.dumps(points[-1]), flush=True)
                if not ok:
                    problems.append(f"trial {trials}: SIG{kind} at {delay:.1f} s gave exit {code}: {err[-300:]}")
            elif code != 0:
                problems.append(f"trial {trials}: an uninterrupted run exited {code}: {err[-300:]}")
                break
            finished = code == 0
            resume = True
        if finished:
            difference = _same(out, refs[name])
            print(json.dumps({"trial": trials, "study": name, "identical": not difference, "difference": difference}),
                  flush=True)
            if difference:
                problems.append(f"trial {trials} ({name}): {difference}")
            if (out / "set-aside").exists():
                print(json.dumps({"trial": trials, "set_aside": sorted(p.name for p in (out / "set-aside").rglob("*"))}))
        shutil.rmtree(out, ignore_errors=True)

    by = {(p["study"], p["signal"]): 0 for p in points}
    for point in points:
        by[(point["study"], point["signal"])] += 1
    print(f"\n{len(points)} interrupts over {trials} trials; problems: {len(problems)}")
    print("| study | signal | interrupts |\n|---|---|---|")
    for (study, kind), count in sorted(by.items()):
        print(f"| {study} | SIG{kind} | {count} |")
    for problem in problems:
        print("PROBLEM:", problem)
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
