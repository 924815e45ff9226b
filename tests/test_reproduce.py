"""Every reproduction's quick form runs, judges its claim and writes its report."""

import json
from types import SimpleNamespace

import pytest

from rlcheck import reproduce
from rlcheck.cli import main


# The quick forms that take 1.5-2.5 minutes each on 2 cores run with `python -m pytest -m slow`; CI keeps three.
SLOW = {"cartpole-baselines", "pendulum-seeds", "local-optima", "atari-median", "mpc-vs-rl"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in reproduce.names()])
def test_quick_form_runs_and_renders(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["reproduce", name, "--quick", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "reproduction.json").read_text())
    assert result["verdict"] in ("holds", "does not hold", "partly") and f"Judgement: {result['verdict']}" in printed
    assert result["quick"] and "quick form" in (out / "reproduction.md").read_text()
    for study in result["studies"].values():
        assert "<h1>" in open(study).read()  # every study's own report rendered


def test_an_unknown_reproduction_lists_the_known_ones(capsys):
    assert main(["reproduce", "pendulum-seed", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'pendulum-seeds'" in err and "cartpole-baselines" in err


def _audit(modes=(), collapse=()):
    """The part of a StudySummary the judge reads."""
    return SimpleNamespace(audit={"modes": list(modes), "collapse": list(collapse), "lint": [], "divergence": []})


def _collapse(seeds):
    return {"flagged": sum(s["collapsed"] for s in seeds), "seeds_total": len(seeds), "seeds": seeds}


def _seed(action, share, ret):
    near = share >= 0.8
    return {"seed": 0, "action": action, "share": share, "near_constant": near, "collapsed": near, "final_return": ret}


@pytest.mark.parametrize("breakout,verdict", [
    ([_seed(2, 1.0, 0.0), _seed(1, 0.87, 0.0), _seed(0, 0.4, 20.0)], "holds"),
    ([_seed(1, 0.87, 0.0), _seed(2, 0.45, 18.0)], "partly"),  # stuck on left, not right: the claim's case is missing
])
def test_local_optima_judge_counts_breakout_seeds_stuck_pressing_right(breakout, verdict):
    from rlcheck.reproduce.claims import _judge_local_optima

    runner = _audit(modes=[{"count": 2, "fires": True, "text": "runner: 2 behaviour modes"}])
    catch = _audit(collapse=[_collapse([_seed(2, 0.9, 6.0)] * 9 + [_seed(1, 0.5, 10.0)])])
    judged = _judge_local_optima({"flipped-runner": runner, "biased-catch": catch,
                                  "breakout-right": _audit(collapse=[_collapse(breakout)])})
    assert judged.verdict == verdict
    right = sum(s["action"] == 2 and s["near_constant"] for s in breakout)
    assert f"{right}/{len(breakout)} (" in judged.measurement
    assert ("seed 0: right 100% (return 0.0)" in judged.measurement) == (right > 0)
