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

import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from rlcheck.errors import RLCheckError


@struct.dataclass
class HostState:
    slots: jax.Array  # [n] int32: which Python env copies this batch steps
    owner: jax.Array  # [n] int32: the HostEnv instance (process) the slots belong to
    t: jax.Array  # [n] int32: steps taken, so no two steps' inputs look alike


class HostEnv:
    """A Python env factory plus the spaces the learners need; copies are made on demand."""

    def __init__(self, name: str, make: Callable[[], Any], obs_shape: tuple[int, ...], obs_dtype: Any,
                 action_shape: tuple[int, ...], discrete: bool):
        self.name = name
        self.make = make
        self.obs_shape = obs_shape
        self.obs_dtype = np.dtype(obs_dtype)
        self.action_shape = action_shape
        self.discrete = discrete
        self._copies: dict[int, Any] = {}
        self._next_slot = 0
        self.owner = int(np.random.default_rng().integers(1, np.iinfo(np.int32).max))
        self._adopted: dict[tuple[int, int], int] = {}  # (owner, slot) from a resumed state -> our slot
        self._pools: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
        self._lock = threading.Lock()
        self._failure: RLCheckError | None = None

    def take_failure(self) -> RLCheckError | None:
        """The error the env raised inside a callback (XLA wraps it on its way out), once."""
        failure, self._failure = self._failure, None
        return failure

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RLCheckError as exc:
            self._failure = exc
            raise
        except Exception as exc:
            self._failure = RLCheckError(
                f"Environment {self.name!r} raised {type(exc).__name__}: {exc} inside {what}. rlcheck stopped this "
                "job; other jobs' results are kept. Fix the env (run it by hand with the same action to reproduce)."
            )
            raise self._failure from exc

    # -- host side -------------------------------------------------------------------------------
    def _pool(self, site: str, shape: tuple[int, ...]) -> np.ndarray:
        with self._lock:
            if (site, shape) not in self._pools:
                start, size = self._next_slot, int(np.prod(shape))
                self._copies.update({start + i: self.make() for i in range(size)})
                self._next_slot = start + size
                self._pools[(site, shape)] = np.arange(start, start + size, dtype=np.int32).reshape(shape)
            return self._pools[(site, shape)]

    def _obs(self, obs: Any) -> np.ndarray:
        arr = np.asarray(obs, dtype=self.obs_dtype)
        if arr.shape != self.obs_shape:
            raise RLCheckError(
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
        """A slot from another process (a resumed run): its Python copy died with that process."""
        with self._lock:
            if (owner, slot) not in self._adopted:
                self._adopted[(owner, slot)] = self._next_slot
                self._copies[self._next_slot] = self.make()
                self._next_slot += 1
                return self._copies[self._adopted[(owner, slot)]], True
            return self._copies[self._adopted[(owner, slot)]], False

    def _host_step(self, slots: np.ndarray, owners: np.ndarray, actions: np.ndarray, t: np.ndarray):
        del t  # only there to make every step's inputs distinct
        shape = slots.shape
        obs = np.empty(shape + self.obs_shape, self.obs_dtype)
        final = np.empty_like(obs)
        reward = np.empty(shape, np.float32)
        terminated = np.empty(shape, bool)
        truncated = np.empty(shape, bool)
        for index in np.ndindex(shape):
            if owners[index] == self.owner:
                env = self._copies[int(slots[index])]
            else:
                env, fresh = self._adopt(int(owners[index]), int(slots[index]))
                if fresh:  # start afresh and call the cut-off episode truncated, as a time limit would
                    final[index] = obs[index] = self._obs(env.reset()[0])
                    reward[index], terminated[index], truncated[index] = 0.0, False, True
                    continue
            action = int(actions[index]) if self.discrete else np.asarray(actions[index]).reshape(self.action_shape)
            out = self._call(f"step({action!r})", lambda env=env, a=action: env.step(a))
            if len(out) != 5:
                raise RLCheckError(
                    f"Environment {self.name!r} returned {len(out)} values from step(); the Gymnasium 1.x API "
                    "returns 5 (obs, reward, terminated, truncated, info). Port the env to the new API or wrap it "
                    "with gymnasium's compatibility wrapper (shimmy)."
                )
            next_obs, r, term, trunc, _ = out
            final[index] = self._obs(next_obs)
            reward[index], terminated[index], truncated[index] = r, term, trunc
            if term or trunc:
                next_obs, _ = self._call("reset()", env.reset)
                obs[index] = self._obs(next_obs)
            else:
                obs[index] = final[index]
        return obs, reward, terminated, truncated, final

    # -- JAX side --------------------------------------------------------------------------------
    def reset(self, key: jax.Array, num_envs: int, site: str) -> tuple[jax.Array, HostState]:
        seeds = jax.random.randint(key, (num_envs,), 0, np.iinfo(np.int32).max)
        shapes = (jax.ShapeDtypeStruct((num_envs,) + self.obs_shape, self.obs_dtype),
                  jax.ShapeDtypeStruct((num_envs,), jnp.int32))
        obs, slots = jax.pure_callback(lambda s: self._call("reset()", lambda: self._host_reset(site, np.asarray(s))), shapes, seeds,
                                       vmap_method="broadcast_all")
        return obs, HostState(slots, jnp.full((num_envs,), self.owner, jnp.int32), jnp.zeros((num_envs,), jnp.int32))

    def step(self, state: HostState, actions: jax.Array):
        n = state.slots.shape[0]
        obs = jax.ShapeDtypeStruct((n,) + self.obs_shape, self.obs_dtype)
        shapes = (obs, jax.ShapeDtypeStruct((n,), jnp.float32), jax.ShapeDtypeStruct((n,), bool),
                  jax.ShapeDtypeStruct((n,), bool), obs)
        t = state.t + 1
        def host_step(s, o, a, c):
            return self._call("step()", lambda: self._host_step(np.asarray(s), np.asarray(o), np.asarray(a), c))

        out = jax.pure_callback(host_step,
                                shapes, state.slots, state.owner, actions, t, vmap_method="broadcast_all")
        obs, reward, terminated, truncated, final = out
        return obs, state.replace(t=t), reward, terminated, truncated, final

    def close(self) -> None:
        for env in self._copies.values():
            env.close()
        self._copies.clear()
        self._pools.clear()
        self._adopted.clear()
