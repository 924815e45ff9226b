"""Atari through ale-py (its ROMs ship inside it) with the standard preprocessing (Mnih et al. 2015;
Machado et al. 2018): up to 30 no-op starts, frame skip 4 (max over the last two frames), 84x84
grayscale, a stack of 4 frames, FIRE at reset and after a lost life where the game needs it, and, for training only, a life
lost counted as a termination and rewards clipped to [-1, 1]. Evaluation copies play whole games with
raw scores. ALE v5's sticky actions (repeat probability 0.25) are kept; pass
--env-kwargs repeat_action_probability=0 to turn them off."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from rlcheck.core.errors import EnvError

TIME_LIMIT = 27_000  # agent steps: ALE's 108,000 frames at frame skip 4


def is_atari(env_id: str) -> bool:
    return env_id.startswith("ALE/") or "NoFrameskip" in env_id


def register() -> None:
    try:
        import ale_py  # the atari extra, imported only when an ALE game is asked for
    except ImportError as exc:
        raise EnvError("Atari envs need ale-py (the ROMs ship with it): pip install -e \".[atari]\".") from exc
    gym.register_envs(ale_py)


def make_atari(env_id: str, kwargs: dict[str, Any], train: bool):
    env = gym.make(env_id, frameskip=1, max_episode_steps=TIME_LIMIT * 4, disable_env_checker=True, **kwargs)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True,
                                          terminal_on_life_loss=train, scale_obs=False)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireOnReset(env)
    env = gym.wrappers.FrameStackObservation(env, 4)
    if train:
        env = gym.wrappers.ClipReward(env, -1.0, 1.0)
    return env


class FireOnReset(gym.Wrapper):
    """Press FIRE after reset and after a lost life (Breakout launches the ball with it): a greedy
    policy that never presses it would otherwise wait out the time limit."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.lives = info.get("lives", 0)
        obs, _, terminated, truncated, info = self.env.step(self._fire)
        if terminated or truncated:
            obs, info = self.env.reset(**kwargs)
        return obs, info

    @property
    def _fire(self) -> int:
        return self.env.unwrapped.get_action_meanings().index("FIRE")

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = info.get("lives", 0)
        if lives < self.lives and not (terminated or truncated):
            obs, more, terminated, truncated, info = self.env.step(self._fire)
            reward += more
        self.lives = lives
        return obs, reward, terminated, truncated, info
