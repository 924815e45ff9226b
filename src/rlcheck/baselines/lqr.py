"""LQR from the env's own dynamics: linearise one step of the JAX env around an equilibrium with
`jax.jacobian`, solve the discrete algebraic Riccati equation (scipy), and act with u = u* - K (x - x*).
With two discrete actions (CartPole), the sign of the control picks the action. On Pendulum an
energy-pumping swing-up (dE/dt = theta_dot * u) brings the pole up and LQR takes over near the top.
No env step is used for learning; the linearisation is one model call.

A user gives an equilibrium for their own env with `register_equilibrium(name, Equilibrium(...))`.

Python envs (continuous actions): the state is a vector that a state copy can set (envs/state_copy.py:
MuJoCo's qpos and qvel, or a user's get_state()/set_state() of a 1-D array), the equilibrium is given
for that vector (`fields=()`), the linearisation is by central differences through set-state-and-step
(2 (n + m) model calls), and each real step reads the state and acts with u = u* - K (x - x*).
Built in: InvertedPendulum-v5 (MuJoCo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from flax import struct

from rlcheck.baselines.planner import Planner, play_on_host, require_jax_model, run_host_planner
from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import NotApplicable
from rlcheck.core.results import RunResult
from rlcheck.envs.host import HostEnv
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.envs.state_copy import state_copy


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
    angle_indices: tuple[int, ...] = ()  # Python envs: entries of the state vector wrapped to [-pi, pi)


EQUILIBRIA: dict[str, Equilibrium] = {
    "CartPole-v1": Equilibrium(("x", "x_dot", "theta", "theta_dot"), (0.0, 0.0, 0.0, 0.0), 0.5,
                               q=(1.0, 1.0, 10.0, 1.0), r=1.0, angle_fields=("theta",), discrete_threshold=0.5),
    "Pendulum-v1": Equilibrium(("theta", "theta_dot"), (0.0, 0.0), 0.0, q=(1.0, 0.1), r=0.001,
                               angle_fields=("theta",), swing_up=True),
    # MuJoCo: state (cart, hinge, cart velocity, hinge velocity), upright at rest with no force
    "InvertedPendulum-v5": Equilibrium((), (0.0, 0.0, 0.0, 0.0), 0.0, q=(1.0, 10.0, 1.0, 1.0), r=0.1),
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


def linearise_host(copier, eq: Equilibrium, env: EnvSpec, eps: float = 1e-4):
    """(K, x*, u*, model calls) for a Python env: A and B by central differences of set-state-and-step, then
    the discrete Riccati equation."""
    x_eq = np.asarray(eq.state, np.float64)
    u_eq = np.full(env.num_actions, eq.control, np.float64)

    def step(x, u):
        model = copier.set_vector(x)
        model.step(u.astype(np.float32))
        return copier.vector(model)

    n, m = len(x_eq), len(u_eq)
    a = np.stack([(step(x_eq + eps * e, u_eq) - step(x_eq - eps * e, u_eq)) / (2 * eps) for e in np.eye(n)], axis=1)
    b = np.stack([(step(x_eq, u_eq + eps * e) - step(x_eq, u_eq - eps * e)) / (2 * eps) for e in np.eye(m)], axis=1)
    q, r = np.diag(eq.q), eq.r * np.eye(m)
    p = scipy.linalg.solve_discrete_are(a, b, q, r)
    gain = np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
    return gain, x_eq, u_eq, 2 * (n + m)


def wrap(angle: jax.Array) -> jax.Array:
    return (angle + jnp.pi) % (2 * jnp.pi) - jnp.pi


class LQR(Planner):
    name = "lqr"
    Config = LQRConfig
    defaults: dict[str, dict[str, Any]] = {}

    def run_host(self, env: EnvSpec, configs, seeds, budget: Budget, progress=None) -> RunResult:
        """Python envs: linearised through a state copy, then played on the host (see the module doc)."""
        eq = EQUILIBRIA[env.task]
        copier = state_copy(env, "LQR")
        try:
            gain, x_eq, u_eq, calls = linearise_host(copier, eq, env)
        finally:
            copier.close()

        def play(config, seed, recorder):
            reader = state_copy(env, "LQR")

            def choose(real, obs):
                x = reader.vector(real)
                x[list(eq.angle_indices)] = np.asarray(wrap(jnp.asarray(x[list(eq.angle_indices)])))
                u = u_eq - gain @ (x - x_eq)
                return np.clip(u, env.action_low, env.action_high).astype(np.float32), 0

            try:
                total, used, steps = play_on_host(env, seed, choose, recorder)
            finally:
                reader.close()
            return total, used, steps  # no model calls while playing: the state is read, not simulated

        return run_host_planner(self, env, play, configs, seeds, budget, progress, setup_calls=calls)

    def check(self, env: EnvSpec) -> None:
        if isinstance(env.env, HostEnv):
            self._check_host(env)
            return
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


    @staticmethod
    def _check_host(env: EnvSpec) -> None:
        eq = EQUILIBRIA.get(env.task)
        if eq is None or eq.fields:
            raise NotApplicable(
                f"LQR needs an equilibrium to linearise around, and none is known for {env.name}'s state vector. Give one "
                "with rlcheck.baselines.lqr.register_equilibrium(name, Equilibrium((), state, control, q, r)), the state "
                "as MuJoCo's qpos+qvel or your env's get_state() gives it.")
        if env.discrete:
            raise NotApplicable(f"LQR on a Python env needs continuous (Box) actions; {env.name}'s are discrete.")
        copier = state_copy(env, "LQR")
        try:
            probe = env.env.make()
            probe.reset(seed=0)
            x = copier.vector(probe)
            probe.close()
        finally:
            copier.close()
        if x is None:
            raise NotApplicable(f"LQR sets {env.name}'s state to a vector to linearise it, and its state is not one "
                                f"({copier.how}). Give the env get_state() -> 1-D array and set_state(array).")
        if x.shape != (len(eq.state),) or len(eq.q) != len(eq.state):
            raise NotApplicable(f"The LQR equilibrium of {env.name} has {len(eq.state)} entries (and {len(eq.q)} weights); "
                                f"its state vector has {x.shape[0]}.")

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
