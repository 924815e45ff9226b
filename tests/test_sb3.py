"""Stable-Baselines3 as a second implementation: rlcheck's config mapped onto SB3's, evaluated at the
same checkpoints, and compared with rlcheck's own in one study."""

import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from rlcheck.cli import main
from rlcheck.core.budget import Budget
from rlcheck.envs import make_env
from rlcheck.methods.sb3 import checkpoint_steps, sb3_arguments, unmatched
from rlcheck.registry import default_config, get_method


def test_configs_map_onto_sb3_arguments():
    env = make_env("CartPole-v1")
    ppo = default_config(get_method("ppo"), env, {"num_envs": "8", "num_steps": "64", "num_minibatches": "4"})
    n_envs, args = sb3_arguments("ppo", ppo, env)
    assert n_envs == 8 and args["n_steps"] == 64 and args["batch_size"] == 8 * 64 // 4
    assert args["learning_rate"](1.0) == pytest.approx(ppo.learning_rate) and args["learning_rate"](0.5) == pytest.approx(ppo.learning_rate / 2)
    assert args["policy_kwargs"]["net_arch"] == list(ppo.hidden_sizes) and args["clip_range_vf"] == pytest.approx(ppo.clip_eps)
    dqn = default_config(get_method("dqn"), env, {"double_dqn": "true"})
    assert any("double" in note for note in unmatched("dqn", dqn))
    pendulum = make_env("Pendulum-v1")
    _, td3 = sb3_arguments("td3", default_config(get_method("td3"), pendulum), pendulum)
    assert td3["action_noise"]._sigma == pytest.approx([0.1 * 2.0])  # 0.1 of the half range [-2, 2]


def test_checkpoints_line_up_with_rlcheck():
    assert checkpoint_steps(512, Budget(4096, 4, 2)) == [0, 1024, 2048, 3072, 4096]
    assert checkpoint_steps(512, Budget(2560, 2, 2)) == [0, 1024, 2048, 2560]  # remainder evaluated too


def test_rlcheck_ppo_beside_sb3_ppo_in_one_study(tmp_path):
    out = tmp_path / "study"
    code = main(["check", "CartPole-v1", "--methods", "ppo,sb3-ppo", "--seeds", "2", "--budget", "2048",
                 "--num-evals", "2", "--eval-episodes", "3", "--out", str(out), "--quiet"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    by_name = {m["name"]: m for m in summary["methods"]}
    assert set(by_name) == {"ppo", "sb3-ppo"} and by_name["sb3-ppo"]["kind"] == "rl"
    steps = [[s["env_steps"] for s in by_name[n]["seeds"]] for n in ("ppo", "sb3-ppo")]
    assert steps[0] == steps[1] == [2048, 2048]
    finals = [s["final_return"] for s in by_name["sb3-ppo"]["seeds"]]
    assert all(np.isfinite(finals)) and min(finals) >= 8  # CartPole episodes last at least 8 steps
    assert any({c["a"], c["b"]} == {"ppo", "sb3-ppo"} for c in summary["comparisons"])
    assert "sb3-ppo" in (out / "report.md").read_text()
