"""What a policy does, measured during every evaluation: the behaviour descriptors and the true objective.

At each checkpoint the K evaluation episodes also accumulate, per episode, the episode length, how it
ended, the action distribution (discrete: each action's share; continuous: mean, spread and the share
of saturated action dimensions), observation statistics (small observations), reward-component shares
(`info["reward_<name>"]`), user descriptors (`info["descriptor_<name>"]`, or a function) and the true
objective when the study names one. They become scalars per checkpoint, stored as `behaviour/<name>`:
the raw material of the divergence, shift, mode and collapse analyses.

User functions (`true_objective="module:function"`, `descriptors="module:function"`) are called per
step as f(obs, action, reward, next_obs) and must be JAX-traceable (jnp, no Python control flow on
values): they run inside the compiled evaluation. A function that fails, or returns the wrong shape,
is dropped with an error that names it; the study goes on without it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec

MAX_OBS_DESCRIPTORS = 16  # observation statistics only for observations this small
MAX_ACTION_DESCRIPTORS = 18
SATURATION = 0.02  # an action dimension within 2% of the range from a bound is saturated
RESERVED_INFO = ("final_observation", "terminated", "truncated", "discount", "TimeLimit.truncated")


@dataclass(frozen=True)
class BehaviourSpec:
    info_keys: tuple[str, ...]  # every info key evaluation reads
    components: tuple[str, ...]  # reward_<name> keys
    descriptor_keys: tuple[str, ...]  # descriptor_<name> keys
    has_success: bool
    true_key: str | None
    true_fn: Callable | None
    descriptor_fn: Callable | None
    descriptor_size: int
    descriptor_names: tuple[str, ...]  # user/<name> per output of descriptor_fn (its `names`, else fn0, fn1, ...)
    errors: tuple[str, ...]  # user inputs that were dropped, and why


_SPECS: dict[tuple, BehaviourSpec] = {}


def scalar_info_keys(env: EnvSpec) -> tuple[str, ...]:
    """The scalar keys of one step's `info` (found by stepping a copy once)."""
    if isinstance(env.env, HostEnv):
        if not hasattr(env.env, "scalar_info_keys"):
            copy = env.env.make()
            try:
                copy.reset(seed=0)
                info = copy.step(copy.action_space.sample())[4]
            finally:
                copy.close()
            env.env.scalar_info_keys = tuple(sorted(k for k, v in info.items()
                                                    if k not in RESERVED_INFO and np.ndim(v) == 0 and _numeric(v)))
        return env.env.scalar_info_keys
    key = jax.random.PRNGKey(0)
    _, state = env.env.reset(key, env.params)
    action = env.env.action_space(env.params).sample(key)
    info = jax.eval_shape(lambda s, a: env.env.step(key, s, a, env.params)[5], state, action)
    return tuple(sorted(k for k, v in info.items() if k not in RESERVED_INFO and np.ndim(v) == 0))


def _numeric(value: Any) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def load_function(path: str, what: str) -> Callable:
    module_name, _, attr = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{what} {path!r} cannot be loaded ({type(exc).__name__}: {exc}); write it as "
                         "'package.module:function' with the module importable") from exc
    if not callable(fn):
        raise ValueError(f"{what} {path!r} is not a function")
    return fn


def behaviour_spec(env: EnvSpec) -> BehaviourSpec:
    cache_key = (id(env.env), env.name, env.true_objective, env.descriptors)
    if cache_key not in _SPECS:
        _SPECS[cache_key] = _build_spec(env)
    return _SPECS[cache_key]


def _build_spec(env: EnvSpec) -> BehaviourSpec:
    available = scalar_info_keys(env)
    errors: list[str] = []
    true_key, true_fn = None, None
    if env.true_objective:
        if ":" in env.true_objective:
            try:
                true_fn = _checked(load_function(env.true_objective, "The true-objective function"), env, "true objective", scalar=True)
            except ValueError as exc:
                errors.append(str(exc))
        elif env.true_objective in available:
            true_key = env.true_objective
        else:
            errors.append(f"The true objective {env.true_objective!r} is not a key of the env's step info (its scalar "
                          f"keys: {', '.join(available) or 'none'}). Name one of those, or give 'module:function'.")
    descriptor_fn, size, names = None, 0, ()
    if env.descriptors:
        try:
            fn = _checked(load_function(env.descriptors, "The descriptor function"), env, "descriptor", scalar=False)
            size = _output_size(fn, env)
            names = _descriptor_names(fn, size)
            descriptor_fn = fn
        except ValueError as exc:
            size = 0
            errors.append(str(exc))
    components = tuple(k for k in available if k.startswith("reward_"))
    descriptor_keys = tuple(k for k in available if k.startswith("descriptor_"))
    has_success = "is_success" in available
    keys = components + descriptor_keys + (("is_success",) if has_success else ()) + ((true_key,) if true_key else ())
    return BehaviourSpec(tuple(dict.fromkeys(keys)), components, descriptor_keys, has_success, true_key, true_fn,
                         descriptor_fn, size, names, tuple(errors))


def _descriptor_names(fn: Callable, size: int) -> tuple[str, ...]:
    """A descriptor function may name its outputs with a `names` attribute (a sequence of `size` strings)."""
    names = getattr(fn, "names", None)
    if names is None:
        return tuple(f"fn{i}" for i in range(size))
    if len(names) != size or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"The descriptor function {getattr(fn, '__qualname__', fn)!r} has names={tuple(names)!r} but "
                         f"returns {size} value(s) per step; give one non-empty name per value, or drop `names`.")
    return tuple(names)


def _example(env: EnvSpec):
    obs = jax.ShapeDtypeStruct(env.obs_shape, jnp.float32)
    action = jax.ShapeDtypeStruct((), jnp.int32) if env.discrete else jax.ShapeDtypeStruct((env.num_actions,), jnp.float32)
    return obs, action, jax.ShapeDtypeStruct((), jnp.float32), obs


def _output_size(fn: Callable, env: EnvSpec) -> int:
    return int(np.prod(jax.eval_shape(fn, *_example(env)).shape))


def _checked(fn: Callable, env: EnvSpec, what: str, scalar: bool) -> Callable:
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        out = jax.eval_shape(fn, *_example(env))
    except Exception as exc:  # the user's function: any error is theirs
        raise ValueError(f"The {what} function {name} raised {type(exc).__name__}: {exc} when called as "
                         "f(obs, action, reward, next_obs) with JAX arrays; it was dropped. Make it JAX-traceable "
                         "(jnp operations, no Python branching on values).") from exc
    if not hasattr(out, "shape") or (scalar and out.shape != ()) or (not scalar and len(out.shape) > 1):
        shape = getattr(out, "shape", type(out).__name__)
        want = "a scalar" if scalar else "a scalar or a 1-D array"
        raise ValueError(f"The {what} function {name} returned shape {shape}; it must return {want} per step. "
                         "It was dropped.")
    return fn


STDERR = "stderr/"  # prefix of a descriptor's standard error over its evaluation episodes


# -- accumulation inside the evaluation loop -------------------------------------------------------

def init_accumulator(env: EnvSpec, spec: BehaviourSpec, episodes: int) -> dict[str, jax.Array]:
    zeros = lambda *shape: jnp.zeros((episodes, *shape), jnp.float32)
    acc = {"length": zeros(), "terminated": zeros(), "true": zeros(), "success": zeros()}
    if env.discrete:
        acc["action_count"] = zeros(min(env.num_actions, MAX_ACTION_DESCRIPTORS))
    else:
        acc["action_sum"], acc["action_sq"], acc["saturated"] = zeros(env.num_actions), zeros(env.num_actions), zeros()
    if env.obs_size <= MAX_OBS_DESCRIPTORS:
        acc["obs_sum"], acc["obs_sq"] = zeros(env.obs_size), zeros(env.obs_size)
    acc["component"] = zeros(len(spec.components))
    acc["descriptor"] = zeros(len(spec.descriptor_keys) + spec.descriptor_size)
    return acc


def accumulate(acc: dict[str, jax.Array], env: EnvSpec, spec: BehaviourSpec, live: jax.Array, obs, action, reward,
               terminated, next_obs, info: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Add one step of K episodes; `live` masks episodes that already ended."""
    w = live.astype(jnp.float32)
    acc = dict(acc)
    acc["length"] += w
    acc["terminated"] = jnp.maximum(acc["terminated"], w * terminated)
    if spec.has_success:
        acc["success"] = jnp.maximum(acc["success"], w * (jnp.nan_to_num(info["is_success"]) > 0.5))
    if spec.true_key:
        acc["true"] += w * jnp.nan_to_num(info[spec.true_key])
    elif spec.true_fn is not None:
        acc["true"] += w * jax.vmap(spec.true_fn)(obs, action, reward, next_obs).astype(jnp.float32)
    if env.discrete:
        acc["action_count"] += w[:, None] * jax.nn.one_hot(action, min(env.num_actions, MAX_ACTION_DESCRIPTORS))  # larger indices: zeros
    else:
        a = action.reshape(action.shape[0], -1)
        low, high = jnp.asarray(env.action_low), jnp.asarray(env.action_high)
        near = SATURATION * (high - low)
        saturated = jnp.mean((a <= low + near) | (a >= high - near), axis=-1)
        acc["action_sum"] += w[:, None] * a
        acc["action_sq"] += w[:, None] * a**2
        acc["saturated"] += w * saturated
    if "obs_sum" in acc:
        flat = obs.reshape(obs.shape[0], -1).astype(jnp.float32)
        acc["obs_sum"] += w[:, None] * flat
        acc["obs_sq"] += w[:, None] * flat**2
    if spec.components:
        acc["component"] += w[:, None] * jnp.abs(jnp.stack([jnp.nan_to_num(info[k]) for k in spec.components], -1))
    parts = [jnp.stack([jnp.nan_to_num(info[k]) for k in spec.descriptor_keys], -1)] if spec.descriptor_keys else []
    if spec.descriptor_fn is not None:
        user = jax.vmap(spec.descriptor_fn)(obs, action, reward, next_obs)
        parts.append(user.reshape(user.shape[0], -1).astype(jnp.float32))
    if parts:
        acc["descriptor"] += w[:, None] * jnp.concatenate(parts, -1)
    return acc


def summarise(acc: dict[str, jax.Array], env: EnvSpec, spec: BehaviourSpec) -> dict[str, jax.Array]:
    """Scalars for one checkpoint, over its K evaluation episodes."""
    steps = jnp.maximum(acc["length"].sum(), 1.0)
    out = {"episode_length": acc["length"].mean(), "terminated_share": acc["terminated"].mean()}
    if spec.has_success:
        out["success_share"] = acc["success"].mean()
    if spec.true_key or spec.true_fn is not None:
        out["true_return"], out["true_return_std"] = acc["true"].mean(), acc["true"].std()
    if env.discrete:
        shares = acc["action_count"].sum(0) / steps
        out.update({f"action_share/{a}": shares[a] for a in range(shares.shape[0])})
    else:
        mean = acc["action_sum"].sum(0) / steps
        std = jnp.sqrt(jnp.maximum(acc["action_sq"].sum(0) / steps - mean**2, 0.0))
        for d in range(min(env.num_actions, MAX_ACTION_DESCRIPTORS)):
            out[f"action_mean/{d}"], out[f"action_std/{d}"] = mean[d], std[d]
        out["action_saturation"] = acc["saturated"].sum() / steps
    if "obs_sum" in acc:
        mean = acc["obs_sum"].sum(0) / steps
        std = jnp.sqrt(jnp.maximum(acc["obs_sq"].sum(0) / steps - mean**2, 0.0))
        for i in range(env.obs_size):
            out[f"obs_mean/{i}"], out[f"obs_std/{i}"] = mean[i], std[i]
    if spec.components:
        totals = acc["component"].sum(0)
        shares = totals / jnp.maximum(totals.sum(), 1e-12)
        out.update({f"component_share/{k.removeprefix('reward_')}": shares[j] for j, k in enumerate(spec.components)})
    names = [k.removeprefix("descriptor_") for k in spec.descriptor_keys] + list(spec.descriptor_names)
    values = acc["descriptor"].sum(0) / steps
    out.update({f"user/{n}": values[j] for j, n in enumerate(names)})
    out.update(standard_errors(acc, env, spec, names))
    return {k: jnp.asarray(v, jnp.float32) for k, v in out.items()}


def standard_errors(acc: dict[str, jax.Array], env: EnvSpec, spec: BehaviourSpec, user_names: list[str]) -> dict[str, jax.Array]:
    """`stderr/NAME`: the standard error of each descriptor from its K episodes' own values (their
    spread over sqrt(K)). How far one seed's descriptor moves from evaluation noise alone, so the mode
    analysis can tell a real difference between seeds from a different draw of start states."""
    k = acc["length"].shape[0]
    length = jnp.maximum(acc["length"], 1.0)
    per: dict[str, jax.Array] = {"episode_length": acc["length"], "terminated_share": acc["terminated"]}
    if spec.has_success:
        per["success_share"] = acc["success"]
    if env.discrete:
        shares = acc["action_count"] / length[:, None]
        per.update({f"action_share/{a}": shares[:, a] for a in range(shares.shape[1])})
    else:
        mean = acc["action_sum"] / length[:, None]
        std = jnp.sqrt(jnp.maximum(acc["action_sq"] / length[:, None] - mean**2, 0.0))
        for d in range(min(env.num_actions, MAX_ACTION_DESCRIPTORS)):
            per[f"action_mean/{d}"], per[f"action_std/{d}"] = mean[:, d], std[:, d]
        per["action_saturation"] = acc["saturated"] / length
    if "obs_sum" in acc:
        mean = acc["obs_sum"] / length[:, None]
        std = jnp.sqrt(jnp.maximum(acc["obs_sq"] / length[:, None] - mean**2, 0.0))
        for i in range(env.obs_size):
            per[f"obs_mean/{i}"], per[f"obs_std/{i}"] = mean[:, i], std[:, i]
    if spec.components:
        shares = acc["component"] / jnp.maximum(acc["component"].sum(1, keepdims=True), 1e-12)
        per.update({f"component_share/{c.removeprefix('reward_')}": shares[:, j] for j, c in enumerate(spec.components)})
    values = acc["descriptor"] / length[:, None]
    per.update({f"user/{n}": values[:, j] for j, n in enumerate(user_names)})
    scale = 1.0 / jnp.sqrt(max(k * (k - 1), 1))  # sample std (ddof 1) over sqrt(K)
    return {f"{STDERR}{name}": jnp.sqrt(jnp.sum((v - v.mean()) ** 2)) * scale if k > 1 else jnp.float32(jnp.nan)
            for name, v in per.items()}


# -- episodes played on the host (planners on Python envs) ------------------------------------------

class EpisodeRecorder:
    """One host-played episode, step by step, for `summarise_recorded`: planners on Python envs step
    the env outside JAX, and their behaviour is then measured by the same accumulate/summarise as the
    compiled evaluation, so a descriptor means the same thing for every method."""

    def __init__(self, env: EnvSpec, spec: BehaviourSpec):
        self.spec = spec
        # observations only when something reads them (an Atari frame per step would be gigabytes)
        self.keep_obs = env.obs_size <= MAX_OBS_DESCRIPTORS or spec.descriptor_fn is not None
        self.steps: list[tuple] = []

    def add(self, obs, action, reward: float, terminated: bool, next_obs, info: dict[str, Any]) -> None:
        observed = (np.asarray(obs, np.float32), np.asarray(next_obs, np.float32)) if self.keep_obs else (None, None)
        infos = np.array([_info_value(info, k) for k in self.spec.info_keys], np.float32)
        self.steps.append((observed[0], np.asarray(action), float(reward), float(terminated), observed[1], infos))


def _info_value(info: dict[str, Any], key: str) -> float:
    try:
        return float(info[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")  # accumulate reads NaN as 0, as on the JAX path


def summarise_recorded(env: EnvSpec, spec: BehaviourSpec, episodes: list[EpisodeRecorder]) -> dict[str, float]:
    """The behaviour scalars of K recorded episodes (padded to the longest; padding is masked out)."""
    length = max(len(e.steps) for e in episodes)

    def column(i: int, dtype) -> np.ndarray:
        rows = []
        for e in episodes:
            values = np.stack([np.asarray(s[i], dtype) for s in e.steps])
            rows.append(np.concatenate([values, np.zeros((length - len(values), *values.shape[1:]), dtype)]))
        return np.stack(rows, axis=1)  # [T, K, ...]

    live = np.stack([np.arange(length) < len(e.steps) for e in episodes], axis=1)
    action_dtype = np.int32 if env.discrete else np.float32
    keep_obs = episodes[0].keep_obs  # else accumulate reads no observation: None is an empty pytree for scan
    xs = (live, column(0, np.float32) if keep_obs else None, column(1, action_dtype), column(2, np.float32),
          column(3, np.float32), column(4, np.float32) if keep_obs else None, column(5, np.float32))

    def step(acc, x):
        live, obs, action, reward, terminated, next_obs, infos = x
        info = {k: infos[:, j] for j, k in enumerate(spec.info_keys)}
        return accumulate(acc, env, spec, live, obs, action, reward, terminated, next_obs, info), None

    acc, _ = jax.lax.scan(step, init_accumulator(env, spec, len(episodes)), xs)
    return {k: float(v) for k, v in jax.device_get(summarise(acc, env, spec)).items()}
