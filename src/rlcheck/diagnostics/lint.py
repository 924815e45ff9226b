"""`rlcheck lint ENV`: reward checks from probe rollouts, before any training.

Each check returns a `Finding` {check, status (pass | warn | fail), value, threshold, evidence, fix}.
The thresholds below are the documented ones (docs/audit.md); they were calibrated on the trap envs
(envs/traps.py), which must fail, their `-fixed` twins and CartPole, Pendulum and Acrobot, which must not.

What the probes can and cannot tell: they see what simple policies reach. An ending only a skilled
policy reaches (Acrobot's swing-up, MountainCar's flag) is invisible to them, which is what keeps the
early-termination check from calling a goal a pit; a pit that a skilled policy reaches late is
missed. `info["is_success"]` marks endings that are the task itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import jax
import numpy as np

from rlcheck.diagnostics import probes as probes_module
from rlcheck.diagnostics.probes import MIN_EPISODES, Rollout
from rlcheck.diagnostics.profile import plausibility_profile
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec

# Documented thresholds
EARLY_ENDING_SHARE = 0.5  # a degenerate probe "ends episodes early" if its median ending is within this share of the horizon
TIME_LIMIT_SAME_LENGTH_SHARE = 0.9  # terminations at one identical length, across probes, look like a time limit
LARGE_REWARD = 100.0  # mean |reward| per step above this: rescale
SMALL_REWARD = 1e-3  # mean |reward| per step below this (but not zero): rescale
CLIPPED_SHARE = 0.3  # share of steps at the extreme values (+-c) of a many-valued reward: looks clipped
RARE_TOP_STEPS = 0.01  # the top 1% of steps by |reward| ...
RARE_DOMINANCE = 0.5  # ... carrying over half of all |reward| ...
RARE_EPISODES = 0.1  # ... and occurring in at most 10% of episodes
COMPONENT_DOMINANCE = 0.95  # one reward component carrying this share of all |components| ...
COMPONENT_FREQUENT = 0.1  # ... over another that is non-zero on at least 10% of steps (not a rare bonus)
NO_PROGRESS_MARGIN = 0.05  # a degenerate probe within 5% (of the probes' return range) of the best proxy return
LOOP_REPEATS = 3  # the same positive reward at the same state this many times in one episode


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # "pass", "warn" or "fail"
    value: float | None
    threshold: float | None
    evidence: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LintResult:
    env: str
    findings: list[Finding]
    profile: dict[str, Any]
    probes: list[dict[str, Any]]  # per probe: name, mean return, true return, ending shares

    def as_dict(self) -> dict[str, Any]:
        return {"env": self.env, "findings": [f.as_dict() for f in self.findings], "profile": self.profile,
                "probes": self.probes}

    @property
    def worst(self) -> str:
        statuses = {f.status for f in self.findings}
        return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


DEFAULT_SECONDS = 60.0  # the lint's probing is sized to about this
PROBING_SHARE = 0.8  # of it for the probes (the rest: speed measurements, checks)
MIN_HORIZON = 20  # and MIN_EPISODES (probes.py): the least a cut leaves
MAX_RECORD_BYTES = 2**30  # the JAX probes' per-step records (observations first) stay under this


def lint(env: EnvSpec, episodes: int = 24, seed: int = 0, measure_speed: bool = True,
         max_seconds: float = DEFAULT_SECONDS) -> LintResult:
    """Run every probe, every check and the plausibility profile. The probing is sized to take about
    `max_seconds`: on a Python env from its measured speed, fewer episodes, then shorter ones; on a JAX env
    by running the compiled probes a few episodes at a time and stopping when the time is spent (both said
    in a finding). A JAX env's records are also held to MAX_RECORD_BYTES (a float per observation entry per
    step)."""
    info_keys = probes_module.info_keys_of(env)
    probes = probes_module.probes_for(env)
    horizon, capped, asked = probes_module.probe_horizon(env), None, episodes
    if isinstance(env.env, HostEnv):
        rate = probes_module.steps_per_second(env, probes, episodes, info_keys, seconds=min(1.0, max_seconds / 10))
        episodes, horizon, capped = probe_budget(rate, max_seconds, len(probes), episodes, horizon)
        rollouts = probes_module.rollouts(env, probes, episodes, jax.random.PRNGKey(seed), info_keys, horizon)
    else:
        episodes, horizon, capped = probe_budget(float("inf"), max_seconds, len(probes), episodes, horizon,
                                                 most_steps=MAX_RECORD_BYTES // (4 * max(env.obs_size, 1)))
        start = time.perf_counter()
        rollouts = probes_module.rollouts(env, probes, episodes, jax.random.PRNGKey(seed), info_keys, horizon,
                                          max_seconds=max_seconds * PROBING_SHARE)
        played, reached = rollouts[0].reward.shape
        if played < episodes or reached < horizon:
            timed = (f"{len(probes)} probes x {episodes} episodes x {horizon} steps did not fit in {max_seconds:g} s "
                     f"(what ran took {time.perf_counter() - start:,.0f} s, compiling included); probed {played} "
                     f"episodes each" + (f", cut at {reached} steps" if reached < horizon else ""))
            capped = (asked, (capped[1] + "; then " if capped else "") + timed)
            episodes = played
    width = rollouts[0].reward.shape[1]
    limit, said = time_limit_of(rollouts, env)
    findings = run_checks(rollouts, min(width, limit), limit)
    findings.insert(0, said)
    if capped:
        findings.append(Finding("probe_budget", "warn", float(episodes), float(capped[0]), capped[1],
                                "raise the time the lint may take (rlcheck lint --max-seconds S) for more evidence"))
    profile = plausibility_profile(env, rollouts, measure_speed, info_keys)
    return LintResult(env.name, findings, profile, [_probe_row(r) for r in rollouts])


def probe_budget(rate: float, max_seconds: float, num_probes: int, episodes: int, horizon: int,
                 most_steps: float = float("inf")) -> tuple[int, int, tuple[int, str] | None]:
    """(episodes per probe, horizon, (episodes asked, why) if cut) so that the probes' worst case, every
    episode running the whole horizon, fits in `max_seconds` at `rate` env steps per second, and in
    `most_steps` steps in all (the memory the records may take)."""
    by_time = rate * max_seconds * PROBING_SHARE
    affordable = min(by_time, most_steps)
    wanted = num_probes * episodes * horizon
    if wanted <= affordable:
        return episodes, horizon, None
    fitted = max(MIN_EPISODES, int(affordable // (num_probes * horizon)))
    cut = max(MIN_HORIZON, min(horizon, int(affordable // (num_probes * fitted))))
    cost = (f"would take about {wanted / rate:,.0f} s at {rate:,.0f} env steps/s" if by_time <= most_steps
            else f"would record {wanted:,} steps, more than the {int(most_steps):,} that fit in memory")
    why = (f"{num_probes} probes x {episodes} episodes x {horizon} steps {cost}; probed {fitted} episodes each"
           + (f", cut at {cut} steps" if cut < horizon else "")
           + (f" to stay within {max_seconds:g} s" if by_time <= most_steps else " to stay within memory"))
    return fitted, cut, (episodes, why)


OBSERVED_LIMIT_SHARE = 0.9  # of the episodes the env truncates itself (before the probes' cap), at one length
OBSERVED_LIMIT_EPISODES = 3  # at least this many


def time_limit_of(rollouts: Sequence[Rollout], env: EnvSpec) -> tuple[int, Finding]:
    """The time limit the checks use, and a finding that says where it came from: truncations observed at one
    repeated length (an env that cuts its own episodes, with or without Gymnasium's TimeLimit), else what the env
    declares (its registration's max_episode_steps, a TimeLimit wrapper, gymnax params; `EnvSpec.limit_source`)."""
    declared, source = env.max_episode_steps, env.limit_source or "the env's declared limit"
    width = rollouts[0].reward.shape[1]
    cut = np.concatenate([r.lengths[(r.truncated & r.valid & ~r.terminated).any(1) & (r.lengths < width)]
                          for r in rollouts])
    name = "time_limit"
    if cut.size >= OBSERVED_LIMIT_EPISODES:
        values, counts = np.unique(cut, return_counts=True)
        common, share = int(values[counts.argmax()]), counts.max() / cut.size
        if share >= OBSERVED_LIMIT_SHARE and common < declared:
            return common, Finding(name, "warn", float(common), float(declared),
                                   f"the env truncates {counts.max()} of {cut.size} cut probe episodes at step {common}, "
                                   f"before the {declared}-step limit it declares ({source}): the checks use {common}",
                                   f"declare the limit (--wrap TimeLimit:max_episode_steps={common}) so rlcheck's "
                                   "defaults use it too")
    return declared, Finding(name, "pass", float(declared), float(declared),
                             f"time limit {declared} steps, from {source}", "nothing to fix")


def run_checks(rollouts: Sequence[Rollout], horizon: int, time_limit: int) -> list[Finding]:
    findings = [
        early_termination(rollouts, horizon),
        alive_bonus(rollouts, horizon),
        time_limit_as_termination(rollouts, time_limit),
        reward_scale(rollouts),
        rare_event(rollouts),
        reward_component(rollouts),
        reward_without_progress(rollouts),
        reward_loop(rollouts, horizon),
        success_at_reset(rollouts),
    ]
    if horizon < time_limit:
        findings.append(Finding("probe_horizon", "warn", float(horizon), float(time_limit),
                                f"probes ran {horizon} steps of the env's {time_limit}-step episodes",
                                "checks that depend on late events may miss them; nothing to fix in the env"))
    return findings


def success_at_reset(rollouts: Sequence[Rollout]) -> Finding:
    """Episodes whose `info['is_success']` is already true after their first step, whatever the probe did:
    the goal was met at reset (or within one step of any action), so a success rate counts them as learned.
    An evaluation-protocol problem users of goal-conditioned suites keep meeting (Fetch tasks whose object
    starts on its goal)."""
    name = "success_at_reset"
    marked = [r for r in rollouts if "is_success" in r.info]
    if not marked:
        return Finding(name, "pass", None, None, "the env reports no info['is_success'], so there is none to check",
                       "nothing to fix")
    first = np.concatenate([r.info["is_success"][:, 0].astype(bool) & r.valid[:, 0] for r in marked])
    share = float(first.mean())
    if share == 0.0:
        return Finding(name, "pass", 0.0, 0.0, f"no probe episode succeeds at its first step (of {first.size})",
                       "nothing to fix")
    return Finding(name, "warn", share, 0.0,
                   f"{first.sum()} of {first.size} probe episodes ({share:.0%}) report success after their first "
                   "step, whatever the probe did: the goal is already met at reset in those episodes, and a success "
                   "rate counts them as learned",
                   "resample the goal (or the start) at reset until it is not already met, or compare success rates "
                   "with this share, which a policy gets for nothing")


def _probe_row(r: Rollout) -> dict[str, Any]:
    true = r.true_returns()
    return {"probe": r.probe.name, "episodes": len(r.reward), "mean_return": float(r.returns.mean()),
            "return_std": float(r.returns.std(ddof=1)) if len(r.reward) > 1 else None,
            "action": [np.asarray(a).tolist() for a in r.probe.actions] if r.probe.kind == "constant" else None,
            "mean_length": float(r.lengths.mean()), "terminated_share": float(r.ended_by_termination().mean()),
            "success_share": float(r.success().mean()),
            "mean_true_return": None if true is None else float(true.mean())}


def _living_reward(rollouts: Sequence[Rollout]) -> float:
    """The median reward of steps that do not end an episode: what merely existing earns."""
    rewards = np.concatenate([r.reward[r.valid & ~r.terminated & ~r.truncated] for r in rollouts])
    return float(np.median(rewards)) if rewards.size else 0.0


def _fixed_length(rollouts: Sequence[Rollout]) -> int | None:
    """The step at which every probe episode ends by termination, whatever the probe does (a fixed-length game,
    or a time limit reported as a termination), or None."""
    lengths = np.concatenate([r.lengths for r in rollouts])
    if lengths.size > 1 and np.ptp(lengths) == 0 and all(r.ended_by_termination().all() for r in rollouts):
        return int(lengths[0])
    return None


def _degenerate(rollouts: Sequence[Rollout]) -> list[Rollout]:
    return [r for r in rollouts if r.probe.kind != "random"]


def _success_return(rollouts: Sequence[Rollout]) -> float | None:
    returns = [r.returns[r.success()].mean() for r in rollouts if r.success().any()]
    return float(max(returns)) if returns else None


# An ending's pay: its terminal step's reward against the non-terminal steps' range, or a success flag.
PAY_RANK = {"penalty": 0, "ordinary": 1, "bonus": 2, "success": 3}
PAY_WORDS = {"penalty": "a terminal penalty (below every non-final step's reward)",
             "ordinary": "a terminal reward like any other step's", "bonus": "a terminal bonus (above every non-final step's "
             "reward)", "success": "info['is_success']"}
LEARNER_GAMMA = 0.99  # the discount the endings' returns are also compared at (the learners' default)


@dataclass(frozen=True)
class Ending:
    """One kind of ending the probes reach, at the probe that reaches it with the best return."""
    kind: str  # a PAY_RANK key
    probe: str
    episodes: int  # of that probe's episodes, ending this way
    length: float  # their mean length
    mean_return: float
    discounted_return: float  # at LEARNER_GAMMA


def endings(rollouts: Sequence[Rollout]) -> dict[str, Ending]:
    """The kinds of termination the probes reach, each at its best-returning probe. Survival to the time limit
    is no ending: what it is worth depends on the task (hovering, flying off), so endings are judged against
    one another."""
    ordinary = np.concatenate([r.reward[r.valid & ~r.terminated] for r in rollouts])
    low, high = (float(ordinary.min()), float(ordinary.max())) if ordinary.size else (0.0, 0.0)
    tolerance = 1e-6 * max(1.0, abs(low), abs(high))
    best: dict[str, Ending] = {}
    for r in rollouts:
        ended, last = r.ended_by_termination(), np.maximum(r.lengths - 1, 0)
        terminal = r.reward[np.arange(len(r.reward)), last]
        kinds = np.where(r.success(), "success", np.where(terminal < low - tolerance, "penalty",
                                                          np.where(terminal > high + tolerance, "bonus", "ordinary")))
        discounts = LEARNER_GAMMA ** np.arange(r.reward.shape[1])
        discounted = np.where(r.valid, r.reward, 0.0) @ discounts
        for kind in np.unique(kinds[ended]):
            mine = ended & (kinds == kind)
            ending = Ending(str(kind), r.probe.name, int(mine.sum()), float(r.lengths[mine].mean()),
                            float(r.returns[mine].mean()), float(discounted[mine].mean()))
            if kind not in best or ending.mean_return > best[kind].mean_return:
                best[str(kind)] = ending
    return best


def early_termination(rollouts: Sequence[Rollout], horizon: int) -> Finding:
    """Under a negative living reward, an ending that pays less than another ending the probes reach, yet
    returns more (undiscounted, or at the learners' discount): the suicide incentive. Endings are told apart
    by what their terminal step pays (a penalty, an ordinary step's reward, a bonus, a success flag); with one
    kind only, nothing says which ending is the goal, and the check is undetermined (warn)."""
    name, fix = "early_termination", ("give the failure ending a terminal penalty at least as large as the value "
                                     "shown, or make the per-step reward non-negative")
    living = _living_reward(rollouts)
    if living >= 0:
        return Finding(name, "pass", living, 0.0, f"living reward {living:+.3g} per step is not negative", fix)
    fixed = _fixed_length(rollouts)
    if fixed is not None:
        return Finding(name, "pass", None, 0.0, f"every probe episode ends at step {fixed}, whatever the "
                       "probe does: when an episode ends is not the policy's choice", fix)
    found = endings(rollouts)
    if not found:
        return Finding(name, "pass", None, 0.0, f"living reward {living:+.3g} per step, but no probe episode ends by "
                       "termination", fix)
    described = "; ".join(f"{PAY_WORDS[e.kind]}: '{e.probe}' reaches it after {e.length:.0f} steps, return "
                          f"{e.mean_return:.3g} ({e.discounted_return:.3g} at gamma {LEARNER_GAMMA:g})"
                          for e in sorted(found.values(), key=lambda e: -PAY_RANK[e.kind]))
    goal = max(found.values(), key=lambda e: PAY_RANK[e.kind])
    if len(found) == 1:
        if goal.kind == "success":
            return Finding(name, "pass", None, 0.0, f"every ending the probes reach is a success ({described})", fix)
        return Finding(name, "warn", None, 0.0,
                       f"undetermined: every ending the probes reach pays alike ({described}), under a living reward "
                       f"of {living:+.3g} per step, so nothing tells a failure ending from the goal",
                       "mark the goal with info['is_success'], or give failure endings a terminal penalty, so the "
                       "lint can tell them apart")
    worse = [e for e in found.values() if PAY_RANK[e.kind] < PAY_RANK[goal.kind]]
    # the terminal penalty that would bring each worse ending down to the goal's return, undiscounted and at gamma
    # (a penalty paid at step L counts gamma^(L-1) of itself)
    gaps = [(max(e.mean_return - goal.mean_return,
                 (e.discounted_return - goal.discounted_return) / LEARNER_GAMMA ** max(e.length - 1, 0)), e)
            for e in worse]
    penalty, beaten = max(gaps, key=lambda g: g[0])
    evidence = f"endings the probes reach, best-paid first: {described}"
    if penalty <= 0:
        return Finding(name, "pass", penalty, 0.0, evidence + f". The best-paid ending ({PAY_WORDS[goal.kind]}) "
                       "returns at least as much as every other", fix)
    return Finding(name, "fail", penalty, 0.0,
                   evidence + f". Ending with {PAY_WORDS[beaten.kind]} ('{beaten.probe}') returns more than the "
                   f"best-paid ending ({PAY_WORDS[goal.kind]}). Break-even terminal penalty: {penalty:.3g}.", fix)


def alive_bonus(rollouts: Sequence[Rollout], horizon: int) -> Finding:
    """The mirror case: a positive living reward that pays more, over episodes the probes play to the time limit,
    than finishing the task."""
    name, fix = "alive_bonus", "cut the per-step bonus or raise the reward for finishing above what stalling earns"
    living = _living_reward(rollouts)
    success = _success_return(rollouts)
    if living <= 0 or success is None:
        why = "not positive" if living <= 0 else "positive, but no probe finished the task (no info['is_success'])"
        return Finding(name, "pass", living, 0.0, f"living reward {living:+.3g} per step is {why}", fix)
    stalled = [float(r.returns[r.lengths >= horizon].mean()) for r in rollouts if (r.lengths >= horizon).any()]
    if not stalled:
        return Finding(name, "pass", living, 0.0, f"living reward {living:+.3g} per step, but no probe plays an "
                       f"episode to the {horizon}-step horizon, so what stalling earns is not observed", fix)
    stall = max(stalled)
    evidence = (f"stalling to the {horizon}-step horizon earns {stall:.3g} (observed); the best successful probe "
                f"episode earns {success:.3g}")
    return Finding(name, "warn" if stall > success else "pass", stall - success, 0.0, evidence, fix)


def time_limit_as_termination(rollouts: Sequence[Rollout], time_limit: int) -> Finding:
    name, fix = "time_limit_as_termination", ("report the time limit as truncated=True, terminated=False "
                                              "(or register the env with max_episode_steps)")
    lengths = np.concatenate([r.lengths[r.ended_by_termination()] for r in rollouts])
    probes_ending = sum(r.ended_by_termination().any() for r in rollouts)
    if lengths.size < 5 or probes_ending < 2:
        return Finding(name, "pass", None, TIME_LIMIT_SAME_LENGTH_SHARE, "too few terminations to tell", fix)
    values, counts = np.unique(lengths, return_counts=True)
    share, common = counts.max() / lengths.size, int(values[counts.argmax()])
    evidence = f"{share:.0%} of {lengths.size} terminated probe episodes end at step {common} (time limit {time_limit})"
    fixed = _fixed_length(rollouts) is not None
    if share >= TIME_LIMIT_SAME_LENGTH_SHARE and common >= time_limit and not fixed:
        return Finding(name, "fail", float(share), TIME_LIMIT_SAME_LENGTH_SHARE, evidence, fix)
    if fixed and common >= time_limit:  # bsuite's DeepSea, popgym's card games
        return Finding(name, "warn", float(share), TIME_LIMIT_SAME_LENGTH_SHARE,
                       evidence + "; every probe episode ends there, by termination: either the game has that fixed "
                       "length or its time limit is reported as a termination, and the probes cannot tell which",
                       "if that ending is a time limit, " + fix)
    if len(values) == 1 and probes_ending >= 3:  # every probe ends at one step: a fixed-length game, or a hidden limit
        return Finding(name, "warn", float(share), TIME_LIMIT_SAME_LENGTH_SHARE,
                       evidence + "; every probe ends there, whatever it does", "if that ending is a time limit, " + fix)
    return Finding(name, "pass", float(share), TIME_LIMIT_SAME_LENGTH_SHARE, evidence, fix)


def reward_scale(rollouts: Sequence[Rollout]) -> Finding:
    name = "reward_scale"
    rewards = np.concatenate([r.reward[r.valid] for r in rollouts])
    magnitude = float(np.abs(rewards).mean())
    distinct = np.unique(rewards)
    if magnitude > LARGE_REWARD or 0 < magnitude < SMALL_REWARD:
        return Finding(name, "warn", magnitude, LARGE_REWARD if magnitude > 1 else SMALL_REWARD,
                       f"mean |reward| per step is {magnitude:.3g}",
                       f"scale the reward so typical steps are near 1: every learner's reward_scale (e.g. --set "
                       f"ppo.reward_scale={1 / magnitude:.2g}; returns are still reported unscaled), or "
                       "--wrap NormalizeReward")
    symmetric = abs(distinct[0] + distinct[-1]) <= 0.05 * (distinct[-1] - distinct[0])  # clips are +-c
    if distinct.size > 10 and symmetric:
        at_extremes = float(np.mean((rewards == distinct[0]) | (rewards == distinct[-1])))
        if at_extremes >= CLIPPED_SHARE:
            return Finding(name, "warn", at_extremes, CLIPPED_SHARE,
                           f"{at_extremes:.0%} of steps sit exactly at the smallest or largest of {distinct.size} reward "
                           f"values ({distinct[0]:.3g}, {distinct[-1]:.3g}): the reward looks clipped",
                           "widen or remove the clip so the learner can tell good from very good")
    return Finding(name, "pass", magnitude, LARGE_REWARD, f"mean |reward| per step {magnitude:.3g}, {distinct.size} distinct values",
                   "nothing to fix")


def rare_event(rollouts: Sequence[Rollout]) -> Finding:
    name, fix = "rare_event", ("shape the reward so progress toward the event pays too, or expect high seed variance "
                               "and run more seeds")
    steps = np.concatenate([np.abs(r.reward[r.valid]) for r in rollouts])
    episode_of = np.concatenate([np.broadcast_to(np.arange(len(r.reward))[:, None] + offset, r.reward.shape)[r.valid]
                                 for r, offset in zip(rollouts, np.cumsum([0] + [len(r.reward) for r in rollouts])[:-1])])
    total = steps.sum()
    if total == 0 or steps.size < 100:
        return Finding(name, "pass", 0.0, RARE_DOMINANCE, "no reward, or too few steps, to tell", fix)
    top = max(1, int(RARE_TOP_STEPS * steps.size))
    order = np.argsort(steps)[::-1][:top]
    order = order[steps[order] > np.median(steps)]  # steps tied with ordinary ones are no event
    if order.size == 0:
        return Finding(name, "pass", 0.0, RARE_DOMINANCE, "no step's reward stands out from the ordinary ones", fix)
    share = float(steps[order].sum() / total)
    episodes = sum(len(r.reward) for r in rollouts)
    episode_share = np.unique(episode_of[order]).size / episodes
    fires = share > RARE_DOMINANCE and episode_share <= RARE_EPISODES
    evidence = (f"the top {RARE_TOP_STEPS:.0%} of steps by |reward| carry {share:.0%} of all |reward| and occur in "
                f"{episode_share:.0%} of probe episodes")
    return Finding(name, "warn" if fires else "pass", share, RARE_DOMINANCE, evidence, fix)


def reward_component(rollouts: Sequence[Rollout]) -> Finding:
    name = "reward_component"
    keys = sorted(k for k in rollouts[0].info if k.startswith("reward_"))
    if len(keys) < 2:
        return Finding(name, "pass", None, COMPONENT_DOMINANCE, "the env reports fewer than two reward components in info",
                       "report components as info['reward_<name>'] to have them checked")
    sums = {k: float(sum(np.abs(r.info[k][r.valid]).sum() for r in rollouts)) for k in keys}
    steps = sum(int(r.valid.sum()) for r in rollouts)
    # how often each component is non-zero: a rare one (a goal bonus) being small is rare_event's business
    frequency = {k: sum(int((r.info[k][r.valid] != 0).sum()) for r in rollouts) / max(steps, 1) for k in keys}
    total = sum(sums.values())
    if total == 0:
        return Finding(name, "pass", 0.0, COMPONENT_DOMINANCE, "all components are zero under the probes", "nothing to fix")
    top, top_sum = max(sums.items(), key=lambda kv: kv[1])
    share = top_sum / total
    shares = ", ".join(f"{k.removeprefix('reward_')} {v / total:.1%}" for k, v in sums.items())
    drowned = [k for k in keys if k != top and frequency[k] >= COMPONENT_FREQUENT]
    fires = share >= COMPONENT_DOMINANCE and bool(drowned)
    return Finding(name, "warn" if fires else "pass", share, COMPONENT_DOMINANCE,
                   f"shares of |reward| under the probes: {shares}",
                   f"rescale the components so '{top.removeprefix('reward_')}' does not drown the others, if they matter")


def reward_without_progress(rollouts: Sequence[Rollout]) -> Finding:
    """A degenerate probe earns (near) the best proxy return while making no progress: zero true objective
    when the env reports one, else observations that do not change."""
    name, fix = "reward_without_progress", ("pay for the task's progress (info['true_objective']), not for a state a "
                                           "trivial policy reaches")
    means = {r.probe.name: float(r.returns.mean()) for r in rollouts}
    random_return = means["random"]
    best, spread = max(means.values()), max(means.values()) - min(means.values())
    if spread == 0:
        return Finding(name, "pass", None, NO_PROGRESS_MARGIN, "every probe earns the same return", fix)
    living = _living_reward(rollouts)
    for r in _degenerate(rollouts):
        near_best = means[r.probe.name] >= best - NO_PROGRESS_MARGIN * spread and means[r.probe.name] > random_return
        # paid beyond what its steps' living reward gives: ending fast on a step cost is early_termination's case
        paid = means[r.probe.name] - float(r.lengths.mean()) * living > NO_PROGRESS_MARGIN * spread
        if not (near_best and paid):
            continue
        true = r.true_returns()
        if true is not None and float(true.mean()) <= 0:
            return Finding(name, "fail", means[r.probe.name], best,
                           f"'{r.probe.name}' earns {means[r.probe.name]:.3g} (best probe {best:.3g}, random "
                           f"{random_return:.3g}) with true objective {float(true.mean()):.3g}", fix)
        if true is None and r.obs is not None:
            later = r.obs[:, 1:][r.valid[:, 1:]]
            if later.size and np.all(later.std(0) < 1e-6) and means[r.probe.name] > 0:
                return Finding(name, "warn", means[r.probe.name], best,
                               f"'{r.probe.name}' earns {means[r.probe.name]:.3g} (best probe) while its observation "
                               "never changes after the first step", fix)
    return Finding(name, "pass", None, NO_PROGRESS_MARGIN,
                   "no degenerate probe earns the best proxy return without progress", fix)


def reward_loop(rollouts: Sequence[Rollout], horizon: int) -> Finding:
    """The same positive reward collected again and again at the same state within one episode."""
    name, fix = "reward_loop", ("pay a reward once (or make it non-respawning), or pay for progress along the task "
                                "instead of for revisiting a state")
    best = None  # (returns, probe, reward, farm return, true objective of the paid steps)
    for r in rollouts:
        true = r.info.get("true_objective")
        for i in range(len(r.reward)):
            paid = r.valid[i] & (r.reward[i] > 0)
            # a return: paid at a state it had left (holding one good state and being paid for it is no loop)
            left_and_came_back = paid & np.concatenate([[False], r.obs_key[i][1:] != r.obs_key[i][:-1]])
            if left_and_came_back.sum() < LOOP_REPEATS:
                continue
            pairs = np.stack([r.obs_key[i][left_and_came_back],
                              r.reward[i][left_and_came_back].view(np.int32).astype(np.int64)], axis=1)
            keys, inverse, counts = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
            top = int(counts.argmax())
            repeats = int(counts[top])
            if repeats >= LOOP_REPEATS and (best is None or repeats > best[0]):
                steps = np.flatnonzero(left_and_came_back)[inverse.reshape(-1) == top]
                farm = float(r.reward[i][steps].sum()) * horizon / max(int(r.lengths[i]), 1)
                true_paid = None if true is None else float(true[i][steps].sum())
                best = (repeats, r.probe.name, float(r.reward[i][steps].max()), farm, true_paid)
    if best is None:
        return Finding(name, "pass", 0.0, float(LOOP_REPEATS), "no probe returns to a state to collect the same positive "
                       f"reward there {LOOP_REPEATS} times in an episode", fix)
    repeats, probe, reward, farm, true_paid = best
    evidence = (f"'{probe}' returns to one state {repeats} times in an episode to collect {reward:.3g} there; farmed for "
                f"the whole horizon that is about {farm:.3g}")
    if true_paid is not None:  # the env says what counts: a loop that advances the true objective is the task
        fires = true_paid <= 0
        evidence += f"; the true objective gains {true_paid:.3g} from those steps"
        return Finding(name, "fail" if fires else "pass", float(repeats), float(LOOP_REPEATS), evidence, fix)
    success = _success_return(rollouts)
    if success is not None:
        evidence += f" (the best successful probe episode earns {success:.3g})"
        return Finding(name, "fail" if farm > success else "warn", float(repeats), float(LOOP_REPEATS), evidence, fix)
    return Finding(name, "warn", float(repeats), float(LOOP_REPEATS),
                   evidence + "; with no true objective or success signal, rlcheck cannot tell whether the loop is the task",
                   fix + " (or name the true objective so the loop can be judged)")
