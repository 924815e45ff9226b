"""Python (Gymnasium) environments driven from inside the compiled learners.

A `HostEnv` stands in for a gymnax env. `envs.vector.reset/step` hand its batches to the host with one
`jax.pure_callback` per step for every seed and config at once (`vmap_method="broadcast_all"`), so the
policy is one batched call, the learner's update stays compiled, and the learners need no change.
The JAX-side env state is only slot numbers (which Python env copies a batch owns) and a step
counter (it keeps XLA from merging or hoisting steps whose inputs look alike).

Copies live in pools keyed by the call site ("train" or "eval") and the batch shape, so an evaluation
never resets the training envs, and a pool is reused by later resets of the same shape. Episodes end
with Gymnasium 1.x same-step autoreset semantics: the returned observation is the next episode's first,
`final_obs` holds the true last one, and `terminated` and `truncated` stay apart.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

import cloudpickle  # gymnasium's own dependency: pickles the lambdas its wrappers hold
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from rlcheck.core.errors import EnvError, RLCheckError
from rlcheck.envs.closing import close_quietly

log = logging.getLogger("rlcheck")
SNAPSHOT_LIMIT = 256 * 2**20  # bytes: larger env copies are not saved with a checkpoint
DEFAULT_STEP_TIMEOUT = 60.0  # seconds; `--step-timeout` (RLCHECK_STEP_TIMEOUT), 0 for none


def step_timeout() -> float:
    """The longest a Python env's batch of steps (one per copy) or resets may take before its job fails."""
    try:
        return max(0.0, float(os.environ.get("RLCHECK_STEP_TIMEOUT", DEFAULT_STEP_TIMEOUT)))
    except ValueError:
        return DEFAULT_STEP_TIMEOUT


@struct.dataclass
class HostState:
    slots: jax.Array  # [n] int32: which Python env copies this batch steps
    owner: jax.Array  # [n] int32: the HostEnv instance (process) the slots belong to
    t: jax.Array  # [n] int32: steps taken, so no two steps' inputs look alike


class HostEnv:
    """A Python env factory plus the spaces the learners need; copies are made on demand."""

    def __init__(self, name: str, make: Callable[[], Any], obs_shape: tuple[int, ...], obs_dtype: Any,
                 action_shape: tuple[int, ...], discrete: bool, make_eval: Callable[[], Any] | None = None):
        self.name = name
        self.make = make
        self.make_eval = make_eval or make  # evaluation copies may differ (Atari: whole games, raw scores)
        self.obs_shape = obs_shape
        self.obs_dtype = np.dtype(obs_dtype)
        self.action_shape = action_shape
        self.discrete = discrete
        self._copies: dict[int, Any] = {}
        self._next_slot = 0
        self.owner = int(np.random.default_rng().integers(1, np.iinfo(np.int32).max))
        self._adopted: dict[tuple[int, int], int] = {}  # (owner, slot) from a resumed state -> our slot
        self._saved: dict[tuple[int, int], Any] = {}  # (owner, slot) -> its copy, restored from a checkpoint
        self._snapshots: bool | None = None  # whether copies survive pickling (checked once), False if too large
        self._pools: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self.timeout = step_timeout()
        self._current = ""  # which copy and call is running, for the timeout's message
        self._busy: dict[int, float] = {}  # thread id -> when its env call began (read by `stuck_for`)
        self._given_up: set[int] = set()  # threads left in a call that ran past the timeout
        self.stop_requested = False  # set on Ctrl-C / SIGTERM: the next env call raises, ending the computation

    def take_failure(self) -> BaseException | None:
        """The error the env raised inside a callback (XLA wraps it on its way out), once; a Ctrl-C or
        SIGTERM that arrived while the env was stepping comes back as itself, to stop the whole study."""
        failure, self._failure = self._failure, None
        return failure

    def _call(self, what: str, fn: Callable[[], Any], empty: Callable[[], Any] | None = None) -> Any:
        """`fn()` with the env's errors reported as the env's, timed for the step timeout. Once a stop is
        requested (Ctrl-C, SIGTERM), a call with `empty` returns that placeholder at once instead: the chunk
        then runs to its end in moments without raising through XLA, and is discarded."""
        thread = threading.get_ident()
        if thread in self._given_up:  # the rest of a computation whose env call timed out: nobody reads it
            if empty is not None:
                return empty()
            raise KeyboardInterrupt
        if self.stop_requested:
            if empty is not None:
                return empty()
            raise KeyboardInterrupt
        if thread in self._busy:  # nested inside a call already timed
            return fn()
        self._current = what
        self._busy[thread] = time.monotonic()
        try:
            return fn()
        except (RLCheckError, KeyboardInterrupt) as exc:  # KeyboardInterrupt: Ctrl-C or SIGTERM mid-step
            self._fail(thread, exc)
            raise
        except Exception as exc:
            error = self._env_error(what, exc)
            self._fail(thread, error)
            raise error from exc
        finally:
            self._busy.pop(thread, None)

    def _fail(self, thread: int, error: BaseException) -> None:
        """Kept for `take_failure` (XLA wraps the error on its way out), unless the call was given up on."""
        if thread not in self._given_up:
            self._failure = error

    def stuck_for(self) -> float:
        """Seconds the longest-running env call now in progress has taken (0 when none is)."""
        started = [t for thread, t in list(self._busy.items()) if thread not in self._given_up]
        return time.monotonic() - min(started) if started else 0.0

    def timed_out(self) -> EnvError | None:
        """The job's error when an env call has run past the step timeout, else None. Env calls run on
        XLA's callback thread, where the caller cannot stop them (no signal reaches it, and a hand-over to a
        watchable thread costs 40% of a fast env's throughput): the thread is left in the user's code, its
        computation discarded, and later calls get fresh copies. The waiting thread asks this between
        slices (`engine.runner.interruptible`)."""
        if not self.timeout or self.stuck_for() <= self.timeout:
            return None
        self._given_up.update(self._busy)
        with self._lock:
            self._copies, self._pools, self._adopted = {}, {}, {}
        return EnvError(
            f"Environment {self.name!r} did not return from {self._current or 'a call'} within the step timeout of "
            f"{self.timeout:g} s. rlcheck stopped this job; the study goes on with the others. Fix the env (run "
            "that call by hand), or allow longer steps with --step-timeout SECONDS (0 for no limit).")

    def _env_error(self, what: str, exc: Exception) -> RLCheckError:
        if isinstance(exc, RLCheckError):
            return exc
        return EnvError(
            f"Environment {self.name!r} raised {type(exc).__name__}: {exc} inside {what}. rlcheck stopped this job; "
            "other jobs' results are kept. Fix the env (run it by hand with the same action to reproduce)."
        )

    # -- host side -------------------------------------------------------------------------------
    def _pool(self, site: str, shape: tuple[int, ...]) -> np.ndarray:
        with self._lock:
            if (site, shape) not in self._pools:
                start, size = self._next_slot, int(np.prod(shape))
                make = self.make_eval if site == "eval" else self.make
                self._copies.update({start + i: make() for i in range(size)})
                self._next_slot = start + size
                self._pools[(site, shape)] = np.arange(start, start + size, dtype=np.int32).reshape(shape)
            return self._pools[(site, shape)]

    def _reward(self, r: Any, action: Any) -> float:
        """A reward that is not a plain number: a 0-d array is read as its value; anything else is refused."""
        if isinstance(r, np.ndarray) and r.shape == () and np.issubdtype(r.dtype, np.number):
            return float(r)
        shape = f" of shape {r.shape}" if isinstance(r, np.ndarray) else ""
        raise EnvError(
            f"Environment {self.name!r} returned a reward of type {type(r).__name__}{shape} ({r!r:.60}) from "
            f"step({action!r}); a Gymnasium env returns one number per step. Return a float (e.g. float(reward)), "
            "or, for a batch of one, reward[0].")

    def _obs(self, obs: Any) -> np.ndarray:
        try:
            arr = np.asarray(obs, dtype=self.obs_dtype)
        except (TypeError, ValueError) as exc:
            raise EnvError(
                f"Environment {self.name!r} returned an observation that is not an array of numbers ({type(obs).__name__}: "
                f"{obs!r:.60}; {exc}). Return what its observation_space holds, e.g. a float32 array of shape "
                f"{self.obs_shape}.") from exc
        if arr.shape != self.obs_shape:  # checked here, not by broadcasting: (1,) would fill a (4,) row
            raise EnvError(
                f"Environment {self.name!r} returned an observation of shape {arr.shape}, but its observation_space "
                f"says {self.obs_shape}. Make the env's observations match its observation_space."
            )
        return arr

    def _host_reset(self, site: str, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slots = self._pool(site, seeds.shape)
        obs = np.empty(seeds.shape + self.obs_shape, self.obs_dtype)
        for index in np.ndindex(seeds.shape):
            env = self._copies[slots[index]]
            first, _ = self._call("reset()", lambda env=env, i=index: env.reset(seed=int(seeds[i])))
            obs[index] = self._obs(first)
        return obs, slots

    def _adopt(self, owner: int, slot: int) -> Any:
        """A slot from another process (a resumed run): its copy as the checkpoint saved it, mid-episode, or
        (when the copies could not be saved) a fresh one, whose cut-off episode the caller calls truncated."""
        with self._lock:
            if (owner, slot) not in self._adopted:
                saved = self._saved.pop((owner, slot), None)
                self._adopted[(owner, slot)] = self._next_slot
                self._copies[self._next_slot] = self.make() if saved is None else saved
                self._next_slot += 1
                return self._copies[self._adopted[(owner, slot)]], saved is None
            return self._copies[self._adopted[(owner, slot)]], False

    def snapshot(self) -> bytes | None:
        """The training copies, pickled under the (owner, slot) ids a saved JAX state refers to, so that a
        resumed run continues their episodes exactly (`restore`). None when they cannot be pickled or are
        too large (then a resumed run starts them afresh, and says so in the log). Evaluation copies are
        left out: every evaluation resets them from its own seeds."""
        if self._snapshots is None:
            self._snapshots = self._pickles_faithfully()
        if not self._snapshots:
            return None
        with self._lock:
            train = {int(s) for (site, _), slots in self._pools.items() if site == "train" for s in slots.ravel()}
            copies = {(self.owner, s): self._copies[s] for s in train if s in self._copies}
            copies |= {key: self._copies[mine] for key, mine in self._adopted.items() if mine in self._copies}
            try:
                blob = cloudpickle.dumps(copies, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # e.g. a simulator handle: resumed runs restart those episodes
                self._snapshots = False
                log.warning("The copies of %s cannot be saved with a checkpoint (%s: %s): a resumed run starts their "
                            "episodes afresh, counted as truncated.", self.name, type(exc).__name__, exc)
                return None
        if len(blob) > SNAPSHOT_LIMIT:
            self._snapshots = False
            log.warning("The copies of %s take %d MB pickled, more than a checkpoint holds: a resumed run starts "
                        "their episodes afresh.", self.name, len(blob) // 2**20)
            return None
        return blob

    def _pickles_faithfully(self) -> bool:
        """Does a pickled copy step on as the original does? Checked on a probe copy taken mid-episode: some
        envs pickle their constructor's arguments only (gymnasium's EzPickle: Box2D, MuJoCo), so a restored copy
        would be a fresh env passed off as the old one."""
        probe = clone = None
        try:
            probe = self.make()
            probe.reset(seed=0)
            probe.action_space.seed(0)
            for _ in range(5):
                if any(probe.step(probe.action_space.sample())[2:4]):
                    probe.reset()
            clone = pickle.loads(cloudpickle.dumps(probe, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes
            for _ in range(20):
                action = probe.action_space.sample()
                a, b = probe.step(action), clone.step(action)
                if not (np.array_equal(np.asarray(a[0]), np.asarray(b[0])) and a[1:4] == b[1:4]):
                    raise ValueError("a restored copy steps differently from the original")
                if any(a[2:4]):
                    probe.reset(), clone.reset()
            return True
        except Exception as exc:
            log.warning("The copies of %s cannot be saved with a checkpoint (%s: %s): a resumed run starts their "
                        "episodes afresh, counted as truncated, so its results differ from an uninterrupted run's.",
                        self.name, type(exc).__name__, exc)
            return False
        finally:
            for env in (probe, clone):
                if env is not None:
                    close_quietly(env)

    def restore(self, blob: bytes) -> None:
        """Copies saved by `snapshot`: this process's own ids replace its copies in place; another process's
        are adopted, mid-episode, when the resumed state first steps them."""
        copies = pickle.loads(blob)  # noqa: S301 - the study's own checkpoint, checked against its fingerprint
        with self._lock:
            for (owner, slot), env in copies.items():
                if owner == self.owner and slot in self._copies:
                    self._copies[slot] = env
                elif (owner, slot) in self._adopted:
                    self._copies[self._adopted[(owner, slot)]] = env
                else:
                    self._saved[(owner, slot)] = env

    def _host_step(self, slots: np.ndarray, owners: np.ndarray, t: np.ndarray, actions: np.ndarray,
                   info_keys: tuple[str, ...] = ()):
        del t  # only there to make every step's inputs distinct
        shape, n = slots.shape, slots.size
        infos = np.zeros((n, len(info_keys)), np.float32)
        obs = np.empty((n, *self.obs_shape), self.obs_dtype)
        final = np.empty_like(obs)
        reward = np.zeros(n, np.float32)
        terminated = np.zeros(n, bool)
        truncated = np.zeros(n, bool)
        slot_list, owner_list = slots.ravel().tolist(), owners.ravel().tolist()
        flat_actions = actions.reshape(n).tolist() if self.discrete else actions.reshape((n, *self.action_shape))
        for i in range(n):  # a plain loop: this is the hot path of every Python env step
            if owner_list[i] == self.owner:
                env = self._copies[slot_list[i]]
            else:
                env, fresh = self._adopt(owner_list[i], slot_list[i])
                if fresh:  # start afresh and call the cut-off episode truncated, as a time limit would
                    final[i] = obs[i] = self._obs(env.reset()[0])
                    truncated[i] = True
                    continue
            action = flat_actions[i]
            self._current = f"step({action!r}) of copy {slot_list[i]}"
            try:
                out = env.step(action)
            except Exception as exc:  # the user's env: any error is theirs, reported as such
                raise self._env_error(f"step({action!r})", exc) from exc
            if len(out) != 5:
                raise EnvError(
                    f"Environment {self.name!r} returned {len(out)} values from step(); the Gymnasium 1.x API "
                    "returns 5 (obs, reward, terminated, truncated, info). Port the env to the new API or wrap it "
                    "with gymnasium's compatibility wrapper (shimmy)."
                )
            next_obs, r, term, trunc, info = out
            if not isinstance(r, int | float | np.number):  # a rare path: checked only when odd
                r = self._reward(r, action)
            reward[i] = r
            for j, k in enumerate(info_keys):  # read only for evaluation (behaviour, true objective)
                infos[i, j] = float(info.get(k, np.nan))
            final[i] = self._obs(next_obs)
            terminated[i], truncated[i] = term, trunc
            if term or trunc:
                try:
                    next_obs, _ = env.reset()
                except Exception as exc:
                    raise self._env_error("reset()", exc) from exc
                obs[i] = self._obs(next_obs)
            else:
                obs[i] = final[i]
        out = (obs, reward, terminated, truncated, final) + ((infos,) if info_keys else ())
        return tuple(x.reshape(shape + x.shape[1:]) for x in out)

    # -- JAX side --------------------------------------------------------------------------------
    def reset(self, key: jax.Array, num_envs: int, site: str) -> tuple[jax.Array, HostState]:
        seeds = jax.random.randint(key, (num_envs,), 0, np.iinfo(np.int32).max)
        shapes = (jax.ShapeDtypeStruct((num_envs,) + self.obs_shape, self.obs_dtype),
                  jax.ShapeDtypeStruct((num_envs,), jnp.int32))
        def empty_reset(s):
            lead = np.shape(s)
            return np.zeros(lead + self.obs_shape, self.obs_dtype), np.zeros(lead, np.int32)

        obs, slots = jax.pure_callback(lambda s: self._call("reset()", lambda: self._host_reset(site, np.asarray(s)),
                                                            lambda: empty_reset(s)), shapes, seeds,
                                       vmap_method="broadcast_all")
        return obs, HostState(slots, jnp.full((num_envs,), self.owner, jnp.int32), jnp.zeros((num_envs,), jnp.int32))

    def step(self, state: HostState, actions: jax.Array, info_keys: tuple[str, ...] = ()):
        """(obs, state, reward, terminated, truncated, final_obs), then [n, len(info_keys)] info values
        (NaN where a step's info lacks the key) when `info_keys` are asked for."""
        n, size, extra = state.slots.shape[0], int(np.prod(self.obs_shape)), len(info_keys)
        t = state.t + 1
        ids = jnp.stack([state.slots, state.owner, t], axis=-1)  # one input array, not three
        if self.obs_dtype == np.float32:
            # One packed float32 output per step (obs | final obs | reward | terminated | truncated): turning
            # callback results into JAX arrays costs per array, and this is the hot path.
            def host_step(ids, a):
                return self._call("step()", lambda: self._pack(*self._host_step(*np.moveaxis(np.asarray(ids), -1, 0), np.asarray(a), info_keys)),
                                  lambda: np.zeros(np.shape(ids)[:-1] + (2 * size + 3 + extra,), np.float32))

            packed = jax.pure_callback(host_step, jax.ShapeDtypeStruct((n, 2 * size + 3 + extra), jnp.float32), ids, actions,
                                       vmap_method="broadcast_all")
            obs = packed[:, :size].reshape((n, *self.obs_shape))
            final = packed[:, size:2 * size].reshape((n, *self.obs_shape))
            reward, terminated, truncated = packed[:, 2 * size], packed[:, 2 * size + 1] > 0.5, packed[:, 2 * size + 2] > 0.5
            if info_keys:
                return obs, state.replace(t=t), reward, terminated, truncated, final, packed[:, 2 * size + 3:]
        else:  # e.g. uint8 frames: kept in their own dtype
            frames = jax.ShapeDtypeStruct((n, *self.obs_shape), self.obs_dtype)
            shapes = (frames, jax.ShapeDtypeStruct((n,), jnp.float32), jax.ShapeDtypeStruct((n,), bool),
                      jax.ShapeDtypeStruct((n,), bool), frames)
            shapes += (jax.ShapeDtypeStruct((n, extra), jnp.float32),) if info_keys else ()

            def host_step(ids, a):
                def empty_step(lead=np.shape(ids)[:-1]):
                    out = (np.zeros(lead + self.obs_shape, self.obs_dtype), np.zeros(lead, np.float32), np.zeros(lead, bool),
                           np.zeros(lead, bool), np.zeros(lead + self.obs_shape, self.obs_dtype))
                    return out + ((np.zeros(lead + (extra,), np.float32),) if info_keys else ())

                return self._call("step()", lambda: self._host_step(*np.moveaxis(np.asarray(ids), -1, 0), np.asarray(a), info_keys),
                                  empty_step)

            obs, reward, terminated, truncated, final, *infos = jax.pure_callback(host_step, shapes, ids, actions,
                                                                                  vmap_method="broadcast_all")
            if info_keys:
                return obs, state.replace(t=t), reward, terminated, truncated, final, infos[0]
        return obs, state.replace(t=t), reward, terminated, truncated, final

    @staticmethod
    def _pack(obs, reward, terminated, truncated, final, *infos) -> np.ndarray:
        lead = reward.shape
        flat = lambda x: x.reshape(lead + (-1,)).astype(np.float32)
        return np.concatenate([flat(obs), flat(final), flat(reward), flat(terminated), flat(truncated), *map(flat, infos)], axis=-1)

    def close(self) -> None:
        for env in self._copies.values():
            close_quietly(env)
        self._copies.clear()
        self._pools.clear()
        self._adopted.clear()
