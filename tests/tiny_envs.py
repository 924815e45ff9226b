"""Tiny gymnax-API environments with values known in closed form."""

import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces


@struct.dataclass
class State(environment.EnvState):
    time: int


@struct.dataclass
class Params(environment.EnvParams):
    max_steps_in_episode: int = 10
    terminate_at: int = 10_000  # terminate (a real end) when time reaches this


class ConstantReward(environment.Environment):
    """Reward 1 every step; observation [time/10, 1]. With `terminate_at` = T and no time limit
    before it, V(t) = (1 - gamma^(T - t)) / (1 - gamma). With only a time limit (truncation), the
    task never really ends and V = 1 / (1 - gamma) everywhere."""

    @property
    def default_params(self) -> Params:
        return Params()

    def step_env(self, key, state, action, params):
        time = state.time + 1
        new = State(time=time)
        terminated = time >= params.terminate_at
        return self.get_obs(new), new, jnp.float32(1.0), terminated, {}

    def reset_env(self, key, params):
        state = State(time=0)
        return self.get_obs(state), state

    def get_obs(self, state, params=None, key=None):
        return jnp.array([state.time / 10.0, 1.0], jnp.float32)

    def is_terminated(self, state, params):
        return state.time >= params.terminate_at

    def action_space(self, params=None):
        return spaces.Discrete(1)

    def observation_space(self, params):
        return spaces.Box(0.0, 100.0, (2,), jnp.float32)
