"""`--time`: a study fitted into the time given, cut in the documented order, each cut named with the flag
that restores it; refused when even its smallest form would not fit; resumed as it was fitted."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from rlcheck import api
from rlcheck.cli import main
from rlcheck.core.errors import RLCheckError
from rlcheck.study.fit import MIN_SEEDS, fit, parse_duration

COST = {"ppo": 1e-5, "dqn": 2e-5, "cem": 1e-6, "ars": 1e-6}  # seconds per env step of one seed (synthetic)


def estimate(spec):
    """A known cost: 5 s of compiling per method, then linear in seeds x budget (x 8 for a search)."""
    out = {}
    for m in spec.methods:
        search = 8 * 2 if (spec.tune_configs or spec.tune_auto) and m.name in ("ppo", "dqn") else 0
        out[m.name] = 5 + COST[m.name] * spec.budget * (len(spec.seeds) + search)
    return out


@pytest.fixture(scope="module")
def spec():
    return api.study_spec("CartPole-v1", seeds=10, budget=100_000, methods="ppo,dqn,cem,ars", tune=8)


def test_durations():
    assert [parse_duration(t) for t in ("90", "90s", "15m", "1.5h", " 2 min ")] == [90, 90, 900, 5400, 120]
    for bad in ("", "abc", "-5m", "0", "5 days", "1e3"):
        with pytest.raises(RLCheckError, match="is not a duration"):
            parse_duration(bad)


def test_a_study_that_fits_is_left_as_asked(spec):
    done = fit(spec, 10_000, estimate)
    assert done.spec == dataclasses.replace(spec, time_limit=10_000.0) and done.cuts == ()
    assert done.seconds == done.asked_seconds


def test_the_search_goes_first_then_seeds_then_budget(spec):
    asked = sum(estimate(spec).values())
    no_search = 20 + 1e6 * (1e-5 + 2e-5 + 2e-6)  # 4 compiles, 10 seeds x 100k each
    done = fit(spec, no_search + 1, estimate)
    assert done.cuts == ("the hyper-parameter search (restore: --tune N)",) and done.spec.tune_configs is None
    assert done.seconds <= no_search + 1 < asked
    seven_seeds = 20 + 7e5 * 3.2e-5
    done = fit(spec, seven_seeds + 0.5, estimate)
    assert len(done.spec.seeds) == 7 and done.spec.budget == spec.budget
    assert done.cuts[1] == "seeds 10 -> 7 per method (restore: --seeds 10)"
    done = fit(spec, 30, estimate)  # 5 seeds take 36 s: the budget is cut too, to 20 + 5 x 3.2e-5 x b <= 30
    assert len(done.spec.seeds) == MIN_SEEDS and done.spec.budget == 62_000 and done.seconds <= 30
    assert done.cuts[-1] == "budget 100,000 -> 62,000 env steps per seed (restore: --budget 100000)"
    assert [m.name for m in done.spec.methods] == ["ppo", "dqn", "cem", "ars"]


def test_a_method_that_can_never_fit_is_dropped_before_anything_else_is_cut(spec):
    cost = dict(COST, dqn=1.0)  # a second per step: hopeless in any form
    done = fit(spec, 60, lambda s: {m: v for m, v in estimate(s).items() if m != "dqn"}
               | ({"dqn": 5 + cost["dqn"] * s.budget * len(s.seeds)} if any(m.name == "dqn" for m in s.methods) else {}))
    assert [m.name for m in done.spec.methods] == ["ppo", "cem", "ars"]
    assert re.match(r"dqn: about 1\d\.\d h even at 5 seeds x 10,\d\d\d steps \(restore: --methods including dqn", done.cuts[0])


def test_the_dearest_methods_go_last_and_an_impossible_limit_is_refused(spec):
    done = fit(spec, 16, estimate)  # 5 s compiling each: three methods at the smallest size, the dearest goes
    assert [m.name for m in done.spec.methods] == ["ppo", "cem", "ars"] and done.spec.budget == 16_000
    assert done.cuts[1].startswith("dqn: about 6 s even at 5 seeds x 10,240 steps, with the others")
    with pytest.raises(RLCheckError, match="cannot fit in --time 4 s: its smallest form"):
        fit(spec, 4, estimate)


def test_a_fitted_study_resumes_as_it_was_stored(spec, tmp_path):
    fitted = fit(spec, 30, estimate).spec
    (tmp_path / "manifest.json").write_text(json.dumps({"spec": fitted.as_dict(), "fingerprint": fitted.fingerprint()}))
    stored = api.stored_spec(tmp_path)
    assert stored.fingerprint() == fitted.fingerprint() and stored.time_cuts == fitted.time_cuts != ()
    assert stored.as_dict()["time"] == {"limit_s": 30.0, "cuts": list(fitted.time_cuts)}
    assert api.stored_spec(tmp_path / "none") is None


def test_the_command_line(capsys, monkeypatch):
    monkeypatch.setenv("RLCHECK_MACHINE_SPEED", "1")  # the reference machine's speed: the same cuts everywhere
    assert main(["plan", "CartPole-v1", "--methods", "ppo,cem", "--time", "25s"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--time 25 s: the study as asked would take about ") and "restore: --seeds 10" in out
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "CartPole-v1", "--time", "soon"])
    assert exit_.value.code == 2 and "--time 'soon' is not a duration" in capsys.readouterr().err


def test_the_last_rl_method_is_never_the_one_cut():
    spec = api.study_spec("CartPole-v1", seeds=10, budget=100_000, methods="ppo,cem", tune=0)
    done = fit(spec, 7.01, estimate)  # both cannot fit; PPO is the dearer, but the study asks about deep RL
    assert [m.name for m in done.spec.methods] == ["ppo"] and done.spec.budget == 40_000
    assert done.cuts[0].startswith("cem: about ")


def test_the_machine_speed_is_measured_once_per_reference_and_can_be_given(monkeypatch, tmp_path):
    from rlcheck.engine import calibrate

    monkeypatch.setenv("RLCHECK_COMPILE_CACHE", str(tmp_path))
    monkeypatch.delenv("RLCHECK_MACHINE_SPEED", raising=False)
    monkeypatch.setattr(calibrate, "workload_seconds", lambda: calibrate.REFERENCE_SECONDS / 2)
    assert calibrate.machine_speed() == 2.0  # twice the reference machine's speed, measured and kept
    monkeypatch.setattr(calibrate, "workload_seconds", lambda: 1 / 0)  # not measured again
    assert calibrate.machine_speed() == 2.0
    kept = calibrate.cached_speed_file()
    kept.write_text(json.dumps({"speed": 9.0, "reference_seconds": 123.0}))  # kept against another reference
    monkeypatch.setattr(calibrate, "workload_seconds", lambda: calibrate.REFERENCE_SECONDS)
    assert calibrate.machine_speed() == 1.0
    monkeypatch.setenv("RLCHECK_MACHINE_SPEED", "0.5")
    assert calibrate.machine_speed() == 0.5
