"""Environments as users bring them: ids from packages we did not write (minigrid, Box2D), `package:EnvId`,
`--import`, factories, env objects, wrappers by name and by class, and spaces that need flattening or a fix."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml
from user_envs import GoRight

from rlcheck import api, registry
from rlcheck.core.budget import Budget
from rlcheck.core.errors import EXIT_ENV, EnvError, RLCheckError
from rlcheck.engine import run_method
from rlcheck.envs import make_env

MINIGRID_IMAGE = ["FilterObservation:filter_keys=[image, direction]"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from rlcheck.cli import main; sys.exit(main(sys.argv[1:]))",
                           *args], capture_output=True, text=True, cwd="tests")


def test_an_id_from_a_package_not_imported_names_the_package_and_the_flag():
    with pytest.raises(EnvError, match=r"--import minigrid.*'minigrid:MiniGrid-Empty-5x5-v0'"):
        make_env("MiniGrid-Empty-5x5-v0")


def test_package_colon_id_imports_the_package_and_names_what_cannot_be_flattened():
    with pytest.raises(EnvError, match=r"mission \(MissionSpace\).*FilterObservation:filter_keys=\[direction, image\]"):
        make_env("minigrid:MiniGrid-Empty-5x5-v0")


def test_import_flag_and_a_gymnasium_wrapper_by_name_make_minigrid_trainable():
    env = make_env("MiniGrid-Empty-5x5-v0", wrappers=MINIGRID_IMAGE, imports=["minigrid"])
    assert env.obs_shape == (7 * 7 * 3 + 4,) and env.discrete and env.num_actions == 7  # image + one-hot direction
    assert env.wrappers == tuple(MINIGRID_IMAGE)
    assert any("image part" in w for w in env.warnings)  # the image reaches an MLP: said so


def test_a_wrapper_from_the_envs_package_by_module_and_class():
    env = make_env("MiniGrid-Empty-5x5-v0", wrappers=["minigrid.wrappers:ImgObsWrapper"], imports=["minigrid"])
    assert env.obs_shape == (7, 7, 3)


def test_box2d_lunar_lander_resolves_with_its_spaces_and_threshold():
    env = make_env("LunarLander-v3")
    assert env.obs_shape == (8,) and env.num_actions == 4 and env.reward_threshold == 200
    assert env.max_episode_steps == 1000


def test_factory_function_class_and_env_object():
    assert make_env("user_envs:make_go_right").obs_shape == (2,)
    spec = api.study_spec(GoRight(length=4), seeds=1, budget=2000, threshold=9.0, methods=["cem"])
    assert spec.env.startswith("GoRight") and spec.make_env().num_actions == 2
    with pytest.raises(EnvError, match="gymnasium.Env class"):
        make_env("user_envs:not_an_env")


def test_wrappers_apply_in_order_with_typed_arguments():
    env = make_env("gymnasium:CartPole-v1", wrappers=["TimeLimit:max_episode_steps=50", "user_envs:ScaleReward:factor=2"])
    assert env.max_episode_steps == 50
    copy = env.env.make()
    copy.reset(seed=0)
    assert copy.step(0)[1] == 2.0


@pytest.mark.parametrize("wrapper, message", [
    ("user_envs:GoRight", "not a gymnasium.Wrapper subclass"),
    ("TimeLimit:max_episode_steps=ten", "could not be applied.*TimeLimit\\(env"),
    ("TimeLimit:steps=10", "unexpected keyword argument 'steps'"),
    ("FlattenObs", "gymnasium.wrappers has no wrapper 'FlattenObs'"),
    ("TimeLimit:200", "Write arguments as key=value"),
])
def test_bad_wrappers_are_refused_with_the_fix(wrapper, message):
    with pytest.raises(EnvError, match=message):
        make_env("gymnasium:CartPole-v1", wrappers=[wrapper])


def test_a_wrapper_given_as_the_env_says_to_use_wrap():
    with pytest.raises(EnvError, match="is a wrapper.*--wrap"):
        make_env("user_envs:ScaleReward")


def test_multidiscrete_actions_are_one_joint_index_with_their_factors_and_huge_ones_are_refused():
    env = make_env("user_envs:MultiDiscreteActions")
    assert env.discrete and env.num_actions == 6 and env.action_nvec == (3, 2) and env.action_space == "discrete"
    assert any("6 combinations" in w for w in env.warnings)
    copy = env.env.make()
    copy.reset(seed=0)
    assert copy.step(5)[1] == 3.0  # index 5 = [2, 1]
    large = make_env("user_envs:MultiDiscreteActions", {"nvec": [10, 10]})
    assert large.action_space == "multi_discrete" and large.policy_outputs == 20
    with pytest.raises(EnvError, match="more than 2\\^31 combinations.*ActionWrapper"):
        make_env("user_envs:MultiDiscreteActions", {"nvec": [1000] * 4})


def test_factorised_policies_learn_a_large_multidiscrete_action_and_joint_heads_are_not_offered():
    env = make_env("user_envs:MultiDiscreteActions", {"nvec": [5, 5, 5, 5]})  # 625 combinations; best: all 4s
    with pytest.raises(registry.NotApplicable, match="625 combinations"):
        registry.get("dqn").check(env)
    best, random_play = 3 * 16, 3 * 8
    # PPO finds the best combination; CEM's linear policy has no bias, so at the first step's observation (0)
    # it plays part 0 everywhere (2 of 3 steps learnable: 32 at most), still well above random play
    for name, at_least in (("ppo", best - 4), ("cem", random_play + 6)):
        method = registry.get_method(name)
        result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(12_000, 2, 3))
        assert result.trace.eval_returns[0, -1].mean() >= at_least, name


def test_unsupported_spaces_are_refused_before_training_with_the_fix():
    with pytest.raises(EnvError, match=r"note \(Sequence\).*filter_keys=\[t\]"):
        make_env("user_envs:SequenceInDict")
    assert make_env("user_envs:SequenceInDict", wrappers=["FilterObservation:filter_keys=[t]"]).obs_shape == (1,)


def test_policy_search_spends_its_budget_on_minigrid():
    env = make_env("MiniGrid-Empty-5x5-v0", wrappers=MINIGRID_IMAGE, imports=["minigrid"])
    method = registry.get_method("cem")
    result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(3_000, 3, 2))
    assert 0.95 * 3_000 <= result.trace.env_steps[0, -1] <= 3_000


def test_study_file_takes_imports_and_wrappers(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"env": "MiniGrid-Empty-5x5-v0", "imports": ["minigrid"], "wrappers": MINIGRID_IMAGE,
                                     "methods": ["cem"], "seeds": 1, "budget": 2000, "threshold": 0.5}))
    spec = api.file_spec(study)
    assert spec.imports == ("minigrid",) and spec.wrappers == tuple(MINIGRID_IMAGE)
    assert spec.as_dict()["wrappers"] == MINIGRID_IMAGE
    with pytest.raises(RLCheckError, match="Study field 'wrappers'"):
        api.file_spec(study, [("wrappers", "{a: 1}")])


def test_check_set_reaches_a_method_and_keeps_the_defaults():
    spec = api.study_spec("CartPole-v1", seeds=1, budget=20_000, sets=[("cem.population", "8")])
    names = [m.name for m in spec.methods]
    assert "ppo" in names and "cem" in names
    assert next(m for m in spec.methods if m.name == "cem").overrides == {"population": 8}
    with pytest.raises(RLCheckError, match="num_directions|population|unknown"):
        api.study_spec("CartPole-v1", seeds=1, budget=20_000, methods=["cem"], sets=[("cem.num_envs", "8")])


def test_cli_envs_lists_imported_ids_and_bad_ids_exit_with_the_env_code():
    listed = cli("envs", "--import", "minigrid")
    assert listed.returncode == 0 and "MiniGrid-Empty-5x5-v0" in listed.stdout.split() and "CartPole-v1" in listed.stdout
    bad = cli("lint", "MiniGrid-Empty-5x5-v0")
    assert bad.returncode == EXIT_ENV and "--import minigrid" in bad.stderr and "Traceback" not in bad.stderr
    wrapped = cli("lint", "MiniGrid-Empty-5x5-v0", "--import", "minigrid", "--wrap", "minigrid.wrappers:ImgObsWrapper",
                  "--episodes", "4")
    assert wrapped.returncode == 0, wrapped.stderr
    assert "Reward lint of MiniGrid-Empty-5x5-v0" in wrapped.stdout and "Plausibility profile" in wrapped.stdout


def test_a_learner_that_would_never_update_is_refused_with_its_own_key():
    with pytest.raises(RLCheckError, match=r"learning_starts.*never learn.*--set dqn.learning_starts=153"):
        api.study_spec("CartPole-v1", seeds=1, budget=1536, methods=["dqn"])


def test_budget_hints_name_only_the_methods_own_keys():
    with pytest.raises(RLCheckError, match=r"population=16.*cem.population") as refused:
        api.study_spec("CartPole-v1", seeds=1, budget=10, methods=["cem"])
    assert "num_envs" not in str(refused.value) and "num_steps" not in str(refused.value)


def test_every_setting_a_lint_fix_names_is_a_real_key():
    import re

    from rlcheck.diagnostics import lint
    from rlcheck.diagnostics.probes import Rollout

    shape = (2, 10)
    big = Rollout(probe=None, reward=np.full(shape, 500.0), terminated=np.zeros(shape, bool),
                  truncated=np.zeros(shape, bool), valid=np.ones(shape, bool), obs_key=np.zeros(shape, np.int64),
                  obs=None, actions=np.zeros(shape, np.int64))
    finding = lint.reward_scale([big])
    named = re.findall(r"--set ([\w-]+)\.(\w+)=", finding.fix)
    assert finding.status == "warn" and named
    for method, key in named:
        assert hasattr(registry.get_method(method).Config(), key), f"{finding.fix!r} names {method}.{key}, not a setting"


def test_the_lint_sizes_its_probing_to_the_time_it_may_take():
    from rlcheck.diagnostics.lint import probe_budget

    assert probe_budget(1e6, 60, 10, 24, 1000)[2] is None  # fast env: as asked
    episodes, horizon, capped = probe_budget(50.0, 60, 10, 24, 1000)  # highway-env's speed
    assert 10 * episodes * horizon <= 50.0 * 60 and capped and "probed" in capped[1]
    assert (episodes, horizon) == (2, 120)


def test_plan_measures_a_python_envs_speed_and_bounds_the_estimate_by_it():
    from rlcheck.study.plan import Job, estimate_seconds

    text = api.plan(api.study_spec("LunarLander-v3", seeds=2, budget=20_000, methods=["ppo", "cem"]))
    assert "times a second on this machine" in text
    job = Job("ppo-0", "ppo", (None,), (0, 1))
    assert estimate_seconds(job, 1_000_000, env_rate=1_000.0) >= 2 * 1_000_000 / 1_000.0  # 2 runs at the env's speed


def test_a_default_learner_that_cannot_use_the_budget_is_skipped_with_the_reason_and_a_set_brings_it_back():
    spec = api.study_spec("CartPole-v1", seeds=1, budget=5_000)
    assert "dqn" not in [m.name for m in spec.methods] and "learning_starts" in dict(spec.skipped)["dqn"]
    fitted = api.study_spec("CartPole-v1", seeds=1, budget=5_000, sets=[("dqn.learning_starts", "500")])
    assert "dqn" in [m.name for m in fitted.methods] and "dqn" not in dict(fitted.skipped)


def test_an_env_that_truncates_itself_declares_its_limit_and_rlcheck_uses_it():
    env = make_env("MiniGrid-Empty-5x5-v0", wrappers=["minigrid.wrappers:ImgObsWrapper"], imports=["minigrid"])
    assert env.max_episode_steps == 100  # minigrid's own max_steps, not rlcheck's 1000
    assert any("declares max_steps=100" in w for w in env.warnings)


def test_the_lint_sizes_a_jax_envs_probing_too(monkeypatch):
    from rlcheck.diagnostics import lint as lint_module

    assert lint_module.probe_budget(1e9, 60, 5, 24, 200, most_steps=5_000)[2] is not None  # memory binds
    env = make_env("Pendulum-v1")
    monkeypatch.setattr(lint_module, "MAX_RECORD_BYTES", 4 * env.obs_size * 5_000)  # room for 5,000 steps
    result = lint_module.lint(env, measure_speed=False)
    cut = next(f for f in result.findings if f.check == "probe_budget")
    assert "fit in memory" in cut.evidence and cut.status == "warn" and cut.value < cut.threshold
    horizon = next((f.value for f in result.findings if f.check == "probe_horizon"), env.max_episode_steps)
    assert len(result.probes) * cut.value * horizon <= 5_000


def test_a_jax_envs_probes_stop_when_their_time_is_spent():
    import jax

    from rlcheck.diagnostics import probes as probes_module
    from rlcheck.diagnostics.lint import lint

    env = make_env("CartPole-v1")
    probes = probes_module.probes_for(env)
    full = probes_module.rollouts(env, probes, 24, jax.random.PRNGKey(0))
    cut = probes_module.rollouts(env, probes, 24, jax.random.PRNGKey(0), max_seconds=1e-9)
    assert full[0].reward.shape == (24, 500)  # as asked, when there is time
    assert cut[0].reward.shape == (probes_module.EPISODES_PER_CALL, probes_module.STEPS_PER_CALL)  # one call's worth
    np.testing.assert_array_equal(cut[1].reward, full[1].reward[:8, :250])  # the same episodes, cut short
    findings = {f.check: f for f in lint(env, max_seconds=1e-9, measure_speed=False).findings}
    assert "did not fit" in findings["probe_budget"].evidence and "probe_horizon" in findings


def test_an_image_inside_a_dict_goes_to_the_cnn_and_the_rest_joins_its_features():
    import jax

    wrappers = ["minigrid.wrappers:RGBImgObsWrapper", "FilterObservation:filter_keys=[image, direction]"]
    env = make_env("MiniGrid-Empty-5x5-v0", imports=["minigrid"], wrappers=wrappers)
    assert env.image_shape == (40, 40, 3) and env.obs_shape == (40 * 40 * 3 + 4,)  # image first, direction one-hot
    assert any("goes to the CNN" in w for w in env.warnings)
    copy = env.env.make()
    obs, _ = copy.reset(seed=0)
    raw = copy.unwrapped.get_frame(highlight=copy.unwrapped.highlight, tile_size=8)  # what RGBImgObsWrapper shows
    np.testing.assert_array_equal(obs[:4800].reshape(40, 40, 3), raw)
    assert obs[4800:].sum() == 1.0  # the direction, one-hot
    for name in ("ppo", "dqn"):
        method = registry.get_method(name)
        config = registry.default_config(method, env, {})
        params = method.network(env, config).init(jax.random.PRNGKey(0), np.zeros((1, *env.obs_shape), np.float32))
        assert "ImageAndVector_0" in str(jax.tree_util.tree_structure(params)), name
    method = registry.get_method("ppo")
    config = registry.default_config(method, env, {"num_envs": 2, "num_steps": 32})
    result = run_method(method, env, [config], [0], Budget(256, 2, 2))
    assert np.isfinite(result.trace.eval_returns).all()
