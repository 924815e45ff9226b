"""JAX envs from other packages: gymnax 0.x's 5-value step (craftax's kind), time limits under other
names, spaces from another package's copy of gymnax's classes, and env objects given to the API."""

from __future__ import annotations

from dataclasses import dataclass

import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from rlcheck import api, registry
from rlcheck.core.budget import Budget
from rlcheck.core.errors import EnvError, RLCheckError
from rlcheck.engine import run_method
from rlcheck.envs import make_env, register_spec, spec_from_gymnax
from rlcheck.envs.jax_adapters import Gymnax0

INNER, INNER_PARAMS = gymnax.make("CartPole-v1")


@struct.dataclass
class OldParams:  # craftax names its time limit max_timesteps
    inner: object
    max_timesteps: int = 200


@dataclass
class Discrete:  # another package's copy of gymnax's space (craftax ships its own)
    n: int

    def sample(self, key):
        return jax.random.randint(key, (), 0, self.n)


class OldStyleCartPole:
    """CartPole behind the gymnax 0.x API: one `done` (termination or the time limit) from a 5-value step."""

    @property
    def default_params(self):
        return OldParams(INNER_PARAMS.replace(max_steps_in_episode=200))

    def reset_env(self, key, params):
        return INNER.reset_env(key, params.inner)

    def step_env(self, key, state, action, params):
        obs, state, reward, terminated, info = INNER.step_env(key, state, action, params.inner)
        return obs, state, reward, terminated | (state.time >= params.max_timesteps), {"discount": 1.0 - terminated}

    def reset(self, key, params=None):
        return self.reset_env(key, params or self.default_params)

    def step(self, key, state, action, params=None):
        return self.step_env(key, state, action, params or self.default_params)

    def observation_space(self, params):
        return INNER.observation_space(params.inner)

    def action_space(self, params):
        return Discrete(2)


def test_a_gymnax_0x_env_is_detected_and_its_done_split_at_the_time_limit():
    spec = spec_from_gymnax("old-cartpole", OldStyleCartPole())
    assert isinstance(spec.env, Gymnax0) and spec.max_episode_steps == 200 and spec.discrete and spec.num_actions == 2
    key = jax.random.PRNGKey(0)
    obs, state = spec.env.reset(key, spec.params)
    state = state.replace(time=199)
    out = spec.env.step(key, state, 0, spec.params)
    assert len(out) == 6 and bool(out[4]) and not bool(out[3])  # truncated, not terminated
    assert "final_observation" in out[5] and "discount" not in out[5]


def test_ppo_and_cem_train_on_a_gymnax_0x_env_given_as_an_object():
    name = register_spec(OldStyleCartPole())
    env = make_env(name)
    for method_name in ("ppo", "cem"):
        method = registry.get_method(method_name)
        result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(20_000, 2, 3))
        assert np.isfinite(result.trace.eval_returns).all()
        assert result.trace.eval_returns[0, -1].mean() > 25  # learns (random play: about 22)
    assert api.study_spec(OldStyleCartPole(), seeds=1, budget=10_000, threshold=150, methods=["cem"]).env.startswith(
        "OldStyleCartPole")


class NoTimeLimitField:
    """gymnax 1.x API, but params that name no time limit."""

    default_params = object()

    def reset(self, key, params=None):
        return INNER.reset(key, INNER_PARAMS)

    def step(self, key, state, action, params=None):
        return INNER.step(key, state, action, INNER_PARAMS)

    def observation_space(self, params):
        return INNER.observation_space(INNER_PARAMS)

    def action_space(self, params):
        return INNER.action_space(INNER_PARAMS)


def test_a_jax_env_without_a_time_limit_is_refused_with_the_fix_and_takes_one_given():
    with pytest.raises(EnvError, match="no time limit.*max_episode_steps=N"):
        spec_from_gymnax("no-limit", NoTimeLimitField())
    assert spec_from_gymnax("given-limit", NoTimeLimitField(), max_episode_steps=77).max_episode_steps == 77


def test_library_prefixes_name_the_package_when_missing():
    try:
        import jumanji  # noqa: F401  (not in the test extra; benchmarks/third_party.py runs it)
    except ImportError:
        with pytest.raises(EnvError, match="needs the jumanji package.*pip install jumanji"):
            make_env("jumanji:Snake-v1")
    else:
        assert make_env("jumanji:Snake-v1").num_actions == 4


def test_reward_dtype_and_flags_are_normalised():
    spec = spec_from_gymnax("old-cartpole-2", OldStyleCartPole())
    key = jax.random.PRNGKey(1)
    _, state = spec.env.reset(key, spec.params)
    out = spec.env.step(key, state, 1, spec.params)
    assert out[2].dtype == jnp.float32


def _episode_length(spec, action, steps: int = 400) -> tuple[int, bool]:
    key = jax.random.PRNGKey(0)
    _, state = spec.env.reset(key, spec.params)
    step = jax.jit(lambda k, s: spec.env.step(k, s, action, spec.params))
    for t in range(1, steps + 1):
        key, k = jax.random.split(key)
        _, state, _, terminated, truncated, _ = step(k, state)
        if terminated or truncated:
            return t, bool(truncated)
    return steps, False


def test_time_limit_wrapper_sets_a_jax_envs_own_limit():
    spec = make_env("Pendulum-v1", wrappers=["TimeLimit:max_episode_steps=37"])
    assert spec.max_episode_steps == 37 and spec.params.max_steps_in_episode == 37
    assert spec.wrappers == ("TimeLimit:max_episode_steps=37",)
    assert _episode_length(spec, jnp.zeros(1)) == (37, True)
    assert _episode_length(make_env("Pendulum-v1"), jnp.zeros(1)) == (200, True)  # the original is untouched


def test_time_limit_wrapper_caps_an_adapted_env_and_refuses_what_it_cannot_change():
    name = register_spec(OldStyleCartPole())
    capped = make_env(name, wrappers=["TimeLimit:max_episode_steps=9"])
    assert capped.max_episode_steps == 9 and capped.params.max_timesteps == 9
    key = jax.random.PRNGKey(1)
    _, state = capped.env.reset(key, capped.params)
    out = capped.env.step(key, state.replace(time=8), 0, capped.params)
    assert bool(out[4]) and not bool(out[3])  # the 9th step is a truncation
    with pytest.raises(RLCheckError, match="takes only TimeLimit"):
        make_env("CartPole-v1", wrappers=["FlattenObservation"])
    fixed = spec_from_gymnax("fixed-limit", NoTimeLimitField(), max_episode_steps=77)
    register_spec(fixed)
    with pytest.raises(EnvError, match="no time-limit field"):
        make_env("fixed-limit", wrappers=["TimeLimit:max_episode_steps=20"])


def test_a_users_jax_class_by_module_name_is_built_as_a_jax_env_with_kwargs_as_params():
    from rlcheck.envs.host import HostEnv

    spec = make_env("tiny_envs:DelayedPayoff", env_kwargs={"delay": 10})
    assert not isinstance(spec.env, HostEnv) and spec.params.delay == 10 and spec.discrete
    assert make_env("tiny_envs:DelayedPayoff").params.delay == 100  # kwargs do not leak between specs
    capped = make_env("tiny_envs:DelayedPayoff", wrappers=("TimeLimit:max_episode_steps=50",))
    assert capped.max_episode_steps == 50
    with pytest.raises(RLCheckError, match="--env-kwargs lag: not fields of DelayedPayoff's params"):
        make_env("tiny_envs:DelayedPayoff", env_kwargs={"lag": 3})
    assert isinstance(make_env("user_envs:GoRight").env, HostEnv)  # a gymnasium.Env class stays on the host
