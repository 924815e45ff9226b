"""Small networks shared by the learners (orthogonal init, as in CleanRL and PureJaxRL)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}


def _dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale), bias_init=nn.initializers.zeros)


class MLP(nn.Module):
    """Flattens the observation, then hidden layers, then a linear head of `out_dim`."""

    hidden_sizes: Sequence[int]
    out_dim: int
    activation: str = "tanh"
    out_scale: float = 1.0
    obs_ndim: int = 1  # trailing observation axes to flatten (3 for MinAtar's 10x10xC grids)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        x = x.reshape(x.shape[:-self.obs_ndim] + (-1,)) if self.obs_ndim > 1 else x
        x = x.astype(jnp.float32)
        for size in self.hidden_sizes:
            x = act(_dense(size, np.sqrt(2))(x))
        return _dense(self.out_dim, self.out_scale)(x)


class ActionHead(nn.Module):
    """The fields of a continuous-control net (SAC's and TD3's actors, NAF's net): `action_dim` outputs
    from an MLP of `hidden_sizes`; subclasses define `__call__`."""

    action_dim: int
    hidden_sizes: tuple[int, ...]
    activation: str = "relu"


def is_image(obs_shape: Sequence[int]) -> bool:
    """Frames big enough for a convolutional torso (Atari's 4x84x84); MinAtar's 10x10 grids are not."""
    return len(obs_shape) == 3 and sorted(obs_shape)[1] >= 32


class NatureCNN(nn.Module):
    """The Nature DQN torso (Mnih et al. 2015): 32 8x8/4, 64 4x4/2, 64 3x3/1 convolutions on uint8
    frames scaled to [0, 1]. Frames may come channels first (Gymnasium's frame stack: 4x84x84)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.shape[-3] < x.shape[-1]:  # [.., C, H, W] -> [.., H, W, C]
            x = jnp.moveaxis(x, -3, -1)
        lead = x.shape[:-3]
        x = x.reshape((-1, *x.shape[-3:])).astype(jnp.float32) / 255.0
        for features, kernel, stride in ((32, 8, 4), (64, 4, 2), (64, 3, 1)):
            # A VALID convolution as patches times a dense layer: the same function, but XLA:CPU runs the
            # gradient of a real convolution inside a loop (our whole training loop) about 20x slower.
            patches = jax.lax.conv_general_dilated_patches(x, (kernel, kernel), (stride, stride), "VALID",
                                                           dimension_numbers=("NHWC", "HWIO", "NHWC"))
            x = nn.relu(_dense(features, np.sqrt(2))(patches))
        return x.reshape((*lead, -1))


class ImageAndVector(nn.Module):
    """A flat observation whose first prod(image_shape) entries are an image (a Dict's image part, see
    envs/spaces.py): the Nature CNN on the image, its features joined by the rest of the vector."""

    image_shape: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        size = int(np.prod(self.image_shape))
        image = x[..., :size].reshape(x.shape[:-1] + tuple(self.image_shape))
        return jnp.concatenate([NatureCNN()(image), x[..., size:].astype(jnp.float32)], axis=-1)


def image_part(env) -> tuple[int, ...]:
    """The shape of the image inside a flat observation that the CNN should read, or () (none, or too small)."""
    shape = tuple(getattr(env, "image_shape", ()))
    return shape if shape and is_image(shape) else ()


def uses_cnn(env) -> bool:
    return is_image(env.obs_shape) or bool(image_part(env))


def cnn_torso(image_shape: tuple[int, ...]) -> nn.Module:
    return ImageAndVector(image_shape) if image_shape else NatureCNN()


class NoisyDense(nn.Module):
    """Factorised Gaussian noisy layer (Fortunato et al. 2018), sigma_0 = 0.5. Noise from the "noise"
    rng stream; `noisy=False` uses the mean weights (greedy evaluation)."""

    features: int
    sigma0: float = 0.5

    @nn.compact
    def __call__(self, x: jax.Array, noisy: bool = True) -> jax.Array:
        n_in = x.shape[-1]
        bound = 1.0 / np.sqrt(n_in)
        uniform = lambda key, shape: jax.random.uniform(key, shape, minval=-bound, maxval=bound)
        mu_w = self.param("mu_w", uniform, (n_in, self.features))
        mu_b = self.param("mu_b", uniform, (self.features,))
        sigma_w = self.param("sigma_w", nn.initializers.constant(self.sigma0 / np.sqrt(n_in)), (n_in, self.features))
        sigma_b = self.param("sigma_b", nn.initializers.constant(self.sigma0 / np.sqrt(n_in)), (self.features,))
        if not noisy:
            return x @ mu_w + mu_b
        key_in, key_out = jax.random.split(self.make_rng("noise"))
        f = lambda e: jnp.sign(e) * jnp.sqrt(jnp.abs(e))
        eps_in, eps_out = f(jax.random.normal(key_in, (n_in,))), f(jax.random.normal(key_out, (self.features,)))
        return x @ (mu_w + sigma_w * jnp.outer(eps_in, eps_out)) + mu_b + sigma_b * eps_out


class QNetwork(nn.Module):
    """DQN's Q-network with Rainbow's switches: a torso (MLP, or Nature CNN for frames), then `dueling`
    value and advantage streams, `noisy` dense layers, and `num_atoms` > 1 for a distributional (C51)
    head. Returns [.., actions] Q-values, or [.., actions, atoms] logits when distributional."""

    hidden_sizes: Sequence[int]
    num_actions: int
    activation: str = "relu"
    obs_ndim: int = 1
    image: bool = False
    dueling: bool = False
    noisy: bool = False
    num_atoms: int = 1
    image_shape: tuple[int, ...] = ()  # an image at the front of a flat observation (see ImageAndVector)

    @nn.compact
    def __call__(self, x: jax.Array, noisy: bool = True) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        if self.image:
            x = cnn_torso(self.image_shape)(x)
        else:
            x = x.reshape(x.shape[:-self.obs_ndim] + (-1,)) if self.obs_ndim > 1 else x
            x = x.astype(jnp.float32)

        def dense(features: int, scale: float):
            if self.noisy:
                return lambda h: NoisyDense(features)(h, noisy)
            return _dense(features, scale)

        def stream(h, out: int):
            for size in self.hidden_sizes:
                h = act(dense(size, np.sqrt(2))(h))
            return dense(out * self.num_atoms, 1.0)(h).reshape(h.shape[:-1] + (out, self.num_atoms))

        if self.dueling:
            value, advantage = stream(x, 1), stream(x, self.num_actions)
            out = value + advantage - advantage.mean(axis=-2, keepdims=True)
        else:
            out = stream(x, self.num_actions)
        return out[..., 0] if self.num_atoms == 1 else out


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (or, for frames, a shared Nature CNN torso as in CleanRL's
    ppo_atari). Discrete: logits (one block per factor if `factors`). Continuous: Gaussian mean and a
    state-independent log-std."""

    action_dim: int
    discrete: bool
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    obs_ndim: int = 1
    image: bool = False
    factors: tuple[int, ...] = ()  # a factorised discrete policy: action_dim = sum(factors) logits
    image_shape: tuple[int, ...] = ()  # an image at the front of a flat observation (see ImageAndVector)

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array | None, jax.Array]:
        if self.image:
            h = cnn_torso(self.image_shape)(obs)
            h = MLP(self.hidden_sizes[:-1], self.hidden_sizes[-1], "relu", np.sqrt(2))(h)
            h = nn.relu(h)
            actor_out = _dense(self.action_dim, 0.01)(h)
            value = _dense(1, 1.0)(h)[..., 0]
        else:
            actor_out = MLP(self.hidden_sizes, self.action_dim, self.activation, 0.01, self.obs_ndim)(obs)
            value = MLP(self.hidden_sizes, 1, self.activation, 1.0, self.obs_ndim)(obs)[..., 0]
        if self.discrete:
            return actor_out, None, value
        log_std = self.param("log_std", nn.initializers.zeros, (self.action_dim,))
        return actor_out, jnp.broadcast_to(log_std, actor_out.shape), value


# --- policy distributions: categorical over logits; factorised categorical; diagonal Gaussian --------
# `factors` (the env's `action_nvec`, e.g. (3, 3, 2)) makes a discrete policy factorised, as CleanRL's and
# SB3's MultiDiscrete policies are: the logits hold one block per factor, each factor is its own categorical,
# and the action is the joint index of the combination (last factor fastest), which is what the env takes.


def _factor_logits(logits: jax.Array, factors: Sequence[int]) -> list[jax.Array]:
    return jnp.split(logits, np.cumsum(factors)[:-1].tolist(), axis=-1)


def joint_index(parts: Sequence[jax.Array], factors: Sequence[int]) -> jax.Array:
    index = jnp.zeros_like(parts[0])
    for part, n in zip(parts, factors, strict=True):
        index = index * n + part
    return index


def _factor_actions(action: jax.Array, factors: Sequence[int]) -> list[jax.Array]:
    parts, rest = [], action.astype(jnp.int32)
    for n in reversed(factors):
        parts.append(rest % n)
        rest = rest // n
    return parts[::-1]


def sample_action(key: jax.Array, mean_or_logits: jax.Array, log_std: jax.Array | None,
                  factors: Sequence[int] = ()) -> jax.Array:
    if log_std is None and factors:
        keys = jax.random.split(key, len(factors))
        parts = [jax.random.categorical(k, logits) for k, logits in zip(keys, _factor_logits(mean_or_logits, factors), strict=True)]
        return joint_index(parts, factors)
    if log_std is None:
        return jax.random.categorical(key, mean_or_logits)
    return mean_or_logits + jnp.exp(log_std) * jax.random.normal(key, mean_or_logits.shape)


def _categorical_log_prob(logits: jax.Array, action: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def log_prob(mean_or_logits: jax.Array, log_std: jax.Array | None, action: jax.Array,
             factors: Sequence[int] = ()) -> jax.Array:
    if log_std is None and factors:
        return sum(_categorical_log_prob(logits, part) for logits, part in
                   zip(_factor_logits(mean_or_logits, factors), _factor_actions(action, factors), strict=True))
    if log_std is None:
        return _categorical_log_prob(mean_or_logits, action)
    z = (action - mean_or_logits) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)


def _categorical_entropy(logits: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.exp(logp) * logp, axis=-1)


def entropy(mean_or_logits: jax.Array, log_std: jax.Array | None, factors: Sequence[int] = ()) -> jax.Array:
    if log_std is None:  # a factorised policy's entropy is the sum of its factors'
        return sum(_categorical_entropy(logits) for logits in _factor_logits(mean_or_logits, factors or
                                                                             (mean_or_logits.shape[-1],)))
    return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)


def categorical_kl(old_logits: jax.Array, logits: jax.Array, factors: Sequence[int] = ()) -> jax.Array:
    """KL(old || new) of (factorised) categoricals: the sum over factors."""
    def one(old, new):
        old_logp, logp = jax.nn.log_softmax(old), jax.nn.log_softmax(new)
        return jnp.sum(jnp.exp(old_logp) * (old_logp - logp), axis=-1)
    factors = factors or (logits.shape[-1],)
    return sum(one(o, n) for o, n in zip(_factor_logits(old_logits, factors), _factor_logits(logits, factors), strict=True))


def deterministic_action(mean_or_logits: jax.Array, log_std: jax.Array | None, factors: Sequence[int] = ()) -> jax.Array:
    if log_std is None and factors:
        return joint_index([jnp.argmax(logits, axis=-1) for logits in _factor_logits(mean_or_logits, factors)], factors)
    return jnp.argmax(mean_or_logits, axis=-1) if log_std is None else mean_or_logits
