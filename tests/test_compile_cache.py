"""The persistent compilation cache: entries are whole or absent (a kill during a write never leaves one
that a later run trusts), a second process loads what the first compiled, quietly, with the same results."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rlcheck.core.errors import RLCheckError
from rlcheck.engine import compile_cache
from rlcheck.engine.compile_cache import AtomicFileCache, cache_dir, tidy


def test_entries_round_trip_and_a_damaged_one_is_a_miss_that_is_removed(tmp_path):
    cache = AtomicFileCache(tmp_path)
    cache.put("k", b"compiled")
    assert cache.get("k") == b"compiled"
    cache.put("k", b"other")  # an entry is never rewritten
    assert cache.get("k") == b"compiled"
    whole = (tmp_path / "k.xla").read_bytes()
    (tmp_path / "k.xla").write_bytes(whole[:-3])  # what an in-place writer leaves when killed
    assert cache.get("k") is None and not (tmp_path / "k.xla").exists()
    (tmp_path / "short.xla").write_bytes(b"x")
    assert cache.get("short") is None and cache.get("absent") is None
    cache.put("k", b"again")
    assert (tmp_path / "k.xla").read_bytes() == hashlib.sha256(b"again").digest() + b"again"
    assert not list(tmp_path.glob("*.tmp"))


def test_tidy_removes_dead_writers_files_and_the_oldest_entries_beyond_the_size(tmp_path):
    for i, name in enumerate(["old.xla", "mid.xla", "new.xla"]):
        (tmp_path / name).write_bytes(b"x" * 100)
        os.utime(tmp_path / name, (1000 + i, 1000 + i))
    (tmp_path / ".dead.xla.1.tmp").write_bytes(b"half")
    os.utime(tmp_path / ".dead.xla.1.tmp", (0, 0))
    (tmp_path / ".live.xla.2.tmp").write_bytes(b"being written")
    tidy(tmp_path, max_bytes=250, now=10_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".live.xla.2.tmp", "mid.xla", "new.xla"]


def test_where_the_cache_lives(monkeypatch, tmp_path):
    for off in ("off", "0", "false", ""):
        monkeypatch.setenv("RLCHECK_COMPILE_CACHE", off)
        assert cache_dir() is None
    monkeypatch.delenv("RLCHECK_COMPILE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "rlcheck" / "jax"
    monkeypatch.setenv("RLCHECK_COMPILE_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setattr(compile_cache, "_enabled", None)
    monkeypatch.setenv("RLCHECK_COMPILE_CACHE_GB", "lots")
    with pytest.raises(RLCheckError, match="RLCHECK_COMPILE_CACHE_GB is 'lots'"):
        compile_cache.enable()


PROGRAM = textwrap.dedent("""
    import os, signal, sys
    import jax, jax.numpy as jnp
    from rlcheck.engine import compile_cache
    path = compile_cache.enable()
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # cache even this small program
    if sys.argv[1] == "die-before-rename":  # killed after writing the temporary file, before the rename
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
    if sys.argv[1] == "die-mid-write":  # killed with half of the entry written
        import pathlib
        def half(self, data):
            with open(self, "wb") as f:
                f.write(data[: len(data) // 2]); f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        pathlib.Path.write_bytes = half
    def f(x):
        for i in range(3):
            x = jnp.tanh(x @ x.T + i) @ x
        return x.sum()
    print(float(jax.jit(f)(jnp.ones((32, 32)) / 32)), len(list(path.glob("*.xla"))))
""")


def _run(cache: Path, mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, RLCHECK_COMPILE_CACHE=str(cache))
    return subprocess.run([sys.executable, "-c", PROGRAM, mode], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("death", ["die-before-rename", "die-mid-write"])
def test_a_kill_during_a_cache_write_leaves_nothing_that_a_later_run_trusts(tmp_path, death):
    killed = _run(tmp_path, death)
    assert killed.returncode == -9
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert left and all(name.endswith(".tmp") for name in left), left  # a temporary file, never an entry
    first, second = _run(tmp_path, "normal"), _run(tmp_path, "normal")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split()[0] == second.stdout.split()[0]
    assert int(second.stdout.split()[1]) >= 1  # the second run found the entry the first one wrote
    assert first.stderr == second.stderr == ""  # no XLA log lines about loading, no warnings


def test_a_study_run_again_loads_its_programs_and_gives_the_same_traces(tmp_path):
    import pandas as pd

    cache = tmp_path / "cache"
    env = dict(os.environ, RLCHECK_COMPILE_CACHE=str(cache))
    stderr, entries = [], []
    for run in ("a", "b"):
        done = subprocess.run([sys.executable, "-m", "rlcheck.cli", "train", "--env", "CartPole-v1", "--algo", "ppo",
                               "--steps", "1024", "--seeds", "2", "--out", str(tmp_path / run), "--quiet"],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
        stderr.append(done.stderr)
        entries.append(sorted(p.name for p in cache.rglob("*.xla")))
    assert entries[0] and entries[1] == entries[0]  # nothing compiled anew: every program was loaded
    assert stderr == ["", ""]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "traces.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "traces.parquet"))
