"""flipped-runner: a runner whose flipped (on-its-back) gait is a local optimum.

The essay's story: HalfCheetah seeds that learn to run on their back. The body's posture p runs
from -1 (on its back) to +1 (upright); it starts balanced at 0 (crouched; no start noise, so each
policy picks one posture and a seed's mode is clean) and the torque action a[1] tips it one way or
the other; between the postures the body is unstable (it falls further the further it leans). Both postures are wells: within them (|p| >= 0.5) torque barely moves the body
and a spring pulls it to the well's centre, so getting up from the back takes about 30 steps of
full torque at zero speed, and random actions never do it. Action a[0] drives the legs:
- on its back, speed = `flipped_speed` * max(a[0], 0): any constant push works, so it is found first;
- upright, speed = `upright_speed` * max(a[0] * g, 0), with g = +1/-1 alternating each step (shown in
  the observation): a gait that alternates its push with g earns 2.2 per step, a constant push 1.1.
Reward = speed - `ctrl_cost` * |a|^2. Upright running (2.2 per step) beats the flipped gait (1.8),
but a learner that tips onto its back early, while a constant push still beats its upright gait,
stays there: with PPO defaults 3-5 of 10 seeds end flipped (return about 150 vs 190).
True objective: speed while upright. `descriptor_flipped` = 1 while on its back.
`-fixed`: the flipped gait earns nothing, so every learner stands up.
Actions: Box(-1, 1, (2,)). Observation: posture p, last speed, gait sign g.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

from rlcheck.envs.traps._base import Transition, TrapEnv, make_info


@struct.dataclass
class Params:
    flipped_speed: float = 1.8
    upright_speed: float = 2.2
    ctrl_cost: float = 0.05
    tip_rate: float = 0.2  # posture change per unit torque between the wells
    fall: float = 0.3  # growth rate of the posture's distance from balance between the wells
    well_torque: float = 0.05  # ... and within a well
    spring: float = 0.08  # pull towards the well's centre
    start_noise: float = 0.0
    max_steps_in_episode: int = 100


@struct.dataclass
class State:
    posture: jax.Array
    speed: jax.Array
    time: int


class FlippedRunner(TrapEnv):
    """A runner whose on-its-back gait (1.8/step) is found before the faster upright gait (2.2/step):
    PPO (defaults) seeds split between the two modes (3-5 of 10 flipped)."""

    base_name = "flipped-runner"
    default_params = Params()
    num_actions = 2  # continuous: the action's dimension

    @staticmethod
    def gait_sign(time: Any) -> jax.Array:
        return jnp.where(time % 2 == 0, 1.0, -1.0).astype(jnp.float32)

    def transition(self, key: jax.Array, state: State, action: jax.Array, params: Params) -> Transition:
        a = jnp.clip(jnp.asarray(action, jnp.float32).reshape(2), -1.0, 1.0)
        p = state.posture
        in_well = jnp.abs(p) >= 0.5
        # between the wells the body falls away from balance (unstable); in a well a spring holds it
        dp = jnp.where(in_well, params.well_torque * a[1] + params.spring * (jnp.sign(p) - p),
                       params.tip_rate * a[1] + params.fall * p)
        posture = jnp.clip(p + dp, -1.0, 1.0)
        upright, flipped = p >= 0.5, p <= -0.5  # the gait acts in the posture the step starts in
        gait = self.gait_sign(state.time)
        upright_v = params.upright_speed * jnp.maximum(a[0] * gait, 0.0)
        flipped_v = 0.0 if self.fixed else params.flipped_speed * jnp.maximum(a[0], 0.0)
        speed = jnp.where(upright, upright_v, jnp.where(flipped, flipped_v, 0.0))
        state = State(posture=posture, speed=speed, time=state.time + 1)
        info = make_info(speed * upright, self.last_step(state, params) & (posture >= 0.5),
                         reward_speed=speed, reward_ctrl=-params.ctrl_cost * jnp.sum(a**2),
                         descriptor_flipped=flipped, descriptor_upright=upright)
        return state, jnp.bool_(False), info

    def observation(self, state: State, params: Params) -> jax.Array:
        return jnp.stack([state.posture, state.speed, self.gait_sign(state.time)]).astype(jnp.float32)

    def initial_state(self, key: jax.Array, params: Params) -> State:
        p0 = jax.random.uniform(key, (), jnp.float32, -params.start_noise, params.start_noise)
        return State(posture=p0, speed=jnp.float32(0.0), time=0)

    def action_space(self, params: Params | None = None) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (2,), jnp.float32)

    def observation_space(self, params: Params) -> spaces.Box:
        return spaces.Box(jnp.array([-1.0, 0.0, -1.0]), jnp.array([1.0, 3.0, 1.0]), (3,), jnp.float32)

    def trap_policy(self, state: State, params: Params) -> jax.Array:
        return jnp.array([1.0, -1.0], jnp.float32) * jnp.array([1.0, state.posture > -0.9])  # roll over, push

    def intended_policy(self, state: State, params: Params) -> jax.Array:
        torque = jnp.where(state.posture < 0.9, 1.0, 0.0)  # stand up, then run with the alternating gait
        return jnp.stack([self.gait_sign(state.time), torque]).astype(jnp.float32)
