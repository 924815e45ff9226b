"""What the on-policy actor-critic learners (PPO, TRPO) share: their state, init, deterministic act,
the rollout with GAE advantages, and shuffled minibatch epochs. The iteration template owns the loop,
in rejax's `train_iteration` order: collect a rollout, compute GAE, flatten it, hand it to the
algorithm's `update` (its losses and optimizer steps), then advance the state and log.

An algorithm supplies:
  optimizer(config, budget) -> optax transformation       (what `opt_state` is the state of)
  update(state, rollout, key, network, config, budget) -> ((params, opt_state), key, diagnostics)
where `rollout` holds the flattened [num_envs * num_steps] batch: normalised obs, action, logp, value,
advantage (GAE) and target (advantage + value).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from rlcheck.core.budget import Budget
from rlcheck.core.config import numeric, static
from rlcheck.core.contracts import KeyedMethod
from rlcheck.core.trace import IterationLog
from rlcheck.envs import vector
from rlcheck.envs.jax_env import EnvSpec
from rlcheck.methods import networks as nets
from rlcheck.methods.loop import track_episodes
from rlcheck.methods.normalization import RunningNorm


@struct.dataclass
class OnPolicyConfig:
    """The settings of the rollout and the networks that PPO and TRPO share (PureJaxRL / CleanRL
    classic-control defaults); each learner's config subclasses it and adds those of its update."""

    gamma: float = numeric(0.99, "discount factor")
    reward_scale: float = numeric(1.0, "training rewards are multiplied by this (returns are reported unscaled)")
    gae_lambda: float = numeric(0.95, "GAE lambda")
    num_envs: int = static(4, "parallel envs per seed")
    num_steps: int = static(128, "steps per env per rollout")
    hidden_sizes: tuple[int, ...] = static((64, 64), "hidden layer widths of actor and critic")
    activation: str = static("tanh", "tanh or relu")
    normalize_obs: bool = static(False, "normalise observations with running statistics")
    normalize_advantages: bool = static(True, "normalise advantages (PPO per minibatch, TRPO over the rollout)")


@struct.dataclass
class OnPolicyState:
    params: Any
    opt_state: Any
    obs_norm: RunningNorm
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    key: jax.Array


def gae(reward, value, next_value, terminated, done, gamma, gae_lambda) -> jax.Array:
    """Generalised advantage estimates over a [time, env] rollout. `next_value` is the value of the
    true next observation (the final observation where an episode ended): it is used unless the
    episode terminated; the GAE trace is cut at any episode end (termination or truncation)."""
    delta = reward + gamma * next_value * (1.0 - terminated.astype(jnp.float32)) - value
    not_done = 1.0 - done.astype(jnp.float32)

    def step(next_advantage, xs):
        delta_t, not_done_t = xs
        advantage = delta_t + gamma * gae_lambda * not_done_t * next_advantage
        return advantage, advantage

    return jax.lax.scan(step, jnp.zeros_like(delta[0]), (delta, not_done), reverse=True)[1]


def collect_rollout(network, params, normalize, env: EnvSpec, config, env_state, obs, episode_return, key):
    """`config.num_steps` steps of the stochastic policy in each env, then GAE advantages. Returns
    ((env_state, obs, episode_return, key), batch of [time, env] arrays, advantages)."""

    def env_step(carry, _):
        env_state, obs, episode_return, key = carry
        key, act_key, step_key = jax.random.split(key, 3)
        out, log_std, value = network.apply(params, normalize(obs))
        action = nets.sample_action(act_key, out, log_std, network.factors)
        logp = nets.log_prob(out, log_std, action, network.factors)
        env_action = action if env.discrete else jnp.clip(action, env.action_low, env.action_high)
        next_obs, env_state, reward, terminated, truncated, final_obs = vector.step(env, step_key, env_state, env_action)
        episode_return, finished_sum, finished = track_episodes(episode_return, reward, terminated | truncated)
        transition = dict(
            obs=obs, action=action, logp=logp, value=value, reward=reward * config.reward_scale,
            terminated=terminated, done=terminated | truncated, final_obs=final_obs,
            finished_sum=finished_sum, finished=finished,
        )
        return (env_state, next_obs, episode_return, key), transition

    carry, batch = jax.lax.scan(env_step, (env_state, obs, episode_return, key), None, length=config.num_steps)
    _, _, next_value = network.apply(params, normalize(batch["final_obs"]))
    advantages = gae(batch["reward"], batch["value"], next_value, batch["terminated"], batch["done"], config.gamma,
                     config.gae_lambda)
    return carry, batch, advantages


def minibatch_epochs(step, train: Any, key: jax.Array, data: dict[str, jax.Array], epochs: int, num_minibatches: int):
    """`epochs` passes of `step(train, minibatch) -> (train, info)` over `data` ([N, ...] arrays),
    each pass over a fresh shuffle cut into `num_minibatches`. Returns (train, key, info [epochs, minibatches])."""

    def epoch(carry, _):
        train, key = carry
        key, perm_key = jax.random.split(key)
        perm = jax.random.permutation(perm_key, jax.tree.leaves(data)[0].shape[0])
        minibatches = jax.tree.map(lambda x: x[perm].reshape((num_minibatches, -1) + x.shape[1:]), data)
        train, info = jax.lax.scan(step, train, minibatches)
        return (train, key), info

    (train, key), info = jax.lax.scan(epoch, (train, key), None, length=epochs)
    return train, key, info


class OnPolicy(KeyedMethod):
    """The on-policy template (see the module docstring). Configs have num_envs, num_steps, gamma,
    gae_lambda, reward_scale, hidden_sizes, activation and normalize_obs."""

    def check(self, env: EnvSpec) -> None:
        pass

    def steps_per_iteration(self, config: OnPolicyConfig) -> int:
        return config.num_envs * config.num_steps

    def network(self, env: EnvSpec, config: OnPolicyConfig) -> nets.ActorCritic:
        return nets.ActorCritic(env.policy_outputs, env.discrete, config.hidden_sizes, config.activation, len(env.obs_shape),
                                nets.uses_cnn(env), env.action_nvec, nets.image_part(env))

    def init(self, key: jax.Array, env: EnvSpec, config: OnPolicyConfig, budget: Budget) -> OnPolicyState:
        self.check(env)
        key, net_key, env_key = jax.random.split(key, 3)
        params = self.network(env, config).init(net_key, jnp.zeros(env.obs_shape))
        obs, env_state = vector.reset(env, env_key, config.num_envs)
        return OnPolicyState(
            params=params,
            opt_state=self.optimizer(config, budget).init(params),
            obs_norm=RunningNorm.create(env.obs_shape),
            env_state=env_state,
            obs=obs,
            episode_return=jnp.zeros(config.num_envs),
            key=key,
        )

    def act(self, state: OnPolicyState, env: EnvSpec, config: OnPolicyConfig, obs: jax.Array) -> jax.Array:
        out, log_std, _ = self.network(env, config).apply(state.params, state.obs_norm.normalize(obs, config.normalize_obs))
        action = nets.deterministic_action(out, log_std, env.action_nvec)
        return action if env.discrete else jnp.clip(action, env.action_low, env.action_high)

    def sample(self, state: OnPolicyState, env: EnvSpec, config: OnPolicyConfig, budget: Budget, obs: jax.Array,
               key: jax.Array) -> jax.Array:
        """The policy as it acts in training: a sample of its distribution."""
        network = self.network(env, config)
        out, log_std, _ = network.apply(state.params, state.obs_norm.normalize(obs, config.normalize_obs))
        action = nets.sample_action(key, out, log_std, network.factors)
        return action if env.discrete else jnp.clip(action, env.action_low, env.action_high)

    def iterate(self, state: OnPolicyState, env: EnvSpec, config: OnPolicyConfig, budget: Budget) -> tuple[OnPolicyState, IterationLog]:
        network = self.network(env, config)
        normalize = lambda obs: state.obs_norm.normalize(obs, config.normalize_obs)

        # --- collect a rollout; advantages by GAE, bootstrapping from the true next observation ----
        (env_state, obs, episode_return, key), batch, advantages = collect_rollout(
            network, state.params, normalize, env, config, state.env_state, state.obs, state.episode_return, state.key)
        rollout = jax.tree.map(
            lambda x: x.reshape((-1,) + x.shape[2:]),
            dict(obs=normalize(batch["obs"]), action=batch["action"], logp=batch["logp"],
                 value=batch["value"], advantage=advantages, target=advantages + batch["value"]),
        )

        # --- update: the algorithm's losses and steps -------------------------------------------
        (params, opt_state), key, diagnostics = self.update(state, rollout, key, network, config, budget)

        new_state = OnPolicyState(
            params=params,
            opt_state=opt_state,
            obs_norm=state.obs_norm.update(batch["obs"]) if config.normalize_obs else state.obs_norm,
            env_state=env_state,
            obs=obs,
            episode_return=episode_return,
            key=key,
        )
        log = IterationLog(
            episode_return_sum=batch["finished_sum"].sum(),
            episodes_finished=batch["finished"].sum(),
            diagnostics=diagnostics,
        )
        return new_state, log
