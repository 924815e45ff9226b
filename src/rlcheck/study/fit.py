"""`--time`: fit a study into the wall time the user gives it, before anything runs.

The estimate is `plan`'s (each method's benchmarked speed, scaled by this machine's measured speed, and a
Python env's own measured step rate). Cuts come in a fixed order, each said with the flag that undoes it:
  1. a method that alone would not fit even at the fewest seeds and the smallest budget is dropped;
  2. the hyper-parameter search (`--tune`) is left out;
  3. seeds, down to MIN_SEEDS;
  4. the budget (env steps per seed, the same for every method), down to MIN_BUDGET_FRACTION of it and
     never below what every remaining method needs (one iteration per checkpoint, updates after
     learning_starts), so no method is lost to the budget without being named;
  5. the most expensive methods, one at a time.
Deep RL is what a study asks about: a cut never takes its last RL method (a study whose RL methods
cannot fit at all is refused instead).
A study that cannot fit even so is refused with the cheapest form's estimate.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from rlcheck import registry
from rlcheck.core.errors import RLCheckError
from rlcheck.study import plan
from rlcheck.study.spec import StudySpec, _check_budget, _check_checkpoints

MIN_SEEDS = 5  # below this the intervals are too wide to decide a label (docs/verdicts.md)
MIN_BUDGET_FRACTION = 0.1
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """'90', '90s', '15m', '1.5h' -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|m|min|h)?\s*", str(text).lower())
    if not match or float(match.group(1)) <= 0:
        raise RLCheckError(f"--time {text!r} is not a duration; write e.g. --time 15m, --time 90s or --time 1.5h.")
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


@dataclasses.dataclass(frozen=True)
class Fit:
    spec: StudySpec
    seconds: float  # the estimate of the fitted study
    asked_seconds: float  # the estimate of the study as asked
    cuts: tuple[str, ...]  # what was changed, each with the flag that restores it

    def describe(self, limit: float) -> str:
        if not self.cuts:
            return f"--time {plan.clock(limit)}: the study fits as asked (about {plan.clock(self.seconds)})."
        head = (f"--time {plan.clock(limit)}: the study as asked would take about {plan.clock(self.asked_seconds)}; "
                f"fitted to about {plan.clock(self.seconds)}.")
        return "\n".join([head, *(f"  cut: {c}" for c in self.cuts)])


Estimate = Callable[[StudySpec], dict[str, float]]


def method_seconds(spec: StudySpec, env_rate: float | None = None, speed: float = 1.0) -> dict[str, float]:
    """Estimated seconds per method (its search included), on a machine `speed` times the reference one."""
    out: dict[str, float] = {}
    for job in plan.tune_jobs(spec) + plan.jobs(spec):
        out[job.method] = out.get(job.method, 0.0) + plan.estimate_seconds(job, spec.budget, env_rate, speed)
    return out


def fit(spec: StudySpec, limit: float, estimate: Estimate) -> Fit:
    """The largest form of `spec` whose estimate is within `limit` seconds, cut in the order above."""
    asked = sum(estimate(spec).values())
    cuts: list[str] = []
    seeds, budget, env = len(spec.seeds), spec.budget, spec.make_env()

    def total(s: StudySpec) -> float:
        return sum(estimate(s).values())

    # 1. methods that cannot fit on their own, even in the smallest form
    floor_budget = _floor(spec, env)
    smallest = _with(spec, env, seeds=min(seeds, MIN_SEEDS), budget=floor_budget, tune=False)
    alone = estimate(smallest)
    hopeless = _spare([m.name for m in spec.methods if alone.get(m.name, 0.0) > limit], spec, alone)
    if hopeless and len(hopeless) < len(spec.methods):
        spec = _without(spec, hopeless)
        cuts += [f"{name}: about {plan.clock(alone[name])} even at {min(seeds, MIN_SEEDS)} seeds x {floor_budget:,} steps "
                 f"(restore: --methods including {name}, and a longer --time)" for name in hopeless]
        floor_budget = _floor(spec, env)
    # 2. the search
    if total(spec) > limit and (spec.tune_configs or spec.tune_auto) and plan.tune_jobs(spec):
        spec = _with(spec, env, tune=False)
        cuts.append("the hyper-parameter search (restore: --tune N)")
    # 3-5. seeds, then the budget; where even the smallest form is too long, the dearest method goes and the
    # remaining ones get their seeds and budget back before being cut again
    dropped: list[str] = []
    while True:
        shrunk, size_cuts = _shrink(spec, env, limit, total, seeds, budget)
        if total(shrunk) <= limit or len(spec.methods) == 1:
            break
        smallest = _with(spec, env, seeds=min(seeds, MIN_SEEDS), budget=_floor(spec, env))
        costs = estimate(smallest)
        candidates = [n for n in costs if n not in _last_rl(spec)]
        if not candidates:
            break
        name = max(candidates, key=costs.get)
        spec = _without(spec, [name])
        dropped.append(f"{name}: about {plan.clock(costs[name])} even at {len(smallest.seeds)} seeds x {smallest.budget:,} "
                       f"steps, with the others (restore: --methods including {name}, and a longer --time)")
    spec, cuts = shrunk, cuts + dropped + size_cuts
    seconds = total(spec)
    if seconds > limit:
        raise RLCheckError(f"The study cannot fit in --time {plan.clock(limit)}: its smallest form ({spec.methods[0].name}, "
                           f"{len(spec.seeds)} seeds x {spec.budget:,} env steps) would take about {plan.clock(seconds)}. "
                           "Give more time, or a smaller --budget.")
    spec = dataclasses.replace(spec, time_limit=float(limit), time_cuts=tuple(cuts))
    return Fit(spec, seconds, asked, tuple(cuts))


def _shrink(spec: StudySpec, env: Any, limit: float, total: Callable[[StudySpec], float], seeds: int,
            budget: int) -> tuple[StudySpec, list[str]]:
    """Fewer seeds (to MIN_SEEDS), then a smaller budget (to `_floor`), as much as `limit` asks."""
    spec, cuts = _with(spec, env, seeds=seeds, budget=budget), []
    if total(spec) > limit and seeds > MIN_SEEDS:
        n = max([k for k in range(MIN_SEEDS, seeds) if total(_with(spec, env, seeds=k)) <= limit], default=MIN_SEEDS)
        spec = _with(spec, env, seeds=n)
        cuts.append(f"seeds {seeds} -> {n} per method (restore: --seeds {seeds})")
    floor = _floor(spec, env)
    if total(spec) > limit and budget > floor:
        low, high = floor, budget  # the largest budget that fits, by bisection (cost grows with it)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if total(_with(spec, env, budget=middle)) <= limit else (low, middle)
        spec = _with(spec, env, budget=_round_down(low, floor))
        cuts.append(f"budget {budget:,} -> {spec.budget:,} env steps per seed (restore: --budget {budget})")
    return spec, cuts


def _last_rl(spec: StudySpec) -> set[str]:
    """The study's one RL method, where only one is left (never cut), else nothing."""
    rl = [m.name for m in spec.methods if registry.get(m.name).role == "rl"]
    return set(rl) if len(rl) == 1 else set()


def _spare(names: list[str], spec: StudySpec, costs: dict[str, float]) -> list[str]:
    """`names` less the cheapest RL method among them, where they are all of the study's RL methods."""
    rl = {m.name for m in spec.methods if registry.get(m.name).role == "rl"}
    if rl and rl <= set(names):
        keep = min(rl, key=lambda n: costs.get(n, 0.0))
        return [n for n in names if n != keep]
    return names


def _keeps_all(spec: StudySpec, env: Any, budget: int) -> bool:
    """Whether every method of `spec` can use `budget`: an update before it ends, and its checkpoints."""
    if _check_budget(spec.methods, env, budget, named=False)[1]:
        return False
    try:
        _check_checkpoints(spec.methods, env, budget, spec.num_evals)
    except RLCheckError:
        return False
    return True


def _floor(spec: StudySpec, env: Any) -> int:
    """The smallest budget the cut may choose: MIN_BUDGET_FRACTION of the asked one, or more where a method needs it."""
    low = max(1, int(spec.budget * MIN_BUDGET_FRACTION))
    if _keeps_all(spec, env, low):
        return low
    high = spec.budget  # the spec as built keeps every method
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _keeps_all(spec, env, middle) else (middle, high)
    return high


def _with(spec: StudySpec, env: Any, seeds: int | None = None, budget: int | None = None,
          tune: bool | None = None) -> StudySpec:
    changes: dict[str, Any] = {}
    if seeds is not None:
        changes["seeds"] = spec.seeds[:seeds]
    if budget is not None and budget != spec.budget:
        changes["budget"] = budget  # never below _floor: every method still runs
    if tune is False:
        changes.update(tune_configs=None, tune_auto=False, tune_ranges=())
    return dataclasses.replace(spec, **changes)


def _round_down(budget: int, floor: int) -> int:
    """To two significant figures (296,093 -> 290,000), never below `floor`."""
    unit = 10 ** max(0, len(str(budget)) - 2)
    return max(floor, budget // unit * unit)


def _without(spec: StudySpec, names: list[str]) -> StudySpec:
    return dataclasses.replace(spec, methods=tuple(m for m in spec.methods if m.name not in names))
