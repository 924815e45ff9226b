"""Same numbers: small studies of every method family must write the same `traces.parquet` values as
the goldens recorded before the architecture change (benchmarks/goldens.py --write)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import goldens  # noqa: E402


SLOW = {"cartpole-dqn"}  # 4 minutes on 2 cores; `python -m pytest -m slow` runs it


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in goldens.STUDIES])
def test_traces_match_goldens(name, tmp_path):
    want = json.loads((goldens.GOLDENS / f"{name}.json").read_text())
    got = goldens.run_study(name, tmp_path / name)
    assert goldens.differences(name, got, want) == []
