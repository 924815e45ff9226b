"""summary.json is typed (rlcheck.core.results.StudySummary) and its JSON form is documented in
docs/summary.schema.json: the file is the one the types give, real summaries validate against it, and
reading one back gives the same summary."""

import json
import sys
from pathlib import Path

import jsonschema
import numpy as np

from rlcheck import api
from rlcheck.core.results import StudySummary
from rlcheck.store import finite_json, write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import summary_schema  # noqa: E402


def _refuse(constant: str):
    raise AssertionError(f"summary.json holds {constant}, which strict JSON parsers reject")


def test_json_is_written_strict_with_null_for_non_finite_values(tmp_path):
    path = write_json(tmp_path / "x.json", {"a": float("nan"), "b": [np.inf, np.float32(1.5)], "c": np.int64(3)})
    assert json.loads(path.read_text(), parse_constant=_refuse) == {"a": None, "b": [None, 1.5], "c": 3}


def test_the_documented_schema_is_the_one_the_types_give():
    assert json.loads(summary_schema.PATH.read_text()) == summary_schema.schema()


def test_real_summaries_validate_and_round_trip(tmp_path):
    schema = summary_schema.schema()
    study = api.check("CartPole-v1", tmp_path / "check", seeds=2, budget=2048, methods="ppo,lqr", num_evals=2,
                      eval_episodes=2)
    trained = api.train("Pendulum-v1", "sac", seeds=2, steps=200, out=tmp_path / "train", num_evals=2,
                        eval_episodes=2, overrides={"learning_starts": "100", "batch_size": "16", "hidden_sizes": "16"})
    for summary, out in ((study, tmp_path / "check"), (trained, tmp_path / "train")):
        stored = json.loads((out / "summary.json").read_text(), parse_constant=_refuse)  # strict: no NaN/Infinity
        jsonschema.validate(stored, schema)
        back = StudySummary.from_json(stored)  # non-finite values are stored as null
        assert json.dumps(back.to_json(), sort_keys=True) == json.dumps(finite_json(summary.to_json()), sort_keys=True)
        assert isinstance(back.methods[0].seeds[0].final_return, float | None)
    assert trained.threshold is None and trained.methods[0].label == "success not judged (no threshold)"
    assert study.method("lqr").kind == "baseline" and study.method("ppo").kind == "rl"
