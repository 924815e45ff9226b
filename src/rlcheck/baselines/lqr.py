"""LQR from the env's own dynamics: linearise one step of the JAX env around an equilibrium with
`jax.jacobian`, solve the discrete algebraic Riccati equation (scipy), and act with u = u* - K (x - x*).
With two discrete actions (CartPole), the sign of the control picks the action. On Pendulum an
energy-pumping swing-up (dE/dt = theta_dot * u) brings the pole up and LQR takes over near the top.
No env step is used for learning; the linearisation is one model call.

A user gives an equilibrium for their own env with `register_equilibrium(name, Equilibrium(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from flax import struct

from rlcheck.baselines.planner import Planner, require_jax_model
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable
from rlcheck.envs.jax_env import EnvSpec


@dataclass(frozen=True)
class Equilibrium:
    """x* (named fields of the env state), the control u* that holds it, and the LQR weights.
    `discrete_threshold`: for a two-action env driven by a continuous `action` in [0, 1] (as gymnax
    CartPole's force = force_mag (2a - 1) is), action 1 is taken when the control exceeds it."""

    fields: tuple[str, ...]
    state: tuple[float, ...]
    control: float
    q: tuple[float, ...]
    r: float
    angle_fields: tuple[str, ...] = ()  # wrapped to [-pi, pi) before comparing with x*
    discrete_threshold: float | None = None
    swing_up: bool = False  # energy-based swing-up far from x* (pendulum-like envs)


EQUILIBRIA: dict[str, Equilibrium] = {
    "CartPole-v1": Equilibrium(("x", "x_dot", "theta", "theta_dot"), (0.0, 0.0, 0.0, 0.0), 0.5,
                               q=(1.0, 1.0, 10.0, 1.0), r=1.0, angle_fields=("theta",), discrete_threshold=0.5),
    "Pendulum-v1": Equilibrium(("theta", "theta_dot"), (0.0, 0.0), 0.0, q=(1.0, 0.1), r=0.001,
                               angle_fields=("theta",), swing_up=True),
}


def register_equilibrium(env_name: str, equilibrium: Equilibrium) -> None:
    EQUILIBRIA[env_name] = equilibrium


@struct.dataclass
class LQRConfig:
    handover_cos: float = numeric(0.85, "swing-up: hand over to LQR when cos(angle from the top) exceeds this")
    pump_gain: float = numeric(1.0, "swing-up: torque = clip(gain * theta_dot * (E* - E) * big, limits)")
    unused: int = static(0, "no structural settings")


def central_differences(step, x: jax.Array, u: jax.Array, eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """(df/dx, df/du) of a step function by central differences: 2 (n + 1) model calls."""
    n = x.shape[0]
    cols = [(np.asarray(step(x + eps * e, u)) - np.asarray(step(x - eps * e, u))) / (2 * eps) for e in np.eye(n, dtype=np.float32)]
    b = (np.asarray(step(x, u + eps)) - np.asarray(step(x, u - eps))) / (2 * eps)
    return np.stack(cols, axis=1).astype(np.float64), b.reshape(-1, 1).astype(np.float64)


def wrap(angle: jax.Array) -> jax.Array:
    return (angle + jnp.pi) % (2 * jnp.pi) - jnp.pi


class LQR(Planner):
    name = "lqr"
    Config = LQRConfig
    defaults: dict[str, dict[str, Any]] = {}

    def check(self, env: EnvSpec) -> None:
        require_jax_model(env, "LQR")
        if env.name not in EQUILIBRIA:
            raise NotApplicable(
                f"LQR needs an equilibrium to linearise around, and none is known for {env.name}. Give one with "
                "rlcheck.baselines.lqr.register_equilibrium(name, Equilibrium(fields, state, control, q, r))."
            )
        eq = EQUILIBRIA[env.name]
        missing = [f for f in eq.fields if not hasattr(env.env.reset_env(jax.random.PRNGKey(0), env.params)[1], f)]
        if missing:
            raise NotApplicable(f"LQR cannot set the state of {env.name}: it has no fields {missing}.")


    def setup(self, env: EnvSpec, config: LQRConfig) -> dict[str, Any]:
        eq = EQUILIBRIA[env.name]
        _, template = env.env.reset_env(jax.random.PRNGKey(0), env.params)
        differentiable = getattr(env.env, "supports_transition_gradients", False)
        # gymnax detaches transitions unless asked; envs that cannot keep gradients (CartPole stops them
        # inside its step) are linearised by central differences instead.
        model = env.env.with_transition_gradients() if differentiable else env.env

        def step(x, u):
            state = template.replace(**{f: x[i] for i, f in enumerate(eq.fields)})
            _, nxt, _, _, _ = model.step_env(jax.random.PRNGKey(0), state, u, env.params)
            return jnp.stack([jnp.asarray(getattr(nxt, f), jnp.float32) for f in eq.fields])

        x_eq, u_eq = jnp.asarray(eq.state, jnp.float32), jnp.float32(eq.control)
        if differentiable:
            a = np.asarray(jax.jacobian(step, 0)(x_eq, u_eq), np.float64)
            b = np.asarray(jax.jacobian(step, 1)(x_eq, u_eq), np.float64).reshape(-1, 1)
            calls = 1
        else:
            a, b = central_differences(step, x_eq, u_eq)
            calls = 2 * (len(eq.fields) + 1)
        q, r = np.diag(eq.q), np.array([[eq.r]])
        p = scipy.linalg.solve_discrete_are(a, b, q, r)
        gain = np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
        return {"K": jnp.asarray(gain, jnp.float32)[0], "x_eq": x_eq, "u_eq": u_eq, "model_calls": jnp.int32(calls)}

    def setup_model_calls(self, params: Any) -> int:
        return int(params["model_calls"])  # env steps used as a model to linearise

    def init_carry(self, params, env, config, obs):
        return jnp.zeros(())

    def plan(self, params, env: EnvSpec, config: LQRConfig, obs, env_state, carry, key):
        eq = EQUILIBRIA[env.name]
        x = jnp.stack([wrap(getattr(env_state, f)) if f in eq.angle_fields else getattr(env_state, f) for f in eq.fields])
        u = params["u_eq"] - params["K"] @ (x.astype(jnp.float32) - params["x_eq"])
        if eq.discrete_threshold is not None:
            return (u > eq.discrete_threshold).astype(jnp.int32), carry, jnp.int32(0)
        low, high = env.action_low[0], env.action_high[0]
        if eq.swing_up:
            u = jnp.where(jnp.cos(x[0]) > config.handover_cos, u, self._pump(env, x, config))
        return jnp.clip(u, low, high).reshape(env.num_actions), carry, jnp.int32(0)

    @staticmethod
    def _pump(env: EnvSpec, x: jax.Array, config: LQRConfig) -> jax.Array:
        """Energy pumping for Pendulum-v1's dynamics (theta = 0 up): E = I w^2 / 2 + m g l/2 cos(theta),
        I = m l^2 / 3, dE/dt = w u, so push along w while E is below E* = m g l / 2 (upright at rest)."""
        p = env.params
        inertia = p.m * p.l**2 / 3
        energy = 0.5 * inertia * x[1] ** 2 + p.m * p.g * p.l / 2 * jnp.cos(x[0])
        target = p.m * p.g * p.l / 2
        drive = config.pump_gain * 100.0 * (target - energy) * x[1]
        return jnp.where(jnp.abs(x[1]) < 1e-3, p.max_torque, drive)  # at rest at the bottom: kick
