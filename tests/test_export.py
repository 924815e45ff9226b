"""Exports: TensorBoard event files per seed hold the store's numbers; W&B (offline) and MLflow (a
local file store) get one run per seed; the store itself is unchanged."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from rlcheck.cli import main

STUDY = {"env": "CartPole-v1", "methods": {"cem": {}}, "seeds": 2, "budget": 16_000,
         "evaluation": {"checkpoints": 3, "episodes": 2}, "audit": False}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    (tmp / "study.yaml").write_text(yaml.safe_dump(STUDY))
    out = tmp / "study"
    assert main(["run", str(tmp / "study.yaml"), "--out", str(out), "--quiet", "--export", "tensorboard"]) == 0
    return out


def read_scalars(directory: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars from TensorBoard event files: TFRecords (length, crc, Event proto, crc)."""
    from tensorboardX.proto.event_pb2 import Event

    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(directory.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tensorboard_has_every_seed_with_the_stores_numbers(study):
    runs = sorted(p.name for p in (study / "tensorboard").iterdir())
    assert runs == ["cem-c0-seed0", "cem-c0-seed1"]
    table = pq.read_table(study / "traces.parquet").to_pydict()
    for seed in (0, 1):
        scalars = read_scalars(study / "tensorboard" / f"cem-c0-seed{seed}")
        # one point per env step: a search iteration can outrun several checkpoints, which then evaluate the
        # same policy at the same step (the export keeps one)
        expected = sorted({s: v for m, sd, s, v in zip(table["metric"], table["seed"], table["env_steps"], table["value"],
                                                        strict=True) if m == "eval_return" and sd == seed}.items())
        got = scalars["eval/return"]
        assert [s for s, _ in got] == [s for s, _ in expected]
        np.testing.assert_allclose([v for _, v in got], [v for _, v in expected], rtol=1e-6)
        assert "eval/return_std" in scalars and "train/return" in scalars
    assert json.loads((study / "exports.json").read_text())[0]["sink"] == "tensorboard"


def test_mlflow_gets_a_run_per_seed_and_the_store_is_kept(study, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a local file store, no server or database
    before = {name: _digest(study / name) for name in ("traces.parquet", "summary.json", "manifest.json")}
    uri = (tmp_path / "mlruns").as_uri()
    assert main(["export", str(study), "--to", "mlflow", "--tracking-uri", uri, "--experiment", "exp"]) == 0
    client = mlflow.tracking.MlflowClient(uri)
    experiment = client.get_experiment_by_name("exp")
    found = client.search_runs([experiment.experiment_id])
    children = [r for r in found if r.data.tags.get("mlflow.parentRunId")]
    assert sorted(r.info.run_name for r in children) == ["cem-c0-seed0", "cem-c0-seed1"]
    table = pq.read_table(study / "traces.parquet").to_pydict()
    for child in children:
        seed = int(child.data.params["seed"])
        history = client.get_metric_history(child.info.run_id, "eval.return")
        expected = sorted({s: v for m, sd, s, v in zip(table["metric"], table["seed"], table["env_steps"], table["value"],
                                                        strict=True) if m == "eval_return" and sd == seed}.items())
        assert sorted((m.step, m.value) for m in history) == expected  # one point per env step, as above
    assert {name: _digest(study / name) for name in before} == before


def test_wandb_offline_gets_a_run_per_seed(study, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    assert main(["export", str(study), "--to", "wandb", "--wandb-mode", "offline", "--project", "p"]) == 0
    runs = list((study / "wandb").glob("offline-run-*"))
    assert len(runs) == 2
    assert json.loads((study / "exports.json").read_text())[-1]["sink"] == "wandb"


def test_mlflow_refusal_is_one_paragraph_and_the_store_is_kept(study, tmp_path, capsys, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "false")
    assert main(["export", str(study), "--to", "mlflow", "--tracking-uri", (tmp_path / "m").as_uri()]) == 1
    err = capsys.readouterr().err
    assert "The mlflow export failed" in err and "is unchanged" in err and "Traceback" not in err


def test_export_of_a_directory_without_a_study_is_a_clear_error(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--to", "tensorboard"]) == 1
    assert "holds no finished study" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["export", str(tmp_path), "--to", "neptune"])
    assert exc.value.code == 2 and "unknown export neptune" in capsys.readouterr().err
