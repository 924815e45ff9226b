"""Command line: a thin layer over `rlcheck.api`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from rlcheck import api, registry, reproduce
from rlcheck.core.contracts import ProgressFn
from rlcheck.core.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_JOBS, EXIT_OK, EXIT_TERMINATED, RLCheckError
from rlcheck.core.results import StudySummary
from rlcheck.envs.host import DEFAULT_STEP_TIMEOUT
from rlcheck.export import SINKS
from rlcheck.library_log import LibraryLog, library_log
from rlcheck.store import write_json
from rlcheck.study.spec import StudySpec, yaml_value

EXAMPLES = {"--budget": "500000", "--steps": "500000", "--seeds": "10", "--max-seeds": "40", "--num-evals": "20"}


def _positive_int(name: str, least: int = 1):
    """Parse a positive (or, with least=0, non-negative) whole number; accepts 500000, 500_000 and 5e5."""

    def parse(raw: str) -> int:
        try:
            number = float(raw.replace("_", ""))
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            raise argparse.ArgumentTypeError(f"{name} must be a positive whole number, got {raw!r} (e.g. {name} {EXAMPLES.get(name, '10')})")
        if number < least:
            raise argparse.ArgumentTypeError(f"{name} must be {'positive' if least else 'zero or more'}, got {int(number)}")
        return int(number)

    return parse


def _count(name: str):
    return _positive_int(name, least=0)


def _key_value(raw: str) -> tuple[str, str]:
    if "=" not in raw:
        raise argparse.ArgumentTypeError(f"expected key=value, got {raw!r} (e.g. --set learning_rate=3e-4)")
    key, value = raw.split("=", 1)
    return key.strip(), value.strip()


def _env_options(parser: argparse.ArgumentParser) -> None:
    """How the env is made: gymnasium.make kwargs, wrappers and packages to import (Gymnasium envs)."""
    parser.add_argument("--env-kwargs", dest="env_kwargs", action="append", type=_key_value, default=[],
                        metavar="KEY=VALUE", help="keyword argument for gymnasium.make (repeatable; values read as YAML)")
    parser.add_argument("--wrap", dest="wrappers", action="append", default=[], metavar="WRAPPER[:K=V,...]",
                        help="apply a wrapper, in order (repeatable): Gymnasium's by name (TimeLimit:max_episode_steps=200, "
                             "FlattenObservation) or package.module:Class[:k=v,...]")
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="PKG",
                        help="import a package first, for the env ids it registers (repeatable), e.g. --import minigrid")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one paragraph and exit 2, as for every other bad input
        self.exit(2, f"rlcheck: error: {message}. Run `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rlcheck", description="Can deep RL solve this problem, and how reliably?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train one algorithm over many seeds in one compiled program")
    train.add_argument("--env", required=True, help="environment name, e.g. CartPole-v1 (see `rlcheck envs`)")
    _env_options(train)
    train.add_argument("--algo", required=True, help=f"one of: {', '.join(registry.names())}")
    train.add_argument("--seeds", type=_positive_int("--seeds"), default=10, help="number of seeds (0..N-1)")
    train.add_argument("--seed-start", type=int, default=0, help="first seed")
    train.add_argument("--steps", type=_positive_int("--steps"), required=True, help="env-step budget per seed")
    train.add_argument("--set", dest="overrides", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                       help="override a hyper-parameter; repeatable")
    train.add_argument("--sweep", action="append", type=_key_value, default=[], metavar="KEY=V1,V2",
                       help="vectorise over values of a numeric hyper-parameter in the same compiled program")
    train.add_argument("--num-evals", type=_positive_int("--num-evals"), help="evaluation checkpoints (default: up to 20)")
    train.add_argument("--eval-episodes", type=_positive_int("--eval-episodes"), default=10, help="episodes per evaluation")
    train.add_argument("--threshold", type=_number("--threshold"),
                       help="success: final eval return >= this (default: the env's; none known: success not judged)")
    train.add_argument("--out", type=Path, required=True, help="study directory (report, export and seeds read it)")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    train.add_argument("--force", action="store_true", help="write into a non-empty --out that holds no study")
    _step_timeout_option(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    check = sub.add_parser("check", help="can RL solve ENV, and how reliably? every applicable method, many seeds, a report")
    check.add_argument("env", help="environment name, e.g. CartPole-v1 (see `rlcheck envs`)")
    _env_options(check)
    check.add_argument("--set", dest="sets", action="append", type=_key_value, default=[], metavar="METHOD.KEY=VALUE",
                       help="a method's setting, e.g. --set ppo.learning_rate=1e-3 (repeatable)")
    check.add_argument("--seeds", type=_positive_int("--seeds"), help="number of seeds (default 10)")
    check.add_argument("--budget", type=_positive_int("--budget"), help="env steps per seed (default: per env)")
    check.add_argument("--threshold", type=_number("--threshold"), help="success: final eval return >= this (default: the env's)")
    check.add_argument("--methods", help=f"comma-separated, from: {', '.join(registry.names())} (default: every "
                       f"method that applies, except the opt-in {', '.join(registry.names(default=False))})")
    check.add_argument("--num-evals", type=_positive_int("--num-evals"), help="evaluation checkpoints (default: up to 20)")
    check.add_argument("--eval-episodes", type=_positive_int("--eval-episodes"), help="episodes per evaluation (default 10)")
    check.add_argument("--true-objective", help="the task's real goal if not the reward: an info key or module:function")
    check.add_argument("--descriptors", help="module:function(obs, action, reward, next_obs) -> extra behaviour descriptors")
    check.add_argument("--no-audit", action="store_true", help="skip the reward lint and behaviour audit")
    check.add_argument("--until-decided", action="store_true",
                       help="then add blocks of --seeds seeds to each undecided method until its label is decided "
                            "(a sequential design that keeps the error rates at 5%%; docs/verdicts.md)")
    check.add_argument("--max-seeds", type=_positive_int("--max-seeds"),
                       help="with --until-decided: the most seeds a method may get (default 4x --seeds)")
    check.add_argument("--tune", type=_count("--tune"), metavar="N",
                       help="first search N configurations of each learner's key hyper-parameters on other seeds; "
                            "re-run the best on --seeds fresh seeds, which alone enter the verdict (docs/tuning.md). "
                            "Default: 8, for the learners with no tuned settings for the env; 0: no search")
    check.add_argument("--tune-seeds", type=_positive_int("--tune-seeds"), metavar="S",
                       help="search seeds per configuration (default 2)")
    check.add_argument("--tune-range", dest="tune_ranges", action="append", type=_key_value, default=[],
                       metavar="METHOD.FIELD=LOW:HIGH[:SCALE]",
                       help="search this numeric field over this range (scale log, linear or horizon; repeatable)")
    _time_option(check)
    _reference_option(check)
    _study_options(check)

    sweep = sub.add_parser("sweep", help="how fragile is a result? vary hyper-parameters, many seeds per cell, effect sizes")
    sweep.add_argument("env", help="environment name")
    _env_options(sweep)
    sweep.add_argument("--algo", required=True, help=f"the learner, one of: {', '.join(registry.names(kind='learner'))}")
    sweep.add_argument("--vary", dest="varies", action="append", type=_key_value, default=[], metavar="KEY=V1,V2",
                       help="a factor and its values, the first the reference (repeatable): numeric ones share one "
                            "compiled program, structural ones (activation, hidden_sizes) get one each")
    sweep.add_argument("--set", dest="overrides", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                       help="a fixed hyper-parameter for every cell")
    sweep.add_argument("--seeds", type=_positive_int("--seeds"), default=10, help="seeds per cell (default 10)")
    sweep.add_argument("--budget", type=_positive_int("--budget"), help="env steps per seed (default: per env)")
    sweep.add_argument("--threshold", type=_number("--threshold"), help="success: final eval return >= this")
    sweep.add_argument("--num-evals", type=_positive_int("--num-evals"), help="evaluation checkpoints (default: up to 20)")
    sweep.add_argument("--with-sb3", action="store_true", help="also run Stable-Baselines3's implementation at the reference cell")
    _study_options(sweep)

    reproduce = sub.add_parser("reproduce", help="the essay's claims as runnable studies: `reproduce list`, `reproduce NAME`")
    reproduce.add_argument("name", help="'list', or a reproduction's name")
    reproduce.add_argument("--quick", action="store_true", help="the minutes-long form (CI): checks the mechanics, not the claim")
    reproduce.add_argument("--out", type=Path, help="directory for the studies and reproduction.md")
    reproduce.add_argument("--resume", action="store_true", help="continue interrupted studies in --out")
    reproduce.add_argument("--from", dest="sources", nargs="+", type=Path, default=[], metavar="DIR",
                           help="finished studies to include (atari-median: your Atari studies)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bar")
    _executor_options(reproduce)

    lint = sub.add_parser("lint", help="audit ENV's reward with probe policies, before any training")
    lint.add_argument("env", help="environment name (a gymnax name, a Gymnasium id or package.module:ClassName)")
    _env_options(lint)
    lint.add_argument("--episodes", type=_positive_int("--episodes"), default=24, help="episodes per probe policy")
    lint.add_argument("--seed", type=int, default=0)
    lint.add_argument("--max-seconds", type=_positive_number("--max-seconds"), default=60.0,
                      help="size the probing of a Python env to about this long at its measured speed (default 60)")
    lint.add_argument("--json", type=Path, help="also write the findings and profile to this JSON file")

    run = sub.add_parser("run", help="run a study from a YAML file")
    run.add_argument("study", type=Path, help="study file (YAML; see the README)")
    run.add_argument("--set", dest="sets", action="append", type=_key_value, default=[], metavar="A.B=VALUE",
                     help="override a field, e.g. --set budget=100000 or --set methods.ppo.learning_rate=3e-4")
    _study_options(run)

    plan = sub.add_parser("plan", help="print a study's job matrix and a rough cost, without running it")
    plan.add_argument("target", help="a study YAML file or an env name")
    _env_options(plan)
    plan.add_argument("--set", dest="sets", action="append", type=_key_value, default=[], metavar="A.B=VALUE")
    plan.add_argument("--seeds", type=_positive_int("--seeds"))
    plan.add_argument("--budget", type=_positive_int("--budget"))
    plan.add_argument("--threshold", type=_number("--threshold"))
    plan.add_argument("--methods")
    plan.add_argument("--until-decided", action="store_true", help="plan the seeds --until-decided could add")
    plan.add_argument("--max-seeds", type=_positive_int("--max-seeds"))
    plan.add_argument("--tune", type=_count("--tune"), metavar="N")
    plan.add_argument("--tune-seeds", type=_positive_int("--tune-seeds"), metavar="S")
    plan.add_argument("--tune-range", dest="tune_ranges", action="append", type=_key_value, default=[],
                      metavar="METHOD.FIELD=LOW:HIGH[:SCALE]")
    _time_option(plan)
    _reference_option(plan)

    report = sub.add_parser("report", help="rebuild summary.json, report.html and report.md from a study directory")
    report.add_argument("dir", type=Path)

    seeds = sub.add_parser("seeds", help="how many seeds to detect a difference, from a pilot study's spread")
    seeds.add_argument("--pilot", type=Path, required=True, help="a study directory")
    seeds.add_argument("--effect", type=_number("--effect"), required=True, help="difference in mean final return to detect")
    seeds.add_argument("--power", type=_number("--power"), default=0.8)
    seeds.add_argument("--alpha", type=_number("--alpha"), default=0.05)

    export = sub.add_parser("export", help="copy a study into TensorBoard, Weights & Biases or MLflow (the store is kept)")
    export.add_argument("dir", type=Path, help="a study directory")
    export.add_argument("--to", dest="sinks", type=_sinks, required=True, metavar="SINKS",
                        help="comma-separated: tensorboard, wandb, mlflow")
    _export_options(export)

    envs = sub.add_parser("envs", help="list the environments rlcheck can resolve (gymnax ids, then Gymnasium's)")
    envs.add_argument("--import", dest="imports", action="append", default=[], metavar="PKG",
                      help="import a package first, so the ids it registers are listed (repeatable)")
    envs.set_defaults(command="envs")
    return parser


def _step_timeout_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--step-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help=f"fail a job whose Python env takes longer than this for one step of its copies or a reset "
                        f"(default {DEFAULT_STEP_TIMEOUT:g}; 0: no limit); the study goes on with the other jobs")


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"--step-timeout must be a number of seconds, 0 or more, got {raw!r} "
                                         "(e.g. --step-timeout 120)")
    return value


def _study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="study directory (store, checkpoints, report)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted study in --out")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out that holds no study")
    _step_timeout_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--export", dest="sinks", type=_sinks, default=[], metavar="SINKS",
                   help="when the study ends, also copy it to: tensorboard, wandb, mlflow (comma-separated)")
    _export_options(p)
    _executor_options(p)


def _sinks(raw: str) -> list[str]:
    sinks = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in sinks if s not in SINKS]
    if unknown or not sinks:
        raise argparse.ArgumentTypeError(f"unknown export {', '.join(unknown) or repr(raw)}; choose from {', '.join(SINKS)}")
    return sinks


def _export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--logdir", type=Path, help="tensorboard: where the event files go (default DIR/tensorboard)")
    p.add_argument("--project", help="wandb: the project (default rlcheck)")
    p.add_argument("--entity", help="wandb: the team or user")
    p.add_argument("--wandb-mode", choices=("online", "offline"), help="wandb: offline writes runs locally for `wandb sync`")
    p.add_argument("--tracking-uri", help="mlflow: the tracking server or store (default: MLFLOW_TRACKING_URI or ./mlruns)")
    p.add_argument("--experiment", help="mlflow: the experiment (default rlcheck)")


def _export_command(args: argparse.Namespace) -> int:
    _export(args, args.dir)
    return EXIT_OK


def _export(args: argparse.Namespace, out: Path) -> None:
    done = api.export(out, args.sinks, logdir=args.logdir, project=args.project, entity=args.entity, mode=args.wandb_mode,
                  tracking_uri=args.tracking_uri, experiment=args.experiment)
    for sink, target in done.items():
        print(f"exported to {sink}: {target}")


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where jobs run: here, one after another (default), or as Ray tasks (the ray extra)")
    p.add_argument("--address", help="with --executor ray: a running cluster, HOST:PORT or 'auto' (default: a private local Ray)")
    p.add_argument("--job-cpus", type=_number("--job-cpus"), help="with --executor ray: CPUs per job (default 1)")
    p.add_argument("--job-gpus", type=_number("--job-gpus"), help="with --executor ray: GPUs per job (default 0)")


def _executor(args: argparse.Namespace):
    given = [flag for flag, value in (("--job-cpus", args.job_cpus), ("--job-gpus", args.job_gpus)) if value is not None]
    if given and args.executor != "ray":
        raise RLCheckError(f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to --executor ray (the resources of each Ray task); local "
                           "jobs run one after another in this process. Add --executor ray, or drop them.")
    return api.executor_for(args.executor, args.address, 1.0 if args.job_cpus is None else args.job_cpus,
                            0.0 if args.job_gpus is None else args.job_gpus)


def _number(name: str):
    def parse(raw: str) -> float:
        try:
            return float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {raw!r} (e.g. {name} 475)") from None

    return parse


def _positive_number(name: str):
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not (0 < value < float("inf")):
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {raw!r} (e.g. {name} 60)")
        return value

    return parse


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so a study stops as it does on Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 ok, 1 error (store, internal), 2 usage, 3 environment failed preflight, 4 some jobs
    failed or diverged, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM) (see rlcheck.core.errors).
    Nothing but rlcheck's own paragraphs reaches stderr: library log messages, warnings and any
    traceback go to a log file (the study's DIR/rlcheck.log), whose path is printed."""
    args = build_parser().parse_args(argv)
    with _library_log(args) as log:
        previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
        timeout = getattr(args, "step_timeout", None)
        before = os.environ.get("RLCHECK_STEP_TIMEOUT")
        if timeout is not None:  # read by every Python env made from here on (and by Ray workers)
            os.environ["RLCHECK_STEP_TIMEOUT"] = repr(timeout)
        try:
            return _dispatch(args, log)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if timeout is not None:
                if before is None:
                    os.environ.pop("RLCHECK_STEP_TIMEOUT", None)
                else:
                    os.environ["RLCHECK_STEP_TIMEOUT"] = before


def _dispatch(args: argparse.Namespace, log: LibraryLog) -> int:
    try:
        if args.command == "envs":
            print("\n".join(api.env_ids(args.imports)))
            return 0
        commands = {"train": _train, "check": _check, "run": _run, "plan": _plan, "report": _report, "seeds": _seeds,
                    "lint": _lint, "sweep": _sweep, "reproduce": _reproduce,
                    "export": _export_command}
        return commands[args.command](args)
    except RLCheckError as exc:
        print(f"rlcheck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader of our output has gone (`rlcheck plan ... | head`): nothing more to say
        _silence()
        return EXIT_OK
    except KeyboardInterrupt as exc:
        what, code = ("terminated (SIGTERM)", EXIT_TERMINATED) if isinstance(exc, Terminated) else ("interrupted", EXIT_INTERRUPTED)
        print(f"rlcheck: {what}. Finished jobs are saved; resume with the same command and --resume.", file=sys.stderr)
        return code
    except Exception as exc:  # a bug or an unforeseen failure: one paragraph, the traceback in the log
        if os.environ.get("RLCHECK_DEBUG"):
            raise
        log.logger.error("unexpected error", exc_info=exc)
        print(f"rlcheck: error: unexpected {type(exc).__name__}: {exc}. This is not a known input error; the traceback "
              f"is in {log.path} (or rerun with RLCHECK_DEBUG=1); please report it. A study's finished jobs are kept in "
              "its --out directory (continue with --resume).", file=sys.stderr)
        return EXIT_ERROR


def _silence() -> None:
    """Point stdout and stderr at /dev/null, so that nothing more is written to a pipe whose reader has gone."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _library_log(args: argparse.Namespace) -> contextlib.AbstractContextManager[LibraryLog]:
    """The log of this command: the study directory it writes or reads, if any."""
    where = getattr(args, "out", None) or getattr(args, "dir", None) or getattr(args, "pilot", None)
    return library_log(Path(where) if where else None)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    sweep = {key: [v for v in values.split(",") if v] for key, values in args.sweep}
    with progress_bar(enabled=not args.quiet) as progress:
        summary = api.train(
            env=args.env, algo=args.algo, seeds=range(args.seed_start, args.seed_start + args.seeds),
            steps=args.steps, out=args.out, overrides=dict(args.overrides), sweep=sweep, num_evals=args.num_evals,
            eval_episodes=args.eval_episodes, threshold=args.threshold, progress=progress,
            env_kwargs=_yaml_values(args.env_kwargs), resume=args.resume, wrappers=args.wrappers, imports=args.imports,
            force=args.force,
        )
    for method in summary.methods:
        line = f"{method.name} (config {method.config_id}): final eval returns {_fmt([s.final_return for s in method.seeds])}"
        if summary.threshold is not None:
            line += f"; {method.successes}/{len(method.seeds)} seeds reached {summary.threshold:g}"
        if method.diverged_seeds:
            line += f"; seeds {', '.join(map(str, method.diverged_seeds))} diverged (NaN/inf)"
        print(line)
    for failed in summary.failed_jobs:
        print(f"rlcheck: error: job {failed['job']} failed: {failed['error']}", file=sys.stderr)
    print(f"wrote the study to {args.out} (report.html, summary.json, traces.parquet) in "
          f"{time.perf_counter() - start:.1f}s")
    return study_exit_code(summary)


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressFn | None]:
    """A rich progress bar over the env steps of all seeds, with ETA. It appears on the first update,
    so input errors found before training print alone."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:<32}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    bar = Progress(*columns, speed_estimate_period=300.0)  # a long window: compile pauses do not swing the ETA
    task = None

    def update(done: int, total: int, phase: str | None = None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(phase or "training", total=total)
        bar.update(task, completed=done, total=total, **({"description": phase} if phase else {}))

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


def _check_spec(args: argparse.Namespace) -> StudySpec:
    return api.study_spec(args.env, args.seeds, args.budget, args.threshold, args.methods,
                          getattr(args, "num_evals", None), getattr(args, "eval_episodes", None),
                          env_kwargs=_yaml_values(getattr(args, "env_kwargs", [])),
                          true_objective=getattr(args, "true_objective", None),
                          descriptors=getattr(args, "descriptors", None), audit=not getattr(args, "no_audit", False),
                          wrappers=getattr(args, "wrappers", ()), imports=getattr(args, "imports", ()),
                          sets=getattr(args, "sets", ()) if args.command == "check" else (),
                          until_decided=getattr(args, "until_decided", False), max_seeds=getattr(args, "max_seeds", None),
                          tune=getattr(args, "tune", None), tune_seeds=getattr(args, "tune_seeds", None),
                          tune_ranges=getattr(args, "tune_ranges", ()),
                          reference_settings=getattr(args, "reference_settings", False))


def _yaml_values(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """--env-kwargs values as YAML scalars: 3, 0.5, true, null, [1, 2] or a string."""
    return {key: yaml_value(f"--env-kwargs {key}", value) for key, value in pairs}


def _execute(spec: StudySpec, args: argparse.Namespace) -> int:
    if args.dry_run:
        print(api.plan(spec))
        return 0
    with progress_bar(enabled=not args.quiet) as progress:
        summary = api.run(spec, args.out, resume=args.resume, progress=progress, executor=_executor(args),
                          force=args.force)
    _print_verdict(summary, args.out)
    if args.sinks:
        _export(args, args.out)
    return study_exit_code(summary)


def study_exit_code(summary: StudySummary) -> int:
    """4 if any job failed or any seed diverged (the results are written either way), else 0."""
    return EXIT_JOBS if summary.failed_jobs or summary.diverged else EXIT_OK


def _print_verdict(summary: StudySummary, out: Path) -> None:
    """The verdict, one line each: the two headline questions answered, then every method and finding."""
    verdict = summary.verdict
    print(f"Verdict: {verdict.label}")
    for line in verdict.lines or (verdict.text,):
        print(f"  {line}")
    for line in audit_lines(summary.audit or {}):
        print(line)
    for f in summary.failed_jobs:
        print(f"failed job {f['job']}: {f['error']}")
    for path in api.set_aside_files(out):
        print(f"set aside (not this study's, or unreadable; never adopted): {Path(out) / path}")
    print(f"report: {Path(out) / 'report.html'} (and report.md, summary.json, traces.parquet)")


def audit_lines(audit: dict) -> list[str]:
    """The audit's findings that fired, one line each."""
    lines = [f"reward lint {f['status']}: {f['check']}: {f['evidence']}" for f in audit.get("lint", []) if f["status"] != "pass"]
    for section in ("divergence", "modes", "collapse", "evaluation"):
        lines += [f"{section}: {item['text']}" for item in audit.get(section, []) if item.get("fires")]
    lines += [f"audit error: {e}" for e in audit.get("errors", [])]
    return lines


def _sweep(args: argparse.Namespace) -> int:
    factors: dict[str, list[str]] = {}
    for key, raw in args.varies:
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if key in factors or len(values) < 2:
            raise RLCheckError(f"--vary {key}={raw}: give each factor once, with at least two values separated by commas "
                               f"(e.g. --vary {key}=a,b).")
        factors[key] = values
    with progress_bar(enabled=not (args.quiet or args.dry_run)) as progress:
        result = api.sweep(args.env, args.algo, factors, args.out, fixed=dict(args.overrides), seeds=args.seeds,
                           budget=args.budget, threshold=args.threshold, num_evals=args.num_evals,
                           with_sb3=args.with_sb3, resume=args.resume, progress=progress, executor=_executor(args),
                           dry_run=args.dry_run, env_kwargs=_yaml_values(args.env_kwargs), wrappers=args.wrappers,
                           imports=args.imports, force=args.force)
    if isinstance(result, str):  # --dry-run: the plan
        print(result)
        return 0
    _print_verdict(result, args.out)
    for s in result.sweeps:
        print(f"Sweep of {s['method']}: {s['text']}")
    if args.sinks:
        _export(args, args.out)
    return study_exit_code(result)


def _reproduce(args: argparse.Namespace) -> int:
    if args.name == "list":
        for name in reproduce.names():
            r = reproduce.get(name)
            print(f"{name}: {r.claim}")
        return 0
    reproduce.get(args.name)  # an unknown name lists the known ones
    if args.out is None:
        raise RLCheckError(f"rlcheck reproduce {args.name} needs --out DIR (where its studies and report go).")
    with progress_bar(enabled=not args.quiet) as progress:
        result = api.reproduce(args.name, args.out, quick=args.quick, sources=args.sources, progress=progress,
                               resume=args.resume, executor=_executor(args))
    print(f"Claim: {result['claim']}")
    print(f"Measured: {result['measurement']}")
    print(f"Judgement: {result['verdict']}")
    for line in result["scaled"]:
        print(f"  note: {line}")
    print(f"report: {Path(args.out) / 'reproduction.md'}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    with Console(stderr=True).status(f"reward lint of {args.env}: probe policies (about {args.max_seconds:g} s at most "
                                     "on a Python env)"):
        result = api.lint(args.env, _yaml_values(args.env_kwargs), args.episodes, args.seed, wrappers=args.wrappers,
                          imports=args.imports, max_seconds=args.max_seconds)
    episodes = result["probes"][0]["episodes"] if result["probes"] else args.episodes
    print(f"Reward lint of {args.env} ({len(result['probes'])} probe policies x {episodes} episodes, no training):")
    for f in result["findings"]:
        print(f"  {f['status'].upper():4}  {f['check']}: {f['evidence']}")
        if f["status"] != "pass":
            print(f"        fix: {f['fix']}")
    for line in profile_lines(result["profile"]):
        print(line)
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


def profile_lines(profile: dict) -> list[str]:
    speed = profile.get("env_steps_per_second")
    lines = ["Plausibility profile (what deep RL needs, measured):",
             f"  reward density: {profile['nonzero_reward_share']:.0%} of random-policy steps have a non-zero reward; "
             f"{profile['positive_return_episode_share']:.0%} of its episodes have a positive return"]
    if speed:
        lines.append(f"  experience: {speed:,.0f} env steps/s on this machine; 1M steps take {1e6 / speed:,.1f} s")
    lines.append(f"  delay: {profile['action_effect_lag']['note']}")
    levels = profile["return_levels"]
    lines.append(f"  return levels reached by the probes: {levels['count']} ({', '.join(f'{v:.4g}' for v in levels['levels'])})")
    return lines


def _duration(raw: str) -> str:
    try:
        api.parse_duration(raw)
    except RLCheckError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return raw


def _time_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--time", metavar="DURATION", type=_duration, help="fit the study into this wall time on this machine (e.g. 15m, "
                   "90s, 1.5h): drops the search, then seeds (to 5), then budget, then the dearest methods, and says so")


def _reference_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reference-settings", action="store_true",
                   help="on an env with no tuned settings, keep the off-policy learners' published network sizes "
                        "(SB3's 256x256) instead of the CPU-sized 64x64 (docs/tuning.md)")


def _fitted(spec: StudySpec, args: argparse.Namespace) -> StudySpec:
    """With --time, the fitted spec, after saying what was cut; on --resume, the one the store was made with."""
    if not args.time:
        return spec
    stored = api.stored_spec(args.out) if getattr(args, "resume", False) else None
    if stored is not None:
        print(f"--time {args.time}: resuming the study as it was fitted ({len(stored.seeds)} seeds x "
              f"{stored.budget:,} env steps; {', '.join(m.name for m in stored.methods)}).")
        return stored
    fitted = api.fit_time(spec, args.time)
    print(fitted.describe(api.parse_duration(args.time)))
    return fitted.spec


def _check(args: argparse.Namespace) -> int:
    return _execute(_fitted(_check_spec(args), args), args)


def _run(args: argparse.Namespace) -> int:
    return _execute(api.file_spec(args.study, args.sets), args)


def _plan(args: argparse.Namespace) -> int:
    if args.target.endswith((".yaml", ".yml")) or Path(args.target).is_file():
        env_only = [flag for flag, value in (("--methods", args.methods), ("--until-decided", args.until_decided),
                                             ("--max-seeds", args.max_seeds), ("--tune", args.tune),
                                             ("--tune-seeds", args.tune_seeds), ("--tune-range", args.tune_ranges),
                                             ("--reference-settings", args.reference_settings),
                                             ("--wrap", args.wrappers), ("--import", args.imports),
                                             ("--env-kwargs", args.env_kwargs))
                    if value]
        if env_only:
            raise RLCheckError(f"{', '.join(env_only)} plan{'s' if len(env_only) == 1 else ''} a study of an env; a study "
                               f"file says that itself. Change {args.target}, or use --set (e.g. --set "
                               "methods.ppo.learning_rate=1e-3).")
        flags = [(field, str(value)) for field, value in (("seeds", args.seeds), ("budget", args.budget),
                                                           ("threshold", args.threshold)) if value is not None]
        spec = api.file_spec(Path(args.target), [*flags, *args.sets])  # --seeds 100 means seeds: 100, as in `run`
    else:
        args.env = args.target
        spec = _check_spec(args)
    print(api.plan(_fitted(spec, args)))
    return 0


def _report(args: argparse.Namespace) -> int:
    summary = api.report(args.dir)
    _print_verdict(summary, args.dir)
    return 0


def _seeds(args: argparse.Namespace) -> int:
    rows = api.seeds_needed(args.pilot, args.effect, args.power, args.alpha)
    print(f"Seeds per method to detect a difference of {args.effect:g} in mean final return "
          f"(power {args.power:g}, two-sided alpha {args.alpha:g}, Welch t-test, spread from {args.pilot}, sized for "
          "its 90% upper confidence limit):")
    for r in rows:
        n, at = r["seeds_per_method"], r["seeds_at_observed_spread"]
        what = f"{r['a']} vs a variant with the same spread" if r["a"] == r["b"] else f"{r['a']} vs {r['b']}"
        print(f"  {what}: {'over 100000' if n is None else n} seeds each (sd {r['sd_a']:.1f} / {r['sd_b']:.1f}, "
              f"up to {r['sd_a_upper']:.1f} / {r['sd_b_upper']:.1f}; {'over 100000' if at is None else at} at the "
              "observed spread)")
    return 0


def _fmt(values: list[float | None]) -> str:
    return "[" + ", ".join("nan" if v is None else f"{v:.1f}" for v in values) + "]"


def entry() -> None:
    """The `rlcheck` command. After Ctrl-C or SIGTERM the process ends at once with its code: the store
    is already consistent, and interpreter shutdown could otherwise meet XLA's threads mid-callback
    (an abort instead of exit 130)."""
    code = main()
    for signum in (signal.SIGINT, signal.SIGTERM):  # the work is done and saved: a signal now (during the
        signal.signal(signum, signal.SIG_IGN)  # interpreter's shutdown) could only replace the exit code with -2
    try:
        sys.stdout.flush()  # output to a pipe is written here, at the latest
    except BrokenPipeError:
        _silence()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
