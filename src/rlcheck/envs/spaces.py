"""What rlcheck's learners can read, and how a Gymnasium space gets there.

Observations: a Box is used as it is (an HxWxC uint8 Box goes to the CNN torso); Discrete, MultiDiscrete,
MultiBinary, Dict and Tuple are flattened (Gymnasium's FlattenObservation: one-hot for discrete parts). A
Dict of `observation`, `achieved_goal` and `desired_goal` is recognised as goal-conditioned. Sub-spaces
that have no fixed-size flat form (Graph, Sequence, minigrid's MissionSpace) are refused before training, named with
the wrapper that drops them. Actions: Discrete and Box (and which learners take which is the registry's).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rlcheck.core.errors import EnvError

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
        images = [k for k, sub in (space.spaces.items() if isinstance(space, gym.spaces.Dict) else enumerate(space.spaces))
                  if is_image(sub)]
        if images:
            notes.append(f"[observation] image part(s) {', '.join(map(str, images))} of a {type(space).__name__} "
                         "observation are flattened with the rest, so they reach an MLP, not the CNN; to train on the "
                         "image alone, --wrap FilterObservation:filter_keys=[...] so that only it is left.")
    flat = gym.wrappers.FlattenObservation(env)
    if len(getattr(flat.observation_space, "shape", ()) or ()) != 1:
        raise EnvError(f"Environment {name!r}: its {type(space).__name__} observation could not be flattened to a vector.")
    return flat, notes


MAX_JOINT_ACTIONS = 64  # a MultiDiscrete/MultiBinary action with at most this many combinations becomes one Discrete


class JointDiscrete(gym.ActionWrapper):
    """A small MultiDiscrete or MultiBinary action space as one Discrete over every combination (index ->
    the combination, last part fastest), so every discrete learner and baseline takes it."""

    def __init__(self, env: Any):
        super().__init__(env)
        space = env.action_space
        self.nvec = np.full(space.n, 2) if isinstance(space, gym.spaces.MultiBinary) else np.asarray(space.nvec).ravel()
        self.shape, self.dtype = space.shape, space.dtype
        self.action_space = gym.spaces.Discrete(int(np.prod(self.nvec)))

    def action(self, action: Any) -> np.ndarray:
        return np.asarray(np.unravel_index(int(action), self.nvec), dtype=self.dtype).reshape(self.shape)


def readable_actions(env: Any, name: str) -> tuple[Any, list[str]]:
    """`env` with an action space the learners take, and notes for the report."""
    space = env.action_space
    if isinstance(space, gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        choices = int(np.prod(np.full(space.n, 2) if isinstance(space, gym.spaces.MultiBinary) else space.nvec))
        if choices <= MAX_JOINT_ACTIONS:
            return JointDiscrete(env), [f"[actions] the {space} action space is played as one Discrete({choices}) over "
                                        "its combinations (a joint, not factorised, policy)"]
    return env, []


def action_kind(space: Any, name: str) -> str:
    """'discrete' or 'continuous'; other action spaces are refused with the wrapper that would fix them."""
    if isinstance(space, gym.spaces.Discrete):
        return "discrete"
    if isinstance(space, gym.spaces.Box):
        return "continuous"
    fixes = {
        gym.spaces.MultiBinary: f"a MultiBinary action with more than {MAX_JOINT_ACTIONS} combinations is not supported "
                                "yet; map it with an ActionWrapper from a Box (thresholded at 0)",
        gym.spaces.MultiDiscrete: f"a MultiDiscrete action with more than {MAX_JOINT_ACTIONS} combinations is not "
                                  "supported yet (factorised policies are not built); map it with an ActionWrapper from "
                                  "a Box (each part binned), or use the env's own flat-action option if it has one",
    }
    fix = next((text for cls, text in fixes.items() if isinstance(space, cls)),
               "write an ActionWrapper that maps a Discrete or Box action onto it")
    raise EnvError(f"Environment {name!r} has a {type(space).__name__} action space {space}; rlcheck's learners take "
                   f"Discrete and Box actions: {fix} (--wrap package.module:YourActionWrapper).")
