"""Issue 18: rlcheck on environments nobody here wrote, as a new user would type them.

For each row: the command, the spaces rlcheck sees, `rlcheck lint` (result and time), a short `rlcheck
check` (3 seeds, a small budget) with its verdict, and for every policy-search baseline the share of the
budget it used (95-100% is the promise). A row either works or is refused up front with a message naming
the fix (the refusal is the result). Needs the third-party packages, so run it in their own venv:

    python3 -m venv /work/venv-3p && /work/venv-3p/bin/pip install -e . minigrid box2d highway-env popgym \\
        flappy-bird-gymnasium gymnasium-robotics "mujoco<3.12" craftax navix jumanji
    /work/venv-3p/bin/python benchmarks/third_party.py --out /tmp/third_party   # resumable: rows already done are kept

Writes OUT/rows.json and prints the markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SEARCH = ("ars", "cem", "cmaes")
CONTINUOUS = ["--methods", "ppo,ars,cem,cmaes"]  # SAC/TD3/DDPG are left out to keep the run short
QUICK = ["--num-evals", "4", "--eval-episodes", "5"]  # evaluation is most of the cost of a short check on a Python env


@dataclass
class Row:
    package: str
    env: str
    flags: list[str] = field(default_factory=list)  # env flags: --import, --wrap, --env-kwargs
    budget: int = 20_000
    check_flags: list[str] = field(default_factory=list)  # methods, threshold, evaluation


ROWS = [
    Row("gymnasium (classic control)", "gymnasium:Acrobot-v1"),
    Row("gymnasium (classic control)", "gymnasium:MountainCarContinuous-v0", check_flags=CONTINUOUS),
    Row("gymnasium (toy text)", "FrozenLake-v1"),
    Row("gymnasium (toy text)", "Taxi-v3"),  # renamed Taxi-v4 in gymnasium 1.3: refused, naming the new id
    Row("gymnasium (toy text)", "Taxi-v4"),
    Row("gymnasium (toy text)", "Blackjack-v1", check_flags=["--threshold", "0"]),
    Row("Box2D", "LunarLander-v3"),
    Row("Box2D", "BipedalWalker-v3", check_flags=CONTINUOUS),
    Row("MuJoCo", "InvertedPendulum-v5", check_flags=CONTINUOUS),
    Row("minigrid", "minigrid:MiniGrid-Empty-5x5-v0"),  # Dict with a mission string: refused, naming the fix
    Row("minigrid", "MiniGrid-Empty-5x5-v0", ["--import", "minigrid", "--wrap", "minigrid.wrappers:ImgObsWrapper"],
        check_flags=["--threshold", "0.9"]),
    Row("minigrid", "MiniGrid-Empty-5x5-v0", ["--import", "minigrid", "--wrap", "minigrid.wrappers:RGBImgObsWrapper",
                                              "--wrap", "FilterObservation:filter_keys=[image,direction]"],
        budget=4096, check_flags=["--methods", "ppo,cem", "--threshold", "0.9"]),  # an image inside a Dict: the CNN
    Row("minigrid", "MiniGrid-DoorKey-5x5-v0", ["--import", "minigrid", "--wrap", "FilterObservation:filter_keys=[image]"],
        check_flags=["--threshold", "0.9"]),
    Row("highway-env", "highway-fast-v0", ["--import", "highway_env"], budget=1024,
        check_flags=["--methods", "ppo,cem", "--threshold", "25"]),
    Row("popgym", "popgym-RepeatPreviousEasy-v0", ["--import", "popgym"], check_flags=["--threshold", "0.5"]),
    Row("popgym", "popgym-CountRecallEasy-v0", ["--import", "popgym"], check_flags=["--threshold", "0.5"]),
    Row("popgym", "popgym-MineSweeperEasy-v0", ["--import", "popgym"], check_flags=["--threshold", "0.5"]),  # MultiDiscrete
    Row("flappy-bird-gymnasium", "FlappyBird-v0", ["--import", "flappy_bird_gymnasium", "--env-kwargs", "use_lidar=false",
                                                   "--wrap", "TimeLimit:max_episode_steps=1000"],
        check_flags=["--threshold", "10"]),
    Row("gymnasium-robotics", "PointMaze_UMaze-v3", ["--import", "gymnasium_robotics"],
        check_flags=[*CONTINUOUS, "--threshold", "1"]),
    Row("navix (JAX)", "navix:Navix-Empty-5x5-v0", check_flags=["--threshold", "0.5"]),
    Row("navix (JAX)", "navix:Navix-Empty-5x5-v0", ["--wrap", "TimeLimit:max_episode_steps=50"],  # a JAX env's limit
        check_flags=["--threshold", "0.5", "--methods", "ppo,dqn,cem"]),
    Row("jumanji (JAX)", "jumanji:Snake-v1", check_flags=["--threshold", "5"]),
    Row("craftax (JAX)", "craftax:Craftax-Classic-Symbolic-v1", check_flags=["--methods", "ppo,cem", "--threshold", "1"]),
    # planners from a verified copy of a pure-Python env's state (named: they are opt-in there); LQR from MuJoCo's
    Row("MuJoCo", "InvertedPendulum-v5", budget=1, check_flags=["--methods", "lqr"]),
    Row("gymnasium (toy text)", "FrozenLake-v1", budget=1, check_flags=["--methods", "uct,mpc", "--set",
                                                                           "mpc.num_samples=16", "--set", "mpc.horizon=10"]),
    Row("minigrid", "MiniGrid-Empty-5x5-v0", ["--import", "minigrid", "--wrap", "minigrid.wrappers:ImgObsWrapper"], budget=1,
        check_flags=["--methods", "uct,mpc", "--threshold", "0.9", "--set", "mpc.num_samples=16", "--set", "mpc.horizon=10"]),
]


def rlcheck(*args: str, timeout: int = 3600) -> tuple[int, str, str, float]:
    exe = Path(sys.executable).parent / "rlcheck"
    start = time.perf_counter()
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def spaces(row: Row) -> str:
    from rlcheck.envs import make_env

    kwargs = {}
    imports, wrappers = [], []
    it = iter(row.flags)
    for flag in it:
        value = next(it)
        if flag == "--import":
            imports.append(value)
        elif flag == "--wrap":
            wrappers.append(value)
        elif flag == "--env-kwargs":
            key, _, v = value.partition("=")
            import yaml
            kwargs[key] = yaml.safe_load(v)
    try:
        env = make_env(row.env, kwargs or None, wrappers, imports)
    except Exception as exc:
        return f"refused: {str(exc)[:160]}"
    actions = f"Discrete({env.num_actions})" if env.discrete else f"Box({env.num_actions})"
    return f"obs {env.obs_shape}, {actions}, limit {env.max_episode_steps}, {env.backend.split(' ')[0]}"


def run_row(row: Row, out: Path) -> dict:
    tag = f"{row.env}{'-' + '-'.join(row.check_flags[1:2]) if row.budget == 1 else ''}".replace("/", "_").replace(":", "_")
    study = out / tag
    record = {"row": asdict(row), "command": "rlcheck check " + shlex.join([row.env, *row.flags, "--seeds", "3", "--budget",
                                                                             str(row.budget), *QUICK, *row.check_flags])}
    record["spaces"] = spaces(row)
    if row.budget > 1:
        code, _, stderr, seconds = rlcheck("lint", row.env, *row.flags, "--json", str(out / f"{tag}.lint.json"))
        record["lint_seconds"] = round(seconds, 1)
        if code == 0:
            findings = json.loads((out / f"{tag}.lint.json").read_text())["findings"]
            record["lint"] = ", ".join(f"{f['check']} {f['status']}" for f in findings if f["status"] != "pass") or "all pass"
        else:
            record["lint"] = f"refused (exit {code}): {stderr.strip()[:300]}"
    code, _, stderr, seconds = rlcheck("check", row.env, *row.flags, "--seeds", "3", "--budget", str(row.budget),
                                       *QUICK, *row.check_flags, "--out", str(study), "--quiet",
                                       *(["--resume"] if (study / "manifest.json").exists() else []))
    record["check_seconds"], record["check_exit"] = round(seconds, 1), code
    summary_path = study / "summary.json"
    if code in (0, 4) and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        record["verdict"] = summary["verdict"]["text"]
        record["methods"] = {m["label_name"]: f"{m['successes']}/{len(m['seeds'])}" for m in summary["methods"]}
        record["budget_used"] = {m["name"]: [round(s["env_steps"] / row.budget, 4) for s in m["seeds"]]
                                 for m in summary["methods"] if m["name"] in SEARCH}
        record["skipped"] = sorted(item["method"] for item in summary.get("skipped", []))
    else:
        record["verdict"] = f"refused (exit {code}): {stderr.strip()[:400]}"
    return record


def table(records: list[dict]) -> str:
    lines = ["| package | command (after `rlcheck check`) | spaces | lint (non-pass; time) | verdict (3 seeds) | "
             "policy search: share of budget used | check time |", "|---|---|---|---|---|---|---|"]
    for r in records:
        used = "; ".join(f"{m} {min(v):.3f}-{max(v):.3f}" for m, v in r.get("budget_used", {}).items()) or "-"
        lint = f"{r.get('lint', '-')} ({r['lint_seconds']} s)" if "lint_seconds" in r else "-"
        command = r["command"].removeprefix("rlcheck check ")
        lines.append(f"| {r['row']['package']} | `{command}` | {r['spaces']} | {lint} | {r['verdict']} | {used} | "
                     f"{r.get('check_seconds', '-')} s |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("/tmp/third_party"))
    parser.add_argument("--only", nargs="*", help="env names to run (default: every row)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "rows.json"
    done = json.loads(results_path.read_text()) if results_path.exists() else {}
    for row in ROWS:
        key = row.env + " " + " ".join(row.check_flags)
        if key in done or (args.only and row.env not in args.only):
            continue
        print(f"== {key}", flush=True)
        done[key] = run_row(row, args.out)
        print(json.dumps(done[key], indent=1), flush=True)
        results_path.write_text(json.dumps(done, indent=1))
    print(table([done[k] for k in done]))


if __name__ == "__main__":
    main()
