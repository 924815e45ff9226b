"""DQN with a target network, double-DQN targets, a linear epsilon schedule, a replay buffer on
device and optional n-step returns. Each iteration steps `num_envs` envs once and makes
`gradient_steps` updates once `learning_starts` env steps are collected.
Follows CleanRL's `dqn.py` (and PureJaxRL's vectorised `dqn.py`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.errors import RLCheckError
from rlcheck.methods import networks as nets
from rlcheck.methods.config import numeric, static
from rlcheck.methods.loop import Budget, IterationLog, track_episodes
from rlcheck.methods.offpolicy import memory_check_for, replay_slots
from rlcheck.methods.replay import Replay


@struct.dataclass
class DQNConfig:
    learning_rate: float = numeric(2.5e-4, "Adam step size")
    gamma: float = numeric(0.99, "discount factor")
    tau: float = numeric(1.0, "target update rate at each target update (1.0 = hard copy)")
    start_epsilon: float = numeric(1.0, "initial exploration rate")
    end_epsilon: float = numeric(0.05, "final exploration rate")
    exploration_fraction: float = numeric(0.5, "fraction of the budget over which epsilon decays")
    max_grad_norm: float = numeric(10.0, "global gradient-norm clip")
    num_envs: int = static(10, "parallel envs per seed (env steps per iteration)")
    buffer_size: int = static(10_000, "replay capacity in transitions (capped at the budget)")
    batch_size: int = static(128, "minibatch size")
    learning_starts: int = static(10_000, "env steps collected before learning")
    gradient_steps: int = static(1, "gradient updates per iteration")
    target_update_interval: int = static(500, "env steps between target-network updates")
    double_dqn: bool = static(True, "select the next action with the online net, value it with the target net")
    n_step: int = static(1, "n-step returns (1 = one-step TD)")
    huber_loss: bool = static(False, "Huber instead of squared TD error")
    hidden_sizes: tuple[int, ...] = static((120, 84), "hidden layer widths")
    activation: str = static("relu", "tanh or relu")


DEFAULTS: dict[str, dict[str, Any]] = {
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


class DQN:
    name = "dqn"
    Config = DQNConfig
    defaults = DEFAULTS

    def check(self, env: EnvSpec) -> None:
        if not env.discrete:
            raise RLCheckError(
                f"DQN needs a discrete action space, but {env.name} has continuous actions "
                f"(a Box of dimension {env.num_actions}). Use --algo ppo, or a continuous-control "
                "learner (SAC, TD3, DDPG) for this environment."
            )

    def check_resources(self, env: EnvSpec, config: DQNConfig, budget: Budget, runs: int) -> None:
        memory_check_for(env, config.buffer_size, config.num_envs, budget, runs, self.name)

    def steps_per_iteration(self, config: DQNConfig) -> int:
        return config.num_envs

    def network(self, env: EnvSpec, config: DQNConfig) -> nets.MLP:
        return nets.MLP(config.hidden_sizes, env.num_actions, config.activation, 1.0, len(env.obs_shape))

    def optimizer(self, config: DQNConfig) -> optax.GradientTransformation:
        # flattened: one fused update over all weights, not one per layer (dispatch-bound on CPU)
        return optax.flatten(optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(config.learning_rate)))

    def init(self, key: jax.Array, env: EnvSpec, config: DQNConfig, budget: Budget) -> DQNState:
        self.check(env)
        key, net_key, env_key = jax.random.split(key, 3)
        params = self.network(env, config).init(net_key, jnp.zeros(env.obs_shape))
        obs, env_state = vector.reset(env, env_key, config.num_envs)
        # Sized by the budget: no point holding more transitions than the run will ever collect.
        slots = replay_slots(config.buffer_size, budget, config.num_envs)
        replay = Replay.create(slots, config.num_envs, obs[0], jnp.int32(0))
        return DQNState(
            params=params, target_params=params, opt_state=self.optimizer(config).init(params), replay=replay,
            env_state=env_state, obs=obs, episode_return=jnp.zeros(config.num_envs), env_steps=jnp.int32(0), key=key,
        )

    def act(self, state: DQNState, env: EnvSpec, config: DQNConfig, obs: jax.Array) -> jax.Array:
        return jnp.argmax(self.network(env, config).apply(state.params, obs), axis=-1)

    def eval_key(self, state: DQNState) -> jax.Array:
        return jax.random.fold_in(state.key, 1)

    def epsilon(self, config: DQNConfig, budget: Budget, env_steps: jax.Array) -> jax.Array:
        duration = jnp.maximum(config.exploration_fraction * budget.env_steps, 1.0)
        slope = (config.end_epsilon - config.start_epsilon) / duration
        return jnp.maximum(config.start_epsilon + slope * env_steps, config.end_epsilon)

    def iterate(self, state: DQNState, env: EnvSpec, config: DQNConfig, budget: Budget) -> tuple[DQNState, IterationLog]:
        network = self.network(env, config)
        optimizer = self.optimizer(config)
        key, explore_key, random_key, step_key, update_key = jax.random.split(state.key, 5)

        # --- act epsilon-greedily and store the transition ------------------------------------
        epsilon = self.epsilon(config, budget, state.env_steps)
        greedy = jnp.argmax(network.apply(state.params, state.obs), axis=-1)
        random_action = jax.random.randint(random_key, greedy.shape, 0, env.num_actions)
        explore = jax.random.uniform(explore_key, greedy.shape) < epsilon
        action = jnp.where(explore, random_action, greedy)
        next_obs, env_state, reward, terminated, truncated, final_obs = vector.step(env, step_key, state.env_state, action)
        done = terminated | truncated
        episode_return, finished_sum, finished = track_episodes(state.episode_return, reward, done)
        replay = state.replay.add(state.obs, action, reward, terminated, done, final_obs)
        env_steps = state.env_steps + config.num_envs

        # --- learn: TD regression on replayed (n-step) transitions ----------------------------
        def td_loss(params, target_params, batch):
            obs, action, n_step_reward, boot_obs, boot_discount = batch
            q = jnp.take_along_axis(network.apply(params, obs), action[:, None], axis=-1)[:, 0]
            next_target_q = network.apply(target_params, boot_obs)
            if config.double_dqn:
                next_action = jnp.argmax(network.apply(params, boot_obs), axis=-1)
            else:
                next_action = jnp.argmax(next_target_q, axis=-1)
            next_q = jnp.take_along_axis(next_target_q, next_action[:, None], axis=-1)[:, 0]
            target = jax.lax.stop_gradient(n_step_reward + boot_discount * next_q)
            error = q - target
            loss = optax.huber_loss(error).mean() if config.huber_loss else (error**2).mean()
            return loss, q.mean()

        def gradient_step(carry, step_key):
            params, opt_state = carry
            batch = replay.sample(step_key, config.batch_size, config.n_step, config.gamma)
            (loss, q_mean), grads = jax.value_and_grad(td_loss, has_aux=True)(params, state.target_params, batch)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (loss, q_mean)

        (new_params, new_opt_state), (loss, q_mean) = jax.lax.scan(
            gradient_step, (state.params, state.opt_state), jax.random.split(update_key, config.gradient_steps)
        )
        learning = env_steps > config.learning_starts
        params = jax.tree.map(lambda new, old: jnp.where(learning, new, old), new_params, state.params)
        opt_state = jax.tree.map(lambda new, old: jnp.where(learning, new, old), new_opt_state, state.opt_state)

        # --- target network: every target_update_interval env steps -------------------------
        update_target = (env_steps // config.target_update_interval) != (state.env_steps // config.target_update_interval)
        target_params = jax.tree.map(
            lambda t, p: jnp.where(update_target, config.tau * p + (1.0 - config.tau) * t, t), state.target_params, params
        )

        new_state = DQNState(
            params=params, target_params=target_params, opt_state=opt_state, replay=replay, env_state=env_state,
            obs=next_obs, episode_return=episode_return, env_steps=env_steps, key=key,
        )
        nan = jnp.float32(jnp.nan)
        log = IterationLog(
            episode_return_sum=finished_sum,
            episodes_finished=finished,
            diagnostics=dict(
                td_loss=jnp.where(learning, loss.mean(), nan), q_mean=jnp.where(learning, q_mean.mean(), nan),
                epsilon=epsilon,
            ),
        )
        return new_state, log
