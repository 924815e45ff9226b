"""What planners share: a host-side `setup` (e.g. linearise and solve a Riccati equation), then a
pure `plan` step that may use the env as a model from a copy of the current state, vmapped over
seeds and evaluation episodes. A planner's trace has one checkpoint, at 0 learning env steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlcheck.core.budget import Budget
from rlcheck.core.contracts import MethodBase
from rlcheck.core.errors import NotApplicable
from rlcheck.core.results import RunResult
from rlcheck.core.trace import Trace
from rlcheck.diagnostics import behaviour
from rlcheck.envs import vector
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec


def require_jax_model(env: EnvSpec, planner: str) -> None:
    """Planners step the env as a model from a copy of its state: a JAX env's state is a value to copy;
    a Python env's is hidden inside the object."""
    if isinstance(env.env, HostEnv):
        raise NotApplicable(f"{planner} uses the env as a model from a copy of its state, and {env.name} is a Python "
                            "env whose state rlcheck cannot copy. Use the gymnax version of the env if there is one.")


class Planner(MethodBase):
    """Subclasses define name, Config, defaults, check(env), setup(env, config) -> params,
    init_carry(params, env, config, obs) and plan(params, env, config, obs, env_state, carry, key)
    -> (action, carry, model_calls)."""

    name: str

    def setup_model_calls(self, params: Any) -> int:
        return 0


def evaluate_planner(planner: Planner, params: Any, key: jax.Array, env: EnvSpec, config: Any, episodes: int):
    """Returns (episode returns [episodes], model calls [episodes], behaviour scalars) of the planner on
    the real env."""
    spec = behaviour.behaviour_spec(env)
    reset_key, key = jax.random.split(key)
    obs, env_state = vector.reset(env, reset_key, episodes, site="eval")
    carry = jax.vmap(lambda o: planner.init_carry(params, env, config, o))(obs)

    def body(loop):
        obs, env_state, carry, returns, calls, done, t, key, acc = loop
        key, plan_key, step_key = jax.random.split(key, 3)
        action, carry, used = jax.vmap(lambda o, s, c, k: planner.plan(params, env, config, o, s, c, k))(
            obs, env_state, carry, jax.random.split(plan_key, episodes))
        next_obs, env_state, reward, terminated, truncated, final_obs, info = vector.step_info(
            env, step_key, env_state, action, spec.info_keys)
        acc = behaviour.accumulate(acc, env, spec, ~done, obs, action, reward, terminated, final_obs, info)
        returns = returns + jnp.where(done, 0.0, reward)
        calls = calls + jnp.where(done, 0, used)
        return next_obs, env_state, carry, returns, calls, done | terminated | truncated, t + 1, key, acc

    def cond(loop):
        return jnp.logical_and(~jnp.all(loop[5]), loop[6] < env.max_episode_steps)

    init = (obs, env_state, carry, jnp.zeros(episodes), jnp.zeros(episodes, jnp.int32), jnp.zeros(episodes, bool), 0, key,
            behaviour.init_accumulator(env, spec, episodes))
    out = jax.lax.while_loop(cond, body, init)
    return out[3], out[4], behaviour.summarise(out[8], env, spec)


def run_planner_batch(planner: Planner, env: EnvSpec, config: Any, seeds: list[int], budget: Budget) -> Trace:
    """One checkpoint per seed: `budget.eval_episodes` episodes planned on the real env."""
    planner.check(env)
    params = planner.setup(env, config)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds, jnp.uint32))
    run = jax.jit(jax.vmap(lambda k: evaluate_planner(planner, params, k, env, config, budget.eval_episodes)))
    returns, calls, behaviour_now = jax.device_get(run(keys))
    n = len(seeds)
    return Trace(
        env_steps=np.zeros((n, 1), np.int64),
        model_calls=np.full((n, 1), planner.setup_model_calls(params), np.int64),
        eval_returns=np.asarray(returns)[:, None, :],
        train_returns=np.full((n, 1), np.nan),
        train_episodes=np.zeros((n, 1)),
        diagnostics={"eval_model_calls_per_episode": np.asarray(calls, np.float64).mean(-1)[:, None]},
        behaviour={k: np.asarray(v)[:, None] for k, v in behaviour_now.items()},
    )


def play_on_host(env: EnvSpec, seed: int, choose: Callable[[Any, Any], tuple[Any, int]],
                 recorder: behaviour.EpisodeRecorder | None = None, max_steps: int | None = None) -> tuple[float, int, int]:
    """One episode of a host planner on a fresh real copy of a Python env: `choose(real_env, obs)` gives
    (action, model calls) at every real step. Returns (return, model calls, steps); `recorder` gets every
    real step, for the behaviour descriptors. `max_steps` caps the episode (None: the env's own end)."""
    real = env.env.make_eval()
    obs, _ = real.reset(seed=int(seed))
    total, calls, steps, done = 0.0, 0, 0, False
    while not done and (max_steps is None or steps < max_steps):
        action, used = choose(real, obs)
        calls += used
        next_obs, reward, terminated, truncated, info = real.step(action)
        if recorder is not None:
            recorder.add(obs, action, reward, terminated, next_obs, info)
        obs = next_obs
        total += float(reward)
        steps += 1
        done = terminated or truncated
    real.close()
    return total, calls, steps


def run_host_planner(method: Any, env: EnvSpec, play, configs: list[Any], seeds: list[int], budget: Budget,
                     progress=None, setup_calls: int = 0):
    """A planner on a Python env, game by game on the host: `play(config, seed, recorder)` returns one
    episode's (return, model calls, steps) and feeds each real step to `recorder`. One checkpoint at 0
    learning env steps, as for JAX planners, with the same behaviour scalars; `setup_calls` model calls
    spent before playing (LQR's linearisation) are the checkpoint's model calls, as for JAX planners."""
    start = time.perf_counter()
    spec = behaviour.behaviour_spec(env)
    runs = [(c, i, s) for i, c in enumerate(configs) for s in seeds]
    returns = np.zeros((len(runs), 1, budget.eval_episodes))
    calls, steps = np.zeros((len(runs), 1)), np.zeros((len(runs), 1))
    scalars: list[dict[str, float]] = []
    for k, (config, _, seed) in enumerate(runs):
        recorders = [behaviour.EpisodeRecorder(env, spec) for _ in range(budget.eval_episodes)]
        episodes = np.array([play(config, seed * 1000 + e, recorders[e]) for e in range(budget.eval_episodes)],
                            np.float64)
        returns[k, 0] = episodes[:, 0]
        calls[k, 0], steps[k, 0] = episodes[:, 1].mean(), episodes[:, 2].mean()
        scalars.append(behaviour.summarise_recorded(env, spec, recorders))
        if progress:
            progress(k + 1, len(runs))
    trace = Trace(env_steps=np.zeros((len(runs), 1), np.int64), model_calls=np.full((len(runs), 1), setup_calls, np.int64),
                  eval_returns=returns, train_returns=np.full((len(runs), 1), np.nan),
                  train_episodes=np.zeros((len(runs), 1)),
                  diagnostics={"eval_model_calls_per_episode": calls, "eval_steps_per_episode": steps},
                  behaviour={name: np.array([[s[name]] for s in scalars], np.float32) for name in scalars[0]})
    return RunResult(method.name, [c for c, _, _ in runs], [i for _, i, _ in runs], [s for _, _, s in runs], trace,
                     time.perf_counter() - start, 0.0, [None] * len(runs))
