"""Typed method configs: numeric hyper-parameters are pytree leaves (so they can be vmapped
over), structural ones are static. Helpers parse `--set key=value` overrides and sweeps."""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.core.errors import RLCheckError


def static(default: Any, help: str = "") -> Any:
    """A structural field (shapes, counts, switches): fixed at compile time, not vmappable."""
    return struct.field(pytree_node=False, default=default, metadata={"help": help})


def numeric(default: float, help: str = "") -> Any:
    """A numeric hyper-parameter: a pytree leaf, so one compiled program can vmap over its values."""
    return struct.field(pytree_node=True, default=default, metadata={"help": help})


def sweepable_fields(config_cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(config_cls) if f.metadata.get("pytree_node", True)]


def parse_value(config_cls: type, key: str, raw: str) -> Any:
    """Convert a `--set` string to the type of field `key`, with errors that name the fix."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    if key not in fields:
        close = difflib.get_close_matches(key, list(fields), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise RLCheckError(
            f"Unknown hyper-parameter {key!r} for {config_cls.__name__}.{hint} "
            f"Valid keys: {', '.join(fields)}."
        )
    default = fields[key].default
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(int(v) for v in raw.strip("()[] ").split(",") if v.strip())
        return raw
    except ValueError:
        kind = type(default).__name__
        example = {"bool": "true", "int": "128", "float": "3e-4", "tuple": "64,64"}.get(kind, "value")
        raise RLCheckError(
            f"Hyper-parameter {key!r} expects {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {raw!r}. "
            f"Write it like {key}={example}."
        ) from None


# What a value must be, by field name: a NaN learning rate or `gamma: 5` would otherwise run until it
# diverged, and `population: 0` fail deep inside with a ZeroDivisionError. (name test, check, wording)
_UNIT = ("gamma", "gae_lambda", "end_epsilon", "start_epsilon", "exploration_fraction", "priority_weight",
         "plan_prior")
_POSITIVE_FLOAT = ("adam_eps", "init_std", "clip_eps", "max_grad_norm", "temperature", "cg_damping", "target_kl",
                   "init_alpha", "noise_decay_iters", "ou_dt")
_AT_LEAST_ONE = ("batch_size", "buffer_size", "population", "update_epochs", "critic_epochs", "critic_minibatches",
                 "cg_iters", "horizon", "iterations", "rollouts", "replan_samples", "n_step", "top_directions",
                 "policy_delay", "gradient_steps", "line_search_steps", "target_update_interval", "max_depth")
RULES: tuple[tuple[Any, Any, str], ...] = (
    (lambda k: "learning_rate" in k, lambda v: v > 0, "a positive learning rate (e.g. 3e-4)"),
    (lambda k: k in _UNIT, lambda v: 0 <= v <= 1, "a value in [0, 1]"),
    (lambda k: k in ("tau", "elite_fraction"), lambda v: 0 < v <= 1, "a value in (0, 1]"),
    (lambda k: k in ("line_search_shrink", "rollout_repeat"), lambda v: 0 <= v < 1, "a value in [0, 1)"),
    (lambda k: k in _POSITIVE_FLOAT, lambda v: v > 0, "a positive number"),
    (lambda k: k.startswith("num_") or k in _AT_LEAST_ONE, lambda v: v >= 1, "a whole number of at least 1"),
    (lambda k: k == "hidden_sizes", lambda v: all(int(w) >= 1 for w in v), "layer widths of at least 1 (e.g. 64,64)"),
    (lambda k: k == "handover_cos", lambda v: -1 <= v <= 1, "a cosine in [-1, 1]"),
    (lambda k: k in ("learning_starts", "max_steps", "max_episode_steps", "rollout_steps"), lambda v: v >= 0,
     "zero or more"),
)


def check_value(cls: type, key: str, value: Any) -> None:
    """Refuse a value its field cannot take (non-finite numbers always), naming the field and the fix."""
    if isinstance(value, bool) or isinstance(value, str):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise RLCheckError(f"Hyper-parameter {key!r} of {cls.__name__} must be a finite number, got {value!r}. Give a "
                           "finite value, or leave it out for the default.")
    for applies, ok, wanted in RULES:
        if applies(key) and not ok(value):
            raise RLCheckError(f"Hyper-parameter {key!r} of {cls.__name__} must be {wanted}, got {value!r}. Give such "
                               "a value, or leave it out for the default.")


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """Return `config` with `overrides` applied; string values are parsed to the field's type and every
    value is checked against its field's range (`check_value`)."""
    cls = type(config)
    parsed = {k: parse_value(cls, k, v) if isinstance(v, str) else v for k, v in overrides.items()}
    for k, v in parsed.items():
        parse_value(cls, k, str(getattr(config, k)))  # validates the key name
        check_value(cls, k, v)
    return dataclasses.replace(config, **parsed)


def expand_sweep(config: Any, sweep: Mapping[str, Sequence[str | float]], structural: bool = False) -> list[Any]:
    """The cartesian product of sweep values, as concrete configs. Numeric fields share one compiled
    program; structural ones (`structural=True`, for studies) need one program per value, see
    `structure_groups`."""
    cls = type(config)
    allowed = sweepable_fields(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in sweep:
        if key not in known:
            parse_value(cls, key, "0")  # unknown key -> its own error
        if key not in allowed and not structural:
            raise RLCheckError(
                f"{key!r} is structural (it changes array shapes or the program), so it cannot be swept "
                f"inside one compiled run. Sweepable: {', '.join(allowed)}. Run separate studies with "
                f"--set {key}=... instead."
            )
    keys = list(sweep)
    combos = itertools.product(*(sweep[k] for k in keys))
    return [apply_overrides(config, dict(zip(keys, combo, strict=True))) for combo in combos]


def structure_groups(configs: Sequence[Any]) -> list[list[int]]:
    """Indices of configs that share every structural field (one compiled program each), in order."""
    groups: dict[Any, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(jax.tree.structure(config), []).append(i)
    return list(groups.values())


def stack_configs(configs: Sequence[Any]) -> Any:
    """Stack configs that differ only in numeric fields into one config with [N] leaves."""
    treedefs = {jax.tree.structure(c) for c in configs}
    if len(treedefs) != 1:
        raise RLCheckError("Configs in one vectorised run must share all structural fields.")
    return jax.tree.map(lambda *xs: jnp.asarray(xs, jnp.float32), *configs)


def describe(config: Any) -> dict[str, Any]:
    """Plain-JSON view of a config."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return value
