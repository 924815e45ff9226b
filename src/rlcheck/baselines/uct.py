"""UCT: tree search on Python envs with the env itself as the model: UCB1 selection, one expansion per
simulation, a random rollout for the leaf's value.
- Atari through Gymnasium: ALE's own `cloneState`/`restoreState`; the model steps the raw emulator with
  the env's action set and frame skip, so its rewards are the game's. This exploits the emulator's
  determinism: with sticky actions on (ALE v5's default), the model's futures are samples, not certainties.
- Any other Python env: copies of its state (envs/state_copy.py: MuJoCo's set_state, the env's own
  get_state/set_state, or a deepcopy verified to replay like the real env), stepped with the env's step.

Pure Python on the host and slow: `max_steps` caps each evaluation game (the report says so), and
every emulator frame (or env step) the search runs is a model call."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from flax import struct

from rlcheck.baselines.planner import Planner, play_on_host, run_host_planner
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable
from rlcheck.diagnostics.behaviour import EpisodeRecorder
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.state_copy import state_copy

FRAME_SKIP = 4  # as the env's preprocessing


@struct.dataclass
class UCTConfig:
    gamma: float = numeric(0.99, "discount inside the tree")
    exploration: float = numeric(1.0, "UCB1 exploration constant")
    num_simulations: int = static(32, "tree expansions per real step")
    rollout_steps: int = static(10, "random-rollout steps for a leaf's value (0: value 0)")
    max_depth: int = static(50, "deepest search path")
    max_steps: int = static(0, "cap on steps per evaluation game (0: the env's time limit)")


class UCT(Planner):
    """A planner on the host only: `run_host` plays whole games; there is no compiled `plan` step."""

    name = "uct"
    Config = UCTConfig

    def check(self, env: EnvSpec) -> None:
        if not isinstance(env.env, HostEnv):
            raise NotApplicable(f"UCT plans on Python envs from copies of their state; {env.name} is a JAX env: use mcts.")
        if not env.discrete:
            raise NotApplicable(f"UCT searches over discrete actions, and {env.name} has continuous ones.")
        if not _is_atari(env):
            state_copy(env, "UCT").close()

    def run_host(self, env: EnvSpec, configs, seeds, budget: Budget, progress=None):
        return run_host_planner(self, env, lambda config, seed, recorder: play_game(env, config, seed, recorder),
                                configs, seeds, budget, progress)


class Node:
    __slots__ = ("children", "value", "visits")

    def __init__(self) -> None:
        self.children: dict[int, Node] = {}
        self.visits = 0
        self.value = 0.0  # mean return from here


def _is_atari(env: EnvSpec) -> bool:
    probe = env.env.make()
    atari = hasattr(probe.unwrapped, "ale")
    probe.close()
    return atari


def _act(ale: Any, action: Any) -> tuple[float, int, bool]:
    reward, frames = 0.0, 0
    for _ in range(FRAME_SKIP):
        reward += ale.act(action)
        frames += 1
        if ale.game_over():
            break
    return reward, frames, ale.game_over()


Stepper = Callable[[int], tuple[float, int, bool]]  # action index -> (reward, model calls, episode over)


def search(root: Callable[[], Stepper], num_actions: int, config: Any, rng: np.random.Generator) -> tuple[int, int]:
    """The most visited root action after `num_simulations` simulations, each from `root()` (a model at the
    real state); model calls used."""
    tree, calls = Node(), 0
    for _ in range(config.num_simulations):
        step = root()
        node, path, total, discount, over = tree, [tree], 0.0, 1.0, False
        # select down the tree, expanding the first untried action
        while True:
            untried = [a for a in range(num_actions) if a not in node.children]
            if untried:
                a = int(rng.choice(untried))
                node.children[a] = Node()
            else:
                log_n = math.log(node.visits + 1)
                a = max(node.children, key=lambda b: node.children[b].value
                        + config.exploration * math.sqrt(log_n / (node.children[b].visits + 1)))
            reward, used, over = step(a)
            calls += used
            total += discount * reward
            discount *= config.gamma
            node = node.children[a]
            path.append(node)
            if untried or over or len(path) > config.max_depth:
                break
        for _ in range(config.rollout_steps):  # the leaf's value from a random rollout
            if over:
                break
            reward, used, over = step(int(rng.integers(num_actions)))
            calls += used
            total += discount * reward
            discount *= config.gamma
        for n in path:  # backup (the path's rewards and the rollout are one return from the root)
            n.visits += 1
            n.value += (total - n.value) / n.visits
    best = max(tree.children, key=lambda b: tree.children[b].visits)
    return best, calls


def play_game(env: EnvSpec, config: Any, seed: int, recorder: EpisodeRecorder | None = None) -> tuple[float, int, int]:
    """One capped game of search on a fresh real copy: (return, model calls, steps played). `recorder`
    gets every real step, for the behaviour descriptors."""
    rng = np.random.default_rng(seed)
    cap = config.max_steps or env.max_episode_steps
    if not _is_atari(env):
        copier = state_copy(env, "UCT")

        def from_copy(snapshot: Any) -> Stepper:
            model = copier.branch(snapshot)

            def step(a: int) -> tuple[float, int, bool]:
                _, reward, terminated, truncated, _ = model.step(a)
                return float(reward), 1, bool(terminated or truncated)
            return step

        def choose_from_copy(real: Any, obs: Any) -> tuple[int, int]:
            snapshot = copier.save(real)
            return search(lambda: from_copy(snapshot), env.num_actions, config, rng)

        try:
            return play_on_host(env, seed, choose_from_copy, recorder, cap)
        finally:
            copier.close()
    model_env = env.env.make()
    model = model_env.unwrapped.ale
    actions = list(model_env.unwrapped._action_set)
    model_env.reset(seed=int(seed))

    def from_clone(root_state: Any) -> Stepper:
        model.restoreState(root_state)
        return lambda a: _act(model, actions[a])

    def choose_from_clone(real: Any, obs: Any) -> tuple[int, int]:
        state = real.unwrapped.ale.cloneState()
        return search(lambda: from_clone(state), len(actions), config, rng)

    try:
        return play_on_host(env, seed, choose_from_clone, recorder, cap)
    finally:
        model_env.close()
