"""Tiny gymnax-API environments with values known in closed form."""

import jax
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


@struct.dataclass
class IntegratorState(environment.EnvState):
    pos: jnp.ndarray
    vel: jnp.ndarray
    time: int


@struct.dataclass
class IntegratorParams(environment.EnvParams):
    dt: float = 0.1
    max_steps_in_episode: int = 60


class DoubleIntegrator(environment.Environment):
    """pos' = vel, vel' = u (Euler, step dt): A = [[1, dt], [0, 1]], B = [[0], [dt]]. Reward
    -(pos^2 + vel^2 + 0.1 u^2); starts at a random state in [-1, 1]^2. Differentiable."""

    _supports_transition_gradients = True

    @property
    def default_params(self):
        return IntegratorParams()

    def step_env(self, key, state, action, params):
        u = jnp.clip(jnp.asarray(action).reshape(()), -10.0, 10.0)
        reward = -(state.pos**2 + state.vel**2 + 0.1 * u**2)
        new = IntegratorState(pos=state.pos + params.dt * state.vel, vel=state.vel + params.dt * u, time=state.time + 1)
        done = self.is_terminal(new, params)
        obs, new = self._apply_transition_gradient_policy(self.get_obs(new), new)
        return obs, new, reward, done, {"discount": 1.0 - done}

    def reset_env(self, key, params):
        pos, vel = jax.random.uniform(key, (2,), minval=-1.0, maxval=1.0)
        state = IntegratorState(pos=pos, vel=vel, time=0)
        return self.get_obs(state), state

    def get_obs(self, state, params=None, key=None):
        return jnp.stack([state.pos, state.vel]).astype(jnp.float32)

    def is_terminal(self, state, params):
        return state.time >= params.max_steps_in_episode

    def action_space(self, params=None):
        return spaces.Box(-10.0, 10.0, (1,), jnp.float32)

    def observation_space(self, params):
        return spaces.Box(-100.0, 100.0, (2,), jnp.float32)


@struct.dataclass
class DelayState(environment.EnvState):
    time: int
    waited: int  # 1 if the first action chose the delayed payoff


@struct.dataclass
class DelayParams(environment.EnvParams):
    delay: int = 100
    payoff: float = 2.0
    max_steps_in_episode: int = 200  # never reached: every episode ends at delay + 1


class DelayedPayoff(environment.Environment):
    """One choice, then a forced wait: at t = 0, action 0 pays 1 now, action 1 pays `payoff` after `delay`
    more steps; actions after t = 0 do nothing, and every episode ends at t = delay + 1. So no exploration
    is needed, and the discount alone decides what is learned: waiting is worth gamma^delay * payoff
    against 1, so only gamma above (1 / payoff)^(1 / delay) (0.99309 by default) can learn the return of 2;
    gamma 0.99 learns the 1. Observation: [t / delay, waited]."""

    @property
    def default_params(self) -> DelayParams:
        return DelayParams()

    def step_env(self, key, state, action, params):
        first = state.time == 0
        waited = jnp.where(first, jnp.asarray(action).reshape(()).astype(jnp.int32), state.waited)
        time = state.time + 1
        new = DelayState(time=time, waited=waited)
        reward = jnp.where(first & (waited == 0), 1.0, 0.0) + jnp.where((time == params.delay + 1) & (waited == 1),
                                                                         params.payoff, 0.0)
        done = self.is_terminal(new, params)
        return self.get_obs(new, params), new, reward.astype(jnp.float32), done, {}

    def reset_env(self, key, params):
        state = DelayState(time=0, waited=0)
        return self.get_obs(state, params), state

    def get_obs(self, state, params=None, key=None):
        delay = (params or self.default_params).delay
        return jnp.array([state.time / delay, state.waited], jnp.float32)

    def is_terminal(self, state, params):
        return state.time >= params.delay + 1

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params):
        return spaces.Box(0.0, 2.0, (2,), jnp.float32)
