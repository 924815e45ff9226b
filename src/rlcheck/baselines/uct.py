"""UCT: tree search on Atari games run through Gymnasium, with the emulator as the model: UCT (UCB1
selection, one expansion per simulation, a random rollout for the leaf's value) over ALE's own
`cloneState`/`restoreState`. The model steps the raw emulator with the env's action set and frame
skip, so its rewards are the game's. This exploits the emulator's determinism: with sticky actions
on (ALE v5's default), the model's futures are samples, not certainties.

Pure Python on the host and slow: `max_steps` caps each evaluation game (the report says so), and
every emulator frame the search runs is a model call."""

from __future__ import annotations

import math
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
        supported = False
        if isinstance(env.env, HostEnv):
            copy = env.env.make()
            supported = hasattr(copy.unwrapped, "ale")
            copy.close()
        if not supported:
            raise NotApplicable(f"UCT plans from a copy of the emulator's state (ALE's cloneState), and {env.name} is "
                                "not an Atari game through Gymnasium. On JAX envs use mcts.")
        if not env.discrete:
            raise NotApplicable(f"UCT searches over discrete actions, and {env.name} has continuous ones.")

    def run_host(self, env: EnvSpec, configs, seeds, budget: Budget, progress=None):
        return run_host_planner(self, env, lambda config, seed, recorder: play_game(env, config, seed, recorder),
                                configs, seeds, budget, progress)


class Node:
    __slots__ = ("children", "value", "visits")

    def __init__(self) -> None:
        self.children: dict[int, Node] = {}
        self.visits = 0
        self.value = 0.0  # mean return from here


def _act(ale: Any, action: Any) -> tuple[float, int]:
    reward, frames = 0.0, 0
    for _ in range(FRAME_SKIP):
        reward += ale.act(action)
        frames += 1
        if ale.game_over():
            break
    return reward, frames


def search(ale: Any, root_state: Any, actions: list[Any], config: Any, rng: np.random.Generator) -> tuple[int, int]:
    """The most visited root action after `num_simulations` simulations; emulator frames used."""
    root, frames = Node(), 0
    for _ in range(config.num_simulations):
        ale.restoreState(root_state)
        node, path, total, discount = root, [root], 0.0, 1.0
        # select down the tree, expanding the first untried action
        while True:
            untried = [a for a in range(len(actions)) if a not in node.children]
            if untried:
                a = int(rng.choice(untried))
                node.children[a] = Node()
            else:
                log_n = math.log(node.visits + 1)
                a = max(node.children, key=lambda b: node.children[b].value
                        + config.exploration * math.sqrt(log_n / (node.children[b].visits + 1)))
            reward, used = _act(ale, actions[a])
            frames += used
            total += discount * reward
            discount *= config.gamma
            node = node.children[a]
            path.append(node)
            if untried or ale.game_over() or len(path) > config.max_depth:
                break
        for _ in range(config.rollout_steps):  # the leaf's value from a random rollout
            if ale.game_over():
                break
            reward, used = _act(ale, actions[int(rng.integers(len(actions)))])
            frames += used
            total += discount * reward
            discount *= config.gamma
        for n in path:  # backup (the path's rewards and the rollout are one return from the root)
            n.visits += 1
            n.value += (total - n.value) / n.visits
    best = max(root.children, key=lambda b: root.children[b].visits)
    return best, frames


def play_game(env: EnvSpec, config: Any, seed: int, recorder: EpisodeRecorder | None = None) -> tuple[float, int, int]:
    """One capped game of search on a fresh real copy: (return, model frames, steps played). `recorder`
    gets every real step, for the behaviour descriptors."""
    rng = np.random.default_rng(seed)
    model_env = env.env.make()
    model = model_env.unwrapped.ale
    actions = list(model_env.unwrapped._action_set)
    model_env.reset(seed=int(seed))
    try:
        return play_on_host(env, seed, lambda real, obs: search(model, real.unwrapped.ale.cloneState(), actions, config,
                                                                 rng), recorder, config.max_steps or env.max_episode_steps)
    finally:
        model_env.close()
