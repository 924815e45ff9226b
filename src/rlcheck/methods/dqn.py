"""DQN with a target network, double-DQN targets, a linear epsilon schedule, a replay buffer on
device and optional n-step returns. Each iteration (methods/offpolicy.py's template) steps `num_envs`
envs once and makes `gradient_steps` updates (`DQN.update`) once `learning_starts` env steps are collected.
Follows CleanRL's `dqn.py` (and PureJaxRL's vectorised `dqn.py`).

Rainbow's parts are switches (Hessel et al. 2018): `distributional` (C51: a categorical return
distribution on `num_atoms` fixed atoms in [v_min, v_max], trained by cross-entropy to the projected
n-step Bellman target), `dueling` heads, `n_step` returns, `prioritized` replay (proportional,
exponent alpha, importance weights with beta annealed to 1) and `noisy` nets (exploration by
parameter noise; greedy evaluation uses the mean weights). `--algo rainbow` turns them all on.
Frames (Atari) get the Nature DQN convolutional torso.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.errors import RLCheckError
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.offpolicy import Collector, OffPolicy, OffPolicyConfig
from rlcheck.methods.replay import Replay


@struct.dataclass
class DQNConfig(OffPolicyConfig):
    """CleanRL's dqn.py defaults: Adam 2.5e-4, hard target copies every 500 steps, 10 envs, 10k replay,
    batch 128, 10k steps before learning, 120x84 ReLU; Rainbow's parts off."""

    learning_rate: float = numeric(2.5e-4, "Adam step size")
    tau: float = numeric(1.0, "target update rate at each target update (1.0 = hard copy)")
    num_envs: int = static(10, "parallel envs per seed (env steps per iteration)")
    buffer_size: int = static(10_000, "replay capacity in transitions (capped at the budget)")
    batch_size: int = static(128, "minibatch size")
    learning_starts: int = static(10_000, "env steps collected (acting at random) before learning")
    hidden_sizes: tuple[int, ...] = static((120, 84), "hidden layer widths")
    start_epsilon: float = numeric(1.0, "initial exploration rate")
    end_epsilon: float = numeric(0.05, "final exploration rate")
    exploration_fraction: float = numeric(0.5, "fraction of the budget over which epsilon decays")
    max_grad_norm: float = numeric(10.0, "global gradient-norm clip")
    target_update_interval: int = static(500, "env steps between target-network updates")
    double_dqn: bool = static(True, "select the next action with the online net, value it with the target net")
    n_step: int = static(1, "n-step returns (1 = one-step TD)")
    huber_loss: bool = static(False, "Huber instead of squared TD error")
    adam_eps: float = numeric(1e-8, "Adam epsilon (Rainbow: 1.5e-4)")
    # Rainbow's switches
    distributional: bool = static(False, "C51: learn a categorical return distribution")
    num_atoms: int = static(51, "C51: atoms of the return distribution")
    v_min: float = numeric(-10.0, "C51: smallest atom")
    v_max: float = numeric(10.0, "C51: largest atom")
    dueling: bool = static(False, "separate value and advantage streams")
    noisy: bool = static(False, "noisy dense layers (factorised Gaussian) for exploration")
    prioritized: bool = static(False, "prioritised replay, proportional to TD error (or C51 loss)")
    priority_exponent: float = numeric(0.5, "prioritised replay: alpha")
    priority_weight: float = numeric(0.4, "prioritised replay: initial importance-weight exponent beta (annealed to 1)")


DEFAULTS: dict[str, dict[str, Any]] = {
    # Any Atari game: CleanRL dqn_atari.py (lr 1e-4, batch 32, target every 1000, epsilon 1 -> 0.01 over
    # 10% of the budget, an update every 4 env steps, learning_starts 80k, Nature CNN then 512 units).
    "atari": dict(learning_rate=1e-4, batch_size=32, target_update_interval=1000, end_epsilon=0.01,
                  exploration_fraction=0.1, num_envs=4, learning_starts=80_000, buffer_size=1_000_000,
                  hidden_sizes=(512,), huber_loss=True),
    # CleanRL dqn.py CartPole-v1 defaults (train_frequency 10 -> 10 envs with one update per vector step;
    # CleanRL's target is max_a Q_target, not double DQN).
    "CartPole-v1": {"double_dqn": False},
    # RL Baselines3 Zoo dqn.yml Acrobot-v1: lr 6.3e-4, batch 128, buffer 50k, learning_starts 0,
    # gamma 0.99, target every 250, exploration 0.12 -> 0.1, net 256x256, 4 updates per 4 steps.
    "Acrobot-v1": dict(
        learning_rate=6.3e-4, buffer_size=50_000, learning_starts=0, target_update_interval=250,
        exploration_fraction=0.12, end_epsilon=0.1, hidden_sizes=(256, 256), num_envs=4, gradient_steps=4,
    ),
    # RL Zoo dqn.yml MountainCar-v0: lr 4e-3, batch 128, buffer 10k, learning_starts 1000, gamma 0.98,
    # target every 600, exploration 0.2 -> 0.07, net 256x256, 8 updates per 16 steps.
    "MountainCar-v0": dict(
        learning_rate=4e-3, learning_starts=1000, gamma=0.98, target_update_interval=600,
        exploration_fraction=0.2, end_epsilon=0.07, hidden_sizes=(256, 256), num_envs=16, gradient_steps=8,
    ),
}


@struct.dataclass
class DQNState:
    params: Any
    target_params: Any
    opt_state: Any
    replay: Replay
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    env_steps: jax.Array
    key: jax.Array


class DQN(OffPolicy):
    name = "dqn"
    Config = DQNConfig
    defaults = DEFAULTS
    extra_keys = 1  # noisy nets: the acting net's noise

    def check(self, env: EnvSpec) -> None:
        if not env.discrete:
            raise RLCheckError(
                f"DQN needs a discrete action space, but {env.name} has continuous actions "
                f"(a Box of dimension {env.num_actions}). Use --algo ppo, or a continuous-control "
                "learner (SAC, TD3, DDPG) for this environment."
            )

    def network(self, env: EnvSpec, config: DQNConfig) -> nets.QNetwork:
        return nets.QNetwork(config.hidden_sizes, env.num_actions, config.activation, len(env.obs_shape),
                             nets.uses_cnn(env), config.dueling, config.noisy,
                             config.num_atoms if config.distributional else 1, nets.image_part(env))

    def atoms(self, config: DQNConfig) -> jax.Array:
        return jnp.linspace(config.v_min, config.v_max, config.num_atoms)

    def q_values(self, params, env: EnvSpec, config: DQNConfig, obs: jax.Array, noise_key: jax.Array | None = None):
        """Q-values; noisy nets draw fresh noise from `noise_key`, or use their mean weights without one."""
        rngs = {"noise": noise_key} if noise_key is not None else {}
        out = self.network(env, config).apply(params, obs, noise_key is not None, rngs=rngs)
        if config.distributional:
            return jnp.sum(jax.nn.softmax(out, axis=-1) * self.atoms(config), axis=-1)
        return out

    def optimizer(self, config: DQNConfig) -> optax.GradientTransformation:
        # flattened: one fused update over all weights, not one per layer (dispatch-bound on CPU)
        return optax.flatten(optax.chain(optax.clip_by_global_norm(config.max_grad_norm),
                                         optax.adam(config.learning_rate, eps=config.adam_eps)))

    def init(self, key: jax.Array, env: EnvSpec, config: DQNConfig, budget: Budget) -> DQNState:
        self.check(env)
        key, net_key, env_key = jax.random.split(key, 3)
        params = self.network(env, config).init({"params": net_key, "noise": net_key}, jnp.zeros(env.obs_shape, env_obs_dtype(env)))
        col = Collector.create(env_key, env, config.num_envs, config.buffer_size, budget)
        return DQNState(
            params=params, target_params=params, opt_state=self.optimizer(config).init(params), replay=col.replay,
            env_state=col.env_state, obs=col.obs, episode_return=col.episode_return, env_steps=col.env_steps, key=key,
        )

    def collector(self, state: DQNState) -> Collector:
        return Collector(state.env_state, state.obs, state.episode_return, state.replay, state.env_steps)

    def act(self, state: DQNState, env: EnvSpec, config: DQNConfig, obs: jax.Array) -> jax.Array:
        return jnp.argmax(self.q_values(state.params, env, config, obs), axis=-1)

    def epsilon(self, config: DQNConfig, budget: Budget, env_steps: jax.Array) -> jax.Array:
        duration = jnp.maximum(config.exploration_fraction * budget.env_steps, 1.0)
        slope = (config.end_epsilon - config.start_epsilon) / duration
        return jnp.maximum(config.start_epsilon + slope * env_steps, config.end_epsilon)

    def explore(self, state: DQNState, env: EnvSpec, config: DQNConfig, budget: Budget, keys):
        """Epsilon-greedy (noisy nets: greedy under fresh noise)."""
        explore_key, random_key, noise_key = keys
        epsilon = self.epsilon(config, budget, state.env_steps)
        greedy = jnp.argmax(self.q_values(state.params, env, config, state.obs, noise_key if config.noisy else None), axis=-1)
        random_action = jax.random.randint(random_key, greedy.shape, 0, env.num_actions)
        explore = jax.random.uniform(explore_key, greedy.shape) < epsilon
        return jnp.where(explore, random_action, greedy), epsilon

    def sample(self, state: DQNState, env: EnvSpec, config: DQNConfig, budget: Budget, obs: jax.Array,
               key: jax.Array) -> jax.Array:
        """The policy as it acts in training: epsilon-greedy at the rate training has reached (noisy nets:
        greedy under fresh noise)."""
        explore_key, random_key, noise_key = jax.random.split(key, 3)
        epsilon = self.epsilon(config, budget, state.env_steps)
        greedy = jnp.argmax(self.q_values(state.params, env, config, obs, noise_key if config.noisy else None), axis=-1)
        random_action = jax.random.randint(random_key, greedy.shape, 0, env.num_actions)
        return jnp.where(jax.random.uniform(explore_key, greedy.shape) < epsilon, random_action, greedy)

    def explore_log(self, epsilon: jax.Array) -> dict[str, jax.Array]:
        return dict(epsilon=epsilon)

    def learning(self, collector: Collector, config: DQNConfig) -> jax.Array:
        return collector.env_steps > config.learning_starts

    def trained(self, state: DQNState, config: DQNConfig, collector: Collector):
        # Only the priorities change during updates: carry those, not the whole buffer (a where over the
        # buffer every iteration cost DQN's CartPole default about 15% of its time).
        priorities = (collector.replay.priority, collector.replay.max_priority) if config.prioritized else ()
        return (state.params, state.opt_state, *priorities)

    def update(self, state: DQNState, collector: Collector, env: EnvSpec, config: DQNConfig, budget: Budget):
        """One gradient step of TD regression (or C51 cross-entropy) on replayed (n-step) transitions."""
        network = self.network(env, config)
        optimizer = self.optimizer(config)
        beta = config.priority_weight + (1.0 - config.priority_weight) * jnp.minimum(collector.env_steps / budget.env_steps, 1.0)

        def td_loss(params, target_params, batch, weights, key):
            obs, action, n_step_reward, boot_obs, boot_discount = batch
            online_key, next_key, target_key = jax.random.split(key, 3)
            keys = (online_key, next_key, target_key) if config.noisy else (None, None, None)
            # the online net's next-state values only serve double-DQN's action choice: skip them otherwise
            next_online_q = self.q_values(params, env, config, boot_obs, keys[1]) if config.double_dqn else None
            if config.distributional:
                log_p = jax.nn.log_softmax(network.apply(params, obs, config.noisy, rngs=_rngs(keys[0])), axis=-1)
                log_p = jnp.take_along_axis(log_p, action[:, None, None], axis=1)[:, 0]  # [B, atoms]
                next_logits = network.apply(target_params, boot_obs, config.noisy, rngs=_rngs(keys[2]))
                next_p = jax.nn.softmax(next_logits, axis=-1)
                next_q = jnp.sum(next_p * self.atoms(config), axis=-1)
                next_action = jnp.argmax(next_online_q if config.double_dqn else next_q, axis=-1)
                next_p = jnp.take_along_axis(next_p, next_action[:, None, None], axis=1)[:, 0]
                target = jax.lax.stop_gradient(project_distribution(
                    n_step_reward[:, None] + boot_discount[:, None] * self.atoms(config)[None], next_p, config))
                per_sample = -jnp.sum(target * log_p, axis=-1)
                q = jnp.sum(jnp.exp(log_p) * self.atoms(config), axis=-1)
            else:
                q = jnp.take_along_axis(self.q_values(params, env, config, obs, keys[0]), action[:, None], axis=-1)[:, 0]
                next_target_q = self.q_values(target_params, env, config, boot_obs, keys[2])
                next_action = jnp.argmax(next_online_q if config.double_dqn else next_target_q, axis=-1)
                next_q = jnp.take_along_axis(next_target_q, next_action[:, None], axis=-1)[:, 0]
                error = q - jax.lax.stop_gradient(n_step_reward + boot_discount * next_q)
                per_sample = optax.huber_loss(error) if config.huber_loss else error**2
            loss = jnp.mean(weights * per_sample)
            priority = per_sample if config.distributional else jnp.abs(error)
            return loss, (q.mean(), priority)

        def step(carry, step_key):
            params, opt_state, *priorities = carry
            replay = collector.replay
            if config.prioritized:
                replay = replay.replace(priority=priorities[0], max_priority=priorities[1])
            sample_key, loss_key = jax.random.split(step_key)
            start, env_index, probability = replay.sample_indices(
                sample_key, config.batch_size, config.n_step, config.priority_exponent if config.prioritized else None)
            batch = replay.gather(start, env_index, config.n_step, config.gamma)
            if config.prioritized:  # importance weights, normalised by their largest possible value
                weights = (probability * replay.size * replay.reward.shape[1]) ** -beta
                weights = weights / jnp.max(weights)
            else:
                weights = jnp.ones(config.batch_size)
            (loss, (q_mean, priority)), grads = jax.value_and_grad(td_loss, has_aux=True)(
                params, state.target_params, batch, weights, loss_key)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            if config.prioritized:
                replay = replay.set_priority(start, env_index, priority + 1e-6)
                return (params, opt_state, replay.priority, replay.max_priority), dict(td_loss=loss, q_mean=q_mean)
            return (params, opt_state), dict(td_loss=loss, q_mean=q_mean)

        return step

    def advance(self, state: DQNState, config: DQNConfig, trained, collector: Collector, epsilon: jax.Array,
                done: jax.Array, key: jax.Array) -> DQNState:
        params, opt_state, *priorities = trained
        replay = collector.replay
        if config.prioritized:
            replay = replay.replace(priority=priorities[0], max_priority=priorities[1])

        # --- target network: every target_update_interval env steps -------------------------
        env_steps = collector.env_steps
        update_target = (env_steps // config.target_update_interval) != (state.env_steps // config.target_update_interval)
        target_params = jax.tree.map(
            lambda t, p: jnp.where(update_target, config.tau * p + (1.0 - config.tau) * t, t), state.target_params, params
        )
        return DQNState(
            params=params, target_params=target_params, opt_state=opt_state, replay=replay,
            env_state=collector.env_state, obs=collector.obs, episode_return=collector.episode_return,
            env_steps=env_steps, key=key,
        )


def _rngs(key: jax.Array | None) -> dict[str, jax.Array]:
    return {"noise": key} if key is not None else {}


def env_obs_dtype(env: EnvSpec):
    return getattr(env.env, "obs_dtype", jnp.float32)


def project_distribution(target_atoms: jax.Array, probabilities: jax.Array, config: DQNConfig) -> jax.Array:
    """C51's projection: mass `probabilities` at `target_atoms` ([B, atoms], clipped to [v_min, v_max])
    shared out to the two nearest fixed atoms, in proportion to closeness. Returns [B, atoms]."""
    delta = (config.v_max - config.v_min) / (config.num_atoms - 1)
    position = (jnp.clip(target_atoms, config.v_min, config.v_max) - config.v_min) / delta  # in [0, atoms - 1]
    lower = jnp.floor(position)
    upper_weight = position - lower  # share of the mass that goes to the atom above
    lower_index = lower.astype(jnp.int32)
    upper_index = jnp.minimum(lower_index + 1, config.num_atoms - 1)
    rows = jnp.arange(target_atoms.shape[0])[:, None]
    out = jnp.zeros_like(probabilities)
    out = out.at[rows, lower_index].add(probabilities * (1.0 - upper_weight))
    return out.at[rows, upper_index].add(probabilities * upper_weight)
