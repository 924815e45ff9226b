"""The reward lint's checks and the behaviour audit on synthetic data with known answers."""

import dataclasses

import numpy as np
import pytest

from rlcheck.analysis import audit
from rlcheck.analysis.outcomes import Outcome
from rlcheck.diagnostics import lint
from rlcheck.diagnostics.probes import Probe, Rollout
from rlcheck.diagnostics.profile import action_effect_lag, return_levels

H = 100


def rollout(kind, name, rewards, terminated_at=None, success=False, obs=None, true=None, actions=None, info=None):
    """Episodes of one probe from per-episode reward lists; an episode that ends before H terminated
    (or was truncated at H)."""
    n = len(rewards)
    reward = np.zeros((n, H), np.float32)
    term, trunc, valid = (np.zeros((n, H), bool) for _ in range(3))
    for i, r in enumerate(rewards):
        reward[i, : len(r)] = r
        valid[i, : len(r)] = True
        (term if terminated_at is not None and len(r) < H else trunc)[i, len(r) - 1] = True
    keys = np.arange(n * H, dtype=np.int64).reshape(n, H) if obs is None else obs
    extra = dict(info or {})
    if success:
        extra["is_success"] = term.astype(np.float32)
    if true is not None:
        extra["true_objective"] = np.where(valid, true, 0.0).astype(np.float32)
    acts = np.zeros((n, H), np.int32) if actions is None else actions
    return Rollout(Probe(name, kind, (0,) if kind != "random" else ()), reward, term, trunc, valid, keys, None, acts, extra)


def corridor(pit_penalty):
    """-1 per step; constant 'left' falls in a pit after 2 steps; constant 'right' reaches the goal (success) in 9."""
    return [
        rollout("random", "random", [[-1.0] * 30] * 8, terminated_at=True),
        rollout("constant", "constant action 0", [[-1.0, -1.0 + pit_penalty]] * 4, terminated_at=True),
        rollout("constant", "constant action 1", [[-1.0] * 9] * 4, terminated_at=True, success=True),
    ]


def test_early_termination_fires_on_a_penalty_free_pit_and_reports_the_break_even_penalty():
    finding = lint.early_termination(corridor(0.0), H)
    # ending in the pit returns -2; the best success returns -9: a terminal penalty of 7 removes the incentive
    assert finding.status == "fail" and finding.value == pytest.approx(7.0)
    assert lint.early_termination(corridor(-50.0), H).status == "pass"


def test_early_termination_passes_positive_living_rewards_and_is_undetermined_with_one_kind_of_ending():
    cartpole_like = [rollout("random", "random", [[1.0] * 20] * 8, terminated_at=True),
                     rollout("constant", "constant action 0", [[1.0] * 9] * 4, terminated_at=True)]
    assert lint.early_termination(cartpole_like, H).status == "pass"
    # Acrobot: -1 per step, 0 on the step that reaches the goal; only random play gets there. One kind of ending
    # (a terminal bonus): nothing says whether it is the goal or a pit, so the check says so instead of failing.
    acrobot_like = [rollout("random", "random", [[-1.0] * 59 + [0.0]] * 8, terminated_at=True),
                    rollout("constant", "constant action 0", [[-1.0] * H] * 4)]
    finding = lint.early_termination(acrobot_like, H)
    assert finding.status == "warn" and "undetermined" in finding.evidence
    flagged = [rollout("random", "random", [[-1.0] * 59 + [0.0]] * 8, terminated_at=True, success=True),
               rollout("constant", "constant action 0", [[-1.0] * H] * 4)]
    assert lint.early_termination(flagged, H).status == "pass"  # every ending is a success


def test_early_termination_judges_endings_against_each_other_not_against_survival():
    # LunarLander-like: every ending is a crash (a terminal penalty); one probe flies off, surviving to the limit
    # with a return far below any crash (potential-based shaping grows with the distance). The old rule called
    # surviving the alternative (-4.7 per step x the horizon) and failed; survival is no ending to be judged by.
    lander = [rollout("random", "random", [[-1.5] * 80 + [-100.0]] * 8, terminated_at=True),
              rollout("constant", "constant action 2", [[-4.7] * H] * 4),
              rollout("constant", "constant action 0", [[-0.5] * 60 + [-100.0]] * 4, terminated_at=True)]
    assert lint.early_termination(lander, H).status == "warn"
    # A goal task with a step cost: the exit pays a bonus; a penalty-free pit next to the start beats it ...
    exit_and_pit = [rollout("random", "random", [[-1.0] * 40] * 8),
                    rollout("constant", "constant action 1", [[-1.0] * 19 + [10.0]] * 4, terminated_at=True),
                    rollout("constant", "constant action 0", [[-1.0] * 2] * 4, terminated_at=True)]
    finding = lint.early_termination(exit_and_pit, H)
    # undiscounted the pit (-2) beats the exit (-9) by 7; at gamma 0.99 by a little more, paid at step 2
    exit_at_gamma = -(1 - 0.99**19) / 0.01 + 10 * 0.99**19
    assert finding.status == "fail" and finding.value == pytest.approx((-1.99 - exit_at_gamma) / 0.99)
    assert finding.value > 7.0
    # ... and without the pit the exit is the only ending: undetermined, not a fail
    assert lint.early_termination([exit_and_pit[0], exit_and_pit[1]], H).status == "warn"
    # a pit with a penalty large enough: the goal is the better way to end
    penalised = exit_and_pit[:2] + [rollout("constant", "constant action 0", [[-1.0, -30.0]] * 4, terminated_at=True)]
    assert lint.early_termination(penalised, H).status == "pass"


def test_early_termination_compares_at_the_learners_discount_too():
    # The exit at step 90 pays +100: undiscounted it beats the pit (11 vs -2), but at gamma 0.99 it is worth
    # -59.1 + 40.9 = -18.2 against the pit's -1.99, and a gamma-0.99 learner jumps in.
    far_exit = [rollout("constant", "constant action 1", [[-1.0] * 89 + [100.0]] * 4, terminated_at=True),
                rollout("constant", "constant action 0", [[-1.0] * 2] * 4, terminated_at=True)]
    finding = lint.early_termination(far_exit, H)
    discounted_gap = -1.99 - (-(1 - 0.99**89) / 0.01 + 100 * 0.99**89)
    assert finding.status == "fail" and finding.value == pytest.approx(discounted_gap / 0.99, rel=1e-3)


def test_early_termination_passes_fixed_length_episodes():
    # popgym's CountRecall: every episode ends at step 51, whatever the policy does, paying for its answers
    recall = [rollout("random", "random", [[-0.1] * 50 + [-1.0]] * 8, terminated_at=True),
              rollout("constant", "constant action 0", [[-0.2] * 50 + [1.0]] * 4, terminated_at=True)]
    finding = lint.early_termination(recall, H)
    assert finding.status == "pass" and "not the policy's choice" in finding.evidence


def test_time_limit_is_observed_when_the_env_truncates_itself():
    class Declared:  # an env without a limit of its own: rlcheck's default, longer than the probes' H
        max_episode_steps, limit_source = H, "rlcheck's default: the env declares none"

    full = [rollout("random", "random", [[0.0] * H] * 6), rollout("constant", "constant action 0", [[0.0] * H] * 4)]
    limit, finding = lint.time_limit_of(full, Declared())
    assert limit == H and finding.status == "pass" and "rlcheck's default" in finding.evidence  # cut by the cap
    cut = [rollout("random", "random", [[0.0] * 40] * 6), rollout("constant", "constant action 0", [[0.0] * 40] * 4)]
    limit, finding = lint.time_limit_of(cut, Declared())  # truncated (not terminated) at step 40, every time
    assert limit == 40 and finding.status == "warn" and "TimeLimit:max_episode_steps=40" in finding.fix
    varied = [rollout("random", "random", [[0.0] * k for k in (20, 31, 40, 52, 60, 77)])]
    assert lint.time_limit_of(varied, Declared())[0] == H  # no repeated length: the declared limit stands


def test_alive_bonus_warns_when_stalling_beats_finishing():
    stall = [rollout("random", "random", [[1.0] * H] * 4),
             rollout("constant", "constant action 1", [[1.0] * 9 + [5.0]] * 4, terminated_at=True, success=True)]
    assert lint.alive_bonus(stall, H).status == "warn"  # 100 for stalling vs 14 for finishing
    finish = [rollout("random", "random", [[0.01] * H] * 4),
              rollout("constant", "constant action 1", [[0.01] * 9 + [50.0]] * 4, terminated_at=True, success=True)]
    assert lint.alive_bonus(finish, H).status == "pass"


def test_time_limit_reported_as_termination_is_found():
    limit = [rollout("random", "random", [[1.0] * H] * 6, terminated_at=True),
             rollout("constant", "constant action 0", [[1.0] * H] * 4, terminated_at=True)]
    for r in limit:  # every episode "terminates" at exactly the time limit
        r.terminated[:, -1], r.truncated[:, -1] = True, False
    # every probe episode ends at the limit by termination: a fixed-length game looks the same (DeepSea)
    assert lint.time_limit_as_termination(limit, H).status == "warn"
    falls = rollout("constant", "constant action 1", [[1.0] * 12] * 4, terminated_at=True)  # a real failure ending
    limit = limit + [rollout("constant", "constant action 1", [[1.0] * H] * 40, terminated_at=True)]
    for r in limit:
        r.terminated[:, -1], r.truncated[:, -1] = True, False
    mixed = limit + [falls]  # survivors "terminate" at the limit, and a probe that falls ends at step 12
    assert lint.time_limit_as_termination(mixed, H).status == "fail"
    varied = [rollout("random", "random", [[1.0] * k for k in (5, 9, 14, 20, 31, 40)], terminated_at=True),
              rollout("constant", "constant action 0", [[1.0] * 9] * 4, terminated_at=True)]
    assert lint.time_limit_as_termination(varied, H).status == "pass"


def test_reward_scale_and_clipping():
    assert lint.reward_scale([rollout("random", "random", [[500.0] * 10] * 4)]).status == "warn"
    assert lint.reward_scale([rollout("random", "random", [[1e-5] * 10] * 4)]).status == "warn"
    assert lint.reward_scale([rollout("random", "random", [[1.0] * 10] * 4)]).status == "pass"
    rng = np.random.default_rng(0)
    clipped = np.clip(rng.normal(0, 2, (8, 50)), -1, 1)  # about 60% of steps sit at +-1
    assert lint.reward_scale([rollout("random", "random", clipped.tolist())]).status == "warn"


def test_one_rare_event_dominating_the_return():
    episodes = [[0.01] * 50 for _ in range(40)]
    episodes[3][10] = 100.0  # a jackpot in one episode of 40
    assert lint.rare_event([rollout("random", "random", episodes)]).status == "warn"
    common = [[0.01] * 49 + [1.0] for _ in range(40)]  # a bonus every episode: not rare
    assert lint.rare_event([rollout("random", "random", common)]).status == "pass"


def test_one_reward_component_dominating():
    n = 4
    big, small = np.full((n, H), 10.0), np.full((n, H), 0.01)
    r = rollout("random", "random", [[10.01] * H] * n, info={"reward_forward": big, "reward_ctrl": small})
    finding = lint.reward_component([r])
    assert finding.status == "warn" and finding.value > 0.99
    balanced = rollout("random", "random", [[2.0] * H] * n, info={"reward_forward": big / 10, "reward_ctrl": big / 10})
    assert lint.reward_component([balanced]).status == "pass"


def test_reward_without_progress_uses_the_true_objective():
    flip = [rollout("random", "random", [[0.0] * 20] * 8, true=np.zeros((8, H))),
            rollout("constant", "constant action 2", [[1.0]] * 4, terminated_at=True, true=np.zeros((4, H)))]
    assert lint.reward_without_progress(flip).status == "fail"
    honest = [rollout("random", "random", [[0.0] * 20] * 8, true=np.zeros((8, H))),
              rollout("constant", "constant action 2", [[1.0]] * 4, terminated_at=True, true=np.ones((4, H)))]
    assert lint.reward_without_progress(honest).status == "pass"
    # ending at once on a step cost is "best" too, but nothing is paid beyond the living reward
    step_cost = [rollout("random", "random", [[-0.01] * 5] * 8, true=np.zeros((8, H))),
                 rollout("constant", "constant action 0", [[-0.01] * 50] * 4, true=np.zeros((4, H))),
                 rollout("constant", "constant action 3", [[-0.01]] * 4, terminated_at=True, true=np.zeros((4, H)))]
    assert lint.reward_without_progress(step_cost).status == "pass"


def test_a_farmable_reward_loop_is_found_and_a_one_time_reward_is_not():
    states = np.tile(np.array([7, 8] * (H // 2), np.int64), (4, 1))  # alternating between two states
    paid = [[1.0, 0.0] * (H // 2)] * 4
    farm = rollout("alternating", "alternate 0/1", paid, obs=states, true=np.zeros((4, H)))
    assert lint.reward_loop([farm], H).status == "fail"  # paid again and again, no true progress
    task = rollout("alternating", "alternate 0/1", paid, obs=states, true=np.array(paid))
    assert lint.reward_loop([task], H).status == "pass"  # the loop is what the true objective asks for
    unknown = rollout("alternating", "alternate 0/1", paid, obs=states)
    assert lint.reward_loop([unknown], H).status == "warn"  # nothing says which: flagged for a look
    once = rollout("alternating", "alternate 0/1", [[1.0] + [0.0] * (H - 1)] * 4, obs=states)
    assert lint.reward_loop([once], H).status == "pass"
    holding = rollout("constant", "constant high", [[2.0] * H] * 4, obs=np.zeros((4, H), np.int64))
    assert lint.reward_loop([holding], H).status == "pass"  # paid for staying in a good state: no loop


def test_time_limit_warns_when_every_probe_ends_at_one_step_below_the_limit():
    fixed_length = [rollout(kind, name, [[0.0] * 40] * 4, terminated_at=True)
                    for kind, name in (("random", "random"), ("constant", "constant action 0"), ("constant", "constant action 1"))]
    assert lint.time_limit_as_termination(fixed_length, H).status == "warn"


def test_action_effect_lag_finds_a_known_delay():
    rng = np.random.default_rng(0)
    n, delay = 40, 3
    actions = rng.integers(0, 2, (n, H)).astype(np.int32)
    rewards = np.zeros((n, H))
    rewards[:, delay:] = actions[:, :-delay] + 0.1 * rng.normal(size=(n, H - delay))  # r[t+3] = a[t] + noise
    r = rollout("random", "random", rewards.tolist(), actions=actions)
    assert action_effect_lag(r, discrete=True, max_lag=6)["lag"] == delay


def test_return_levels_groups_close_returns():
    rs = [rollout("random", "random", [[v]] * 2) for v in (0.0, 0.01, 5.0, 10.0)]
    assert return_levels(rs)["count"] == 3


def test_success_at_reset_counts_episodes_that_start_on_the_goal():
    """Issue 20, item 5: a success flag already true after the first step, whatever the probe does, is a
    success the policy gets for nothing."""
    def reached(at):  # success from step `at` of each episode on
        flags = np.zeros((4, H), np.float32)
        flags[:, at:] = 1.0
        return {"is_success": flags}

    honest = [rollout("random", "random", [[0.0] * 5] * 4, info=reached(3)),
              rollout("constant", "constant action 0", [[0.0] * 5] * 4, info=reached(4))]
    assert lint.success_at_reset(honest).status == "pass"
    starts_done = honest[:1] + [rollout("constant", "constant action 0", [[0.0] * 5] * 4, info=reached(0))]
    finding = lint.success_at_reset(starts_done)
    assert finding.status == "warn" and finding.value == 0.5 and "4 of 8 probe episodes (50%)" in finding.evidence
    assert lint.success_at_reset([rollout("random", "random", [[0.0] * 5] * 4)]).status == "pass"  # no flag at all


# -- training half -------------------------------------------------------------------------------------

def outcome(returns, behaviour, std=None, seeds=None):
    returns = np.asarray(returns, float)
    n, t = returns.shape
    steps = np.tile(np.arange(t) * 1000, (n, 1))
    return Outcome("ppo", 0, np.arange(n) if seeds is None else np.asarray(seeds), steps, returns, np.zeros(n),
                   np.zeros(n, bool), None, np.zeros_like(returns) if std is None else std,
                   {k: np.asarray(v, float) for k, v in behaviour.items()})


def test_divergence_flags_proxy_up_true_down_and_not_both_up():
    t = np.linspace(0, 1, 6)
    proxy = np.tile(10 * t, (10, 1))
    falling = np.tile(1 - t, (10, 1))  # the true objective decays while the reward rises
    d = audit.divergence(outcome(proxy, {"true_return": falling, "true_return_std": np.zeros((10, 6))}), 10)
    assert d["fires"] and d["flagged"] == 10 and all(s["kind"] == "falls" for s in d["seeds"])
    honest = audit.divergence(outcome(proxy, {"true_return": proxy / 10, "true_return_std": np.zeros((10, 6))}), 10)
    assert not honest["fires"]
    flat = audit.divergence(outcome(proxy, {"true_return": np.zeros((10, 6)), "true_return_std": np.zeros((10, 6))}), 10)
    assert flat["flagged"] == 10 and flat["seeds"][0]["kind"] == "flat"


def test_divergence_needs_the_proxy_gain_to_clear_its_interval():
    proxy = np.tile([0.0, 0.5, 1.0], (4, 1))
    noisy = np.full((4, 3), 20.0)  # evaluation spread far wider than the gain
    d = audit.divergence(outcome(proxy, {"true_return": np.tile([1.0, 0.5, 0.0], (4, 1)),
                                         "true_return_std": np.zeros((4, 3))}, std=noisy), 10)
    assert not d["fires"]


def test_two_behaviour_modes_with_different_returns_are_found():
    rng = np.random.default_rng(0)
    flipped = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], float)
    final = np.where(flipped == 1, 2100.0, 4800.0) + rng.normal(0, 50, 10)
    behaviour = {"user/flipped": np.stack([np.zeros(10), flipped + rng.normal(0, 0.02, 10)], 1),
                 "episode_length": np.full((10, 2), 1000.0)}
    m = audit.modes(outcome(np.stack([np.zeros(10), final], 1), behaviour))
    assert m["count"] == 2 and m["fires"]
    assert sorted(g["count"] for g in m["modes"]) == [3, 7] and m["modes"][0]["mean_return"] > 4000
    assert m["modes"][1]["distinct"][0]["descriptor"] == "user/flipped"


def test_one_mode_when_seeds_only_differ_by_noise():
    rng = np.random.default_rng(1)
    behaviour = {"action_share/0": np.stack([np.zeros(10), 0.5 + rng.normal(0, 0.0001, 10)], 1),
                 "episode_length": np.stack([np.zeros(10), 500 + rng.normal(0, 1e-4, 10)], 1)}
    m = audit.modes(outcome(np.stack([np.zeros(10), np.full(10, 500.0)], 1), behaviour))
    assert m["count"] == 1 and not m["fires"]


def test_modes_within_evaluation_noise_are_one_mode():
    """LQR on CartPole (issue 20): every seed returns 500 and the seeds' average pole angles split into tight
    groups, -0.0002 against 0.04, because each seed drew different start states. With each seed's standard
    error over its evaluation episodes stored, the split is within noise: one mode. The same values measured
    far more precisely are a real split, reported in words."""
    angle = np.repeat([0.0, 0.04], 5) + np.random.default_rng(2).normal(0.0, 0.001, 10)
    final = np.stack([np.zeros(10), np.full(10, 500.0)], 1)

    def behaviour(se):
        return {"obs_mean/2": np.stack([np.zeros(10), angle], 1), "obs_std/2": np.full((10, 2), 0.01),
                "stderr/obs_mean/2": np.full((10, 2), se), "stderr/obs_std/2": np.full((10, 2), 0.01)}

    noisy = audit.modes(outcome(final, behaviour(se=0.03)))
    assert noisy["count"] == 1 and noisy["text"] == ""
    # without the standard errors (a study written before they were stored) the old rule splits these seeds
    old = behaviour(se=0.03)
    del old["stderr/obs_mean/2"], old["stderr/obs_std/2"]
    assert audit.modes(outcome(final, old))["count"] > 1
    precise = audit.modes(outcome(final, behaviour(se=0.001)), CARTPOLE_NAMES)
    assert precise["count"] == 2 and not precise["fires"]
    assert "at the same return" in precise["text"] and "the average pole angle is 0.04 rad" in precise["text"]
    assert "obs_mean" not in precise["text"]
    assert precise["modes"][0]["distinct"][0]["descriptor"] == "obs_mean/2"  # raw keys stay in the JSON


def test_beyond_noise_is_cochrans_q_on_seed_values_and_their_errors():
    rng = np.random.default_rng(3)
    names = ["a", "b"]
    same = rng.normal(0.0, 0.1, 20)  # drawn with exactly their stated error: homogeneous
    spread = rng.normal(0.0, 1.0, 20)  # ten times wider than stated: real differences
    x = np.stack([same, spread], 1)
    b = {"stderr/a": np.full((20, 1), 0.1), "stderr/b": np.full((20, 1), 0.1)}
    assert audit.beyond_noise(names, x, b).tolist() == [False, True]
    # identical episodes (standard error 0): equal values are one mode, any difference is real
    exact = {"stderr/a": np.zeros((20, 1)), "stderr/b": np.zeros((20, 1))}
    assert audit.beyond_noise(names, np.stack([np.zeros(20), spread], 1), exact).tolist() == [False, True]


CARTPOLE_NAMES = (("cart position", "m"), ("cart velocity", "m/s"), ("pole angle", "rad"), ("pole angular velocity", "rad/s"))


def probe(mean, std=1.0, episodes=24, action=None):
    return {"mean_return": mean, "return_std": std, "episodes": episodes, "action": action}


def test_collapse_means_playing_one_action_and_earning_what_it_earns():
    shares = np.stack([np.full(10, 0.05), np.full(10, 0.05), np.full(10, 0.9)], 1)  # action 2, 90% of the time
    behaviour = {f"action_share/{a}": np.stack([np.full(10, 1 / 3), shares[:, a]], 1) for a in range(3)}
    returns = np.stack([np.zeros(10), np.linspace(5.2, 6.0, 10)], 1)  # within noise of always-2's 5.6, short of 9
    constant = {"constant action 0": probe(-8.5), "constant action 1": probe(-9.0), "constant action 2": probe(5.6)}
    c = audit.collapse(outcome(returns, behaviour), constant, 9.0, discrete=True, eval_episodes=10)
    # noise: 2 x 1.0 x sqrt(1/24 + 1/10) = 0.75; every seed is within it
    assert c["fires"] and c["flagged"] == 10 and "play action 2" in c["text"] and "(5.6)" in c["text"]
    tracking = {f"action_share/{a}": np.full((10, 2), 1 / 3) for a in range(3)}
    assert not audit.collapse(outcome(returns, tracking), constant, 9.0, True)["fires"]  # not near-constant
    # a constant action that solves the task (walk right to the goal) is no collapse
    solved = {"constant action 2": probe(9.5)}
    assert not audit.collapse(outcome(np.full((10, 2), 9.5), behaviour), solved, 9.0, True)["fires"]
    # nearer success than the constant action: learned more than the constant action earns
    assert not audit.collapse(outcome(np.full((10, 2), 8.5), behaviour), constant, 9.0, True)["fires"]


def test_no_collapse_when_the_action_played_earns_something_else():
    """LunarLander (issue 20): seeds playing action 2 (the main engine) returned -786, -1056 and -152; the best
    constant action, 0, earns -129.9 and always-2 about -4,700. The old rule said "collapsed to what 'constant
    action 0' earns"; neither constant earns what these seeds do."""
    behaviour = {f"action_share/{a}": np.stack([np.full(3, 0.25), np.full(3, share)], 1)
                 for a, share in enumerate((0.02, 0.03, 0.9, 0.05))}
    returns = np.stack([np.zeros(3), np.array([-786.0, -1056.0, -152.0])], 1)
    lander = {"constant action 0": probe(-129.9, 30.0), "constant action 1": probe(-300.0, 40.0),
              "constant action 2": probe(-4700.0, 200.0), "constant action 3": probe(-320.0, 40.0)}
    c = audit.collapse(outcome(returns, behaviour), lander, 200.0, True, eval_episodes=10)
    assert not c["fires"] and all(s["probe"] == "constant action 2" for s in c["seeds"])


def test_continuous_collapse_needs_a_probed_corner():
    behaviour = {"action_std/0": np.full((4, 2), 0.01), "action_mean/0": np.stack([np.zeros(4), np.full(4, 0.99)], 1)}
    corners = {"constant low": probe(-50.0, 2.0, action=[[-1.0]]), "constant high": probe(-10.0, 2.0, action=[[1.0]])}
    at_high = outcome(np.stack([np.zeros(4), np.full(4, -10.5)], 1), behaviour)
    assert audit.collapse(at_high, corners, 0.0, False, [2.0], 10)["flagged"] == 4
    elsewhere = dict(behaviour, **{"action_mean/0": np.stack([np.zeros(4), np.full(4, 0.3)], 1)})
    # nearly constant at 0.3: no probe played that action, so nothing says what it earns alone
    assert not audit.collapse(outcome(np.stack([np.zeros(4), np.full(4, -10.5)], 1), elsewhere), corners, 0.0,
                              False, [2.0], 10)["fires"]


def test_lint_runs_on_a_gymnasium_env_by_name_and_writes_json(tmp_path, capsys):
    import json

    from rlcheck.cli import main

    code = main(["lint", "gymnasium:CartPole-v1", "--episodes", "8", "--json", str(tmp_path / "lint.json")])
    out = capsys.readouterr().out
    assert code == 0 and "Plausibility profile" in out and "early_termination" in out
    result = json.loads((tmp_path / "lint.json").read_text())
    assert {f["check"] for f in result["findings"]} >= {"early_termination", "reward_loop", "time_limit_as_termination"}
    assert all(f["status"] != "fail" for f in result["findings"])
    assert result["profile"]["env_steps_per_second"] > 0 and result["profile"]["nonzero_reward_share"] == 1.0


def _check(tmp_path, *extra):
    import json

    from rlcheck.cli import main

    out = tmp_path / "study"
    code = main(["check", "CartPole-v1", "--methods", "ppo", "--seeds", "2", "--budget", "2048", "--num-evals", "2",
                 "--eval-episodes", "3", "--out", str(out), "--quiet", *extra])
    return code, json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None


def test_user_true_objective_and_descriptors_reach_the_store_and_the_audit(tmp_path):
    from rlcheck.analysis.outcomes import read
    from rlcheck.store import StudyStore

    code, summary = _check(tmp_path, "--true-objective", "user_descriptors:cart_position",
                           "--descriptors", "user_descriptors:pole_and_cart")
    assert code == 0 and summary["audit"]["errors"] == []
    (o,) = read(StudyStore(tmp_path / "study"))
    assert o.behaviour["true_return"].shape == (2, 3) and "user/fn0" in o.behaviour and "user/fn1" in o.behaviour
    assert np.all(o.behaviour["user/fn1"] >= 0) and np.all(o.behaviour["episode_length"] >= 8)
    assert summary["audit"]["divergence"][0]["seeds_total"] == 2
    assert "Reward audit and behaviour" in (tmp_path / "study" / "report.html").read_text()


@pytest.mark.parametrize("flags,messages", [
    (["--true-objective", "no_such_key", "--descriptors", "user_descriptors:raises"],
     ["'no_such_key' is not a key of the env's step info", "raised RuntimeError: descriptor bug"]),
    (["--true-objective", "user_descriptors:missing_function", "--descriptors", "user_descriptors:wrong_shape"],
     ["cannot be loaded", "returned shape (2, 2)"]),
])
def test_bad_audit_inputs_are_named_and_the_study_is_kept(tmp_path, capsys, flags, messages):
    code, summary = _check(tmp_path, *flags)
    out = capsys.readouterr().out
    assert code == 0 and summary["methods"][0]["seeds"][0]["final_return"] is not None  # training results kept
    for message in messages:
        assert any(message in e for e in summary["audit"]["errors"]) and message in out
    assert "Traceback" not in out


# -- the trap envs: each intended check fires, the fixed twins stay quiet ---------------------------

LINT_TRAPS = ["pit-corridor", "side-target-race", "flip-block"]


@pytest.mark.parametrize("base", LINT_TRAPS)
def test_the_intended_lint_check_fails_on_the_trap_and_not_on_its_fixed_twin(base):
    from rlcheck.diagnostics.lint import lint as run_lint
    from rlcheck.envs import make_env
    from rlcheck.envs.traps import TRAPS

    intended = TRAPS[base].intended_check
    trap = {f.check: f.status for f in run_lint(make_env(f"trap/{base}"), measure_speed=False).findings}
    fixed = {f.check: f.status for f in run_lint(make_env(f"trap/{base}-fixed"), measure_speed=False).findings}
    assert trap[intended] == "fail" and "fail" not in fixed.values()


@pytest.mark.slow  # 10 seeds of training each, 2-3 minutes; benchmarks/traps.py runs the full trap table
@pytest.mark.parametrize("base,section", [("biased-catch", "collapse"), ("sensor-tile", "divergence")])
def test_the_intended_training_check_flags_at_least_8_of_10_seeds(tmp_path, base, section):
    from rlcheck.envs.traps import TRAPS
    from rlcheck.study.run import run_study
    from rlcheck.study.spec import build

    algo, overrides, budget = TRAPS[base].trained_by
    flagged = {}
    for variant in (base, f"{base}-fixed"):
        spec = build({"env": f"trap/{variant}", "methods": {algo: dict(overrides)}, "seeds": 10, "budget": budget,
                      "evaluation": {"checkpoints": 5, "episodes": 10}})
        summary = run_study(spec, tmp_path / variant, report=False)
        (item,) = summary.audit[section]
        flagged[variant] = item["flagged"]
    assert flagged[base] >= 8 and flagged[f"{base}-fixed"] == 0


def test_lint_on_users_goal_tasks_and_an_env_that_truncates_itself():
    """The issue's own-made corpus envs (tests/user_envs.py), end to end through the probes."""
    from rlcheck import api

    def status(env, check):
        return {f["check"]: f for f in api.lint(env, max_seconds=5)["findings"]}[check]

    assert status("user_envs:PitCorridor", "early_termination")["status"] == "fail"  # -1 in the pit vs -3 at the exit
    assert status("user_envs:StepCostCorridor", "early_termination")["status"] != "fail"
    limit = status("user_envs:TruncatesItself", "time_limit")
    assert limit["status"] == "warn" and limit["value"] == 100 and limit["threshold"] == 1000


def test_a_mode_of_one_seed_is_tested_against_the_others_spread():
    """A single seed that behaves differently is tested by a prediction interval from the other seeds, not
    declared different because one seed has no spread of its own (the main job once said CEM's seed 8
    "returns differently" at 494.8 against 498.5)."""
    rng = np.random.default_rng(4)
    others = 498.5 + rng.normal(0, 3.0, 9)
    odd = np.zeros(10)
    odd[8] = 1.0
    behaviour = {"user/odd": np.stack([np.zeros(10), odd], 1), "stderr/user/odd": np.full((10, 2), 0.01)}
    close = np.insert(others, 8, 494.8)
    m = audit.modes(outcome(np.stack([np.zeros(10), close], 1), behaviour))
    assert m["count"] == 2 and not m["fires"] and m["return_p_value"] > 0.05
    stuck = np.insert(others, 8, 274.7)  # DQN's seed 2 on CartPole: a different outcome
    m = audit.modes(outcome(np.stack([np.zeros(10), stuck], 1), behaviour))
    assert m["fires"] and m["return_p_value"] < 1e-6 and "returning differently" in m["text"]


def test_stochastic_gap_needs_an_interval_clear_of_zero_and_a_size():
    """Issue 20, item 5: the deterministic policy rlcheck evaluates against the policy as it acts in training."""
    rng = np.random.default_rng(5)
    final = 480.0 + rng.normal(0, 5.0, 10)
    o = lambda sampled: dataclasses.replace(outcome(np.stack([np.zeros(10), final], 1), {}), stochastic_final=sampled)
    greedy_better = audit.stochastic_gap(o(final - 60.0 + rng.normal(0, 5.0, 10)), 475.0)
    assert greedy_better["fires"] and greedy_better["gap_low"] > 0 and "the deterministic one does better" in greedy_better["text"]
    assert f"{int((final >= 475).sum())}/10 seeds reach 475 deterministically, 0/10 sampled" in greedy_better["text"]
    same = audit.stochastic_gap(o(final + rng.normal(0, 5.0, 10)), 475.0)
    assert not same["fires"] and "the same within noise" in same["text"]
    tiny = audit.stochastic_gap(o(final - 1.0), 475.0)  # clear of zero (no spread) but 1 of 475: not worth a flag
    assert tiny["gap_low"] > 0 and not tiny["fires"]
    sampled_better = audit.stochastic_gap(o(final + 100.0), 475.0)
    assert sampled_better["fires"] and "the sampled one does better" in sampled_better["text"]
    assert audit.stochastic_gap(outcome(np.stack([np.zeros(10), final], 1), {}), 475.0) is None  # no such policy
