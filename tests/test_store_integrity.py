"""The store knows what is its own (issue 21, item 1): job files, checkpoints and traces carry the
study's fingerprint and are never adopted from elsewhere; `report` never replaces a good summary with
an empty one; `--out` into the user's own directory is refused; kill leftovers are cleaned; files
follow the umask."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import yaml

from rlcheck.cli import main
from rlcheck.core import checkpoint
from rlcheck.core.checkpoint import Progress, checkpoint_files
from rlcheck.store import StudyStore

SMALL = {"env": "CartPole-v1", "methods": {"cem": {}}, "seeds": 2, "budget": 16_000,
         "evaluation": {"checkpoints": 2, "episodes": 2}, "audit": False}


def _study(tmp: Path, raw: dict = SMALL, name: str = "study.yaml") -> str:
    path = tmp / name
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def _run(tmp: Path, out: Path, *extra: str, raw: dict = SMALL) -> int:
    return main(["run", _study(tmp, raw), "--out", str(out), "--quiet", *extra])


def test_a_job_file_left_in_a_fresh_out_is_never_adopted(tmp_path, capsys):
    other = tmp_path / "other"
    assert _run(tmp_path, other, raw={**SMALL, "seeds": [5]}) == 0  # a different study's cem-0.npz
    out = tmp_path / "out"
    (out / "jobs").mkdir(parents=True)
    shutil.copy(other / "jobs" / "cem-0.npz", out / "jobs" / "cem-0.npz")
    capsys.readouterr()
    assert _run(tmp_path, out) == 1  # not empty and no study: refused
    assert "is not empty (jobs) and holds no rlcheck study" in capsys.readouterr().err
    assert _run(tmp_path, out, "--force") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["methods"][0]["seeds"]) == 2  # both seeds trained here, not one adopted from elsewhere
    aside = list((out / "set-aside" / "jobs").glob("cem-0.npz.*"))
    assert len([p for p in aside if not p.name.endswith(".why.txt")]) == 1
    why = next(p for p in aside if p.name.endswith(".why.txt")).read_text()
    assert "belongs to another study or job" in why
    assert "set aside" in capsys.readouterr().out


def test_a_job_file_from_another_study_is_set_aside_on_resume(tmp_path):
    other, out = tmp_path / "other", tmp_path / "out"
    assert _run(tmp_path, other, raw={**SMALL, "seeds": [5, 6]}) == 0
    assert _run(tmp_path, out) == 0
    before = json.loads((out / "summary.json").read_text())
    shutil.copy(other / "jobs" / "cem-0.npz", out / "jobs" / "cem-0.npz")  # swapped behind the store's back
    assert _run(tmp_path, out, "--resume") == 0
    after = json.loads((out / "summary.json").read_text())
    assert [s["seed"] for s in after["methods"][0]["seeds"]] == [0, 1]
    assert after["methods"][0]["seeds"] == before["methods"][0]["seeds"]  # redone, same result


def test_out_holding_the_users_files_is_refused_and_left_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.html").write_text("my own report")
    (out / "summary.json").write_text('{"mine": true}')
    assert _run(tmp_path, out) == 1
    err = capsys.readouterr().err
    assert "report.html, summary.json" in err and "--force" in err and "Traceback" not in err
    assert (out / "report.html").read_text() == "my own report"
    assert json.loads((out / "summary.json").read_text()) == {"mine": True}


def test_report_refuses_when_traces_are_missing_and_keeps_the_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(tmp_path, out) == 0
    good_summary, good_report = (out / "summary.json").read_text(), (out / "report.html").read_text()
    (out / "traces.parquet").unlink()
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    assert "traces.parquet is missing, but the manifest records 1 finished job" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == good_summary
    assert (out / "report.html").read_text() == good_report
    assert _run(tmp_path, out, "--resume") == 0  # the fix the message gives
    assert main(["report", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["methods"] == json.loads(good_summary)["methods"]


def test_report_refuses_traces_with_fewer_runs_than_the_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(tmp_path, out, raw={**SMALL, "methods": {"cem": {}, "ars": {}}}) == 0
    store = StudyStore(out, json.loads((out / "manifest.json").read_text())["fingerprint"])
    table = store.read_traces()
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    pq.write_table(table.filter(pc.equal(table["method"], "cem")).replace_schema_metadata(table.schema.metadata),
                   out / "traces.parquet")
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    assert "holds 2 runs, but the manifest records 4" in capsys.readouterr().err


def test_report_refuses_another_studys_traces(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(tmp_path, a) == 0
    assert _run(tmp_path, b, raw={**SMALL, "budget": 24_000}) == 0
    shutil.copy(a / "traces.parquet", b / "traces.parquet")
    capsys.readouterr()
    assert main(["report", str(b)]) == 1
    assert "belongs to another study" in capsys.readouterr().err


def test_report_takes_the_lock(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(tmp_path, out) == 0
    good = (out / "summary.json").read_text()
    with StudyStore(out).lock():  # a study still running
        assert main(["report", str(out)]) == 1
    assert "Another rlcheck process is writing to" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == good


def test_temp_files_a_kill_left_are_removed_at_the_next_start(tmp_path):
    out = tmp_path / "out"
    assert _run(tmp_path, out) == 0
    for name in ("jobs/.cem-0.npz.abc123.tmp", ".manifest.json.x9.tmp", "checkpoints/.ars-0.npz.q.tmp"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"torn")
    (out / "notes.tmp").write_text("not ours")  # not named like rlcheck's temp files: kept
    assert _run(tmp_path, out, "--resume") == 0
    assert sorted(p.name for p in out.rglob(".*.tmp")) == []
    assert (out / "notes.tmp").exists()


def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import rlcheck.core.atomic as atomic
        importlib.reload(atomic)  # the mode is read from the umask at import
        atomic.atomic_write_bytes(tmp_path / "x.json", b"{}")
        assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644
    finally:
        os.umask(old)
        importlib.reload(atomic)


def _progress(chunks: int) -> Progress:
    return Progress(chunks, [{"r": np.zeros(2)}] * (chunks + 1), [None, None], 1.0, 0.5)


def test_a_corrupt_checkpoint_is_set_aside_and_the_previous_one_used(tmp_path):
    path = tmp_path / "checkpoints" / "ppo-0.npz"
    state = {"w": np.ones((2, 3), np.float32)}
    checkpoint.save(path, state, _progress(1), "fp:ppo-0")
    checkpoint.save(path, {"w": 2 * np.ones((2, 3), np.float32)}, _progress(2), "fp:ppo-0")
    latest, previous = checkpoint_files(path)
    assert latest.exists() and previous.exists()
    latest.write_bytes(b"PK torn")
    restored = checkpoint.load(path, state, {"r": np.zeros(2)}, "fp:ppo-0")
    assert restored is not None
    assert restored[1].chunks_done == 1 and float(restored[0]["w"][0, 0]) == 1.0  # the last good state
    aside = [p.name for p in (tmp_path / "set-aside" / "checkpoints").iterdir()]
    assert any(n.startswith("ppo-0.npz.") and n.endswith(".why.txt") for n in aside)
    assert not latest.exists()


def test_another_jobs_or_shapes_checkpoint_is_never_resumed(tmp_path):
    path = tmp_path / "checkpoints" / "ppo-0.npz"
    state = {"w": np.ones((2, 3), np.float32)}
    checkpoint.save(path, state, _progress(1), "other-study:ppo-0")
    assert checkpoint.load(path, state, {"r": np.zeros(2)}, "fp:ppo-0") is None
    checkpoint.save(path, {"w": np.ones((4, 3), np.float32)}, _progress(1), "fp:ppo-0")
    assert checkpoint.load(path, state, {"r": np.zeros(2)}, "fp:ppo-0") is None
    notes = [p.read_text() for p in (tmp_path / "set-aside" / "checkpoints").glob("*.why.txt")]
    assert any("not fp:ppo-0's" in n for n in notes) and any("shape (4, 3)" in n for n in notes)


def test_a_corrupt_checkpoint_in_a_study_restarts_its_job_and_names_the_file(tmp_path, capsys):
    raw = {**SMALL, "methods": {"ppo": {}}, "budget": 8192, "evaluation": {"checkpoints": 4, "episodes": 2},
           "tune": False}
    out = tmp_path / "out"
    assert _run(tmp_path, out, raw=raw) == 0
    expected = json.loads((out / "summary.json").read_text())["methods"][0]["seeds"]
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "jobs" / "ppo-0.npz").unlink()
    manifest["jobs"]["ppo-0"]["status"] = "pending"
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "checkpoints").mkdir(exist_ok=True)
    (out / "checkpoints" / "ppo-0.npz").write_bytes(b"not a checkpoint")
    capsys.readouterr()
    assert _run(tmp_path, out, "--resume", raw=raw) == 0
    assert json.loads((out / "summary.json").read_text())["methods"][0]["seeds"] == expected
    assert "checkpoints/ppo-0.npz" in capsys.readouterr().out
