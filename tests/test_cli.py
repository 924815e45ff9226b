"""CLI: outputs and their format; bad input gives one paragraph and a non-zero exit, no traceback."""

import json

import pyarrow.parquet as pq
import pytest

from rlcheck.cli import main


def test_train_writes_traces_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--env", "CartPole-v1", "--algo", "ppo", "--seeds", "2", "--steps", "4096",
                 "--num-evals", "2", "--eval-episodes", "2", "--out", str(out), "--quiet",
                 "--set", "num_envs=2", "--sweep", "ent_coef=0.0,0.01"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env"] == "CartPole-v1" and summary["budget"]["env_steps"] == 4096
    assert [m["config"]["ent_coef"] for m in summary["methods"]] == [0.0, 0.01]
    assert all(m["config"]["num_envs"] == 2 for m in summary["methods"])
    seeds = summary["methods"][0]["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1] and all(s["env_steps"] == 4096 for s in seeds)
    assert isinstance(summary["wall_seconds"], float)
    table = pq.read_table(out / "traces.parquet")
    assert table.column_names == ["method", "config_id", "seed", "env_steps", "model_calls", "metric", "value"]
    metrics = set(table.column("metric").to_pylist())
    assert {"eval_return", "train_return", "diag/value_loss"} <= metrics
    # final eval_return rows match the summary
    rows = [r for r in table.to_pylist() if r["metric"] == "eval_return" and r["env_steps"] == 4096 and r["config_id"] == 0]
    assert sorted(r["value"] for r in rows) == pytest.approx(sorted(s["final_return"] for s in seeds))
    # a one-method study in the store's format: the other verbs read it
    assert json.loads((out / "manifest.json").read_text())["spec"]["methods"] == {"ppo": {"num_envs": 2, "sweep": {
        "ent_coef": [0.0, 0.01]}}}
    capsys.readouterr()
    assert main(["report", str(out)]) == 0 and "Verdict: " in capsys.readouterr().out
    assert main(["export", str(out), "--to", "tensorboard"]) == 0 and any((out / "tensorboard").iterdir())
    assert main(["seeds", "--pilot", str(out), "--effect", "50"]) == 0
    assert "ppo vs ppo#1" in capsys.readouterr().out


BAD_INPUTS = [
    (["--env", "CartPol-v1", "--algo", "ppo"], "Did you mean 'CartPole-v1'", 3),  # an environment error
    (["--env", "Pendulum-v1", "--algo", "dqn"], "discrete action space", 2),
    (["--env", "CartPole-v1", "--algo", "ppo", "--set", "learnin_rate=1e-3"], "Did you mean 'learning_rate'", 2),
    (["--env", "CartPole-v1", "--algo", "ppo", "--set", "learning_rate=fast"], "expects a float", 2),
    (["--env", "CartPole-v1", "--algo", "ppo", "--sweep", "num_envs=4,8"], "cannot be swept", 2),
    (["--env", "CartPole-v1", "--algo", "ppg"], "Did you mean 'ppo'", 2),
    (["--env", "CartPole-v1", "--algo", "ppo", "--set", "num_minibatches=3"], "splits evenly", 2),
]


@pytest.mark.parametrize(("args", "message", "exit_code"), BAD_INPUTS)
def test_bad_input_gives_a_clear_error(tmp_path, capsys, args, message, exit_code):
    code = main(["train", *args, "--steps", "1000", "--seeds", "1", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == exit_code and message in err and "Traceback" not in err


@pytest.mark.parametrize("flag", [["--steps", "0"], ["--steps", "-5"], ["--seeds", "0"], ["--seeds", "ten"], ["--steps", "abc"]])
def test_bad_numbers_exit_non_zero(tmp_path, capsys, flag):
    args = ["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1000", "--seeds", "1", "--out", str(tmp_path), *flag]
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and flag[0] in err and "Traceback" not in err


def test_budget_smaller_than_one_iteration(tmp_path, capsys):
    code = main(["train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "10", "--seeds", "1", "--out", str(tmp_path), "--quiet"])
    assert code == 2 and "less than one ppo iteration" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`rlcheck envs | head -1`: the closed pipe is not an error of rlcheck's (no "unexpected BrokenPipeError")."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "rlcheck.cli", "envs"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # gone before rlcheck has written anything (it is still importing)
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == ""


def test_a_signal_after_the_work_is_done_keeps_the_exit_code():
    """Found by benchmarks/chaos.py: SIGINT while the finished command was shutting down gave exit -2."""
    import subprocess
    import sys

    program = ("import os, signal, sys, time\nimport rlcheck.cli as cli\ncli.main = lambda: 0\nexit_ = sys.exit\n"
               "def late(code):\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(0.3)\n    exit_(code)\n"
               "sys.exit = late\ncli.entry()\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
