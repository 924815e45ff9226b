"""Running mean/variance of observations (parallel Welford update), as in SB3's VecNormalize."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class RunningNorm:
    mean: jax.Array
    var: jax.Array
    count: jax.Array

    @classmethod
    def create(cls, shape: tuple[int, ...]) -> RunningNorm:
        return cls(jnp.zeros(shape), jnp.ones(shape), jnp.float32(1e-4))

    def update(self, batch: jax.Array) -> RunningNorm:
        """Fold a batch (leading axes are samples) into the running statistics."""
        batch = batch.reshape((-1,) + self.mean.shape).astype(jnp.float32)
        b_mean, b_var, b_count = batch.mean(0), batch.var(0), batch.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        return RunningNorm(mean, m2 / total, total)

    def normalize(self, obs: jax.Array, enabled: bool, clip: float = 10.0) -> jax.Array:
        if not enabled:
            return obs
        return jnp.clip((obs - self.mean) / jnp.sqrt(self.var + 1e-8), -clip, clip)
