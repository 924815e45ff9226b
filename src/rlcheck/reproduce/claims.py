"""The essay's claims ("Deep Reinforcement Learning Doesn't Work Yet", 2018) as runnable studies, each
with a judge that reads the studies' summaries and says "holds", "does not hold" or "partly".

Full forms fit the project's 2-core CPU in <= 30 minutes each; where that forces a smaller budget than
the claim's, `StudyPlan.scaled` says so and the reproduction's report repeats it.
"""

from __future__ import annotations

import csv
import dataclasses
from importlib import resources
from typing import Any

import numpy as np

from rlcheck import registry
from rlcheck.analysis import stats
from rlcheck.core.errors import RLCheckError
from rlcheck.core.results import Interval, MethodSummary, StudySummary
from rlcheck.envs.traps import TRAPS
from rlcheck.reproduce.base import Judgement, Reproduction, StudyPlan, Summaries, register

QUICK_EVAL = {"checkpoints": 3, "episodes": 3}


def _method(summary: StudySummary, name: str) -> MethodSummary | None:
    return summary.method(name)


def _rate(k: int, n: int) -> str:
    e = stats.success_rate(k, n)
    return f"{k}/{n} ({100 * e.value:.0f}%, 95% CI {100 * e.low:.0f}-{100 * e.high:.0f}%)"


def _num(x: float | None, fmt: str = ".0f") -> str:
    return "?" if x is None else format(x, fmt)


def _est(e: Interval, fmt: str = ".0f") -> str:
    """An estimate with its interval, or without one when too few seeds give none."""
    if e.low is None or e.high is None:
        return f"{_num(e.value, fmt)} (no interval: too few seeds)"
    return f"{format(e.value, fmt)} (95% CI {format(e.low, fmt)} to {format(e.high, fmt)})"


def _steps(m: MethodSummary) -> float | None:
    return m.steps_to_threshold.median


def _steps_text(m: MethodSummary) -> str:
    s = m.steps_to_threshold
    if s.median is None:
        return "not reached by half the seeds"
    high = "-" if s.high is None else f"{s.high:,.0f}"
    return f"{s.median:,.0f} env steps (95% CI {s.low:,.0f} to {high})"


def _reached_by(m: MethodSummary, steps: int) -> int:
    return sum(1 for s in m.seeds if s.first_reached is not None and s.first_reached <= steps)


# -- cartpole-baselines -------------------------------------------------------------------------------

def _judge_cartpole(summaries: Summaries) -> Judgement:
    s = summaries["cartpole"]
    rows, details = {}, []
    for name in ("lqr", "ars", "cem", "ppo", "dqn"):
        m = _method(s, name)
        if m is None:
            continue
        rows[name] = m
        model = f", {m.model_calls:,} model calls" if m.model_calls else ""
        details.append(f"{name}: {m.successes}/{len(m.seeds)} seeds reach 475; median learning env steps to 475: "
                       f"{_steps_text(m)}{model}")
    rl = [_steps(rows[n]) for n in ("ppo", "dqn") if n in rows and _steps(rows[n]) is not None]
    simple = {n: _steps(rows[n]) for n in ("lqr", "ars", "cem") if n in rows and rows[n].success_rate.value >= 0.8}
    best_rl = min(rl) if rl else float("inf")
    faster = sorted(n for n, v in simple.items() if v is not None and v < best_rl)
    measurement = (f"fewest median learning env steps to 475 among PPO/DQN: {best_rl:,.0f}; simple methods that solve it "
                   f"(>= 8/10 seeds) with fewer: {', '.join(faster) or 'none'}.")
    verdict = "holds" if {"lqr"} <= set(faster) and faster != ["lqr"] else "partly" if faster else "does not hold"
    return Judgement(verdict, measurement, details)


register(Reproduction(
    "cartpole-baselines",
    "Simple methods solve CartPole with far fewer samples than deep RL: LQR with a known model needs no learning, "
    "and random search or the cross-entropy method need fewer env steps than PPO or DQN.",
    (StudyPlan("cartpole", {"env": "CartPole-v1", "methods": ["lqr", "ars", "cem", "ppo", "dqn"], "seeds": 10,
                            "budget": 500_000},
               {"env": "CartPole-v1", "methods": {"lqr": {}, "ars": {}, "cem": {}, "ppo": {},
                                                  "dqn": {"learning_starts": 1_000}},  # learns within the quick budget
                "seeds": 2, "budget": 10_000, "evaluation": QUICK_EVAL, "audit": False}),),
    _judge_cartpole,
))


# -- pendulum-seeds -----------------------------------------------------------------------------------

def _judge_pendulum(summaries: Summaries) -> Judgement:
    details, verdicts = [], {}
    for study, name in (("naf", "naf"), ("ddpg", "ddpg"), ("sac", "sac")):
        m = _method(summaries[study], name) if study in summaries else None
        if m is None:
            continue
        n, budget = len(m.seeds), summaries[study].budget["env_steps"]
        by_200k = _reached_by(m, 200_000)
        final = m.successes
        details.append(f"{name.upper()}: reached -150 at some checkpoint by 200k steps on {_rate(by_200k, n)}; final policy "
                       f"at {budget:,} steps >= -150 on {_rate(final, n)}; median steps to -150: {_steps_text(m)}")
        if name != "sac":
            verdicts[name] = ("does not hold" if final / n >= 0.8 and by_200k / n >= 0.8 else
                              "holds" if by_200k / n <= 0.5 else "partly")
    essay = verdicts.get("naf", verdicts.get("ddpg", "partly"))
    measurement = "; ".join(details[:2])
    details.append("'partly': most seeds pass -150 at some checkpoint, but many do not hold it: the instability the essay "
                   "describes shows up as falling back, not as never arriving.")
    return Judgement(essay, measurement, details)


def _learns_within(methods: dict[str, dict], budget: int) -> dict[str, dict]:
    """The quick form's methods: off-policy learners start learning within its small budget (at their
    defaults, learning_starts would outlast it and the study is refused)."""
    return {name: ({"learning_starts": budget // 10, **settings}
                   if "learning_starts" in {f.name for f in dataclasses.fields(registry.get_method(name).Config)}
                   else settings) for name, settings in methods.items()}


def _pendulum(method: str, seeds: int, budget: int, quick_budget: int, overrides: dict | None = None) -> tuple[dict, dict]:
    methods = {method: dict(overrides or {})}
    full = {"env": "Pendulum-v1", "methods": methods, "seeds": seeds, "budget": budget, "threshold": -150}
    quick = {"env": "Pendulum-v1", "methods": _learns_within(methods, quick_budget), "seeds": 2, "budget": quick_budget,
             "threshold": -150,
             "evaluation": QUICK_EVAL, "audit": False}
    return full, quick


# RL Zoo's DDPG Pendulum settings at OpenAI Baselines' DDPG scale (64x64 nets, batch 64), as in the
# issue-3 benchmark: the Zoo's 400x300 nets would take hours for 10 x 400k steps on 2 cores.
DDPG_ESSAY_SCALE = {"hidden_sizes": [64, 64], "batch_size": 64}


register(Reproduction(
    "pendulum-seeds",
    "Deep RL is unstable across random seeds: with identical settings, only 3 of 10 NAF runs on Pendulum succeed "
    "(return >= -150) within 200k steps.",
    (StudyPlan("naf", *_pendulum("naf", 10, 200_000, 2_000)),
     StudyPlan("ddpg", *_pendulum("ddpg", 10, 400_000, 2_000, DDPG_ESSAY_SCALE),
               scaled="DDPG: 64x64 nets and batch 64 (the RL Zoo's 400x300 would take hours), to 400k steps "
                      "(the claim asks about 200k; 800k would take about 7 minutes more)"),
     StudyPlan("sac", *_pendulum("sac", 5, 20_000, 1_000),
               scaled="SAC, for contrast: 5 seeds x 20k steps (its RL Zoo budget), compute-bound on this CPU")),
    _judge_pendulum,
))


# -- reward-hacking and local-optima (the trap envs) ----------------------------------------------------

def _trap(env: str, seeds: int = 10, quick_budget: int | None = None) -> StudyPlan:
    algo, overrides, budget = TRAPS[env].trained_by
    full = {"env": f"trap/{env}", "methods": {algo: dict(overrides)}, "seeds": seeds, "budget": budget}
    quick_budget = quick_budget or budget // 5
    quick = {**full, "methods": _learns_within(full["methods"], quick_budget), "seeds": 2, "budget": quick_budget,
             "evaluation": QUICK_EVAL}
    return StudyPlan(env, full, quick)


def _lint_status(summary: StudySummary, check: str) -> str:
    return next((f["status"] for f in summary.audit["lint"] if f["check"] == check), "missing")


def _flagged(summary: StudySummary, section: str) -> tuple[int, int]:
    items = summary.audit[section]
    return (items[0]["flagged"], items[0]["seeds_total"]) if items else (0, 0)


def _judge_hacking(summaries: Summaries) -> Judgement:
    pit, sensor = summaries["pit-corridor"], summaries["sensor-tile"]
    pit_finals = [s.final_return for s in pit.methods[0].seeds]
    jumped = sum(1 for r in pit_finals if r is not None and r > -4.5)  # the pit returns -1; the goal -8
    k, n = _flagged(sensor, "divergence")
    details = [f"pit corridor: the lint's early_termination check says '{_lint_status(pit, 'early_termination')}'; "
               f"{_rate(jumped, len(pit_finals))} DQN seeds learned to jump into the penalty-free pit (return -1) "
               "instead of walking to the goal (-8)",
               f"sensor tile: the training reward rose while the true objective stayed flat or fell on {_rate(k, n)} seeds"]
    ok = jumped / max(len(pit_finals), 1) >= 0.8 and n and k / n >= 0.8
    some = jumped > 0 or k > 0
    return Judgement("holds" if ok else "partly" if some else "does not hold", "; ".join(details), [])


register(Reproduction(
    "reward-hacking",
    "RL optimises exactly the reward it is given: with -1 per step and a penalty-free way out, agents learn to end "
    "episodes early; a proxy the agent can influence rises while the real task decays.",
    (_trap("pit-corridor"), _trap("sensor-tile")),
    _judge_hacking,
))


# DQN acting greedily from the first step (epsilon 0): the lowest-exploration setting. Measured here at
# 10 seeds x 300k: seed 7 ends pressing right 100% of the time (return 0), seed 8 left 87%; PPO with
# ent_coef=0 over 10 seeds x 500k learned to track the ball on every seed (returns 7-29).
BREAKOUT_GREEDY = {"start_epsilon": 0.0, "end_epsilon": 0.0}
BREAKOUT_BUDGET = 300_000
BREAKOUT_RIGHT = 2  # Breakout-MinAtar's minimal action set: no-op, left, right


def _pressing_right(summary: StudySummary) -> tuple[int, int, list[str]]:
    """Seeds whose final Breakout policy presses right >= 80% of the time (the collapse audit's dominant
    action), of all seeds, and each seed's most used action and its share."""
    items = summary.audit["collapse"]
    if not items:
        return 0, 0, []
    seeds = items[0]["seeds"]
    right = [s for s in seeds if s.get("action") == BREAKOUT_RIGHT and s["near_constant"]]
    names = {0: "no-op", 1: "left", 2: "right"}
    shown = [f"seed {s['seed']}: {names.get(s.get('action'), s.get('action'))} {100 * (s.get('share') or 0):.0f}% "
             f"(return {_num(s['final_return'], '.1f')})" for s in seeds]
    return len(right), len(seeds), shown


def _judge_local_optima(summaries: Summaries) -> Judgement:
    runner = summaries["flipped-runner"]
    modes = runner.audit["modes"][0] if runner.audit["modes"] else {"count": 1, "text": "", "fires": False}
    details = [f"flipped runner: {modes['text'].rstrip('.')}" if modes["text"] else "flipped runner: one behaviour mode across seeds"]
    catch = summaries.get("biased-catch")
    k = n = 0
    if catch:
        k, n = _flagged(catch, "collapse")
        details.append(f"biased catch (PPO, ent_coef=0): {_rate(k, n)} seeds collapsed to always-right")
    right = 0
    breakout = summaries.get("breakout-right")
    if breakout:
        right, total, shown = _pressing_right(breakout)
        details.append(f"Breakout-MinAtar (DQN acting greedily, epsilon 0): "
                       f"{_rate(right, total) if total else 'no collapse audit'} "
                       "seeds' final policies press right >= 80% of the time; per seed, the most used action: "
                       + ("; ".join(shown) or "none"))
    ok = modes["count"] > 1 and modes["fires"]
    stuck = (not n or k / n >= 0.8) and (not breakout or right > 0)
    verdict = "holds" if ok and stuck else "partly" if ok or k or right else "does not hold"
    rule = ("'holds' when the runner's seeds split into behaviour modes, the biased catch collapses on >= 80% of "
            "seeds and at least one Breakout-MinAtar seed ends up pressing right (the essay's claim is that it happens, "
            "not how often; the rate is shown)")
    return Judgement(verdict, "; ".join(details), [rule])


register(Reproduction(
    "local-optima",
    "RL keeps whatever it learned first: some HalfCheetah seeds run on their backs, Breakout policies that always "
    "press right. Reproduced with a runner whose flipped gait is found first, a catch game whose balls mostly "
    "fall on the right, and Breakout-MinAtar played by DQN with no exploration.",
    (_trap("flipped-runner"), _trap("biased-catch"),
     StudyPlan("breakout-right",
               {"env": "Breakout-MinAtar", "methods": {"dqn": BREAKOUT_GREEDY}, "seeds": 10, "budget": BREAKOUT_BUDGET,
                "threshold": 25, "evaluation": {"checkpoints": 5, "episodes": 5}},
               {"env": "Breakout-MinAtar", "methods": {"dqn": BREAKOUT_GREEDY}, "seeds": 2, "budget": 12_000,
                "threshold": 25, "evaluation": {"checkpoints": 1, "episodes": 2}},
               scaled=f"Breakout-MinAtar: DQN with epsilon 0, 10 seeds x {BREAKOUT_BUDGET:,} env steps (the gymnax "
                      "figures train 10M)")),
    _judge_local_optima,
))


# -- atari-median -------------------------------------------------------------------------------------

RAINBOW_HUMAN_FRAMES = 18_000_000  # the essay: Rainbow passes median human performance at about 18M frames
FRAMES_PER_STEP = 4  # ALE's frame skip: one env step is 4 frames


def atari_reference() -> dict[str, tuple[float, float]]:
    """ALE id -> (random, human) scores, shipped in rlcheck/data (source: atari_scores_SOURCE.md)."""
    with resources.files("rlcheck.data").joinpath("atari_scores.csv").open() as f:
        return {row["ale_id"]: (float(row["random"]), float(row["human"])) for row in csv.DictReader(f)}


def human_normalised(summaries: Summaries) -> dict[str, dict[str, Any]]:
    """Per method: {game: (normalised score per seed), frames} over every Atari study given."""
    reference = atari_reference()
    out: dict[str, dict[str, Any]] = {}
    for summary in summaries.values():
        env = summary.env.removeprefix("gymnasium:")
        if env not in reference:
            continue
        random, human = reference[env]
        for m in summary.methods:
            entry = out.setdefault(m.label_name, {"games": {}, "frames": 0})
            entry["games"][env] = [(x - random) / (human - random) for x in m.finals]
            entry["frames"] = max(entry["frames"], summary.budget["env_steps"] * FRAMES_PER_STEP)
    return out


def _judge_atari(summaries: Summaries) -> Judgement:
    scores = human_normalised(summaries)
    if not scores:
        raise RLCheckError("atari-median found no Atari study (ALE/...-v5 env) to score. Run one with `rlcheck check "
                           "ALE/Breakout-v5 ...`, then `rlcheck reproduce atari-median --from DIR ...`.")
    details, medians = [], {}
    rng = np.random.default_rng(0)
    for method, entry in scores.items():
        games = entry["games"]
        per_game = {g: float(np.mean(v)) for g, v in games.items() if v}
        median = float(np.median(list(per_game.values())))
        boots = [np.median([np.mean(rng.choice(v, len(v))) for v in games.values() if v]) for _ in range(2000)]
        low, high = np.percentile(boots, [2.5, 97.5])
        medians[method] = (median, entry["frames"])
        details.append(f"{method}: median human-normalised score {100 * median:.1f}% (95% CI {100 * low:.1f}% to {100 * high:.1f}%, "
                       f"bootstrap over seeds) over {len(per_game)} game(s) at {entry['frames']:,} frames; per game: "
                       + ", ".join(f"{g} {100 * s:.1f}%" for g, s in sorted(per_game.items())))
    human_level_sooner = [m for m, (med, frames) in medians.items() if med >= 1.0 and frames < RAINBOW_HUMAN_FRAMES]
    below = [m for m, (med, _) in medians.items() if med < 1.0]
    verdict = "does not hold" if human_level_sooner else "holds" if below else "partly"
    details.append("Reference scores: random and human per game from DQN Zoo's atari_data.py (the 57-game standard; "
                   "rlcheck/data/atari_scores_SOURCE.md).")
    return Judgement(verdict, details[0] if len(details) == 2 else "; ".join(details[:-1]), details)


register(Reproduction(
    "atari-median",
    "Deep RL is sample-hungry on Atari: Rainbow passes the median human score only after about 18 million frames "
    "(83 hours of play). Measured as the median human-normalised score over whatever Atari games were run "
    "(add your own studies with --from).",
    (StudyPlan("pong-ppo", {"env": "ALE/Pong-v5", "methods": ["ppo"], "seeds": 2, "budget": 100_000, "threshold": 0,
                            "evaluation": {"checkpoints": 5, "episodes": 3}},
               {"env": "ALE/Pong-v5", "methods": ["ppo"], "seeds": 1, "budget": 1024, "threshold": 0,
                "evaluation": {"checkpoints": 1, "episodes": 1}, "audit": False},
               scaled="PPO, 2 seeds x 100k env steps (400k frames) on Pong only: Atari on this CPU runs at about 170 "
                      "env steps/s; add longer studies of more games with --from"),),
    _judge_atari,
))


# -- seed-variance ------------------------------------------------------------------------------------

def _judge_seed_variance(summaries: Summaries) -> Judgement:
    m = _method(summaries["halfcheetah-trpo"], "trpo")
    finals = np.array(m.finals)
    worst, best, mean = float(finals.min()), float(finals.max()), float(finals.mean())
    spread = best - worst
    iqm = m.final_return["iqm"]
    measurement = (f"TRPO, {len(finals)} seeds, identical settings: final returns {', '.join(f'{x:.0f}' for x in sorted(finals))}; "
                   f"best - worst = {spread:.0f} ({spread / max(abs(mean), 1e-9):.0%} of the mean); IQM {_est(iqm)}; "
                   f"worst quarter (CVaR 25%) {_num(m.cvar25.value)}")
    ratio = spread / max(abs(mean), 1e-9)
    verdict = "holds" if ratio >= 0.5 else "partly" if ratio >= 0.2 else "does not hold"
    return Judgement(verdict, measurement, ["'holds' when best - worst is at least half the mean final return; 'partly' "
                                            "from a fifth"])


register(Reproduction(
    "seed-variance",
    "Random seeds alone change the outcome: TRPO on HalfCheetah with identical hyper-parameters and 5 seeds gives "
    "runs that look like different algorithms.",
    (StudyPlan("halfcheetah-trpo",
               {"env": "HalfCheetah-v5", "methods": ["trpo"], "seeds": 5, "budget": 100_000, "threshold": 4800,
                "evaluation": {"checkpoints": 10, "episodes": 5}},
               {"env": "HalfCheetah-v5", "methods": ["trpo"], "seeds": 2, "budget": 2048, "threshold": 4800,
                "evaluation": {"checkpoints": 1, "episodes": 1}, "audit": False},
               scaled="5 seeds x 100k env steps (the essay's plot runs to 1M+): the spread is measured early in "
                      "training, where mean returns are near 0 and the spread-to-mean ratio is large; about 4-5 "
                      "minutes here"),),
    _judge_seed_variance,
))


# -- mpc-vs-rl ----------------------------------------------------------------------------------------

def _judge_mpc(summaries: Summaries) -> Judgement:
    details, wins = [], []
    for study in ("pendulum", "halfcheetah"):
        if study not in summaries:
            continue
        mpc, sac = _method(summaries[study], "mpc"), _method(summaries[study], "sac")
        if not mpc or not sac:
            continue
        a, b = mpc.final_return["mean"], sac.final_return["mean"]
        per_episode = mpc.eval_model_calls_per_episode or 0
        details.append(f"{summaries[study].env}: MPC with the true model {_est(a)} with 0 learning env steps and "
                       f"{per_episode:,.0f} model calls per episode; SAC {_est(b)} after {sac.learning_env_steps:,} env steps")
        wins.append(a.value >= b.value)
        modes = [x for x in summaries[study].audit["modes"] if x["method"] == "mpc" and x["count"] > 1]
        if modes:
            details.append(f"MPC's behaviour on {summaries[study].env}: {modes[0]['text']}")
    cheetah = summaries.get("halfcheetah")
    if cheetah and _method(cheetah, "mpc"):
        details.append(_posture_text(_method(cheetah, "mpc"), _method(cheetah, "sac")))
    verdict = "holds" if wins and all(wins) else "partly" if any(wins) else "does not hold"
    return Judgement(verdict, "; ".join(details), ["Planning with the simulator as the model uses model calls, not "
                                                   "real experience; both are counted and shown."])


TUMBLING_TURNS = 1.0  # net somersaults per 1000 steps from which a gait counts as tumbling
ON_ITS_BACK = 0.5  # share of steps upside down from which a gait counts as running on its back


def _posture(m: MethodSummary) -> tuple[list[float], list[float]]:
    """Per seed: share of the final policy's steps spent upside down, net somersaults per 1000 steps."""
    rows = [s.descriptors or {} for s in m.seeds]
    rows = [r for r in rows if r.get("upside_down") is not None and r.get("turns") is not None]
    return [r["upside_down"] for r in rows], [abs(1000 * r["turns"]) for r in rows]


def _posture_text(mpc: MethodSummary, sac: MethodSummary | None) -> str:
    """The planner's exploit, read from the cheetah_posture descriptor of each seed's final policy."""
    (mpc_back, mpc_turns), (sac_back, sac_turns) = _posture(mpc), _posture(sac) if sac else ([], [])
    if not mpc_turns:
        return "HalfCheetah posture: no descriptor recorded (the study ran without rlcheck.envs.descriptors:cheetah_posture)"
    def per_seed(back: list[float], turns: list[float]) -> str:
        return ", ".join(f"{100 * b:.0f}% upside down/{t:.1f} somersaults" for b, t in zip(back, turns, strict=True))

    def flipped(back: list[float], turns: list[float]) -> int:
        return sum(b >= ON_ITS_BACK or t >= TUMBLING_TURNS for b, t in zip(back, turns, strict=True))

    text = (f"HalfCheetah posture (cheetah_posture descriptor of the final policy: share of steps upside down, net "
            f"somersaults per 1000 steps): MPC per seed {per_seed(mpc_back, mpc_turns)}; SAC per seed "
            f"{per_seed(sac_back, sac_turns) or 'none'}. ")
    rule = f"upside down >= {ON_ITS_BACK:.0%} of the time or >= {TUMBLING_TURNS:.0f} somersault per 1000 steps"
    k = flipped(mpc_back, mpc_turns)
    if k:
        text += (f"The planner flips over on {k}/{len(mpc_turns)} seeds ({rule}): with a short horizon and a reward "
                 "that pays only forward speed, nothing keeps it upright.")
    else:
        text += "No flipping or tumbling by the planner at this budget."
    if sac_turns and flipped(sac_back, sac_turns):
        text += (f" SAC's policies are flipped too ({flipped(sac_back, sac_turns)}/{len(sac_turns)}): the on-its-back "
                 "gait is where learners start (the essay's HalfCheetah local optimum).")
    return text


CHEETAH_POSTURE = "rlcheck.envs.descriptors:cheetah_posture"


register(Reproduction(
    "mpc-vs-rl",
    "Model-predictive control with the true model solves continuous-control tasks on the fly, with no learning, about "
    "as well as model-free RL does after many samples.",
    (StudyPlan("pendulum",
               {"env": "Pendulum-v1", "methods": {"mpc": {}, "sac": {}}, "seeds": 5, "budget": 20_000, "threshold": -200},
               {"env": "Pendulum-v1", "methods": {"mpc": {"num_samples": 16, "horizon": 10}, "sac": {}}, "seeds": 2,
                "budget": 1_000, "threshold": -200, "evaluation": QUICK_EVAL, "audit": False},
               scaled="SAC: 5 seeds x 20k (its RL Zoo budget)"),
     StudyPlan("halfcheetah",
               {"env": "HalfCheetah-v5", "methods": {"mpc": {"num_samples": 32, "horizon": 15}, "sac": {}}, "seeds": 2,
                "budget": 10_000, "threshold": 4800, "evaluation": {"checkpoints": 2, "episodes": 2},
                "descriptors": CHEETAH_POSTURE},
               {"env": "HalfCheetah-v5", "methods": {"mpc": {"num_samples": 4, "horizon": 3}}, "seeds": 1,
                "budget": 1, "threshold": 4800, "evaluation": {"checkpoints": 1, "episodes": 1}, "audit": False,
                "descriptors": CHEETAH_POSTURE},
               scaled="HalfCheetah: MPC 32 samples x 15 steps (numpy on the host), SAC 2 seeds x 10k env steps "
                      "(186 steps/s here); far below the published 1M-step runs")),
    _judge_mpc,
))


# -- search-vs-rl -------------------------------------------------------------------------------------

def _judge_search(summaries: Summaries) -> Judgement:
    s = summaries["breakout"]
    rows = {n: _method(s, n) for n in ("mcts", "ppo", "dqn")}
    details = []
    for n, m in rows.items():
        if m:
            e = m.final_return["mean"]
            extra = (f", {m.eval_model_calls_per_episode:,.0f} model calls per episode" if n == "mcts" else
                     f" after {m.learning_env_steps:,} env steps")
            details.append(f"{n}: mean final return {_est(e, '.1f')}{extra}")
    mcts = rows["mcts"].final_return["mean"] if rows["mcts"] else None
    rl = [rows[n].final_return["mean"] for n in ("ppo", "dqn") if rows[n]]
    if mcts is None or not rl:
        return Judgement("partly", "; ".join(details), [])
    low = lambda e: e.low if e.low is not None else e.value  # noqa: E731  (no interval: the point)
    high = lambda e: e.high if e.high is not None else e.value  # noqa: E731
    beats = all(low(mcts) > high(r) for r in rl)
    ties = any(high(mcts) >= low(r) for r in rl)
    return Judgement("holds" if beats else "partly" if ties else "does not hold", "; ".join(details),
                     ["'holds' when tree search's interval lies above every RL method's"])


register(Reproduction(
    "search-vs-rl",
    "Search with the emulator as a model beats model-free RL on Atari-like games at a fraction of the real "
    "experience (the essay: UCT outscores DQN).",
    (StudyPlan("breakout",
               {"env": "Breakout-MinAtar", "methods": {"mcts": {}, "ppo": {}, "dqn": {}}, "seeds": 3,
                "budget": 2_000_000, "threshold": 25, "evaluation": {"checkpoints": 10, "episodes": 5}},
               {"env": "Breakout-MinAtar", "methods": {"mcts": {"num_simulations": 4, "rollouts": 1}, "ppo": {}},
                "seeds": 1, "budget": 8_192 * 2, "threshold": 25, "evaluation": {"checkpoints": 1, "episodes": 1},
                "audit": False},
               scaled="PPO and DQN: 3 seeds x 2M env steps (the gymnax figures use 10M); MCTS: 3 seeds x 5 games"),),
    _judge_search,
))
