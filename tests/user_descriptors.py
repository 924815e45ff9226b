"""User functions for the audit's bad-input and plumbing tests: f(obs, action, reward, next_obs)."""

import jax.numpy as jnp


def cart_position(obs, action, reward, next_obs):
    return next_obs[0]


def pole_and_cart(obs, action, reward, next_obs):
    return jnp.stack([next_obs[0], jnp.abs(next_obs[2])])


def raises(obs, action, reward, next_obs):
    raise RuntimeError("descriptor bug")


def wrong_shape(obs, action, reward, next_obs):
    return jnp.zeros((2, 2))


def named_pair(obs, action, reward, next_obs):
    return jnp.stack([next_obs[0], reward])


named_pair.names = ("cart_x", "reward_seen")


def misnamed(obs, action, reward, next_obs):
    return jnp.stack([next_obs[0], reward])


misnamed.names = ("only_one",)
