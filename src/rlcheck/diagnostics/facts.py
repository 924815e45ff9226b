"""What a learner's defaults depend on, measured on the env itself: its horizon (the time limit), the
scale of its observations and rewards under a random policy, and its spaces. Cheap (a few random
episodes of at most 500 steps: a second or less) and cached per env, so `plan`, `check` and `--resume` see the same."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import jax
import numpy as np

from rlcheck.diagnostics.probes import Probe, rollouts
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec

EPISODES = 4
MAX_STEPS = 500  # steps per probe episode: enough to see the observations' spread
# A safety net for a very slow env only: the 2,000 probe steps take well under a second on a typical one. A
# tighter cap would make the facts, and so the derived settings, depend on how busy the machine is.
MAX_SECONDS = 60.0


@dataclass(frozen=True)
class EnvFacts:
    horizon: int  # the time limit, in steps (or the fixed episode length, where every episode has the same)
    discrete: bool
    image: bool  # the observation is (or holds) an image: a CNN, and its own defaults
    obs_scale: float | None  # the largest per-dimension |mean| + std of random-policy observations
    obs_std_ratio: float | None  # largest over smallest per-dimension std (dimensions that vary)
    reward_std: float | None  # per-step reward spread under the random policy
    episode_length: float | None  # the random policy's median episode length
    obs_bounded: bool | None = None  # the observation space has finite bounds (None: not a box, or not known)
    family: str | None = None  # a kind of env with published settings: "minatar"
    limit_assumed: bool = False  # the env has no time limit of its own: `horizon` is rlcheck's cap, not the env's
    obs_dim: int | None = None  # numbers in one observation (flattened)
    action_dim: int | None = None  # numbers in one continuous action (None for discrete actions)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_CACHE: dict[tuple, EnvFacts] = {}


def env_facts(env: EnvSpec, seed: int = 0) -> EnvFacts:
    key = (env.name, repr(env.env_kwargs), env.wrappers, env.obs_shape, env.max_episode_steps)  # kwargs may hold lists
    if key not in _CACHE:
        _CACHE[key] = _measure(env, seed)
    return _CACHE[key]


def _bounded(env: EnvSpec) -> bool | None:
    """Whether the observation space is a box with finite bounds: MuJoCo's are unbounded (velocities a random
    policy never reaches), Box2D's and classic control's bounded."""
    try:
        if isinstance(env.env, HostEnv):
            copy = env.env.make()
            try:
                space = copy.observation_space
            finally:
                copy.close()
        else:
            space = env.env.observation_space(env.params)
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    except Exception:  # not a box, or an env that will not say: unknown
        return None
    return bool(np.isfinite(low).all() and np.isfinite(high).all())


def _measure(env: EnvSpec, seed: int) -> EnvFacts:
    image = bool(env.image_shape) or len(env.obs_shape) >= 3
    family = "minatar" if env.task.endswith("-MinAtar") else None
    bounded = _bounded(env)
    assumed = any(w.startswith("[time limit]") for w in env.warnings)  # preflight: registered without one
    dims = dict(obs_dim=int(np.prod(env.obs_shape)), action_dim=None if env.discrete else int(env.num_actions))
    try:
        random = rollouts(env, [Probe("random", "random", ())], EPISODES, jax.random.PRNGKey(seed),
                          horizon=min(env.max_episode_steps, MAX_STEPS), max_seconds=MAX_SECONDS)[0]
    except Exception:  # a user's env failing under a random policy: defaults from its spaces alone
        return EnvFacts(env.max_episode_steps, env.discrete, image, None, None, None, None, bounded, family, assumed, **dims)
    valid = random.valid
    reward = random.reward[valid]
    scale = ratio = None
    if random.obs is not None and valid.any():
        obs = random.obs[valid].reshape(int(valid.sum()), -1).astype(np.float64)
        std, mean = obs.std(0), np.abs(obs.mean(0))
        scale = float(np.max(mean + std))
        moving = std[std > 1e-8]
        ratio = float(moving.max() / moving.min()) if len(moving) else None
    lengths = np.asarray(random.lengths)
    # Every probe episode ending on the same step, before the limit (bsuite's Catch at 9 of a declared 1000,
    # popgym's games): the length is fixed by the task, whatever the policy, and that is its horizon.
    fixed = len(lengths) > 1 and np.ptp(lengths) == 0 and 0 < lengths[0] < min(env.max_episode_steps, MAX_STEPS)
    horizon = int(lengths[0]) if fixed else env.max_episode_steps
    return EnvFacts(horizon, env.discrete, image, scale, ratio,
                    float(reward.std()) if reward.size else None, float(np.median(random.lengths)), bounded, family,
                    assumed, **dims)
