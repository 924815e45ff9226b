"""This machine's speed relative to the one the registry's method speeds were measured on (the project's
2-core CPU), from one small compiled workload timed here: `plan` and `--time` scale their estimates by it.
Measured once per machine type and kept next to the compilation cache; RLCHECK_MACHINE_SPEED=X gives the
factor instead (a shared machine, or a plan that should read the same everywhere)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from rlcheck.core.errors import RLCheckError
from rlcheck.engine import compile_cache

# The workload's best time on the reference machine (the project's 2-core CPU), nothing else running:
# 0.0872, 0.0883, 0.0903 s in three processes on 2026-12-03
# (`python -c "from rlcheck.engine import calibrate; print(calibrate.workload_seconds())"`).
REFERENCE_SECONDS = 0.087
FILE, ENV = "machine_speed.json", "RLCHECK_MACHINE_SPEED"


def _workload(params: jax.Array, batch: jax.Array) -> jax.Array:
    """A learner's inner loop in miniature: 300 SGD steps of a 64x64 tanh MLP on a 256-row batch."""

    def loss(w, x):
        h = jnp.tanh(x @ w[0])
        return jnp.mean((jnp.tanh(h @ w[1]) @ w[2]) ** 2)

    def step(w, _):
        return w - 1e-3 * jax.grad(loss)(w, batch), None

    return jax.lax.scan(step, params, None, length=300)[0]


def workload_seconds() -> float:
    run = jax.jit(_workload)
    params, batch = jnp.full((3, 64, 64), 0.01), jnp.ones((256, 64))
    run(params, batch).block_until_ready()  # compile
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run(params, batch).block_until_ready()
        times.append(time.perf_counter() - start)
    return min(times)


def machine_speed() -> float:
    """Reference seconds / this machine's seconds (2.0: twice as fast), cached per machine type."""
    given = os.environ.get(ENV)
    if given is not None:
        try:
            speed = float(given)
        except ValueError:
            speed = float("nan")
        if not 0 < speed < float("inf"):
            raise RLCheckError(f"{ENV} is {given!r}; it should be this machine's speed relative to the reference "
                               f"machine (e.g. {ENV}=1, or {ENV}=0.5 for half as fast), or unset to measure it.")
        return speed
    file = cached_speed_file()
    if file is not None:
        try:
            kept = json.loads(file.read_text())
            if kept["reference_seconds"] == REFERENCE_SECONDS:  # else measured against another reference: again
                return float(kept["speed"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    speed = REFERENCE_SECONDS / max(workload_seconds(), 1e-6)
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{FILE}.tmp")
            tmp.write_text(json.dumps({"speed": speed, "reference_seconds": REFERENCE_SECONDS}))
            tmp.replace(file)
        except OSError:
            pass
    return speed


def cached_speed_file() -> Path | None:
    """Where this machine type's speed is kept (None where the cache is off: measured every time)."""
    root = compile_cache.cache_dir()
    return compile_cache.machine_dir(root) / FILE if root else None
