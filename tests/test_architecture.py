"""The layering is real: import-linter's contracts (pyproject.toml) hold, no rlcheck import hides inside
a function (where it would dodge a cycle), and every list of methods comes from the registry."""

import ast
import subprocess
import sys
from pathlib import Path

from rlcheck import registry
from rlcheck.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


# The command's entry point imports the CLI late on purpose: its signal handlers must be in place before the
# seconds of imports (it is the top layer, above cli in the contracts, so the late import hides no cycle).
DEFERRED_ON_PURPOSE = {"src/rlcheck/entry.py"}


def test_no_rlcheck_import_inside_a_function():
    found = []
    for path in sorted((ROOT / "src" / "rlcheck").rglob("*.py")):
        if str(path.relative_to(ROOT)) in DEFERRED_ON_PURPOSE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    module = inner.module if isinstance(inner, ast.ImportFrom) else None
                    names = [a.name for a in inner.names] if isinstance(inner, ast.Import) else [module or ""]
                    if any(n.startswith("rlcheck") for n in names):
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert found == []


def test_the_cli_lists_every_registered_method():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    train_help = next(a.help for a in sub["train"]._actions if a.dest == "algo")
    check_help = next(a.help for a in sub["check"]._actions if a.dest == "methods")
    for name in registry.names():
        assert name in train_help and name in check_help
    assert {"rainbow", "trpo", "uct"} <= set(registry.names())
