"""biased-catch: balls fall mostly on the right, so "always press right" is a tempting collapse.

The essay's story: Breakout policies that always press one button. A ball falls down a grid of
`width` columns and `height` rows, one row a step; the paddle on the bottom row moves left, stays
or moves right (actions 0, 1, 2). A caught ball is +1, a missed one -1; the episode is `num_balls`
balls. Spawns are biased: column `width - 1` with probability `right_bias`, else uniform over the
others. Always-right catches 80% (expected return +6 of 10); tracking the ball catches every one
(+10); the paddle can always reach the ball in time. `-fixed`: spawns are uniform, so always-right
returns about -6 and only tracking pays. True objective: balls caught.
Observation: one-hot ball column, ball row (scaled to [0, 1]), one-hot paddle column.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.envs.traps._base import Transition, TrapEnv, make_info


@struct.dataclass
class Params:
    width: int = struct.field(pytree_node=False, default=5)
    height: int = 5
    num_balls: int = 10
    right_bias: float = 0.8
    max_steps_in_episode: int = 50  # 10 balls take 40 steps


@struct.dataclass
class State:
    ball_col: jax.Array
    ball_row: jax.Array
    paddle: jax.Array
    balls: jax.Array  # balls resolved so far
    misses: jax.Array
    time: int


class BiasedCatch(TrapEnv):
    """Catch with 80% of balls on the right: PPO with ent_coef=0 (low exploration) collapses to always-right
    (about +6 of 10) instead of tracking the ball (+10)."""

    base_name = "biased-catch"
    default_params = Params()
    num_actions = 3

    def spawn(self, key: jax.Array, params: Params) -> jax.Array:
        """A ball's column: uniform (fixed), or the right edge with probability right_bias (trap)."""
        uniform = jax.random.randint(key, (), 0, params.width)
        if self.fixed:
            return uniform.astype(jnp.int32)
        k_side, k_col = jax.random.split(key)
        other = jax.random.randint(k_col, (), 0, params.width - 1)
        return jnp.where(jax.random.uniform(k_side) < params.right_bias, params.width - 1, other).astype(jnp.int32)

    def transition(self, key: jax.Array, state: State, action: jax.Array, params: Params) -> Transition:
        paddle = jnp.clip(state.paddle + action - 1, 0, params.width - 1).astype(jnp.int32)
        row = state.ball_row + 1
        lands = row >= params.height - 1
        caught = lands & (paddle == state.ball_col)
        missed = lands & ~caught
        balls = state.balls + lands
        misses = state.misses + missed
        done = balls >= params.num_balls
        state = State(ball_col=jnp.where(lands, self.spawn(key, params), state.ball_col),
                      ball_row=jnp.where(lands, 0, row).astype(jnp.int32), paddle=paddle,
                      balls=balls.astype(jnp.int32), misses=misses.astype(jnp.int32), time=state.time + 1)
        return state, done, make_info(caught, done & (misses == 0), reward_catch=caught, reward_miss=-1.0 * missed)

    def observation(self, state: State, params: Params) -> jax.Array:
        return jnp.concatenate([jax.nn.one_hot(state.ball_col, params.width, dtype=jnp.float32),
                                (state.ball_row / (params.height - 1)).astype(jnp.float32)[None],
                                jax.nn.one_hot(state.paddle, params.width, dtype=jnp.float32)])

    def initial_state(self, key: jax.Array, params: Params) -> State:
        return State(ball_col=self.spawn(key, params), ball_row=jnp.int32(0), paddle=jnp.int32(params.width // 2),
                     balls=jnp.int32(0), misses=jnp.int32(0), time=0)

    def trap_policy(self, state: State, params: Params) -> jax.Array:
        return jnp.int32(2)  # always right

    def intended_policy(self, state: State, params: Params) -> jax.Array:
        return (jnp.sign(state.ball_col - state.paddle) + 1).astype(jnp.int32)  # track the ball
