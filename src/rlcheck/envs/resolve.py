"""From what a user types to a Gymnasium env factory, the way Gymnasium users write it:

- a registered id (`LunarLander-v3`), after `--import PKG` for packages that register theirs on import;
- `package:EnvId` (Gymnasium's own form: import the package, then make the id);
- `package.module:Class` (an env class) or `package.module:factory` (a function that returns an env);
- wrappers: `Name[:k=v,...]` for Gymnasium's own (`TimeLimit:max_episode_steps=200`) or
  `package.module:Wrapper[:k=v,...]` for any other, applied in order.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import yaml

from rlcheck.core.errors import EnvError
from rlcheck.envs import atari
from rlcheck.envs.closing import close_quietly

# Id prefixes of packages that register their envs on import: named in the error for an unknown id.
PACKAGE_PREFIXES: dict[str, str] = {
    "MiniGrid-": "minigrid", "BabyAI-": "minigrid", "highway-": "highway_env", "merge-": "highway_env",
    "roundabout-": "highway_env", "parking-": "highway_env", "intersection-": "highway_env", "racetrack-": "highway_env",
    "popgym-": "popgym", "FlappyBird": "flappy_bird_gymnasium", "PointMaze": "gymnasium_robotics",
    "AntMaze": "gymnasium_robotics", "Fetch": "gymnasium_robotics", "Adroit": "gymnasium_robotics",
    "ALE/": "ale_py", "MinAtar/": "minatar",
}


def import_packages(imports: Sequence[str]) -> None:
    """Import each package (they register their env ids as a side effect)."""
    for name in imports:
        if not name.strip():
            raise EnvError("--import needs a package name (got an empty one), e.g. --import minigrid.")
        try:
            importlib.import_module(name)
        except (ImportError, ValueError, TypeError) as exc:  # ValueError, TypeError: ".x", "a..b" and the like
            raise EnvError(f"--import {name}: the package cannot be imported ({exc}). Install it (pip install ...) "
                           "or check the spelling; it is the name you would write after `import`.") from exc


def _import_module(name: str, module_name: str) -> Any:
    """Import `module_name`, also from the working directory (as `python -m` would: the `rlcheck` script's
    path does not hold it, and a user's own env module usually sits there)."""
    try:
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name.split(".")[0] or os.getcwd() in sys.path or "" in sys.path:
                raise
            sys.path.append(os.getcwd())
            return importlib.import_module(module_name)
    except ImportError as exc:
        raise EnvError(
            f"Environment {name!r}: cannot import module {module_name!r} ({exc}). Install the package that "
            "provides it (pip install ...), or check the spelling of 'package:EnvId' or 'package.module:ClassName'."
        ) from exc


def user_jax_class(name: str) -> type | None:
    """The class named by `package.module:ClassName` when it is a JAX env (the gymnax API: `step_env` and
    `default_params`, not a gymnasium.Env), else None: those are built as JAX envs, not through gym.make."""
    module_name, colon, attr = name.partition(":")
    if not colon or not module_name or not attr.isidentifier():
        return None
    target = getattr(_import_module(name, module_name), attr, None)
    if (isinstance(target, type) and not issubclass(target, gym.Env) and hasattr(target, "step_env")
            and hasattr(target, "default_params")):
        return target
    return None


def _is_wrapper(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, gym.Wrapper)


def resolve_id(name: str) -> str:
    """A Gymnasium id for `name`; a class or factory given as `module:attr` is registered under a name of its
    own (gymnasium reads `module:Id` in make() as its own form)."""
    if name.startswith("ALE/") and name not in gym.registry:
        atari.register()
    if name in gym.registry:
        return name
    if ":" in name:
        module_name, _, attr = name.partition(":")
        if not module_name.strip() or not attr.strip():
            raise EnvError(f"Environment {name!r}: 'package:EnvId' and 'package.module:ClassName' need a name on both "
                           "sides of the colon (e.g. minigrid:MiniGrid-Empty-5x5-v0, my_envs:Maze).")
        module = _import_module(name, module_name)
        if attr in gym.registry:  # package:EnvId, the import registered it
            return attr
        target = getattr(module, attr, None)
        if _is_wrapper(target):
            raise EnvError(
                f"Environment {name!r} is a wrapper ({attr} subclasses gymnasium.Wrapper), not an environment. "
                f"Name the env it wraps and apply it with --wrap: e.g. `rlcheck check ENV_ID --wrap {name}`."
            )
        if isinstance(target, type) or callable(target):
            env_id = f"rlcheck/{module_name}.{attr}-v0"
            if env_id not in gym.registry:
                gym.register(id=env_id, entry_point=target)
            return env_id
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type) and hasattr(v, "step"))
        raise EnvError(
            f"Environment {name!r}: module {module_name!r} has no environment class, factory or registered id "
            f"{attr!r}. Classes with a step method there: {', '.join(classes) or 'none'}."
        )
    close = difflib.get_close_matches(name, list(gym.registry), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    package = next((pkg for prefix, pkg in PACKAGE_PREFIXES.items() if name.startswith(prefix)), None)
    if package:
        hint += (f" Ids starting {name.split('-')[0]!r} come from the {package} package: install it and add "
                 f"`--import {package}` (or write '{package}:{name}').")
    else:
        hint += " If a package registers it on import, add `--import PACKAGE` (or write 'package:EnvId')."
    raise EnvError(
        f"Unknown environment {name!r}.{hint} rlcheck resolves gymnax names and Gymnasium ids (`rlcheck envs` "
        "lists them), 'package:EnvId', and 'package.module:ClassName' or ':factory' for your own env."
    )


def checked_factory(name: str, factory: Callable[[], Any]) -> Callable[[], Any]:
    """`factory`, checked once to return a Gymnasium env."""
    env = factory()
    if not isinstance(env, gym.Env):
        raise EnvError(f"Environment {name!r}: the factory returned a {type(env).__name__}, not a gymnasium.Env. "
                       "Return an env object (with reset, step, observation_space and action_space).")
    close_quietly(env)
    return factory


# -- wrappers ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WrapperSpec:
    text: str  # as the user wrote it (recorded in the study)
    wrapper: type
    kwargs: tuple[tuple[str, Any], ...]

    def apply(self, env: Any) -> Any:
        try:
            return self.wrapper(env, **dict(self.kwargs))
        except (TypeError, ValueError, AssertionError, KeyError, gym.error.Error) as exc:
            try:
                signature = str(inspect.signature(self.wrapper.__init__)).replace("self, ", "")
            except (TypeError, ValueError):
                signature = "(env, ...)"
            raise EnvError(
                f"Wrapper {self.text!r} could not be applied: {type(exc).__name__}: {exc}. Its arguments are "
                f"{self.wrapper.__name__}{signature}; give them as --wrap {self.wrapper.__name__}:key=value,... "
                "(values are read as YAML: 200, 0.5, true, [84, 84])."
            ) from exc


def _parse_kwargs(text: str, args: str) -> tuple[tuple[str, Any], ...]:
    if not args:
        return ()
    out = []
    for part in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", args):  # commas inside [84, 84] stay
        key, sep, value = part.partition("=")
        if not sep or not key.strip().isidentifier():
            raise EnvError(f"Wrapper {text!r}: cannot read the argument {part!r}. Write arguments as key=value "
                           "separated by commas, e.g. --wrap TimeLimit:max_episode_steps=200.")
        parsed = yaml.safe_load(value)
        out.append((key.strip(), tuple(parsed) if isinstance(parsed, list) else parsed))
    return tuple(out)


def parse_wrapper(text: str) -> WrapperSpec:
    """`Name[:args]` (a wrapper in gymnasium.wrappers) or `package.module:Class[:args]`."""
    head, _, rest = text.partition(":")
    builtin = getattr(gym.wrappers, head, None)
    if _is_wrapper(builtin):
        return WrapperSpec(text, builtin, _parse_kwargs(text, rest))
    if not rest:
        close = difflib.get_close_matches(head, [n for n in dir(gym.wrappers) if _is_wrapper(getattr(gym.wrappers, n))], n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise EnvError(f"Wrapper {text!r}: gymnasium.wrappers has no wrapper {head!r}.{hint} Name one of Gymnasium's "
                       "wrappers (FlattenObservation, TimeLimit, ...) or your own as package.module:ClassName.")
    attr, _, args = rest.partition(":")
    module = _import_module(text, head)
    target = getattr(module, attr, None)
    if target is None:
        raise EnvError(f"Wrapper {text!r}: module {head!r} has no {attr!r}.")
    if not _is_wrapper(target):
        raise EnvError(f"Wrapper {text!r}: {head}.{attr} is a {type(target).__name__}, not a gymnasium.Wrapper subclass. "
                       "--wrap takes wrapper classes (ObservationWrapper, ActionWrapper, RewardWrapper or Wrapper); "
                       "an environment goes in the env argument.")
    return WrapperSpec(text, target, _parse_kwargs(text, args))


def wrap(env: Any, wrappers: Sequence[WrapperSpec]) -> Any:
    for spec in wrappers:
        env = spec.apply(env)
    return env
