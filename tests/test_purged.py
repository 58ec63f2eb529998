"""A store venv the system deleted (macOS purges ``~/Library/Caches`` under storage
pressure): every surface says so plainly, names what the venv held from the registry's
record, and ``relocate adopt`` builds it again from the recipe, naming what the recipe
does not give back.

Real uv projects, real venvs; the purge is ``rm -rf`` of ``<store>/venvs/*`` (owner
records too), or of the whole store with the registry.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from relocator.state import remembered
from relocator.state.registry import SCHEMA_VERSION, Registry
from relocator.state.store import Store
from relocator.system import platform
from tests.helpers import (
    code_at,
    one_clean_error_line,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    store_venvs,
    write_project,
)
from tests.test_lifecycle import imports_six, uv, uv_app

pytestmark = pytest.mark.slow

#: A commit whose registry is schema 2.
SCHEMA_2_COMMIT = "a637f7ae326aff2e1580826d0b8cd8492a294887"


def _hand_install(project: Path, tmp_path: Path, wheelhouse: Path) -> None:
    """``uv pip install`` of a local package the project's lock does not name, offline."""
    extra = write_project(tmp_path / "handmade", name="handmade")
    offline = ["--offline", "--no-index", "--find-links", str(wheelhouse)]
    python = str(project / ".venv" / "bin" / "python")
    result = run([uv(), "pip", "install", "-q", "--python", python, *offline, str(extra)])
    assert result.returncode == 0, result.stderr


def _record(store: Path, project: Path) -> dict[str, str] | None:
    name = os.path.basename(os.path.realpath(project / ".venv"))
    with Registry(Store(str(store))) as registry:
        found = remembered.recall(registry, name)
    return None if found is None else {n: d.version for n, d in found.packages.items()}


def _purge_venvs(store: Path) -> None:
    """What the system's purge does: everything under venvs/, owner records too."""
    for entry in (store / "venvs").iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _hook_line(project: Path) -> str:
    """What the bash hook says on a cd into ``project`` (non-interactive bash)."""
    hook = relocate_ok("hook", "bash")
    script = f'{hook}\ncd {json.dumps(str(project))} && _relocator_hook; echo "[$VIRTUAL_ENV]"'
    result = subprocess.run(
        ["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # nothing activated
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_purged_venv_is_named_with_what_it_held_and_adopt_says_what_the_lock_lacks(
    tmp_path: Path, store: Path, wheelhouse: Path
) -> None:
    project = uv_app(tmp_path / "app")
    venv = Path(relocate_json("adopt", str(project))["venv"])
    recorded = _record(store, project)
    assert recorded is not None and "six" in recorded and "handmade" not in recorded

    # Installed by hand into the healthy venv: doctor reads it again into the record.
    _hand_install(project, tmp_path, wheelhouse)
    assert _record(store, project) == recorded  # status and adopt's no-op do not write it
    relocate_json("status", str(project))
    assert _record(store, project) == recorded
    relocate("doctor", str(project))
    after = _record(store, project)
    assert after is not None and after["handmade"] == "0.1" and after["six"] == recorded["six"]

    _purge_venvs(store)
    assert not venv.exists() and (project / ".venv").is_symlink()

    status = relocate_json("status", str(project))
    assert status["status"] == "venv-missing"
    assert status["held"]["handmade"] == "0.1" and status["held"]["six"] == recorded["six"]
    assert "deleted, by the system or a tool" in status["detail"]
    assert "handmade 0.1" in status["detail"] and f"six {recorded['six']}" in status["detail"]
    assert status["hint"].startswith(f"relocate adopt {project} builds it again")
    text = relocate("status", str(project)).stdout
    assert "found: " in text and "handmade 0.1" in text and "to repair: relocate adopt" in text

    doctor = json.loads(relocate("doctor", str(project), "--json").stdout)
    (finding,) = [f for f in doctor if f["check"] == "venv"]
    assert finding["status"] == "venv-missing" and "handmade 0.1" in finding["message"]

    python = relocate("python", str(project))
    line = one_clean_error_line(python)
    assert "a store venv that is gone" in line and f"relocate adopt {project}" in line

    said = _hook_line(project)
    assert said.startswith(f"relocator: {project}/.venv leads nowhere: its store venv was deleted")

    out = relocate_json("adopt", str(project))
    assert out["action"] == "built from uv.lock (uv sync --locked)"
    assert out["venv"] == str(venv)  # the name it had, which tools recorded
    assert imports_six(project)
    lost = [n for n in out["notes"] if n.startswith("the venv that was deleted also had")]
    assert lost == [
        "the venv that was deleted also had handmade 0.1, which uv.lock does not give: "
        "install them again"
    ]
    assert relocate_json("status", str(project))["status"] == "ok"
    again = _record(store, project)
    assert again is not None and "handmade" not in again and "six" in again


def test_doctor_fix_rebuilds_a_purged_venv_and_names_what_it_lacks(
    tmp_path: Path, store: Path, wheelhouse: Path
) -> None:
    project = uv_app(tmp_path / "app")
    relocate_ok("adopt", str(project))
    _hand_install(project, tmp_path, wheelhouse)
    relocate("doctor", str(project))  # the record now has handmade
    _purge_venvs(store)
    result = relocate("doctor", "--fix", str(project), "--json")
    (finding,) = [f for f in json.loads(result.stdout) if f["check"] == "venv"]
    assert finding["status"] == "venv-missing" and not finding["fixed"]  # not all it had
    assert "fixed: .venv built from uv.lock" in finding["message"]
    assert "also had handmade 0.1, which uv.lock does not give" in finding["message"]
    assert imports_six(project)
    assert relocate_json("status", str(project))["status"] == "ok"


def test_a_store_purged_with_its_registry_says_what_it_held_is_not_known(
    tmp_path: Path, store: Path
) -> None:
    project = uv_app(tmp_path / "app")
    venv = Path(relocate_json("adopt", str(project))["venv"])
    shutil.rmtree(store)

    status = relocate_json("status", str(project))
    assert status["status"] == "venv-missing" and status["venv"] == str(venv)
    assert status["held"] is None
    assert "what it held is not known" in status["detail"]
    assert status["hint"].startswith(f"relocate adopt {project} builds it again")
    doctor = json.loads(relocate("doctor", str(project), "--json").stdout)
    assert [(f["check"], f["status"]) for f in doctor] == [("venv", "venv-missing")]
    assert "not known" in doctor[0]["message"]
    line = one_clean_error_line(relocate("python", str(project)))
    assert "a store venv that is gone" in line

    out = relocate_json("adopt", str(project))
    assert out["action"] == "built from uv.lock (uv sync --locked)"
    assert out["venv"] == str(venv)
    assert not [n for n in out["notes"] if "also had" in n]  # nothing made up
    assert any("the store venv was gone" in n for n in out["notes"])
    assert imports_six(project)
    assert relocate_json("status", str(project))["status"] == "ok"
    assert store_venvs(store) == [venv]


def test_the_deleted_venvs_other_versions_are_named(tmp_path: Path, store: Path) -> None:
    project = uv_app(tmp_path / "app")
    venv = Path(relocate_json("adopt", str(project))["venv"])
    name = venv.name
    with Registry(Store(str(store))) as registry:  # as if six had been upgraded by hand
        record = remembered.recall(registry, name)
        assert record is not None
        pairs = {n: d.version for n, d in record.packages.items()}
        six = pairs["six"]
        pairs["six"] = "0.0.1"
        registry.execute("UPDATE packages SET packages = ? WHERE venv = ?", json.dumps(pairs), name)
    _purge_venvs(store)
    out = relocate_json("adopt", str(project))
    assert f"the venv that was deleted had other versions: six 0.0.1 (now {six})" in out["notes"]


def test_the_macos_store_says_caches_are_purgeable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(os.environ["HOME"])
    monkeypatch.setattr(platform, "current", platform.Darwin())
    mac = Store(str(home / "Library" / "Caches" / "relocator"))
    said = remembered.gone(mac, f"{mac.venvs}/app-1", None)
    assert "macOS may empty ~/Library/Caches when the disk runs short of space" in said
    assert "RELOCATOR_HOME" in said and "not known" in said
    elsewhere = Store(str(home / ".local" / "share" / "relocator"))
    assert "macOS" not in remembered.gone(elsewhere, f"{elsewhere.venvs}/app-1", None)
    monkeypatch.setattr(platform, "current", platform.Linux())
    assert "macOS" not in remembered.gone(mac, f"{mac.venvs}/app-1", None)


# -- the registry's schema 3 ---------------------------------------------------------------


def _query(store: Path, query: str) -> list[Any]:
    db = sqlite3.connect(store / "registry.db")
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_a_schema_2_registry_is_migrated_and_keeps_its_rows(tmp_path: Path, store: Path) -> None:
    projects = [tmp_path / "alpha", tmp_path / "beta"]
    old = code_at(SCHEMA_2_COMMIT, tmp_path / "schema-2-code")
    for project in projects:
        project.mkdir()
        (project / "setup.py").write_text("")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")])
    env = {**os.environ, "PYTHONPATH": str(old)} if old else None
    for project in projects:
        relocate_ok("adopt", str(project), env=env, cwd=tmp_path)
    relocate_ok("eject", str(projects[1]), env=env, cwd=tmp_path)
    if old is None:  # a clone without that commit: the schema 2 file, made by hand
        db = sqlite3.connect(store / "registry.db")
        db.execute("DROP TABLE packages")
        db.execute("UPDATE schema_version SET version = 2")
        db.commit()
        db.close()
    assert _query(store, "SELECT version FROM schema_version") == [(2,)]
    tables = {t for (t,) in _query(store, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "packages" not in tables
    before = _query(store, "SELECT * FROM projects ORDER BY key")
    marks = _query(store, "SELECT * FROM ejected")
    assert len(before) == 1 and len(marks) == 1

    result = relocate("list", "--json")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert [row["project"] for row in json.loads(result.stdout)] == [str(projects[0])]
    assert _query(store, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)] == [(3,)]
    assert _query(store, "SELECT * FROM projects ORDER BY key") == before
    assert _query(store, "SELECT * FROM ejected") == marks
    assert _query(store, "SELECT count(*) FROM packages") == [(0,)]  # none known yet
    assert not list(store.glob("registry.db.damaged-*"))
    relocate_ok("doctor", str(projects[0]))  # a healthy venv with no record gets one
    assert _query(store, "SELECT count(*) FROM packages") == [(1,)]


@pytest.mark.parametrize(
    "garble",
    [
        "INSERT INTO packages VALUES ('x', 'not a time', '{}')",
        "UPDATE packages SET recorded = 'x'",
        "DROP TABLE packages",
    ],
)
def test_a_garbled_packages_table_is_cleared_and_the_rest_kept(
    tmp_path: Path, store: Path, garble: str
) -> None:
    """What venvs held is a record for messages: damage there clears it, and nothing
    else: the projects and the user's eject marks stay (a rebuilt registry has no marks)."""
    project, other = tmp_path / "p", tmp_path / "q"
    for folder in (project, other):
        folder.mkdir()
        (folder / "setup.py").write_text("")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")])
        relocate_ok("adopt", str(folder))
    relocate_ok("eject", str(other))
    db = sqlite3.connect(store / "registry.db")
    db.execute(garble)
    db.commit()
    db.close()
    result = relocate("status", str(project), "--json")
    assert result.returncode == 0, result.stderr
    assert "record of what each venv held was damaged" in result.stderr
    assert "set it aside" not in result.stderr
    assert json.loads(result.stdout)["status"] == "ok"
    db = sqlite3.connect(store / "registry.db")
    assert [k for (k,) in db.execute("SELECT path FROM ejected")] == [str(other)]
    assert db.execute("SELECT count(*) FROM packages").fetchone() == (0,)
    db.close()
    again = relocate("status", str(project), "--json")
    assert again.returncode == 0 and "damaged" not in again.stderr
