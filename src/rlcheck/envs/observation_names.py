"""What each observation entry of well-known envs is, in words and units, so behaviour texts can say
"cart position 0.41 m" instead of `obs_mean/0 0.41`. Keyed by the env's base name (the part before
"-v"), so Gymnasium and gymnax ids share one entry; the layouts are the envs' documented ones."""

from __future__ import annotations

NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "CartPole": (("cart position", "m"), ("cart velocity", "m/s"), ("pole angle", "rad"),
                 ("pole angular velocity", "rad/s")),
    "MountainCar": (("car position", ""), ("car velocity", "")),
    "MountainCarContinuous": (("car position", ""), ("car velocity", "")),
    "Pendulum": (("cos of the pendulum angle", ""), ("sin of the pendulum angle", ""), ("angular velocity", "rad/s")),
    "Acrobot": (("cos of joint 1", ""), ("sin of joint 1", ""), ("cos of joint 2", ""), ("sin of joint 2", ""),
                ("joint 1 angular velocity", "rad/s"), ("joint 2 angular velocity", "rad/s")),
    "LunarLander": (("lander x", ""), ("lander y", ""), ("x velocity", ""), ("y velocity", ""), ("lander angle", "rad"),
                    ("angular velocity", ""), ("left leg contact", ""), ("right leg contact", "")),
    "LunarLanderContinuous": (("lander x", ""), ("lander y", ""), ("x velocity", ""), ("y velocity", ""),
                              ("lander angle", "rad"), ("angular velocity", ""), ("left leg contact", ""),
                              ("right leg contact", "")),
}


def observation_names(env_name: str, size: int | None = None) -> tuple[tuple[str, str], ...] | None:
    """(name, unit) per observation entry of `env_name`, or None when rlcheck does not know its layout (or
    the layout's length is not `size`)."""
    base = env_name.rsplit(":", 1)[-1].split("-v")[0]
    names = NAMES.get(base)
    if names is None or (size is not None and len(names) != size):
        return None
    return names
