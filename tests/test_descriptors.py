"""Behaviour descriptors: named outputs, the built-in HalfCheetah posture, host-played episodes
measured like compiled ones, and the tumbling text the mpc-vs-rl judge builds from them."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from rlcheck.diagnostics import behaviour
from rlcheck.envs import make_env


def _with_descriptors(name: str):
    return dataclasses.replace(make_env("CartPole-v1"), descriptors=name)


def test_descriptor_outputs_take_the_functions_names_and_a_mismatch_is_named():
    spec = behaviour.behaviour_spec(_with_descriptors("user_descriptors:named_pair"))
    assert spec.descriptor_names == ("cart_x", "reward_seen") and not spec.errors
    unnamed = behaviour.behaviour_spec(_with_descriptors("user_descriptors:pole_and_cart"))
    assert unnamed.descriptor_names == ("fn0", "fn1")
    bad = behaviour.behaviour_spec(_with_descriptors("user_descriptors:misnamed"))
    assert bad.descriptor_fn is None and "names=('only_one',)" in bad.errors[0] and "returns 2 value(s)" in bad.errors[0]


def test_recorded_host_episodes_give_the_known_behaviour_scalars():
    env = _with_descriptors("user_descriptors:named_pair")
    spec = behaviour.behaviour_spec(env)
    episodes = []
    for length, actions, ends in ((3, [1, 1, 1], True), (5, [0, 0, 0, 0, 1], False)):
        recorder = behaviour.EpisodeRecorder(env, spec)
        for t in range(length):
            obs, next_obs = np.full(4, t, np.float32), np.full(4, t + 1, np.float32)
            recorder.add(obs, np.int32(actions[t]), 2.0, ends and t == length - 1, next_obs, {})
        episodes.append(recorder)
    out = behaviour.summarise_recorded(env, spec, episodes)
    assert out["episode_length"] == pytest.approx(4.0)  # (3 + 5) / 2: padding is masked out
    assert out["terminated_share"] == pytest.approx(0.5)
    assert out["action_share/1"] == pytest.approx(4 / 8) and out["action_share/0"] == pytest.approx(4 / 8)
    assert out["user/cart_x"] == pytest.approx((1 + 2 + 3 + 1 + 2 + 3 + 4 + 5) / 8)
    assert out["user/reward_seen"] == pytest.approx(2.0)
    assert out["obs_mean/0"] == pytest.approx((0 + 1 + 2 + 0 + 1 + 2 + 3 + 4) / 8)


def test_cheetah_posture_reads_pitch_and_counts_net_turns():
    from rlcheck.envs.descriptors import CHEETAH_DT, cheetah_posture

    obs = np.zeros(17, np.float32)
    upright, flipped, rocking = obs.copy(), obs.copy(), obs.copy()
    flipped[1] = np.pi  # torso turned half round: on its back
    flipped[10] = 2 * np.pi / CHEETAH_DT  # one full turn per step
    assert np.allclose(cheetah_posture(obs, None, 0.0, upright), [0.0, 0.0])
    assert np.allclose(cheetah_posture(obs, None, 0.0, flipped), [1.0, 1.0])
    upright[1] = 2 * np.pi + 0.3  # a whole somersault later, upright again
    assert cheetah_posture(obs, None, 0.0, upright)[0] == 0.0
    rocking[10] = -flipped[10]  # rotating back: rocking to and fro sums to no net turn
    assert cheetah_posture(obs, None, 0.0, rocking)[1] + cheetah_posture(obs, None, 0.0, flipped)[1] == 0.0


def _method(name: str, posture: list[tuple[float, float]]) -> SimpleNamespace:
    """The parts of a MethodSummary the judge reads."""
    return SimpleNamespace(name=name, config_id=0, seeds=[
        SimpleNamespace(seed=i, descriptors={"upside_down": back, "turns": turns / 1000})
        for i, (back, turns) in enumerate(posture)])


def test_the_mpc_judge_says_flipped_only_when_the_planner_flips():
    from rlcheck.reproduce.claims import _posture_text

    sac = _method("sac", [(0.0, 0.1), (0.0, -0.2)])
    text = _posture_text(_method("mpc", [(0.1, -12.0), (0.0, 0.3), (0.8, 0.5)]), sac)
    assert "flips over on 2/3 seeds" in text and "10% upside down/12.0 somersaults" in text
    assert "0% upside down/0.2 somersaults" in text  # SAC, sign dropped
    assert "SAC's policies are flipped" not in text
    assert "SAC's policies are flipped too (1/2)" in _posture_text(_method("mpc", [(0.9, 1.0)]),
                                                                 _method("sac", [(0.95, 0.3), (0.0, 0.1)]))
    assert "No flipping" in _posture_text(_method("mpc", [(0.2, 0.3)]), None)
    assert "no descriptor recorded" in _posture_text(SimpleNamespace(seeds=[SimpleNamespace(seed=0, descriptors=None)]), sac)
