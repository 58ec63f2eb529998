"""Hostile inputs in every file relocate reads: one clear line, never exit 3, nothing lost.

Deep nesting, NUL bytes, huge files, wrong types, bytes that are not UTF-8, a folder
or a pipe where a file belongs: in ``pyproject.toml`` (the project's and one above it),
``service.toml``, owner records, journal and bundle records, the registry's rows and the
pid file. Each case runs the real ``python -m relocator``; a refusal is one line on
stderr (exit 1 or 2, never 3, never a traceback, never a hang), and the venv stays
whole and working.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from relocator.state.registry import Registry
from relocator.state.store import Store
from tests.helpers import (
    bare_project,
    one_clean_error_line,
    relocate,
    relocate_ok,
    store_venvs,
    venv_project,
)

DEEP_TOML = "x = " + "[" * 600 + "]" * 600 + "\n"  # about 1 KB: tomllib recurses per level
DEEP_JSON = "[" * 30_000 + "]" * 30_000  # within the 64 KB an owner record may take
DEEPER_JSON = "[" * 100_000 + "]" * 100_000  # past it: read cut short


def _relocated(root: Path) -> Path:
    """A relocated project whose venv holds a marker file."""
    venv_project(root)
    (root / ".venv" / "marker").write_text("keep")
    relocate_ok("adopt", str(root))
    assert (root / ".venv").is_symlink()
    return root


def _works(root: Path) -> None:
    """The project's venv is whole: its marker is there and its Python runs."""
    assert (root / ".venv" / "marker").read_text() == "keep"
    python = root / ".venv" / "bin" / "python"
    done = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], timeout=60)
    assert done.returncode == 0


def _not_internal(result: subprocess.CompletedProcess[str]) -> None:
    """Exit 0, or a refusal in one clean line (doctor: findings on stdout); never exit 3."""
    assert result.returncode != 3, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert all(line.startswith("relocate: ") for line in result.stderr.splitlines())
    if result.returncode != 0 and result.args[3] != "doctor":
        one_clean_error_line(result)


def _plant(path: Path, kind: str) -> None:
    """Put something hostile at ``path`` (a file the user or a tool could have left)."""
    if path.is_dir():
        import shutil

        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(HOSTILE[kind])


HOSTILE = {
    "deep-json": DEEP_JSON.encode(),
    "deeper-json": DEEPER_JSON.encode(),
    "nul": b'{"key": "/a\\u0000b"}\0',
    "huge": b" " * (3 << 20) + b"{}",
    "not-utf8": b'{"key": "\xff"}',
    "not-an-object": b"[1, 2]",
    "wrong-types": b'{"key": 5, "path": null, "python": [], "created": "x", "last_seen": true}',
}
FILE_KINDS = [*HOSTILE, "folder", "fifo"]


# -- pyproject.toml -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["project", "above"])
def test_a_deeply_nested_pyproject_is_no_pyproject(tmp_path: Path, store: Path, where: str):
    project = _relocated(tmp_path / "home" / "proj")
    folder = project if where == "project" else project.parent
    (folder / "pyproject.toml").write_text(DEEP_TOML)
    for args in (
        ["adopt"],
        ["adopt", "--trees"],
        ["doctor"],
        ["status"],
        ["eject"],
        ["adopt"],
        ["doctor", "--fix"],
    ):
        result = relocate(*args, str(project))
        assert result.returncode == 0, (args, result.stderr)
        _works(project)
    assert (project / ".venv").is_symlink()


# -- service.toml ---------------------------------------------------------------------


CONFIGS = {
    "deep": (DEEP_TOML.encode(), "is not valid TOML (nested deeper than relocate reads)"),
    "nul-in-roots": (b'roots = ["/tmp/a\\u0000b"]\n', "holds a path with a NUL character"),
    "nul-in-ignore": (b'ignore = ["/tmp/a\\u0000b"]\n', "holds a path with a NUL character"),
    "raw-nul": (b"roots = []\n\0\n", "is not valid TOML"),
    "huge": (b"#" * (3 << 20), "is larger than 1 MB"),
    "not-utf8": (b"roots = ['\xff']\n", "is not UTF-8"),
    "folder": (b"", "is not a regular file"),
    "fifo": (b"", "is not a regular file"),
    "wrong-type": (b"roots = 5\n", "must be a list of paths"),
    "bad-trees": (b"trees = 5\n", "trees in "),
}


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> tuple[Path, str]:
    path = tmp_path / "service.toml"
    data, said = CONFIGS[kind]
    if kind in ("folder", "fifo"):
        _plant(path, kind)
    else:
        path.write_bytes(data)
    monkeypatch.setenv("RELOCATOR_CONFIG", str(path))
    return path, said


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_a_broken_service_config_is_one_line_for_the_service(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch, kind: str
):
    path, said = _config(tmp_path, monkeypatch, kind)
    result = relocate("service", "run", "--interval", "0.1")
    line = one_clean_error_line(result)
    assert result.returncode == 1
    assert str(path) in line and said in line, line


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_a_broken_service_config_never_stops_adopt(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch, kind: str
):
    project = tmp_path / "proj"
    venv_project(project)
    (project / ".venv" / "marker").write_text("keep")
    path, said = _config(tmp_path, monkeypatch, kind)
    # The config decides nothing here: not a word about it.
    result = relocate("adopt", "--no-trees", str(project))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    _works(project)
    relocate_ok("eject", str(project))
    (project / "pyproject.toml").write_text("[tool.relocator]\ntrees = false\n")
    result = relocate("adopt", str(project))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    relocate_ok("eject", str(project))
    # Here it would decide: a warning naming the file and why, and adopt goes on.
    (project / "pyproject.toml").unlink()
    result = relocate("adopt", str(project))
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("relocate: warning: ") and str(path) in line and said in line
    assert line.endswith("(adopt goes on without the config's trees setting)")
    assert (project / ".venv").is_symlink()
    _works(project)


@pytest.mark.parametrize("order", [["--trees", "--no-trees"], ["--no-trees", "--trees"]])
def test_trees_and_no_trees_together_is_a_usage_error(tmp_path: Path, store: Path, order):
    project = tmp_path / "proj"
    venv_project(project)
    result = relocate("adopt", *order, str(project))
    assert result.returncode == 2
    assert "--trees and --no-trees contradict each other" in one_clean_error_line(result)
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()


def test_an_interval_too_long_for_the_clock_is_a_usage_error(tmp_path: Path, store: Path):
    result = relocate("service", "run", "--interval", "1e308")
    assert result.returncode == 2
    assert "--interval must be a number of seconds" in one_clean_error_line(result)


# -- the store's records ----------------------------------------------------------------


COMMANDS = [["list"], ["status"], ["doctor"], ["gc", "--dry-run"], ["gc"], ["adopt"], ["eject"]]


def _each_command(project: Path, commands: list[list[str]] = COMMANDS) -> None:
    for args in commands:
        where = [str(project)] if args[0] in ("status", "adopt", "eject") else []
        result = relocate(*args, *where)
        _not_internal(result)
        if args[0] != "eject" or result.returncode != 0:
            _works(project)  # a refused eject leaves it relocated, a done one a folder
        else:
            assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
            _works(project)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_owner_record(tmp_path: Path, store: Path, kind: str):
    project = _relocated(tmp_path / "proj")
    (venv,) = store_venvs(store)
    _plant(venv.with_name(venv.name + ".json"), kind)
    _each_command(project)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_owner_record_when_the_registry_is_rebuilt(
    tmp_path: Path, store: Path, kind: str
):
    project = _relocated(tmp_path / "proj")
    (venv,) = store_venvs(store)
    _plant(venv.with_name(venv.name + ".json"), kind)
    for side in store.glob("registry.db*"):
        side.unlink()
    _each_command(project)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_journal_record(tmp_path: Path, store: Path, kind: str):
    project = _relocated(tmp_path / "proj")
    _plant(store / "journal" / "x-1.json", kind)
    _each_command(project, [["doctor"], *COMMANDS])


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_bundle_record(tmp_path: Path, store: Path, kind: str):
    project = _relocated(tmp_path / "proj")
    (project / ".mypy_cache").mkdir()
    relocate_ok("adopt", "--trees", str(project))
    (record,) = (store / "trees").glob("*.json")
    _plant(record, kind)
    _each_command(project, [["doctor"], *COMMANDS])


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_pid_file(tmp_path: Path, store: Path, kind: str):
    project = _relocated(tmp_path / "proj")
    _plant(store / "service.pid", kind)
    _plant(store / "service.json", kind)
    for args in (["service", "status"], ["doctor"]):
        _not_internal(relocate(*args))
    _works(project)


# -- the registry's rows ----------------------------------------------------------------

ROW = "INSERT INTO projects VALUES ({}, {}, {}, NULL, NULL, 1.0, 1.0)"
ROWS = {
    "null-key, venv missing": ROW.format("NULL", "'/nowhere/x'", "'x-1234'"),
    "null-key, its venv": "UPDATE projects SET key = NULL",
    "number as key": ROW.format("5", "'/nowhere/x'", "'x-1234'"),
    "relative path": ROW.format("'/k'", "'here'", "'x-1234'"),
    "NUL in path": "UPDATE projects SET path = path || char(0) || 'x'",
    "venv out of the store": ROW.format("'/k'", "'/nowhere/k'", "'../..'"),
    "NUL in venv, as bytes": ROW.format("'/k'", "'/nowhere/k'", "x'610062'"),
    "text as last seen": "UPDATE projects SET last_seen = 'soon'",
    "text as time": "UPDATE projects SET created = 'yesterday'",
    "ejected: null key": "INSERT INTO ejected VALUES (NULL, '/p', 1.0)",
}


@pytest.mark.parametrize("kind", list(ROWS))
def test_a_registry_row_relocate_never_writes_is_damage(tmp_path: Path, store: Path, kind: str):
    project = _relocated(tmp_path / "proj")
    db = sqlite3.connect(store / "registry.db")
    try:
        db.execute(ROWS[kind])
        db.commit()
    finally:
        db.close()
    result = relocate("gc")
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"relocate: warning: the registry {store / 'registry.db'} was damaged")
    assert line.endswith("rebuilt it from the owner records (1 project)")
    assert len(list(store.glob("registry.db.damaged-*"))) == 1  # kept, not deleted
    assert str(project) in relocate_ok("list")
    _each_command(project)


def test_a_null_key_alone_in_the_registry(tmp_path: Path, store: Path):
    """The reported case: ``gc`` met a row whose key is NULL and whose venv is missing."""
    Registry(Store().ensure()).close()  # an empty registry
    db = sqlite3.connect(store / "registry.db")
    try:
        db.execute(ROW.format("NULL", "'/nowhere/x'", "'x-1234'"))
        db.commit()
    finally:
        db.close()
    result = relocate("gc")
    assert result.returncode == 0, result.stderr
    assert "rebuilt it from the owner records (0 projects)" in result.stderr


# -- files in the project and in the venv ---------------------------------------------


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_python_version_file(tmp_path: Path, store: Path, kind: str):
    project = bare_project(tmp_path / "proj")
    _plant(project / ".python-version", kind)
    result = relocate("adopt", str(project))  # a new venv: the request is read
    _not_internal(result)
    assert result.returncode == 0, result.stderr
    assert (project / ".venv" / "bin" / "python").exists()


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_hostile_pyvenv_cfg_in_the_store(tmp_path: Path, store: Path, kind: str):
    """The venv's own Python may not start any more (CPython reads pyvenv.cfg first):
    relocate says what it can and changes nothing."""
    project = _relocated(tmp_path / "proj")
    (venv,) = store_venvs(store)
    _plant(venv / "pyvenv.cfg", kind)
    for args in (["status", str(project)], ["list"], ["doctor"], ["gc"], ["eject", str(project)]):
        _not_internal(relocate(*args))
        assert (project / ".venv" / "marker").read_text() == "keep"
