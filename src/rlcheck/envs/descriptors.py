"""Built-in behaviour descriptors for well-known envs, named in a study as
`descriptors: rlcheck.envs.descriptors:NAME` (the same contract as a user's: f(obs, action, reward,
next_obs) per step, JAX-traceable, output names in the function's `names`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

CHEETAH_DT = 0.05  # HalfCheetah: MuJoCo timestep 0.01 x frame skip 5


def cheetah_posture(obs: jax.Array, action: jax.Array, reward: jax.Array, next_obs: jax.Array) -> jax.Array:
    """HalfCheetah (Gymnasium v4/v5 observation: [1] torso pitch, [10] its angular velocity).
    `upside_down`: 1 while the torso is turned more than 90 degrees from upright, so its mean is the
    share of the episode spent on the back. `turns`: the torso's signed rotation this step in full
    turns, so its mean times the episode length is the net number of somersaults (rocking cancels out);
    a tumbling gait scores many, running none. (Integrated from the angular velocity sampled once per
    step, so approximate: within about a fifth of a turn per 1000 steps of the true count in our checks.)"""
    pitch, pitch_rate = next_obs[1], next_obs[10]
    upside_down = (jnp.cos(pitch) < 0.0).astype(jnp.float32)
    turns = pitch_rate * CHEETAH_DT / (2.0 * jnp.pi)
    return jnp.stack([upside_down, turns])


cheetah_posture.names = ("upside_down", "turns")
