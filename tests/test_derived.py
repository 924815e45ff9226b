"""Defaults derived from the env where a method has no tuned entry for it (methods/derived.py), measured
by diagnostics/facts.py, recorded in the manifest and said in the plan, the verdict and the report."""

from __future__ import annotations

import dataclasses

import pytest

from rlcheck import api, registry
from rlcheck.diagnostics.facts import EnvFacts, env_facts
from rlcheck.envs import make_env
from rlcheck.methods.derived import derived_settings
from rlcheck.study import plan as planning

LANDER = EnvFacts(horizon=1000, discrete=True, image=False, obs_scale=1.35, obs_std_ratio=4.0, reward_std=11.0,
                  episode_length=80.0, obs_bounded=True)


def _values(settings):
    return {k: v for k, (v, _) in settings.items()}


def test_a_long_horizon_gets_the_lander_recipe_and_an_unbounded_robot_mujocos():
    lander = _values(derived_settings("ppo", LANDER))
    assert lander == {"num_envs": 16, "num_steps": 1024, "num_minibatches": 256, "update_epochs": 4, "gamma": 0.999,
                      "gae_lambda": 0.98, "ent_coef": 0.01, "learning_rate": 3e-4, "anneal_lr": False,
                      "clip_value_loss": False}
    robot = dataclasses.replace(LANDER, discrete=False, obs_bounded=False)
    assert _values(derived_settings("ppo", robot))["normalize_obs"] is True
    assert _values(derived_settings("ppo", robot))["num_steps"] == 2048
    short = dataclasses.replace(LANDER, horizon=200, obs_scale=50.0)
    assert _values(derived_settings("ppo", short)) == {"normalize_obs": True}  # only what the facts call for
    assert derived_settings("ppo", dataclasses.replace(LANDER, horizon=200)) == {}
    assert "RL Zoo" in derived_settings("ppo", LANDER)["gamma"][1]
    assert _values(derived_settings("dqn", LANDER))["exploration_fraction"] == 0.12
    assert derived_settings("ppo", dataclasses.replace(LANDER, image=True)) == {}
    assert _values(derived_settings("ppo", dataclasses.replace(LANDER, family="minatar")))["num_envs"] == 64


def test_facts_measure_the_env():
    facts = env_facts(make_env("user_envs:PointMass", wrappers=("TimeLimit:max_episode_steps=1000",)))
    assert facts.horizon == 1000 and not facts.discrete and facts.obs_bounded is True
    assert facts.episode_length == 500  # the probe's cap: a random push drifts far (x and v unbounded in effect)
    assert facts.obs_scale > 10 and _values(derived_settings("ppo", facts))["normalize_obs"] is True
    walk = env_facts(make_env("user_envs:GoRight", wrappers=("TimeLimit:max_episode_steps=1000",)))
    assert walk.discrete and walk.obs_scale <= 2.0 and walk.obs_bounded is True


def test_a_fixed_episode_length_is_the_horizon_not_the_declared_limit():
    catch = env_facts(make_env("Catch-bsuite"))  # declares 1000 steps; every episode ends at 9
    assert catch.horizon == 9 and derived_settings("ppo", catch) == {}
    assert env_facts(make_env("CartPole-v1")).horizon == 500  # random episodes vary: the limit stands


def test_an_env_with_a_tuned_entry_gets_it_not_a_derived_one():
    ppo = registry.get_method("ppo")
    assert registry.derived_defaults(ppo, make_env("CartPole-v1")) == {}
    assert registry.default_config(ppo, make_env("CartPole-v1")).num_envs == 4


def test_a_trap_keeps_the_defaults_it_was_calibrated_on():
    dqn = registry.get_method("dqn")
    trap = make_env("trap/sensor-tile")
    assert registry.derived_defaults(dqn, trap) == {}
    assert registry.default_config(dqn, trap) == dqn.Config()


def test_derived_settings_reach_the_config_plan_manifest_and_verdict(tmp_path):
    env = "user_envs:GoRight"
    wrap = ("TimeLimit:max_episode_steps=1000",)
    spec = api.study_spec(env, seeds=2, budget=40_960, threshold=5.0, methods="ppo", wrappers=wrap, audit=False,
                          num_evals=1, eval_episodes=1, sets=[("ppo.learning_rate", "1e-3")])
    derived = planning.derived_settings(spec)["ppo"]
    assert derived["num_steps"]["value"] == 1024 and "learning_rate" not in derived  # the user's --set stays theirs
    config = planning.method_configs(spec, spec.methods[0])[0]
    assert config.num_steps == 1024 and config.learning_rate == pytest.approx(1e-3)
    assert "no tuned settings for user_envs:GoRight; derived: num_envs=16" in api.plan(spec)


def test_the_verdict_and_report_say_what_rl_was_given(tmp_path):
    spec = api.study_spec("user_envs:GoRight", seeds=2, budget=16_384, threshold=5.0, methods="ppo", audit=False,
                          wrappers=("TimeLimit:max_episode_steps=1000",), num_evals=1, eval_episodes=1, tune=0)
    summary = api.run(spec, tmp_path / "s")
    ppo = summary.methods[0]
    assert ppo.derived_settings["gamma"]["value"] == 0.999 and "RL Zoo" in ppo.derived_settings["gamma"]["reason"]
    assert "PPO (with settings derived for this env, not tuned on it)" in ppo.verdict_text
    html = (tmp_path / "s" / "report.html").read_text()
    assert 'id="derived-settings"' in html and "gae_lambda = 0.98" in html


def test_an_assumed_time_limit_derives_nothing_and_a_partial_set_keeps_the_recipe_whole():
    """An env without a time limit of its own gets rlcheck's cap of 1000 steps, which says nothing of its
    horizon; and a user who sets num_envs and num_steps keeps minibatches of 64 samples, not 256 of one."""
    assumed = dataclasses.replace(LANDER, limit_assumed=True)
    assert derived_settings("ppo", assumed) == {}
    assert env_facts(make_env("user_envs:GoRight")).limit_assumed
    ppo = registry.get_method("ppo")
    env = make_env("user_envs:GoRight", wrappers=("TimeLimit:max_episode_steps=1000",))
    config = registry.default_config(ppo, env, {"num_envs": 4, "num_steps": 64})
    assert config.num_minibatches == 4 and config.gamma == 0.999  # 256 samples in minibatches of 64


def test_off_policy_networks_are_cpu_sized_on_low_dimensional_envs_only():
    low = dataclasses.replace(LANDER, discrete=False, obs_dim=17, action_dim=6)  # HalfCheetah's dimensions
    for method in ("sac", "td3", "ddpg"):
        assert _values(derived_settings(method, low)) == {"hidden_sizes": (64, 64)}
        assert "Baselines" in derived_settings(method, low)["hidden_sizes"][1]
    assert derived_settings("sac", dataclasses.replace(low, obs_dim=65)) == {}  # past vector-state control
    assert derived_settings("sac", dataclasses.replace(low, image=True)) == {}
    assert derived_settings("sac", dataclasses.replace(low, obs_dim=None)) == {}  # not measured: the reference
    assert derived_settings("dqn", low)["hidden_sizes"][0] == (256, 256)  # DQN keeps its Zoo recipe: not sized


def test_a_user_env_gets_cpu_sized_sac_and_reference_settings_restore_the_published_size():
    env = make_env("user_envs:PointMass", wrappers=("TimeLimit:max_episode_steps=100",))
    sac = registry.get_method("sac")
    assert env_facts(env).obs_dim == 2 and env_facts(env).action_dim == 1
    assert registry.default_config(sac, env).hidden_sizes == (64, 64)
    assert registry.reference_overrides(sac, env) == {"hidden_sizes": (256, 256)}
    assert registry.reference_overrides(sac, make_env("Pendulum-v1")) == {}  # a tuned entry: nothing was sized
    spec = api.study_spec("user_envs:PointMass", 2, 2000, -50, methods="sac,td3", wrappers=("TimeLimit:max_episode_steps=100",),
                          tune=0)
    assert [planning.method_configs(spec, m)[0].hidden_sizes for m in spec.methods] == [(64, 64), (64, 64)]
    assert planning.derived_settings(spec)["sac"]["hidden_sizes"]["value"] == [64, 64]
    reference = api.study_spec("user_envs:PointMass", 2, 2000, -50, methods="sac,td3", tune=0, reference_settings=True,
                               wrappers=("TimeLimit:max_episode_steps=100",), sets=[("td3.hidden_sizes", "32,32")])
    assert {m.name: planning.method_configs(reference, m)[0].hidden_sizes for m in reference.methods} == {
        "sac": (256, 256), "td3": (32, 32)}  # the user's own --set wins over the reference
    assert planning.derived_settings(reference) == {}


def test_plan_prices_an_off_policy_config_by_its_networks_and_update_rate():
    sac = registry.get_method("sac")
    assert registry.relative_work("sac", sac.Config()) == pytest.approx(1.0)  # the network its rate was measured with
    small = sac.Config(hidden_sizes=(64, 64))
    assert registry.relative_work("sac", small) == pytest.approx(0.05 + 0.95 * (64 * 64 + 256) / (256 * 256 + 1024))
    twice = sac.Config(hidden_sizes=(64, 64), gradient_steps=2)
    assert registry.relative_work("sac", twice) - 0.05 == pytest.approx(2 * (registry.relative_work("sac", small) - 0.05))
    assert registry.relative_work("td3", registry.get_method("td3").Config(hidden_sizes=(400, 300))) == pytest.approx(1.0)
    assert registry.relative_work("ppo", registry.get_method("ppo").Config()) == 1.0  # rated at its own settings
    record = registry.get("sac")
    full, cheap = (record.estimate_seconds(10, 10_000, 0.0, c) for c in (sac.Config(), small))
    assert cheap / full == pytest.approx(registry.relative_work("sac", small))


def test_plan_says_what_was_sized_and_reference_settings_on_the_command_line_undo_it(capsys, monkeypatch):
    from rlcheck.cli import main

    monkeypatch.setenv("RLCHECK_MACHINE_SPEED", "1")
    common = ["plan", "user_envs:PointMass", "--wrap", "TimeLimit:max_episode_steps=100", "--methods", "sac", "--budget",
              "20000", "--threshold", "-50", "--tune", "0"]
    assert main(common) == 0
    sized = capsys.readouterr().out
    assert "derived: hidden_sizes=[64, 64] (OpenAI Baselines' MLP" in sized
    assert main([*common, "--reference-settings"]) == 0
    reference = capsys.readouterr().out
    assert "hidden_sizes" not in reference
    minutes = [float(line.split()[-2]) for text in (sized, reference) for line in text.splitlines()
               if line.startswith("sac-0") and line.endswith("min")]
    assert len(minutes) == 2 and minutes[1] > 4 * minutes[0]  # the published networks cost 8x more here (plan's model)
