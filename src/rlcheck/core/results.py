"""What a run of one method returns to the engine and the store: `RunResult`, every run of a job
(configs x seeds) with its stacked trace."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rlcheck.core.trace import Trace


@dataclass
class RunResult:
    method: str
    configs: list[Any]  # one per run
    config_ids: list[int]  # index into the distinct configs, one per run
    seeds: list[int]  # one per run
    trace: Trace  # numpy leaves with a leading run axis
    wall_seconds: float
    compile_seconds: float
    diverged_at: list[int | None] = field(default_factory=list)  # per run: env steps where it went non-finite
    resumed_from_chunk: int = 0  # chunks restored from a checkpoint (an interrupted job continued, not restarted)


# -- summary.json, typed ---------------------------------------------------------------------------------
# The analysis (rlcheck.analysis.summary) computes these; the store writes them with `to_json()`; the CLI,
# the API and the verdict read attributes. The JSON form is specified in docs/summary.schema.json.


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95% interval (None where undefined, e.g. no finite seed). `approximate`:
    at this many seeds the interval covers less than 90% in benchmarks/coverage.py for some of the return
    distributions RL produces (analysis/summary.py: APPROXIMATE_BELOW)."""

    value: float | None
    low: float | None
    high: float | None
    approximate: bool = False


@dataclass(frozen=True)
class StepsToThreshold:
    """Median env steps for half the seeds to reach the threshold (Kaplan-Meier), with its 95% band. Each is
    a checkpoint: the first one at or above the threshold, so the crossing itself came after the checkpoint
    before it, `after` for the median and `low_after` for the band's low end (the checkpoint grid)."""

    median: float | None
    low: float | None
    high: float | None
    after: float | None = None
    low_after: float | None = None


@dataclass(frozen=True)
class SeedResult:
    seed: int
    final_return: float | None  # None: diverged or non-finite
    env_steps: int  # learning env steps used by the end
    model_calls: int
    solved: bool
    first_reached: int | None  # env steps of the first checkpoint at or above the threshold
    diverged: bool
    descriptors: dict[str, float | None] | None = None  # behaviour descriptors of the final policy


@dataclass(frozen=True)
class MethodSummary:
    """One method-and-config over its seeds: every seed, and the statistics across them."""

    name: str
    config_id: int
    label_name: str  # name, or name#config_id
    kind: str  # "rl" or "baseline" (from the method's registry record)
    label: str  # the verdict word: reliable / unstable / not solved within the budget / not judged
    seeds: tuple[SeedResult, ...]
    successes: int
    success_rate: Interval
    steps_to_threshold: StepsToThreshold
    final_return: dict[str, Interval]  # iqm, median, mean with bootstrap intervals
    cvar25: Interval
    diverged_seeds: tuple[int, ...]
    fell_back_seeds: tuple[int, ...]  # reached the threshold at a checkpoint, then ended below it
    learning_env_steps: int
    model_calls: int
    eval_model_calls_per_episode: float | None
    verdict_text: str
    noise_floor: dict[str, Any] | None = None  # None: too few seeds to split
    survival: dict[str, list[float | None]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    compile_seconds: float = 0.0
    # The return a diverged seed counts as in every statistic: the worst final return seen in the study
    # (None: no seed of the study has a finite one).
    diverged_as: float | None = None
    # The one-sided level of the success rate's bounds behind `label`: 0.05, or stricter in a sequential
    # study (--until-decided), where the labels are looked at several times (analysis/labels.py).
    label_level: float = 0.05
    # Settings derived for this env (no tuned entry for it; methods/derived.py): field -> {value, reason}.
    derived_settings: dict[str, Any] = field(default_factory=dict)
    # --tune: {configs, search_seeds, chosen} of the search this method's configuration came from.
    search: dict[str, Any] = field(default_factory=dict)

    @property
    def finals(self) -> list[float]:
        """Final returns of the seeds that have one (not diverged, finite)."""
        return [s.final_return for s in self.seeds if s.final_return is not None]

    @property
    def scored_finals(self) -> list[float]:
        """Every seed's final return, a diverged one counted at `diverged_as` (the statistics use these)."""
        if self.diverged_as is None:
            return self.finals
        return [self.diverged_as if s.final_return is None else s.final_return for s in self.seeds]


@dataclass(frozen=True)
class Verdict:
    """`label` answers "can deep RL solve it?" (the best RL method's label; the best method's where no RL
    method ran); `questions` holds both headline answers, "can deep RL solve it?" and "is there a simpler
    way?", each {question, label, method, answer}."""

    label: str
    text: str
    best_method: str | None = None
    lines: tuple[str, ...] = ()
    questions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class StudySummary:
    env: str
    budget: dict[str, int]  # env_steps, num_evals, eval_episodes
    threshold: float | None  # None: success not judged
    verdict: Verdict
    methods: tuple[MethodSummary, ...]
    reward_threshold: float | None = None
    env_backend: str | None = None
    env_warnings: tuple[str, ...] = ()
    baselines_vs_rl: tuple[dict[str, Any], ...] = ()
    skipped: tuple[dict[str, str], ...] = ()
    comparisons: tuple[dict[str, Any], ...] = ()
    audit: dict[str, Any] = field(default_factory=dict)
    sweeps: tuple[dict[str, Any], ...] = ()
    failed_jobs: tuple[dict[str, Any], ...] = ()
    wall_seconds: float | None = None
    rlcheck_version: str | None = None
    fingerprint: str | None = None
    # --until-decided: the design (looks, level) and, per method, the seeds it took and why it stopped.
    sequential: dict[str, Any] | None = None
    # --tune: per searched method, the search, its choice, the selection bias and the sensitivity.
    tuning: tuple[dict[str, Any], ...] = ()
    # --time: the seconds the study was fitted into, and what was cut (each with the flag that restores it).
    time_fit: dict[str, Any] | None = None

    def method(self, name: str, config_id: int = 0) -> MethodSummary | None:
        return next((m for m in self.methods if m.name == name and m.config_id == config_id), None)

    @property
    def diverged(self) -> bool:
        return any(m.diverged_seeds for m in self.methods)

    def to_json(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudySummary:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ValueError(f"summary.json has fields this rlcheck does not know: {', '.join(unknown)}")
        out = {k: v for k, v in data.items() if k in fields}
        out["verdict"] = Verdict(**{**data["verdict"], "lines": tuple(data["verdict"].get("lines", ())),
                                    "questions": tuple(data["verdict"].get("questions", ()))})
        out["methods"] = tuple(_method(m) for m in data["methods"])
        for name in ("env_warnings", "baselines_vs_rl", "skipped", "comparisons", "sweeps", "failed_jobs", "tuning"):
            out[name] = tuple(data.get(name) or ())
        return cls(**out)


def _interval(d: dict[str, Any]) -> Interval:
    return Interval(d["value"], d["low"], d["high"], bool(d.get("approximate", False)))


def _method(d: dict[str, Any]) -> MethodSummary:
    if "collapsed_seeds" in d:  # summaries written before the field was renamed (issue 20)
        d = {**{k: v for k, v in d.items() if k != "collapsed_seeds"}, "fell_back_seeds": d["collapsed_seeds"]}
    return MethodSummary(**{
        **d,
        "seeds": tuple(SeedResult(**s) for s in d["seeds"]),
        "success_rate": _interval(d["success_rate"]),
        "steps_to_threshold": StepsToThreshold(**d["steps_to_threshold"]),
        "final_return": {k: _interval(v) for k, v in d["final_return"].items()},
        "cvar25": _interval(d["cvar25"]),
        "diverged_seeds": tuple(d["diverged_seeds"]),
        "fell_back_seeds": tuple(d["fell_back_seeds"]),
    })


def _plain(value: Any) -> Any:
    """dataclasses.asdict's output as JSON values: tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
