"""The API offers every verb the CLI has, and takes an environment object as well as a name."""

import gymnax
import pytest

from rlcheck import api
from rlcheck.cli import build_parser
from rlcheck.core.errors import RLCheckError
from rlcheck.envs import spec_from_gymnax


def test_every_cli_verb_has_an_api_function():
    parser = build_parser()
    verbs = set(next(a for a in parser._actions if a.dest == "command").choices) - {"envs"}
    as_api = {"seeds": "seeds_needed"}
    assert {v for v in verbs if not callable(getattr(api, as_api.get(v, v), None))} == set()


def test_an_env_object_is_accepted_by_name_and_refused_when_it_is_not_one():
    env, params = gymnax.make("CartPole-v1")
    mine = spec_from_gymnax("my-cartpole", env, params)
    spec = api.study_spec(mine, seeds=2, budget=4096, threshold=400, methods="ppo,lqr")
    assert spec.env == "my-cartpole" and "my-cartpole" in api.plan(spec)
    with pytest.raises(RLCheckError, match="EnvSpec"):
        api.study_spec(object(), seeds=2, budget=4096, threshold=400)
