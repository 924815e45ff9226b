"""Python (Gymnasium) envs a user might write, good and broken, for the host-loop tests. Named in
tests as `user_envs:ClassName` (the tests directory is on sys.path)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class GoRight(gym.Env):
    """Walk from 0 to `length` on a line: -0.1 a step, +10 at the end. Optimal return 10 - 0.1 (length - 1)."""

    def __init__(self, length: int = 5):
        self.length = length
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.pos = 0

    def _obs(self):
        return np.array([self.pos / self.length, 1.0], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(0, 2))
        return self._obs(), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        done = self.pos >= self.length
        return self._obs(), 10.0 if done else -0.1, done, False, {}


class Countdown(gym.Env):
    """Observation = steps taken; terminates after `end` steps. For autoreset semantics tests."""

    def __init__(self, end: int = 3):
        self.end = end
        self.observation_space = gym.spaces.Box(0.0, 100.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([float(self.t)], np.float32), float(action), self.t >= self.end, False, {}


gym.register("CountdownShort-v0", entry_point=Countdown, max_episode_steps=2, kwargs={"end": 3})
gym.register("MissingPackage-v0", entry_point="no_such_package.envs:Env")  # its package is not installed


class RaisesInStep(Countdown):
    def step(self, action):
        raise RuntimeError("the sensor broke")


class FailsLate(Countdown):
    """Passes preflight, then raises once all copies together took `limit` steps: jobs run one after
    another, so the first finishes and a later one fails."""

    total = 0

    def __init__(self, limit: int = 1800):
        super().__init__()
        self.limit = limit

    def step(self, action):
        FailsLate.total += 1
        if FailsLate.total > self.limit:
            raise RuntimeError("the sensor broke")
        return super().step(action)


class WrongObservationShape(Countdown):
    def step(self, action):
        _, *rest = super().step(action)
        return np.zeros(3, np.float32), *rest


class OldStepApi(Countdown):
    def step(self, action):
        obs, reward, terminated, _, info = super().step(action)
        return obs, reward, terminated, info


class UnboundedActions(Countdown):
    def __init__(self):
        super().__init__()
        self.action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)

    def step(self, action):
        return super().step(0)


def make_go_right() -> GoRight:
    """A factory function, as `user_envs:make_go_right`."""
    return GoRight(length=3)


def not_an_env() -> int:
    return 3


class ScaleReward(gym.RewardWrapper):
    """A user's wrapper subclass, as `user_envs:ScaleReward:factor=2`."""

    def __init__(self, env, factor: float = 1.0):
        super().__init__(env)
        self.factor = factor

    def reward(self, reward):
        return self.factor * reward


class MultiDiscreteActions(Countdown):
    """Reward: the sum of the action's parts (best: [2, 1])."""

    def __init__(self, nvec=(3, 2)):
        super().__init__()
        self.action_space = gym.spaces.MultiDiscrete(list(nvec))

    def step(self, action):
        obs, _, terminated, truncated, info = super().step(0)
        return obs, float(np.sum(action)), terminated, truncated, info


class SequenceInDict(Countdown):
    """A Dict observation with a variable-length part (no fixed-size flat form)."""

    def __init__(self):
        super().__init__()
        self.observation_space = gym.spaces.Dict({"t": gym.spaces.Box(0.0, 100.0, (1,), np.float32),
                                                  "note": gym.spaces.Sequence(gym.spaces.Discrete(3))})

    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed)
        return {"t": obs, "note": (1, 2)}, info

    def step(self, action):
        obs, *rest = super().step(action)
        return {"t": obs, "note": (1, 2)}, *rest


_HIDDEN = {"pos": 0}  # HiddenGlobalState keeps its position here, where a copy of the env cannot see it


class HiddenGlobalState(GoRight):
    """GoRight with its position in a module global: copies of the env share it, so they diverge."""

    @property
    def pos(self):
        return _HIDDEN["pos"]

    @pos.setter
    def pos(self, value):
        _HIDDEN["pos"] = value


class PointMass(gym.Env):
    """A 1-D point mass pushed towards 0 (pure Python, continuous action): reward -x^2 - 0.1 u^2 a step."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-10.0, 10.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.x = self.v = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.v = float(self.np_random.uniform(-2, 2)), 0.0
        return np.array([self.x, self.v], np.float32), {}

    def step(self, action):
        u = float(np.clip(action, -1, 1)[0])
        self.v += 0.1 * u
        self.x += 0.1 * self.v
        return np.array([self.x, self.v], np.float32), -(self.x**2) - 0.1 * u**2, False, False, {}


class PointMassWithState(PointMass):
    """PointMass with get_state()/set_state() of its (x, v) vector, as a user's own simulator might have."""

    def get_state(self):
        return np.array([self.x, self.v])

    def set_state(self, state):
        self.x, self.v = float(state[0]), float(state[1])


gym.register("PointMass-v0", entry_point=PointMass, max_episode_steps=60)
gym.register("PointMassWithState-v0", entry_point=PointMassWithState, max_episode_steps=60)
gym.register("GoRight-v0", entry_point=GoRight, max_episode_steps=30, kwargs={"length": 6})


class StepCostCorridor(gym.Env):
    """A goal task with a step cost, as users write them: -1 a step, +10 for reaching the exit at the right
    end (no `is_success` flag). With `pit=True`, position 0, one step left of the start, ends the episode
    with no penalty: jumping in returns -1, walking the 14 steps to the exit -13 + 10 = -3. The lint must
    fail that one, and not fail the corridor without a pit."""

    def __init__(self, length: int = 15, pit: bool = False):
        self.length, self.pit = length, pit
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.pos = 1

    def _obs(self):
        return np.array([self.pos / self.length], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = 1
        return self._obs(), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        at_exit, in_pit = self.pos >= self.length, self.pit and self.pos == 0
        return self._obs(), 10.0 if at_exit else -1.0, bool(at_exit or in_pit), False, {}


class PitCorridor(StepCostCorridor):
    def __init__(self, length: int = 15):
        super().__init__(length, pit=True)


class TruncatesItself(gym.Env):
    """An env that ends its own episodes after `limit` steps with truncated=True, without Gymnasium's
    TimeLimit and without declaring the limit anywhere: rlcheck assumes its default limit, and the lint must
    observe the real one."""

    def __init__(self, limit: int = 100):
        self.limit = limit
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.t, self.x = 0, 0.0

    def _obs(self):
        return np.array([self.x, self.t / self.limit], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.x = 0, 0.0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        self.x = float(np.clip(self.x + (0.1 if action == 1 else -0.1), -1, 1))
        return self._obs(), -abs(self.x), False, self.t >= self.limit, {}


class _Late(Countdown):
    """Passes preflight (its first `after` steps, over all copies, are well-behaved), then misbehaves."""

    after = 400
    steps = 0

    def step(self, action):
        type(self).steps += 1
        if type(self).steps > self.after:
            return self.misbehave(action)
        return super().step(action)

    def misbehave(self, action):
        raise NotImplementedError


class HangsLate(_Late):
    """Its step stops returning: sleeps for an hour."""

    steps = 0

    def misbehave(self, action):
        import time

        time.sleep(3600)


class SlowSteps(Countdown):
    """Every step takes 5 ms: a study on it is long enough to interrupt mid-step."""

    def step(self, action):
        import time

        time.sleep(0.005)
        return super().step(action)


class InfiniteRewardLate(_Late):
    steps = 0

    def misbehave(self, action):
        obs, _, terminated, truncated, info = super(_Late, self).step(action)
        return obs, float("inf"), terminated, truncated, info


class RewardOfShapeOne(Countdown):
    def step(self, action):
        obs, reward, *rest = super().step(action)
        return obs, np.array([reward]), *rest


class RewardNone(Countdown):
    def step(self, action):
        obs, _, *rest = super().step(action)
        return obs, None, *rest


class RewardString(Countdown):
    def step(self, action):
        obs, reward, *rest = super().step(action)
        return obs, str(reward), *rest


class CloseRaises(Countdown):
    def close(self):
        raise RuntimeError("the socket was already closed")


class _Slow(gym.Wrapper):
    def step(self, action):
        import time

        time.sleep(0.001)
        return self.env.step(action)


def slow_cartpole() -> gym.Env:
    """Gymnasium's CartPole (random starts from its own np_random), 1 ms a step: a study on it runs long
    enough to be interrupted mid-job, and its episodes only continue exactly if the copies are saved."""
    return _Slow(gym.make("CartPole-v1"))
