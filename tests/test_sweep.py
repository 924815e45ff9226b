"""Sensitivity sweeps: Holm correction and main effects on known answers; the CLI end to end."""

import json

import numpy as np
import pytest

from rlcheck.analysis.outcomes import Outcome
from rlcheck.analysis.stats import holm
from rlcheck.analysis.sweep import analyse_sweep
from rlcheck.cli import main


def test_holm_matches_the_step_down_procedure():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_a_real_effect_is_found_and_a_null_factor_is_not():
    rng = np.random.default_rng(0)
    factors = {"activation": ["tanh", "relu"], "reward_scale": [1.0, 10.0]}
    configs, outcomes = [], []
    for cid, (act, scale) in enumerate([(a, s) for a in factors["activation"] for s in factors["reward_scale"]]):
        configs.append({"activation": act, "reward_scale": scale})
        finals = rng.normal(100.0 if act == "relu" else 0.0, 10.0, 10)  # relu +100; reward scale: no effect
        outcomes.append(Outcome("ddpg", cid, np.arange(10), np.zeros((10, 1)), finals[:, None], np.zeros(10),
                                np.zeros(10, bool)))
    result = analyse_sweep(outcomes, configs, factors, threshold=50.0)
    by_factor = {e["factor"]: e for e in result["effects"]}
    assert result["matters"] == ["activation"]
    assert by_factor["activation"]["low"] < 100 < by_factor["activation"]["high"] and by_factor["activation"]["holm_p"] < 1e-6
    assert not by_factor["reward_scale"]["matters"] and by_factor["reward_scale"]["low"] < 0 < by_factor["reward_scale"]["high"]
    assert result["noise_floor"]["share_welch_p_below_05"] <= 0.15  # halves of identical settings
    assert [c["solved"] for c in result["cells"]] == [0, 0, 10, 10]


def test_a_structural_and_a_numeric_factor_run_as_one_study(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(["sweep", "CartPole-v1", "--algo", "ppo", "--vary", "activation=tanh,relu", "--vary",
                 "learning_rate=2.5e-4,1e-3", "--seeds", "2", "--budget", "2048", "--num-evals", "1", "--out", str(out),
                 "--quiet"])
    assert code == 0 and "Sweep of ppo" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["jobs"]) == 2  # one compiled program per activation, learning rates vmapped inside
    (sweep,) = summary["sweeps"]
    assert [c["levels"] for c in sweep["cells"]] == [
        {"activation": a, "learning_rate": lr} for a in ("tanh", "relu") for lr in (2.5e-4, 1e-3)]
    assert {(e["factor"], e["level"]) for e in sweep["effects"]} == {("activation", "relu"), ("learning_rate", 1e-3)}
    assert "Sensitivity: ppo" in (out / "report.html").read_text()


@pytest.mark.parametrize("args,message", [
    (["--vary", "no_such_knob=1,2"], "Unknown hyper-parameter 'no_such_knob'"),
    (["--vary", "learning_rate=fast,slow"], "expects a float, got 'fast'"),
    (["--vary", "learning_rate=1e-3"], "at least two values"),
    ([], "needs at least one --vary"),
])
def test_bad_sweeps_give_one_clear_error(tmp_path, capsys, args, message):
    code = main(["sweep", "CartPole-v1", "--algo", "ppo", *args, "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err
