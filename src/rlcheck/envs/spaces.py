"""What rlcheck's learners can read, and how a Gymnasium space gets there.

Observations: a Box is used as it is (an HxWxC uint8 Box goes to the CNN torso); Discrete, MultiDiscrete,
MultiBinary, Dict and Tuple are flattened (Gymnasium's FlattenObservation: one-hot for discrete parts); a
Dict or Tuple with one image part puts the image first (ImageFirst), and the CNN reads it. A
Dict of `observation`, `achieved_goal` and `desired_goal` is recognised as goal-conditioned. Sub-spaces
that have no fixed-size flat form (Graph, Sequence, minigrid's MissionSpace) are refused before training, named with
the wrapper that drops them. Actions: Discrete and Box; MultiDiscrete and MultiBinary as one joint Discrete
whose part sizes the factorised policies read (which learners take which is the registry's).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck.core.errors import EnvError
from rlcheck.envs.jax_env import MAX_JOINT_ACTIONS

GOAL_KEYS = {"observation", "achieved_goal", "desired_goal"}


def _flattenable(space: Any) -> bool:
    try:
        gym.spaces.flatdim(space)
        return True
    except (NotImplementedError, ValueError, TypeError):  # Graph, Sequence and custom spaces
        return False


def _unflattenable(space: Any, path: str = "") -> list[str]:
    """Paths (e.g. `mission`, `[1].text`) of the sub-spaces that cannot be flattened."""
    if not isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        return [] if _flattenable(space) else [f"{path or 'the observation'} ({type(space).__name__})"]
    if isinstance(space, gym.spaces.Dict):
        return [p for key, sub in space.spaces.items() for p in _unflattenable(sub, f"{path}.{key}" if path else str(key))]
    if isinstance(space, gym.spaces.Tuple):
        return [p for i, sub in enumerate(space.spaces) for p in _unflattenable(sub, f"{path}[{i}]")]
    return []


def is_image(space: Any) -> bool:
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def is_goal_conditioned(space: Any) -> bool:
    return isinstance(space, gym.spaces.Dict) and GOAL_KEYS <= set(space.spaces)


def readable_observations(env: Any, name: str) -> tuple[Any, list[str]]:
    """`env` with observations the learners can read (flattened where needed), and notes for the report."""
    space = env.observation_space
    if isinstance(space, gym.spaces.Box):
        return env, []
    bad = _unflattenable(space)
    if bad:
        keep = [k for k in getattr(space, "spaces", {}) if not _unflattenable(space[k], str(k))] if isinstance(space, gym.spaces.Dict) else []
        fix = (f"Drop them with --wrap FilterObservation:filter_keys=[{', '.join(map(str, keep))}]" if keep
               else "Map them to a Box with an ObservationWrapper of your own (--wrap package.module:Wrapper)")
        raise EnvError(
            f"Environment {name!r} has a {type(space).__name__} observation with parts that have no fixed-size "
            f"numeric form: {', '.join(bad)}. rlcheck's learners read arrays. {fix}, then it is flattened "
            "(or use the env package's own wrapper to images or vectors, e.g. minigrid.wrappers:ImgObsWrapper)."
        )
    notes = []
    if is_goal_conditioned(space):
        notes.append("[goal-conditioned] Dict observation with observation, achieved_goal and desired_goal: flattened "
                     "into one vector (the policy sees the goal); hindsight relabelling is not applied.")
    elif isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        images = [k for k, sub in _parts(space) if is_image(sub)]
        if len(images) == 1:
            first = ImageFirst(env, images[0])
            notes.append(f"[observation] the image part {images[0]!r} {space[images[0]].shape} of a "
                         f"{type(space).__name__} observation goes to the CNN (when at least 32 pixels a side), the "
                         "other parts, flattened, join its features")
            return first, notes
        if images:
            notes.append(f"[observation] image parts {', '.join(map(str, images))} of a {type(space).__name__} "
                         "observation are flattened with the rest, so they reach an MLP, not the CNN (one image part "
                         "goes to the CNN); to train on one image, --wrap FilterObservation:filter_keys=[...].")
    flat = gym.wrappers.FlattenObservation(env)
    if len(getattr(flat.observation_space, "shape", ()) or ()) != 1:
        raise EnvError(f"Environment {name!r}: its {type(space).__name__} observation could not be flattened to a vector.")
    return flat, notes


def _parts(space: Any) -> list[tuple[Any, Any]]:
    return list(space.spaces.items()) if isinstance(space, gym.spaces.Dict) else list(enumerate(space.spaces))


class ImageFirst(gym.ObservationWrapper):
    """A Dict or Tuple observation with one image part as one flat float32 vector: the image's HxWxC
    entries first, then the other parts flattened (one-hot for discrete ones). `image_shape` says where the
    image ends, so the networks can give it to the CNN (methods/networks.py: ImageAndVector)."""

    def __init__(self, env: Any, key: Any):
        super().__init__(env)
        space = env.observation_space
        self.key, self.image_shape = key, tuple(space[key].shape)
        others = [(k, sub) for k, sub in _parts(space) if k != key]
        self.others = (gym.spaces.Dict(dict(others)) if isinstance(space, gym.spaces.Dict)
                       else gym.spaces.Tuple([sub for _, sub in others]))
        self.other_keys = [k for k, _ in others]
        rest = gym.spaces.flatten_space(self.others) if others else None
        low = np.concatenate([np.zeros(int(np.prod(self.image_shape)), np.float32)]
                             + ([rest.low.astype(np.float32)] if rest is not None else []))
        high = np.concatenate([np.full(int(np.prod(self.image_shape)), 255.0, np.float32)]
                              + ([rest.high.astype(np.float32)] if rest is not None else []))
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)

    def observation(self, observation: Any) -> np.ndarray:
        image = np.asarray(observation[self.key], np.float32).ravel()
        if not self.other_keys:
            return image
        rest = ({k: observation[k] for k in self.other_keys} if isinstance(self.others, gym.spaces.Dict)
                else tuple(observation[k] for k in self.other_keys))
        return np.concatenate([image, gym.spaces.flatten(self.others, rest).astype(np.float32)])


def image_shape_of(env: Any) -> tuple[int, ...]:
    """The image part's shape of an ImageFirst anywhere in `env`'s wrapper stack, or ()."""
    while env is not None:
        if isinstance(env, ImageFirst):
            return env.image_shape
        env = getattr(env, "env", None)
    return ()


MAX_COMBINATIONS = 2**31 - 1  # a MultiDiscrete/MultiBinary action's joint index must fit an int32


def _factors(space: Any) -> np.ndarray:
    return np.full(space.n, 2) if isinstance(space, gym.spaces.MultiBinary) else np.asarray(space.nvec).ravel()


def _combinations(space: Any) -> int:
    return int(np.prod(_factors(space).astype(object)))  # exact: no int64 overflow


class JointDiscrete(gym.ActionWrapper):
    """A MultiDiscrete or MultiBinary action space as one Discrete over every combination (index -> the
    combination, last part fastest). `nvec` holds the parts' sizes: PPO, TRPO and policy search read the
    action as factorised policies over them; value-based methods take the joint Discrete when it is small."""

    def __init__(self, env: Any):
        super().__init__(env)
        space = env.action_space
        self.nvec = _factors(space)
        self.shape, self.dtype = space.shape, space.dtype
        self.action_space = gym.spaces.Discrete(_combinations(space))

    def action(self, action: Any) -> np.ndarray:
        return np.asarray(np.unravel_index(int(action), self.nvec), dtype=self.dtype).reshape(self.shape)


def joint_factors(env: Any) -> tuple[int, ...]:
    """The part sizes of a JointDiscrete anywhere in `env`'s wrapper stack, or ()."""
    while env is not None:
        if isinstance(env, JointDiscrete):
            return tuple(int(n) for n in env.nvec)
        env = getattr(env, "env", None)
    return ()


def readable_actions(env: Any, name: str) -> tuple[Any, list[str]]:
    """`env` with an action space the learners take, and notes for the report."""
    space = env.action_space
    if isinstance(space, gym.spaces.MultiDiscrete | gym.spaces.MultiBinary) and _combinations(space) <= MAX_COMBINATIONS:
        choices = _combinations(space)
        who = ("PPO, TRPO and policy search play it as a factorised policy (one categorical per part); value-based "
               "methods and planners as one Discrete" if choices <= MAX_JOINT_ACTIONS else
               "PPO, TRPO and policy search play it as a factorised policy (one categorical per part); methods that "
               f"need one joint Discrete head do not apply (more than {MAX_JOINT_ACTIONS} combinations)")
        return JointDiscrete(env), [f"[actions] the {space} action space ({choices:,} combinations): {who}"]
    return env, []


def action_kind(space: Any, name: str) -> str:
    """'discrete' or 'continuous' (a MultiDiscrete or MultiBinary is discrete: see JointDiscrete); other action
    spaces are refused with the wrapper that would fix them."""
    if isinstance(space, gym.spaces.Discrete):
        return "discrete"
    if isinstance(space, gym.spaces.Box):
        return "continuous"
    if isinstance(space, gym.spaces.MultiDiscrete | gym.spaces.MultiBinary) and _combinations(space) <= MAX_COMBINATIONS:
        return "discrete"
    fixes = {
        gym.spaces.MultiBinary: "a MultiBinary action with more than 2^31 combinations is not supported; map it with "
                                "an ActionWrapper from a Box (thresholded at 0)",
        gym.spaces.MultiDiscrete: "a MultiDiscrete action with more than 2^31 combinations is not supported; map it "
                                  "with an ActionWrapper from a Box (each part binned), or use the env's own flat-action "
                                  "option if it has one",
    }
    fix = next((text for cls, text in fixes.items() if isinstance(space, cls)),
               "write an ActionWrapper that maps a Discrete or Box action onto it")
    raise EnvError(f"Environment {name!r} has a {type(space).__name__} action space {space}; rlcheck's learners take "
                   f"Discrete, Box, MultiDiscrete and MultiBinary actions: {fix} (--wrap package.module:YourActionWrapper).")
