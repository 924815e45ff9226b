"""Probe policies and their rollouts: the raw material of the reward lint and the plausibility profile.

No learning. Each probe is a fixed, simple policy: uniform random, each constant action (discrete) or
the low / middle / high corner of the action box (continuous), and alternating pairs of actions.
Degenerate probes (constant, alternating) are the ones a reward should not pay for; random is the
reference. Each rollout plays one episode per copy up to the env's time limit (capped at
`MAX_PROBE_STEPS`) and keeps per-step rewards, endings, observations and the `info` values the lint reads
(`true_objective`, `is_success`, `reward_*`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck.diagnostics.behaviour import scalar_info_keys
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec

MAX_PROBE_STEPS = 1000  # longer time limits (Atari: 27,000) are cut here; the lint says so
MAX_STORED_OBS = 4096  # larger observations (frames) are kept as hashes only
EPISODES_PER_CALL = 8  # a JAX env's probes run this many episodes and steps per compiled call (the
STEPS_PER_CALL = 250  # granularity of the lint's time cap)
MIN_EPISODES = 2  # a time cap still plays this many episodes of every probe
MAX_CONSTANT_PROBES = 64  # constant-action probes at most (evenly spread over a larger joint action space)


@dataclass(frozen=True)
class Probe:
    name: str
    kind: str  # "random", "constant" or "alternating"
    actions: tuple  # the constant action, or the pair alternated; () for random


@dataclass
class Rollout:
    """One probe's episodes, padded to T steps; `valid[i, t]` marks steps inside episode i."""

    probe: Probe
    reward: np.ndarray  # [N, T]
    terminated: np.ndarray  # [N, T] bool
    truncated: np.ndarray  # [N, T] bool (time limit, or the probe's step cap on the last step)
    valid: np.ndarray  # [N, T] bool
    obs_key: np.ndarray  # [N, T] int64: a hash of the observation each step was taken from
    obs: np.ndarray | None  # [N, T, obs_size] float32, or None for large observations
    actions: np.ndarray  # [N, T] (discrete) or [N, T, action_dim]
    info: dict[str, np.ndarray] = field(default_factory=dict)  # [N, T] per info key the lint reads

    @property
    def lengths(self) -> np.ndarray:
        return self.valid.sum(1)

    @property
    def returns(self) -> np.ndarray:
        return np.where(self.valid, self.reward, 0.0).sum(1)

    def ended_by_termination(self) -> np.ndarray:
        return (self.terminated & self.valid).any(1)

    def success(self) -> np.ndarray:
        if "is_success" not in self.info:
            return np.zeros(len(self.reward), bool)
        return (self.info["is_success"].astype(bool) & self.valid).any(1)

    def true_returns(self) -> np.ndarray | None:
        if "true_objective" not in self.info:
            return None
        return np.where(self.valid, self.info["true_objective"], 0.0).sum(1)


def probes_for(env: EnvSpec, max_pairs: int = 6) -> list[Probe]:
    probes = [Probe("random", "random", ())]
    if env.discrete:
        constants = (range(env.num_actions) if env.num_actions <= MAX_CONSTANT_PROBES else  # a large factorised action
                     np.unique(np.linspace(0, env.num_actions - 1, MAX_CONSTANT_PROBES).round().astype(int)).tolist())
        probes += [Probe(f"constant action {a}", "constant", (a,)) for a in constants]
        pairs = [(a, a + 1) for a in range(min(env.num_actions - 1, max_pairs))]
        probes += [Probe(f"alternate {a}/{b}", "alternating", (a, b)) for a, b in pairs]
    else:
        low, high = np.asarray(env.action_low), np.asarray(env.action_high)
        corners = {"low": low, "middle": (low + high) / 2, "high": high}
        probes += [Probe(f"constant {n}", "constant", (tuple(v.tolist()),)) for n, v in corners.items()]
        probes.append(Probe("alternate low/high", "alternating", (tuple(low.tolist()), tuple(high.tolist()))))
    return probes


def _probe_table(env: EnvSpec, probes: list[Probe]) -> tuple[jax.Array, jax.Array]:
    """Probes as data, so one compiled program runs them all: (is_random [P], action pair [P, 2, ...])."""
    is_random = jnp.asarray([p.kind == "random" for p in probes])
    if env.discrete:
        pairs = [(p.actions * 2)[:2] if p.actions else (0, 0) for p in probes]
        return is_random, jnp.asarray(pairs, jnp.int32)
    zero = tuple([0.0] * env.num_actions)
    pairs = [(p.actions * 2)[:2] if p.actions else (zero, zero) for p in probes]
    return is_random, jnp.asarray(pairs, jnp.float32)


def rollouts(env: EnvSpec, probes: list[Probe], episodes: int, key: jax.Array,
             info_keys: tuple[str, ...] = (), horizon: int | None = None,
             max_seconds: float | None = None) -> list[Rollout]:
    """`episodes` episodes of every probe, each cut at `horizon` steps (default: the time limit, at most
    MAX_PROBE_STEPS). JAX envs: one compiled program for all probes, called for EPISODES_PER_CALL episodes
    and STEPS_PER_CALL steps at a time. With `max_seconds`, no call is made that would not fit: fewer
    episodes come back (at least one call's worth), or, if the first batch of episodes does not fit, that
    batch cut short (the lint says so)."""
    horizon = horizon or probe_horizon(env)
    if isinstance(env.env, HostEnv):
        seeds = np.asarray(jax.random.randint(key, (len(probes),), 0, 2**31 - 1))
        return [_host_rollout(env, p, episodes, int(s), info_keys, horizon) for p, s in zip(probes, seeds, strict=True)]
    per_call, chunk = min(episodes, EPISODES_PER_CALL), min(horizon, STEPS_PER_CALL)
    begin, advance = _jax_program(env, len(probes), per_call, chunk, info_keys)
    is_random, pairs = _probe_table(env, probes)
    # numpy, not jnp, between the calls: every jnp op outside the program would compile a kernel of its own
    keys = np.asarray(jax.random.split(key, len(probes) * episodes)).reshape(len(probes), episodes, -1)
    keys = np.concatenate([keys, keys[:, :(-episodes) % per_call]], axis=1)  # whole calls (the extra are dropped)
    batches, start, last_call = [], time.perf_counter(), 0.0

    def fits() -> bool:  # another call, at the last call's duration
        return not max_seconds or time.perf_counter() - start + last_call <= max_seconds

    for first in range(0, episodes, per_call):
        carry, parts = begin(keys[:, first:first + per_call]), []
        for t0 in range(0, horizon, chunk):
            if batches and not fits():
                break
            called = time.perf_counter()
            carry, part = advance(carry, is_random, pairs, np.int32(t0))
            parts.append(jax.device_get(part))
            last_call = time.perf_counter() - called
            if not batches and not fits():
                break  # the first batch, cut short
        if len(parts) * chunk < horizon and batches:
            break  # a later batch that did not finish is dropped
        batches.append(jax.tree.map(lambda *xs: np.concatenate(xs, axis=2), *parts))
        if len(parts) * chunk < horizon or not fits():
            break
    played = min(b["reward"].shape[2] for b in batches)
    r = jax.tree.map(lambda *xs: np.concatenate([x[:, :, :min(played, horizon)] for x in xs], axis=1)[:, :episodes],
                     *batches)
    out = []
    for i, probe in enumerate(probes):
        obs = np.asarray(r["obs"][i])
        terminated, truncated, valid = (np.asarray(r[k][i]).copy() for k in ("terminated", "truncated", "valid"))
        _mark_cap(valid, terminated, truncated)
        out.append(Rollout(probe, np.asarray(r["reward"][i]), terminated, truncated, valid, _hash_rows(obs),
                           obs if obs.shape[-1] <= MAX_STORED_OBS else None, np.asarray(r["action"][i]),
                           {k: np.asarray(v[i]) for k, v in r["info"].items()}))
    return out


_PROGRAMS: dict = {}


def _jax_program(env: EnvSpec, num_probes: int, episodes: int, chunk: int, info_keys: tuple[str, ...]):
    """(begin(keys [P, episodes]) -> carry, advance(carry, is_random [P], pairs [P, 2, ...], t0) -> (carry,
    records [P, episodes, chunk, ...])), compiled once: the probes' episodes `chunk` steps at a time, from step
    t0 (stepping on past an episode's end records nothing valid)."""
    cache_key = (id(env.env), env.name, num_probes, episodes, chunk, info_keys)
    if cache_key in _PROGRAMS:
        return _PROGRAMS[cache_key]
    action_shape = tuple(env.env.action_space(env.params).shape)
    low = None if env.discrete else jnp.asarray(env.action_low)
    high = None if env.discrete else jnp.asarray(env.action_high)

    def begin_one(key):
        reset_key, key = jax.random.split(key)
        obs, state = env.env.reset(reset_key, env.params)
        return obs, state, jnp.bool_(False), key

    def advance_one(key, carry, is_random, pair, t0):
        carry = jax.lax.cond(t0 == 0, lambda: begin_one(key), lambda: carry)  # the first call resets

        def step(carry, t):
            obs, state, done, key = carry
            key, act_key, step_key = jax.random.split(key, 3)
            if env.discrete:
                random_action = jax.random.randint(act_key, (), 0, env.num_actions)
            else:
                random_action = jax.random.uniform(act_key, low.shape, minval=low, maxval=high)
            action = jnp.where(is_random, random_action, pair[t % 2])
            env_action = action if env.discrete else action.reshape(action_shape)
            next_obs, next_state, reward, terminated, truncated, info = env.env.step(step_key, state, env_action, env.params)
            record = dict(reward=jnp.asarray(reward, jnp.float32), terminated=jnp.asarray(terminated, bool),
                          truncated=jnp.asarray(truncated, bool), valid=~done, obs=obs.reshape(-1).astype(jnp.float32),
                          action=action, info={k: jnp.asarray(info[k], jnp.float32) for k in info_keys})
            done = done | terminated | truncated
            return (next_obs, next_state, done, key), record

        return jax.lax.scan(step, carry, t0 + jnp.arange(chunk))

    def begin(keys):  # placeholders of the carry's shapes (nothing compiles): the first `advance` resets
        shapes = jax.eval_shape(jax.vmap(jax.vmap(begin_one)), keys)
        return keys, jax.tree.map(lambda x: np.zeros(x.shape, x.dtype), shapes)

    per_probe = jax.vmap(advance_one, in_axes=(0, 0, None, None, None))
    batched = jax.jit(jax.vmap(per_probe, in_axes=(0, 0, 0, 0, None)))

    def advance(carry, is_random, pairs, t0):
        keys, state = carry
        state, records = batched(keys, state, is_random, pairs, t0)
        return (keys, state), records

    _PROGRAMS[cache_key] = (begin, advance)
    return _PROGRAMS[cache_key]


def _mark_cap(valid: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
    """Episodes still running at the probe's step cap count as truncated on their last step."""
    running = valid[:, -1] & ~terminated[:, -1] & ~truncated[:, -1]
    truncated[running, -1] = True


def _hash_rows(obs: np.ndarray) -> np.ndarray:
    """A hash per observation (rounded to 1e-6), for spotting revisited states."""
    rounded = np.round(obs.astype(np.float64), 6)
    flat = rounded.reshape(-1, rounded.shape[-1])
    keys = np.array([hash(row.tobytes()) for row in flat], np.int64)
    return keys.reshape(obs.shape[:-1])


def probe_horizon(env: EnvSpec) -> int:
    return min(env.max_episode_steps, MAX_PROBE_STEPS)


def _host_rollout(env: EnvSpec, probe: Probe, episodes: int, seed: int, info_keys: tuple[str, ...],
                  horizon: int) -> Rollout:
    host: HostEnv = env.env
    rng = np.random.default_rng(seed)
    size = env.obs_size
    keep_obs = size <= MAX_STORED_OBS
    reward = np.zeros((episodes, horizon), np.float32)
    terminated = np.zeros((episodes, horizon), bool)
    truncated = np.zeros((episodes, horizon), bool)
    valid = np.zeros((episodes, horizon), bool)
    obs_key = np.zeros((episodes, horizon), np.int64)
    obs_store = np.zeros((episodes, horizon, size), np.float32) if keep_obs else None
    action_shape = () if env.discrete else (env.num_actions,)
    actions = np.zeros((episodes, horizon, *action_shape), np.int32 if env.discrete else np.float32)
    info = {k: np.zeros((episodes, horizon), np.float32) for k in info_keys}
    copy = host.make()
    try:
        for i in range(episodes):
            obs, _ = copy.reset(seed=int(rng.integers(2**31 - 1)))
            for t in range(horizon):
                if probe.kind == "random":
                    action = copy.action_space.sample()
                else:
                    action = probe.actions[t % len(probe.actions)]
                    action = int(action) if env.discrete else np.asarray(action, np.float32).reshape(host.action_shape)
                flat = np.asarray(obs, np.float32).reshape(-1)
                obs_key[i, t] = hash(np.round(flat.astype(np.float64), 6).tobytes())
                if keep_obs:
                    obs_store[i, t] = flat
                actions[i, t] = np.asarray(action).reshape(action_shape)
                obs, reward[i, t], terminated[i, t], truncated[i, t], step_info = copy.step(action)
                valid[i, t] = True
                for k in info_keys:
                    info[k][i, t] = float(step_info.get(k, 0.0))
                if terminated[i, t] or truncated[i, t]:
                    break
    finally:
        copy.close()
    _mark_cap(valid, terminated, truncated)
    return Rollout(probe, reward, terminated, truncated, valid, obs_key, obs_store, actions, info)


def info_keys_of(env: EnvSpec) -> tuple[str, ...]:
    """The info keys the lint reads that one step of the env provides."""
    return tuple(k for k in scalar_info_keys(env) if k in ("true_objective", "is_success") or k.startswith("reward_"))


def steps_per_second(env: EnvSpec, probes: list[Probe], episodes: int, info_keys: tuple[str, ...] = (),
                     seconds: float = 1.0, horizon: int | None = None) -> float:
    """Env steps per second on this machine. JAX envs: the probes' compiled program (all copies at once,
    `horizon` steps each: default the probes' horizon) run again after a first, compiling, call; Python
    envs: one copy stepped with random actions."""
    if isinstance(env.env, HostEnv):
        copy = env.env.make()
        try:
            copy.reset(seed=0)
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                if any(copy.step(copy.action_space.sample())[2:4]):
                    copy.reset()
                count += 1
            return count / (time.perf_counter() - start)
        finally:
            copy.close()
    horizon = horizon or probe_horizon(env)
    per_call, chunk = min(episodes, EPISODES_PER_CALL), min(horizon, STEPS_PER_CALL)
    begin, advance = _jax_program(env, len(probes), per_call, chunk, info_keys)  # as `rollouts` compiled it
    is_random, pairs = _probe_table(env, probes)
    carry = begin(np.asarray(jax.random.split(jax.random.PRNGKey(0), len(probes) * per_call)).reshape(len(probes), per_call, -1))
    count, start = 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        carry, part = advance(carry, is_random, pairs, np.int32(count))  # episodes that end restart (auto-reset)
        jax.block_until_ready(part)
        count += len(probes) * per_call * chunk
    return count / (time.perf_counter() - start)
