"""A learner registered in one file appears in `check`, `plan`, the summary and the report without any
other module changing: the worked example of docs/extending.md, run as written."""

import re
import sys
import types
from pathlib import Path

import pytest

from rlcheck import api, registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


@pytest.fixture
def greedy_bandit():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    module = types.ModuleType("greedy_bandit_example")
    sys.modules[module.__name__] = module
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    yield module
    registry.unregister("greedy-bandit")
    sys.modules.pop(module.__name__)


def test_a_learner_registered_in_one_file_runs_everywhere(greedy_bandit, tmp_path):
    assert "greedy-bandit" in [m.name for m in api.study_spec("CartPole-v1", seeds=2).methods]  # a default of check
    spec = api.study_spec("CartPole-v1", seeds=2, budget=2000, methods="greedy-bandit,lqr", num_evals=2,
                          eval_episodes=2, audit=False)
    assert "greedy-bandit" in api.plan(spec)
    summary = api.run(spec, tmp_path / "study")
    mine = summary.method("greedy-bandit")
    assert mine.kind == "rl" and [s.env_steps for s in mine.seeds] == [2000, 2000]
    assert "GREEDY-BANDIT" in summary.verdict.text
    assert "greedy-bandit" in (tmp_path / "study" / "report.html").read_text()


def test_a_record_that_breaks_its_kinds_contract_is_refused(greedy_bandit):
    from rlcheck.core.errors import RLCheckError

    with pytest.raises(RLCheckError, match="does not meet the Planner or HostPlanner contract"):
        registry.register(registry.MethodRecord("bad", kind="planner", family="x", actions=("discrete",), doc="",
                                                implementation=greedy_bandit.Greedy()))
    with pytest.raises(RLCheckError, match="already registered"):
        registry.register(registry.MethodRecord("greedy-bandit", kind="learner", family="x", actions=("discrete",),
                                                doc="", implementation=greedy_bandit.Greedy()))
