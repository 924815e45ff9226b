"""Action scaling: learners and planners act in [-1, 1]; only the env sees its own bounds."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def to_env_action(env: Any, action: jax.Array) -> jax.Array:
    """[-1, 1] -> [env.action_low, env.action_high] (clipped first)."""
    return env.action_low + (jnp.clip(action, -1.0, 1.0) + 1.0) * 0.5 * (env.action_high - env.action_low)
