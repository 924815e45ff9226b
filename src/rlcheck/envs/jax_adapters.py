"""JAX envs from other packages, adapted to the gymnax 1.x API the learners compile against.

- gymnax 0.x-style envs (craftax among them): `step_env` returns 5 values with one `done`; the adapter
  splits it into terminated and truncated (truncated where the state's step counter reached the time
  limit), auto-resets, and adds `final_observation`.
- navix: `reset(key) -> Timestep`, `step(timestep, action) -> Timestep` (the key lives in the state).
- jumanji: `reset(key) -> (state, timestep)`, `step(state, action) -> (state, timestep)`, specs for spaces;
  structured observations are flattened to one float vector.
The signature is detected up front (`jax.eval_shape`, nothing runs), and the time limit is read from the
params or env by its common names (`max_steps_in_episode`, `max_timesteps`, `max_steps`, `time_limit`)
or given explicitly. By name: `craftax:Craftax-Symbolic-v1`, `navix:Navix-Empty-5x5-v0`, `jumanji:Snake-v1`.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import spaces

from rlcheck.core.errors import EnvError

TIME_LIMIT_NAMES = ("max_steps_in_episode", "max_timesteps", "max_steps", "time_limit", "max_episode_steps")
STEP_COUNTER_NAMES = ("time", "timestep", "step_count", "t")


def time_limit(env: Any, params: Any, given: int | None = None) -> int:
    if given:
        return int(given)
    for holder in (params, env):
        for name in TIME_LIMIT_NAMES:
            value = getattr(holder, name, None)
            scalar = isinstance(value, int | np.integer) or (hasattr(value, "shape") and np.shape(value) == ())
            if scalar and int(value) > 0:
                return int(value)
    raise EnvError(f"The JAX env {type(env).__name__} has no time limit rlcheck can find (looked for "
                   f"{', '.join(TIME_LIMIT_NAMES)} on its params and on the env). Give one: "
                   "rlcheck.envs.spec_from_gymnax(name, env, params, max_episode_steps=N), and pass that EnvSpec to "
                   "the API (api.check(spec, ...)).")


def limit_source(env: Any, params: Any) -> str:
    """Where `time_limit` found the limit, in words."""
    if isinstance(env, Navix | Jumanji):
        return f"{type(env).__name__.lower()}'s own limit"
    for holder, owner in ((params, "the env params'"), (env, "the env's")):
        for name in TIME_LIMIT_NAMES:
            if getattr(holder, name, None) is not None:
                return f"{owner} {name}"
    return "the env's adapter"


def _counter(state: Any) -> Any:
    for name in STEP_COUNTER_NAMES:
        if hasattr(state, name):
            return getattr(state, name)
    return None


class _AutoReset:
    """The gymnax 1.x `step` (auto-reset, final_observation, terminated/truncated) over the `transition` and
    `reset` that subclasses define; `transition` returns (obs, state, reward, terminated, truncated, info).
    `cap`, if set, truncates episodes at that many steps (read from the state's step counter)."""

    cap: int | None = None

    def _capped(self, key, state, action, params):
        obs, state, reward, terminated, truncated, info = self.transition(key, state, action, params)
        if self.cap is not None:
            truncated = jnp.logical_or(truncated, jnp.logical_and(~terminated, _counter(state) >= self.cap))
        return obs, state, reward, terminated, truncated, info

    def step(self, key, state, action, params=None):
        key_step, key_reset = jax.random.split(key)
        obs_st, state_st, reward, terminated, truncated, info = self._capped(key_step, state, action, params)
        done = jnp.logical_or(terminated, truncated)
        obs_re, state_re = self.reset(key_reset, params)
        state = jax.tree.map(lambda a, b: jax.lax.select(done, a, b), state_re, state_st)
        obs = jax.lax.select(done, obs_re, obs_st)
        return obs, state, reward, terminated, truncated, {**info, "final_observation": obs_st}

    def step_env(self, key, state, action, params=None):
        """No reset: (obs, state, reward, terminated or truncated, info), as planners step a model."""
        obs, state, reward, terminated, truncated, info = self._capped(key, state, action, params)
        return obs, state, reward, jnp.logical_or(terminated, truncated), info

    def reset_env(self, key, params=None):
        return self.reset(key, params)


class Gymnax0(_AutoReset):
    """A gymnax 0.x-style env (reset_env/step_env with a single `done`; craftax's are of this kind)."""

    def __init__(self, inner: Any, limit: int):
        self.inner, self.limit = inner, limit
        self.name = getattr(inner, "name", type(inner).__name__)

    def reset(self, key, params=None):
        return self.inner.reset_env(key, params)

    def transition(self, key, state, action, params=None):
        obs, state, reward, done, info = self.inner.step_env(key, state, action, params)
        steps = _counter(state)
        truncated = jnp.logical_and(done, steps >= self.limit) if steps is not None else jnp.bool_(False)
        info = {k: v for k, v in info.items() if k != "discount"}
        return obs, state, reward.astype(jnp.float32), jnp.logical_and(done, ~truncated), truncated, info

    def observation_space(self, params):
        return self.inner.observation_space(params)

    def action_space(self, params):
        return self.inner.action_space(params)


class Navix(_AutoReset):
    """navix: the state is its Timestep (step_type 1 = truncation, 2 = termination)."""

    def __init__(self, inner: Any):
        self.inner, self.limit = inner, int(inner.max_steps)
        self.name = type(inner).__name__

    def reset(self, key, params=None):
        timestep = self.inner.reset(key)
        return timestep.observation, timestep

    def transition(self, key, state, action, params=None):
        timestep = self.inner.step(state, action)
        return (timestep.observation, timestep, jnp.asarray(timestep.reward, jnp.float32), timestep.step_type == 2,
                timestep.step_type == 1, {})

    def observation_space(self, params):
        shape = self.inner.observation_space.shape
        return spaces.Box(0, 255, shape, jnp.uint8 if self.inner.observation_space.dtype == jnp.uint8 else jnp.float32)

    def action_space(self, params):
        return spaces.Discrete(int(self.inner.action_space.maximum) + 1)


@struct.dataclass
class JumanjiState:
    state: Any
    obs: jax.Array
    done: jax.Array


class Jumanji(_AutoReset):
    """jumanji: (state, TimeStep) pairs; a last TimeStep with discount 1 is a truncation. The observation
    (often a NamedTuple: grid, step count, action mask) is flattened into one float32 vector."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.limit = time_limit(inner, None)
        self.name = type(inner).__name__
        self._size = int(sum(np.prod(np.shape(x)) for x in jax.tree.leaves(inner.observation_spec.generate_value())))

    @staticmethod
    def _flat(observation) -> jax.Array:
        return jnp.concatenate([jnp.ravel(x).astype(jnp.float32) for x in jax.tree.leaves(observation)])

    def reset(self, key, params=None):
        state, timestep = self.inner.reset(key)
        obs = self._flat(timestep.observation)
        return obs, state

    def transition(self, key, state, action, params=None):
        state, timestep = self.inner.step(state, action)
        last = timestep.step_type == 2  # dm_env StepType.LAST
        truncated = jnp.logical_and(last, timestep.discount > 0)
        return (self._flat(timestep.observation), state, jnp.asarray(timestep.reward, jnp.float32),
                jnp.logical_and(last, ~truncated), truncated, {})

    def observation_space(self, params):
        return spaces.Box(-jnp.inf, jnp.inf, (self._size,), jnp.float32)

    def action_space(self, params):
        spec = self.inner.action_spec
        if not hasattr(spec, "num_values") or np.ndim(spec.num_values) != 0:
            raise EnvError(f"jumanji env {self.name} has a {type(spec).__name__} action spec; rlcheck's learners take "
                           "one discrete action (DiscreteArray) or a Box.")
        return spaces.Discrete(int(spec.num_values))


def step_signature(env: Any, params: Any) -> int:
    """How many values the env's `step` returns (gymnax 1.x: 6; 0.x: 5), from shapes only."""
    key = jax.random.PRNGKey(0)
    _, state = jax.eval_shape(lambda k: env.reset(k, params), key)
    action = env.action_space(params).sample(key)
    out = jax.eval_shape(lambda k, s: env.step(k, s, action, params), key, state)
    return len(out)


def adapt(env: Any, params: Any = None, max_episode_steps: int | None = None) -> tuple[Any, Any, int]:
    """(an env with the gymnax 1.x API, its params, its time limit) for a JAX env object of a known kind."""
    module = type(env).__module__.split(".")[0]
    if module == "navix":
        adapted = Navix(env)
        return adapted, None, max_episode_steps or adapted.limit
    if module == "jumanji":
        adapted = Jumanji(env)
        return adapted, None, max_episode_steps or adapted.limit
    if params is None:
        params = getattr(env, "default_params", None)
    try:
        values = step_signature(env, params)
    except Exception as exc:
        raise EnvError(f"The JAX env {type(env).__name__} does not have the gymnax API (reset(key, params), "
                       f"step(key, state, action, params)): tracing it raised {type(exc).__name__}: {exc}.") from exc
    limit = time_limit(env, params, max_episode_steps)
    if values == 6:
        return env, params, limit
    if values == 5 and hasattr(env, "step_env") and hasattr(env, "reset_env"):
        return Gymnax0(env, limit), params, limit
    raise EnvError(f"The JAX env {type(env).__name__}'s step returns {values} values; rlcheck reads gymnax 1.x (6: obs, "
                   "state, reward, terminated, truncated, info) and gymnax 0.x (5, with step_env and reset_env).")


def with_time_limit(env: Any, params: Any, limit: int, name: str) -> tuple[Any, Any]:
    """(env, params) whose episodes are truncated at `limit` steps: the params' own time-limit field set
    (gymnax's `max_steps_in_episode`, craftax's `max_timesteps`, ...), and for an adapted env also a cap
    on its step counter (navix and jumanji keep their limit inside the env: a cap can only shorten it)."""
    if limit < 1:
        raise EnvError(f"Environment {name!r}: TimeLimit needs max_episode_steps >= 1, got {limit}.")
    field = next((f for f in TIME_LIMIT_NAMES if params is not None and hasattr(params, "replace")
                  and np.ndim(getattr(params, f, None)) == 0 and getattr(params, f, None) is not None), None)
    if field is not None:
        params = params.replace(**{field: limit})
    if isinstance(env, _AutoReset):
        _, state = jax.eval_shape(lambda k: env.reset(k, params), jax.random.PRNGKey(0))
        if _counter(state) is None:
            raise EnvError(f"Environment {name!r}: its state has no step counter ({', '.join(STEP_COUNTER_NAMES)}), "
                           "so rlcheck cannot cut its episodes; set the limit in the env's own constructor.")
        env = copy.copy(env)
        env.cap = limit
        if isinstance(env, Gymnax0):
            env.limit = limit  # its truncation flag is read against this
    elif field is None:
        raise EnvError(f"Environment {name!r}: its params have no time-limit field ({', '.join(TIME_LIMIT_NAMES)}), so "
                       "--wrap TimeLimit cannot change it; set the limit in the env's own params or constructor.")
    return env, params


def make_library_env(name: str) -> tuple[str, Any, Any, int]:
    """`craftax:ID`, `navix:ID` or `jumanji:ID` -> (name, env, params, time limit)."""
    library, _, env_id = name.partition(":")
    try:
        package = importlib.import_module(library)
    except ImportError as exc:
        raise EnvError(f"Environment {name!r} needs the {library} package ({exc}); pip install {library}.") from exc
    try:
        if library == "craftax":
            from_name = importlib.import_module("craftax.craftax_env").make_craftax_env_from_name
            env = from_name(env_id, auto_reset=False)
        else:
            env = package.make(env_id)
    except Exception as exc:
        raise EnvError(f"Environment {name!r}: {library} could not make {env_id!r} ({type(exc).__name__}: {exc}). "
                       "Check the id against the package's list of environments.") from exc
    adapted, params, limit = adapt(env)
    return name, adapted, params, limit


JAX_LIBRARIES = ("craftax", "navix", "jumanji")
