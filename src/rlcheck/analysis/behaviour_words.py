"""Behaviour descriptors in words for the audit's texts: "cart position averages 0.41 m, 0.39 m higher
than in the other seeds (0.02 m)" rather than `obs_mean/0 0.41 vs 0.02`. The raw keys stay in the JSON."""

from __future__ import annotations

from collections.abc import Sequence

ObservationNames = Sequence[tuple[str, str]] | None


def _observation(index: str, names: ObservationNames) -> tuple[str, str]:
    i = int(index)
    if names is not None and i < len(names):
        return names[i]
    return f"observation {i}", ""


def _amount(x: float, unit: str) -> str:
    return f"{x:.2g} {unit}".rstrip() if abs(x) < 10 else f"{x:,.0f} {unit}".rstrip()


def subject(name: str, names: ObservationNames = None) -> tuple[str, str, bool]:
    """(what the descriptor measures in words, its unit, whether it is a share shown in %)."""
    kind, _, index = name.partition("/")
    if kind == "obs_mean":
        what, unit = _observation(index, names)
        return f"the average {what}", unit, False
    if kind == "obs_std":
        what, unit = _observation(index, names)
        return f"the spread of {what} within an episode", unit, False
    if kind == "action_share":
        return f"the share of steps playing action {index}", "", True
    if kind == "action_mean":
        return f"the average of action dimension {index}", "", False
    if kind == "action_std":
        return f"the spread of action dimension {index}", "", False
    if kind == "action_saturation":
        return "the share of actions at a bound", "", True
    if kind == "episode_length":
        return "the episode length", "steps", False
    if kind == "terminated_share":
        return "the share of episodes that terminate", "", True
    if kind == "success_share":
        return "the share of episodes that succeed", "", True
    if kind == "component_share":
        return f"the share of reward from {index}", "", True
    if kind == "user":
        return index, "", False
    return name, "", False


def compare(name: str, value: float, others: float, names: ObservationNames = None) -> str:
    """One descriptor of a group of seeds against the other seeds, in words."""
    what, unit, share = subject(name, names)
    direction = "higher" if value > others else "lower"
    if share:
        return f"{what} is {value:.0%}, against {others:.0%} in the other seeds"
    return (f"{what} is {_amount(value, unit)}, {_amount(abs(value - others), unit)} {direction} than in the "
            f"other seeds ({_amount(others, unit)})")


def change(name: str, before: float, after: float, names: ObservationNames = None) -> str:
    """One descriptor's jump between two checkpoints, in words."""
    what, unit, share = subject(name, names)
    if share:
        return f"{what} went from {before:.0%} to {after:.0%}"
    return f"{what} went from {_amount(before, unit)} to {_amount(after, unit)}"
