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
        probes += [Probe(f"constant action {a}", "constant", (a,)) for a in range(env.num_actions)]
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
             info_keys: tuple[str, ...] = (), horizon: int | None = None) -> list[Rollout]:
    """`episodes` episodes of every probe, each cut at `horizon` steps (default: the time limit, at most
    MAX_PROBE_STEPS). JAX envs: one compiled program for all probes and episodes."""
    horizon = horizon or probe_horizon(env)
    if isinstance(env.env, HostEnv):
        seeds = np.asarray(jax.random.randint(key, (len(probes),), 0, 2**31 - 1))
        return [_host_rollout(env, p, episodes, int(s), info_keys, horizon) for p, s in zip(probes, seeds, strict=True)]
    fn = _jax_program(env, len(probes), episodes, horizon, info_keys)
    is_random, pairs = _probe_table(env, probes)
    r = jax.device_get(fn(key, is_random, pairs))
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


def _jax_program(env: EnvSpec, num_probes: int, episodes: int, horizon: int, info_keys: tuple[str, ...]):
    """fn(key, is_random [P], pairs [P, 2, ...]) -> records [P, episodes, horizon, ...], compiled once."""
    cache_key = (id(env.env), env.name, num_probes, episodes, horizon, info_keys)
    if cache_key in _PROGRAMS:
        return _PROGRAMS[cache_key]
    action_shape = tuple(env.env.action_space(env.params).shape)
    low = None if env.discrete else jnp.asarray(env.action_low)
    high = None if env.discrete else jnp.asarray(env.action_high)

    def one_episode(key, is_random, pair):
        reset_key, key = jax.random.split(key)
        obs, state = env.env.reset(reset_key, env.params)

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

        return jax.lax.scan(step, (obs, state, jnp.bool_(False), key), jnp.arange(horizon))[1]

    def program(key, is_random, pairs):
        keys = jax.random.split(key, num_probes * episodes).reshape(num_probes, episodes, -1)
        per_probe = jax.vmap(one_episode, in_axes=(0, None, None))
        return jax.vmap(per_probe)(keys, is_random, pairs)

    _PROGRAMS[cache_key] = jax.jit(program)
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
                     seconds: float = 1.0) -> float:
    """Env steps per second on this machine. JAX envs: the probes' compiled program (all copies at once)
    run again; Python envs: one copy stepped with random actions."""
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
    horizon = min(env.max_episode_steps, MAX_PROBE_STEPS)
    fn = _jax_program(env, len(probes), episodes, horizon, info_keys)  # compiled already by `rollouts`
    is_random, pairs = _probe_table(env, probes)
    count, start = 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        jax.block_until_ready(fn(jax.random.PRNGKey(count), is_random, pairs))
        count += len(probes) * episodes * horizon
    return count / (time.perf_counter() - start)
