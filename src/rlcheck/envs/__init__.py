"""Resolve an environment name to a JAX-native environment."""

from rlcheck.envs.jax_env import EnvSpec, make_env, registered_env_ids, spec_from_gymnax

__all__ = ["EnvSpec", "make_env", "registered_env_ids", "spec_from_gymnax"]
