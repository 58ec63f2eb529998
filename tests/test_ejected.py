"""Eject is the user's word: the service leaves an ejected project alone until the user
adopts it again, and uninstall stops the service before it ejects.

The service runs as a real process over a fake macOS home (see test_service.py); every
wait polls against a deadline.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from relocator.paths import resolver
from relocator.state.registry import SCHEMA_VERSION, Registry
from relocator.state.store import Store
from tests.helpers import (
    bare_project,
    code_at,
    make_venv,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    store_venvs,
)
from tests.test_service import Service, trashed, wait_until

INTERVAL = 0.3
QUIET = 0.5
#: The commit this branch started from: its registry is schema 1.
SCHEMA_1_COMMIT = "094368247d63fefad533c51432500cac75889de9"


def _start(start: Callable[..., Service], mode: str = "poll") -> Service:
    """The service over the fake home, started, with a short quiet window and interval."""
    return start(mode, quiet=QUIET, interval=INTERVAL).started()


def _adopted(project: Path) -> Path:
    bare_project(project)
    make_venv(project / ".venv")
    (project / ".venv" / "marker").write_text("keep")
    relocate_ok("adopt", str(project))
    assert (project / ".venv").is_symlink()
    return project


def _ejected(project: Path) -> bool:
    venv = project / ".venv"
    return venv.is_dir() and not venv.is_symlink() and (venv / "marker").is_file()


def _passes_after(svc: Service, moment: float, count: int = 2) -> None:
    """Wait for ``count`` more passes of the service that began after ``moment``."""
    wait_until(
        lambda: (svc.status()["last_scan"] or 0) > moment + count * INTERVAL,
        f"{count} passes after {moment}",
    )


@pytest.mark.parametrize("mode", ["events", "poll"])
def test_an_ejected_project_stays_ejected(docs: Path, start, store: Path, mode: str) -> None:
    project = _adopted(docs / "proj")
    real = project.resolve()
    svc = _start(start, mode)
    relocate_ok("eject", str(project))
    ejected_at = time.time()
    (line,) = svc.wait_log(f"skipped {real}: {real} was ejected by the user")
    assert f"`relocate adopt {shlex.quote(str(real))}` relocates it again" in line
    _passes_after(svc, ejected_at + QUIET)  # well past the quiet window
    assert _ejected(project)
    assert store_venvs(store) == []
    assert len([x for x in svc.log() if "was ejected by the user" in x]) == 1  # said once
    assert svc.status()["adopted"] == 0


def test_adopt_by_hand_lifts_the_mark(docs: Path, start, store: Path) -> None:
    project = _adopted(docs / "proj")
    real = project.resolve()
    svc = _start(start)
    relocate_ok("eject", str(project))
    with Registry(Store()) as registry:
        mark = registry.ejected(resolver.key(str(real)))
    assert mark is not None and mark.path == str(real)
    svc.wait_log(f"skipped {real}: {real} was ejected by the user")

    relocate_ok("adopt", str(project))
    with Registry(Store()) as registry:
        assert registry.ejected(resolver.key(str(real))) is None
    # The service looks after it again: a tool replaces the link, the service repairs it.
    (old,) = store_venvs(store)
    run(
        ["sh", "-c", f"rm -r .venv .venv.nosync && {sys.executable} -m venv --without-pip .venv"],
        cwd=project,
        check=True,
    )

    def repaired() -> bool:  # the tool's venv takes the store path; the old one is in the trash
        return (project / ".venv").is_symlink() and store_venvs(store) == [old] and trashed(store)

    wait_until(repaired, "the replaced link repaired")
    svc.wait_log(f" repaired {real} ")


def test_a_failed_eject_leaves_no_mark(tmp_path: Path, store: Path) -> None:
    project = tmp_path / "proj"
    bare_project(project)
    make_venv(project / ".venv")  # not relocated: eject refuses
    assert relocate("eject", str(project)).returncode == 1
    relocate_ok("list")
    with Registry(Store()) as registry:
        assert registry.all_ejected() == {}


def test_uninstall_stops_the_service_then_ejects(
    docs: Path, start, store: Path, isolated: Path
) -> None:
    alpha = _adopted(docs / "alpha")
    beta = _adopted(docs / "beta")
    svc = _start(start)
    env = {**os.environ, "XDG_CONFIG_HOME": str(isolated / ".config"), "ZDOTDIR": str(isolated)}
    result = relocate("uninstall", "--yes", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert svc.proc.poll() == 0  # stopped, cleanly, before uninstall went on
    lines = result.stdout.splitlines()
    assert lines[1] == f"ok     stop the running service: stopped pid {svc.proc.pid}", lines
    assert lines[2].startswith(f"ok     eject {alpha.resolve()}"), lines
    assert _ejected(alpha) and _ejected(beta)
    assert not store.exists()


# -- the registry's schema ---------------------------------------------------------------


def _schema_1_by_hand(store: Path) -> None:
    """The registry schema 1 made (its DDL, verbatim), holding the rows there are now."""
    db = sqlite3.connect(store / "registry.db")
    rows = db.execute("SELECT * FROM projects").fetchall()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for side in store.glob("registry.db*"):
        side.unlink()
    db = sqlite3.connect(store / "registry.db")
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS projects (
            key       TEXT PRIMARY KEY,
            path      TEXT NOT NULL,
            venv      TEXT NOT NULL UNIQUE,
            python    TEXT,
            provider  TEXT,
            created   REAL NOT NULL,
            last_seen REAL NOT NULL
        );
        INSERT INTO schema_version VALUES (1);
        """
    )
    db.executemany("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def _registry(store: Path, query: str) -> list[Any]:
    db = sqlite3.connect(store / "registry.db")
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_a_schema_1_registry_is_migrated_and_keeps_its_rows(tmp_path: Path, store: Path) -> None:
    projects = [tmp_path / "alpha", tmp_path / "beta"]
    for project in projects:
        bare_project(project)
        make_venv(project / ".venv")
    old = code_at(SCHEMA_1_COMMIT, tmp_path / "schema-1-code")
    for project in projects:
        env = {**os.environ, "PYTHONPATH": str(old)} if old else None
        relocate_ok("adopt", str(project), env=env, cwd=tmp_path)  # not the checkout's code
    if old is None:  # a clone without that commit: the same file, made by hand
        _schema_1_by_hand(store)
    assert _registry(store, "SELECT version FROM schema_version") == [(1,)]
    before = _registry(store, "SELECT * FROM projects ORDER BY key")
    assert len(before) == 2

    result = relocate("list", "--json")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert sorted(row["project"] for row in json.loads(result.stdout)) == [str(p) for p in projects]
    assert _registry(store, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert _registry(store, "SELECT * FROM projects ORDER BY key") == before
    assert not list(store.glob("registry.db.damaged-*"))
    relocate_ok("eject", str(projects[0]))
    assert _registry(store, "SELECT path FROM ejected") == [(str(projects[0]),)]
    assert [row["project"] for row in relocate_json("list")] == [str(projects[1])]


def test_doctor_leaves_an_ejected_project_alone(tmp_path: Path) -> None:
    """A project the user ejected is no problem for doctor, and --fix does not adopt it
    again behind the user's back: only `relocate adopt` does."""
    project = bare_project(tmp_path / "P")
    make_venv(project / ".venv")
    relocate_ok("adopt", str(project))
    relocate_ok("eject", str(project))
    said = relocate("doctor", str(project))
    assert said.returncode == 0, said.stdout + said.stderr
    assert "ejected by the user" in said.stdout
    said = relocate("doctor", str(project), "--fix")
    assert said.returncode == 0, said.stdout + said.stderr
    assert not (project / ".venv").is_symlink() and (project / ".venv" / "pyvenv.cfg").is_file()
    assert store_venvs(tmp_path / "store") == []
    with Registry(Store()) as registry:
        assert registry.ejected(resolver.key(str(project))) is not None
