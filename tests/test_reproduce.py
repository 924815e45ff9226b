"""Every reproduction's quick form runs, judges its claim and writes its report."""

import json

import pytest

from rlcheck import reproduce
from rlcheck.cli import main


@pytest.mark.parametrize("name", reproduce.names())
def test_quick_form_runs_and_renders(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["reproduce", name, "--quick", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "reproduction.json").read_text())
    assert result["verdict"] in ("holds", "does not hold", "partly") and f"Judgement: {result['verdict']}" in printed
    assert result["quick"] and "quick form" in (out / "reproduction.md").read_text()
    for study in result["studies"].values():
        assert "<h1>" in open(study).read()  # every study's own report rendered


def test_an_unknown_reproduction_lists_the_known_ones(capsys):
    assert main(["reproduce", "pendulum-seed", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'pendulum-seeds'" in err and "cartpole-baselines" in err
