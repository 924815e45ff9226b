"""Command line: a thin layer over `rlcheck.api`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rlcheck.errors import RLCheckError


def _positive_int(name: str):
    """Parse a positive whole number; accepts 500000, 500_000 and 5e5."""

    def parse(raw: str) -> int:
        try:
            number = float(raw.replace("_", ""))
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            raise argparse.ArgumentTypeError(f"{name} must be a positive whole number, got {raw!r} (e.g. {name} 500000)")
        if number <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be positive, got {int(number)}")
        return int(number)

    return parse


def _key_value(raw: str) -> tuple[str, str]:
    if "=" not in raw:
        raise argparse.ArgumentTypeError(f"expected key=value, got {raw!r} (e.g. --set learning_rate=3e-4)")
    key, value = raw.split("=", 1)
    return key.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one paragraph and exit 2, as for every other bad input
        self.exit(2, f"rlcheck: error: {message}. Run `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rlcheck", description="Can deep RL solve this problem, and how reliably?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train one algorithm over many seeds in one compiled program")
    train.add_argument("--env", required=True, help="environment name, e.g. CartPole-v1 (see `rlcheck envs`)")
    train.add_argument("--algo", required=True, help="ppo, dqn, sac, td3, ddpg or naf")
    train.add_argument("--seeds", type=_positive_int("--seeds"), default=10, help="number of seeds (0..N-1)")
    train.add_argument("--seed-start", type=int, default=0, help="first seed")
    train.add_argument("--steps", type=_positive_int("--steps"), required=True, help="env-step budget per seed")
    train.add_argument("--set", dest="overrides", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                       help="override a hyper-parameter; repeatable")
    train.add_argument("--sweep", action="append", type=_key_value, default=[], metavar="KEY=V1,V2",
                       help="vectorise over values of a numeric hyper-parameter in the same compiled program")
    train.add_argument("--num-evals", type=_positive_int("--num-evals"), default=20, help="evaluation checkpoints")
    train.add_argument("--eval-episodes", type=_positive_int("--eval-episodes"), default=10, help="episodes per evaluation")
    train.add_argument("--out", type=Path, required=True, help="output directory")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    envs = sub.add_parser("envs", help="list the environments rlcheck can resolve")
    envs.set_defaults(command="envs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "envs":
            from rlcheck.envs import registered_env_ids

            print("\n".join(registered_env_ids()))
            return 0
        return _train(args)
    except RLCheckError as exc:
        print(f"rlcheck: error: {exc}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    from rlcheck import api

    start = time.perf_counter()
    sweep = {key: [v for v in values.split(",") if v] for key, values in args.sweep}
    with api.progress_bar(enabled=not args.quiet) as progress:
        summary = api.train(
            env=args.env, algo=args.algo, seeds=range(args.seed_start, args.seed_start + args.seeds),
            steps=args.steps, overrides=dict(args.overrides), sweep=sweep, num_evals=args.num_evals,
            eval_episodes=args.eval_episodes, out=args.out, progress=progress,
        )
    for method in summary["methods"]:
        finals = [s["final_return"] for s in method["seeds"]]
        solved = [s["solved"] for s in method["seeds"] if s["solved"] is not None]
        line = f"{method['name']} (config {method['config_id']}): final eval returns {_fmt(finals)}"
        if solved:
            line += f"; {sum(solved)}/{len(solved)} seeds reached {summary['reward_threshold']:g}"
        print(line)
    print(f"wrote {args.out}/traces.parquet and summary.json in {time.perf_counter() - start:.1f}s")
    return 0


def _fmt(values: list[float | None]) -> str:
    return "[" + ", ".join("nan" if v is None else f"{v:.1f}" for v in values) + "]"


if __name__ == "__main__":
    sys.exit(main())
