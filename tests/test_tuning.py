"""--tune N: a small search on its own seeds, its best re-run on the study's seeds, and only the re-run
in the verdict (analysis/tuning.py, methods/search.py, study/run.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rlcheck.analysis.outcomes import Outcome
from rlcheck.analysis.tuning import choose, section
from rlcheck.cli import main
from rlcheck.methods.ppo import PPOConfig
from rlcheck.methods.search import SPACES, sample_configs


def _outcome(config_id: int, finals: list[float], method: str = "ppo:tune") -> Outcome:
    n = len(finals)
    return Outcome(method, config_id, np.arange(n) + 1_000_000, np.full((n, 1), 100), np.array(finals)[:, None],
                   np.zeros(n, int), np.zeros(n, bool))


def test_samples_cover_the_ranges_and_keep_the_default_first():
    base = PPOConfig()
    configs = sample_configs(base, "ppo", 9, seed=3)
    assert configs[0] == base and len(configs) == 9
    for name, r in SPACES["ppo"].items():
        values = np.array([getattr(c, name) for c in configs[1:]])
        assert r.low <= values.min() and values.max() <= r.high
        spread = {"linear": np.ptp(values) / (r.high - r.low), "log": np.log(values.max() / values.min()) / np.log(r.high / r.low),
                  "horizon": np.log((1 - values.min()) / (1 - values.max())) / np.log((1 - r.low) / (1 - r.high))}[r.scale]
        assert spread > 0.5  # 8 Latin-hypercube points span most of each range
    fixed = sample_configs(base, "ppo", 5, fixed=("learning_rate",))
    assert {c.learning_rate for c in fixed} == {base.learning_rate}  # the user's setting is not searched


def test_the_search_picks_the_known_best_and_reports_the_selection_bias():
    """Config 2 is truly best (mean 90); the search's 2 seeds flatter config 3 (a lucky 95); with the threshold
    at 80, successes decide first: 2 reaches it on both seeds, 3 on one."""
    searched = [_outcome(0, [10, 20]), _outcome(1, [50, 60]), _outcome(2, [85, 92]), _outcome(3, [95, 40])]
    assert choose(searched, 80.0) == 2
    assert choose(searched, None) == 2  # by mean final return: 88.5 against 67.5
    configs = [{"learning_rate": lr, "ent_coef": 0.01, "gamma": 0.99} for lr in (1e-4, 3e-4, 1e-3, 3e-3)]

    class Fresh:  # the re-run on fresh seeds: a little worse than the search said, as picking the max makes it
        final_return = {"mean": type("I", (), {"value": 80.0})()}

    entry = section("ppo", searched, configs, 2, Fresh(), 80.0, ["learning_rate"])
    assert entry["chosen_search_mean"] == pytest.approx(88.5) and entry["selection_bias"] == pytest.approx(8.5)
    assert entry["share_reaching"] == pytest.approx(0.25)
    assert entry["sensitivity"]["learning_rate"]["spearman"] == pytest.approx(0.8)


def test_by_default_only_learners_without_tuned_settings_are_searched():
    from rlcheck import api
    from rlcheck.study.plan import tuned_methods

    delayed = dict(threshold=1.5, budget=20_000, seeds=2)
    assert tuned_methods(api.study_spec("tiny_envs:DelayedPayoff", methods="ppo,cem", **delayed)) == {"ppo": 8}
    assert tuned_methods(api.study_spec("tiny_envs:DelayedPayoff", methods="ppo", tune=0, **delayed)) == {}
    three = api.study_spec("tiny_envs:DelayedPayoff", methods="ppo", tune_seeds=3, **delayed)
    assert tuned_methods(three) == {"ppo": 8} and three.tune_seeds == 3
    assert tuned_methods(api.study_spec("CartPole-v1", methods="ppo,dqn", seeds=2, budget=20_000)) == {}  # tuned entries
    assert tuned_methods(api.study_spec("CartPole-v1", methods="ppo", seeds=2, budget=20_000, tune=4)) == {"ppo": 4}
    from rlcheck.study.spec import build

    swept = build({"env": "tiny_envs:DelayedPayoff", "methods": {"ppo": {"sweep": {"gamma": [0.99, 0.995]}}}, **delayed})
    assert swept.tune_auto and tuned_methods(swept) == {}  # a sweep is the user's own search
    assert api.study_spec("trap/sensor-tile", methods="dqn", seeds=2, budget=20_000).tune_auto
    assert tuned_methods(api.study_spec("trap/sensor-tile", methods="dqn", seeds=2, budget=20_000)) == {}


def test_a_users_range_replaces_the_built_in_one_and_searches_a_method_with_tuned_settings():
    from rlcheck import api
    from rlcheck.study.plan import tune_jobs, tuned_methods

    spec = api.study_spec("CartPole-v1", methods="ppo,dqn", seeds=2, budget=20_000,
                          tune_ranges=[("ppo.learning_rate", "1e-3:2e-3"), ("ppo.clip_eps", "0.1:0.3:linear")])
    assert tuned_methods(spec) == {"ppo": 8}  # CartPole has tuned settings: searched only because a range was given
    (job,) = tune_jobs(spec)
    rates = [c.learning_rate for c in job.configs[1:]]
    clips = [c.clip_eps for c in job.configs[1:]]
    assert 1e-3 <= min(rates) and max(rates) <= 2e-3 and 0.1 <= min(clips) and max(clips) <= 0.3
    assert spec.as_dict()["tune"]["ranges"]["ppo.clip_eps"] == [0.1, 0.3, "linear"]
    from rlcheck.study.spec import build

    assert build(spec.as_dict()).tune_ranges == spec.tune_ranges  # the manifest's spec rebuilds the same search


def test_only_the_fresh_rerun_enters_the_verdict(tmp_path):
    out = tmp_path / "s"
    assert main(["check", "CartPole-v1", "--methods", "ppo", "--seeds", "2", "--tune", "3", "--tune-seeds", "1",
                 "--budget", "8192", "--num-evals", "2", "--eval-episodes", "2", "--no-audit", "--quiet", "--out",
                 str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["jobs"]["ppo-tune"]["seeds"] == [1_000_000] and manifest["jobs"]["ppo-0"]["seeds"] == [0, 1]
    assert [m["name"] for m in summary["methods"]] == ["ppo"]  # the search's runs are not methods of the verdict
    assert [s["seed"] for s in summary["methods"][0]["seeds"]] == [0, 1]
    chosen = manifest["tuning"]["ppo"]["chosen"]
    assert summary["methods"][0]["config"] == manifest["tuning"]["ppo"]["configs"][chosen]
    (entry,) = summary["tuning"]
    assert entry["configs"] == 3 and entry["search_seeds"] == 1 and len(entry["search_means"]) == 3
    assert "PPO was searched: 3 configurations" in summary["verdict"]["text"]
    assert main(["check", "CartPole-v1", "--methods", "ppo", "--seeds", "2", "--tune", "3", "--tune-seeds", "1",
                 "--budget", "8192", "--num-evals", "2", "--eval-episodes", "2", "--no-audit", "--quiet", "--out",
                 str(out), "--resume"]) == 0
    assert json.loads((out / "summary.json").read_text())["tuning"] == summary["tuning"]  # resumed: the same choice


def test_on_a_problem_with_a_known_best_discount_the_search_finds_it_and_the_fresh_seeds_judge(tmp_path):
    """tiny_envs.DelayedPayoff: waiting pays 2 after 100 steps, taking pays 1 now, so exactly the discounts
    above (1/2)^(1/100) = 0.99309 can learn the 2; the default 0.99 cannot. Learning rate and entropy are
    fixed with --set, so the search varies the discount alone."""
    out = tmp_path / "s"
    assert main(["check", "tiny_envs:DelayedPayoff", "--methods", "ppo", "--seeds", "3", "--budget", "60000",
                 "--threshold", "1.5", "--set", "ppo.learning_rate=1e-3", "--set", "ppo.ent_coef=0.01", "--tune", "6",
                 "--tune-seeds", "2", "--num-evals", "3", "--eval-episodes", "2", "--no-audit", "--quiet", "--out",
                 str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    record = json.loads((out / "manifest.json").read_text())["tuning"]["ppo"]
    assert record["fields"] == ["gamma"]  # the fields the user fixed are not searched, nor reported as such
    (entry,) = summary["tuning"]
    gammas = [c["gamma"] for c in record["configs"]]
    break_even = 0.5 ** (1 / 100)
    assert gammas[0] == 0.99 and entry["search_means"][0] == 1.0  # the default takes the 1
    assert any(g > break_even for g in gammas) and any(g < break_even for g in gammas)
    for gamma, mean in zip(gammas, entry["search_means"], strict=True):
        if gamma < break_even:
            assert mean == 1.0, (gamma, mean)  # no discount below break-even can prefer the wait
    assert gammas[entry["chosen"]] > break_even and entry["chosen_search_mean"] == 2.0
    (ppo,) = summary["methods"]
    assert [s["seed"] for s in ppo["seeds"]] == [0, 1, 2]  # the verdict's seeds took no part in the choice
    fresh = np.mean([s["final_return"] for s in ppo["seeds"]])
    assert entry["chosen_fresh_mean"] == pytest.approx(fresh)
    assert entry["selection_bias"] == pytest.approx(entry["chosen_search_mean"] - fresh)
    assert entry["sensitivity"]["gamma"]["spearman"] > 0.5  # the outcome rises with the discount
