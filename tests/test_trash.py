"""The trash: every retirement is undoable. A rebuild, a takeover of a replaced link, an
eject that lets go, gc of a gone project: what goes is renamed into the store's trash with
a record, listed by ``relocate trash``, put back by ``relocate restore``, and deleted only
by gc's sweep (past its age, or ``--empty-trash``). A kill at every step of a move into or
out of the trash, and of the sweep, loses nothing. Real venvs, real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relocator.state import trash
from relocator.state.store import Store
from tests.helpers import (
    drop_hop,
    make_venv,
    one_clean_error_line,
    paused,
    relocate,
    relocate_json,
    relocate_ok,
    site_packages,
    store_venvs,
    venv_project,
)


def _adopted(root: Path, *marks: str) -> Path:
    """A relocated project whose venv holds hand-made modules named ``marks``; its store venv."""
    venv_project(root)
    for mark in marks:
        (site_packages(root / ".venv") / f"{mark}.py").write_text(f"NAME = {mark!r}\n")
    relocate_ok("adopt", str(root))
    return Path(os.path.realpath(root / ".venv"))


def _imports(project: Path, module: str) -> bool:
    python = project / ".venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {module}"], check=False).returncode == 0


def _entries(store: Path) -> list[trash.Entry]:
    return trash.entries(Store(str(store)))


def _journal(store: Path) -> list[str]:
    return sorted(p.name for p in (store / "journal").iterdir())


def test_a_rebuild_retires_into_the_trash_and_restore_puts_it_back(tmp_path: Path, store: Path):
    project = tmp_path / "app"
    old = _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")

    rebuilt = relocate_json("rebuild", str(project))

    assert rebuilt["venv"] == str(old)  # the new venv takes the old one's name
    assert os.path.realpath(project / ".venv") == str(old)
    assert not _imports(project, "handmade")
    assert not list((store / "tmp").iterdir())  # its staging place is empty again
    (entry,) = _entries(store)
    assert (entry.kind, entry.project, entry.name) == ("venv", str(project), old.name)
    assert entry.why == "replaced by relocate rebuild"
    assert entry.python and entry.bytes > 0 and entry.files > 0
    assert any(f"relocate restore --id {entry.id}" in n for n in rebuilt["notes"])
    listed = relocate_json("trash")
    assert [e["id"] for e in listed] == [entry.id]
    assert listed[0]["expires"] == pytest.approx(entry.when + 14 * 86400)
    assert entry.id in relocate_ok("trash")

    restored = relocate_json("restore", str(project))

    assert restored["venv"] == str(old)  # the project's name: recorded paths still work
    assert os.path.realpath(project / ".venv") == str(old)
    assert _imports(project, "handmade")
    (replaced,) = _entries(store)  # the rebuilt venv, retired in turn
    assert replaced.name == old.name
    assert replaced.why == f"replaced by the restore of trash entry {entry.id}"
    assert relocate_json("status", str(project))["status"] == "ok"

    relocate_ok("restore", str(project), "--id", replaced.id)  # undo the restore
    assert os.path.realpath(project / ".venv") == str(old)
    assert not _imports(project, "handmade")
    (again,) = _entries(store)  # the handmade venv, in the trash again
    assert again.name == old.name
    assert (site_packages(store / "trash" / again.id) / "handmade.py").is_file()
    assert _journal(store) == []
    for gone in (entry.id, replaced.id):  # restored: their folders and records left the trash
        assert not list((store / "trash").glob(f"{gone}*"))


def test_a_takeover_and_an_eject_that_lets_go_keep_the_old_venv(tmp_path: Path, store: Path):
    project = tmp_path / "app"
    first = _adopted(project, "first")
    (project / ".venv").unlink()
    drop_hop(project)
    make_venv(project / ".venv")  # rm -rf .venv && uv sync, say
    (site_packages(project / ".venv") / "second.py").write_text("")

    out = relocate_json("adopt", str(project))

    assert any("in the trash" in n for n in out["notes"])
    (entry,) = _entries(store)
    assert entry.name == first.name
    assert (site_packages(store / "trash" / entry.id) / "first.py").is_file()
    assert out["venv"] == str(first)  # the tool's venv takes the project's name
    assert _imports(project, "second") and not _imports(project, "first")
    (project / ".venv").unlink()
    drop_hop(project)
    make_venv(project / ".venv")  # the user's own venv again; eject lets the store's go

    relocate_ok("eject", str(project))

    assert [e.name for e in _entries(store)] == [first.name, first.name]
    assert store_venvs(store) == []


def _with_a_package(venv: Path) -> None:
    info = site_packages(venv) / "six-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: six\nVersion: 1.0\n")
    (site_packages(venv) / "six.py").write_text("")


def test_an_empty_venv_a_tool_made_never_replaces_one_with_packages(tmp_path: Path, store: Path):
    """A tool's new .venv that is empty, where the project's venv has packages and there
    is nothing to fill it from: the project's venv is linked again, the empty one goes to
    the trash. Killed at every point of that, the next adopt ends the same way."""
    log = tmp_path / "points"
    project = tmp_path / "app"
    old = _adopted(project)
    _with_a_package(old)

    def replaced() -> None:
        (project / ".venv").unlink()
        drop_hop(project)
        make_venv(project / ".venv")  # `rm -rf .venv && uv venv`, say: empty

    replaced()
    env = {**os.environ, "RELOCATOR_FAULT_LOG": str(log)}
    out = relocate_json("adopt", str(project), env=env)
    assert out["action"] == "relinked" and out["venv"] == str(old)
    assert any("nothing to install from" in n for n in out["notes"]), out
    assert any("the new one is in the trash" in n for n in out["notes"]), out
    (entry,) = _entries(store)
    assert entry.packages == [] and entry.name != old.name
    points = list(dict.fromkeys(log.read_text().split()))
    for point in points:
        replaced()
        _kill_at(point, "adopt", str(project))
        relocate_ok("adopt", str(project))
        assert _imports(project, "six"), point
        assert os.path.realpath(project / ".venv") == str(old), point
        assert store_venvs(store) == [old] and _journal(store) == [], point
        assert relocate_json("status", str(project))["status"] == "ok", point
        assert sorted(p.name for p in (store / "venvs").glob("*.json")) == [f"{old.name}.json"]


def test_refusals_are_one_line_and_change_nothing(tmp_path: Path, store: Path):
    project, other = tmp_path / "app", tmp_path / "other"
    _adopted(project)
    _adopted(other)
    assert "no venv of" in one_clean_error_line(relocate("restore", str(project)))
    (other / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(other))
    (entry,) = _entries(store)
    refused = relocate("restore", str(project), "--id", entry.id)
    assert f"belongs to {other}" in one_clean_error_line(refused)
    assert "no entry" in one_clean_error_line(relocate("restore", str(project), "--id", "nope"))
    assert [e.id for e in _entries(store)] == [entry.id]


def test_gc_sweeps_what_is_past_its_age_and_nothing_else(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    venv = _adopted(gone)
    _adopted(kept)
    shutil.rmtree(gone)
    moved = relocate_json("gc")
    (entry,) = _entries(store)
    assert entry.name == venv.name and moved["swept"] == []

    assert relocate_json("gc")["swept"] == []  # 14 days by default: kept
    monkeypatch.setenv("RELOCATOR_TRASH_DAYS", "0")
    dry = relocate_json("gc", "--dry-run")
    assert [e["id"] for e in dry["swept"]] == [entry.id]
    assert (store / "trash" / entry.id).is_dir()
    swept = relocate_json("gc")
    assert [e["id"] for e in swept["swept"]] == [entry.id]
    assert swept["bytes_freed"] == entry.bytes
    assert list((store / "trash").iterdir()) == []
    assert relocate_json("status", str(kept))["status"] == "ok"
    monkeypatch.setenv("RELOCATOR_TRASH_DAYS", "soon")
    assert "RELOCATOR_TRASH_DAYS" in one_clean_error_line(relocate("gc"))


def test_the_config_sets_the_retention(tmp_path: Path, store: Path, monkeypatch):
    config = tmp_path / "service.toml"
    config.write_text("trash_days = 0.5\n")
    monkeypatch.setenv("RELOCATOR_CONFIG", str(config))
    project = _adopted(tmp_path / "app")
    shutil.rmtree(tmp_path / "app")
    relocate_ok("gc")
    (entry,) = relocate_json("trash")
    assert entry["expires"] == pytest.approx(entry["when"] + 43200)
    assert project.name == entry["name"]
    config.write_text("trash_days = -1\n")
    assert "trash_days" in one_clean_error_line(relocate("trash"))


def test_list_and_doctor_show_the_trash(tmp_path: Path, store: Path):
    project = tmp_path / "app"
    _adopted(project)
    (project / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(project))
    found = [f for f in relocate_json("doctor") if f["check"] == "trash"]
    assert len(found) == 1 and "1 entry" in found[0]["message"]
    assert relocate("doctor").returncode == 0  # a report, not a problem


# -- kills ---------------------------------------------------------------------------------


def _kill_at(point: str, *args: str) -> None:
    env = {**os.environ, "RELOCATOR_FAULT": point}
    result = subprocess.run(
        [sys.executable, "-m", "relocator", *args], env=env, capture_output=True, check=False
    )
    assert result.returncode == -9, result.stderr


@pytest.mark.parametrize("point", ["trash:begin", "trash:moved", "trash:recorded", "trash:done"])
def test_a_move_into_the_trash_killed_at_each_step_loses_nothing(
    tmp_path: Path, store: Path, point: str
):
    project = tmp_path / "app"
    old = _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")

    _kill_at(point, "rebuild", str(project))
    relocate_ok("doctor", "--fix")  # settles the journal: the swap goes on
    assert _journal(store) == []

    places = [p for p in (*store_venvs(store), *(store / "trash").glob("*")) if p.is_dir()]
    whole = [p for p in places if (site_packages(p) / "handmade.py").is_file()]
    assert len(whole) == 1, places  # the old venv, whole, in one place: the trash
    assert whole[0].parent.name == "trash"
    (entry,) = _entries(store)
    assert (entry.name, entry.project) == (old.name, str(project))
    assert store_venvs(store) == [old]  # the new venv, under the old one's name
    assert json.loads((store / "venvs" / f"{old.name}.json").read_text())["path"] == str(project)
    assert relocate_json("status", str(project))["status"] == "ok"
    assert relocate("doctor").returncode == 0
    assert relocate_json("gc")["removed"] == []  # nothing left over


def test_a_restore_killed_at_each_step_loses_nothing(tmp_path: Path, store: Path):
    """Every point a restore passes (the swap's, the current venv's move into the trash);
    killed at each, the next adopt finishes or rolls back, under the project's name."""
    project = tmp_path / "app"
    name = _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(project))
    log = tmp_path / "points"
    (entry,) = _entries(store)
    env = {**os.environ, "RELOCATOR_FAULT_LOG": str(log)}
    relocate_ok("restore", str(project), "--id", entry.id, env=env)
    points = list(dict.fromkeys(log.read_text().split()))
    assert {"swap:begin", "swap:retired", "swap:renamed", "trash:moved"} <= set(points)
    for point in points:
        (rebuilt,) = _entries(store)
        relocate_ok("restore", str(project), "--id", rebuilt.id)  # handmade into the trash
        (entry,) = _entries(store)
        _kill_at(point, "restore", str(project), "--id", entry.id)
        relocate_ok("adopt", str(project))  # settles the project's journal first

        assert _journal(store) == [], point
        if point == "swap:begin":  # rolled back: still in the trash, and restorable
            assert entry.id in [e.id for e in _entries(store)], point
            relocate_ok("restore", str(project), "--id", entry.id)
        assert _imports(project, "handmade"), point
        assert os.path.realpath(project / ".venv") == str(name), point
        assert store_venvs(store) == [name] and not list((store / "tmp").iterdir()), point
        assert relocate_json("status", str(project))["status"] == "ok", point
        assert len(_entries(store)) == 1, point  # the venv it replaced, and nothing else


def test_a_sweep_killed_half_way_is_finished_by_the_next(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    _adopted(tmp_path / "app")
    shutil.rmtree(tmp_path / "app")
    relocate_ok("gc")
    monkeypatch.setenv("RELOCATOR_TRASH_DAYS", "0")
    _kill_at("trash:swept", "gc")
    assert [p.suffix for p in (store / "trash").iterdir()] == [".json"]  # the record is last
    relocate_ok("gc")
    assert list((store / "trash").iterdir()) == []


# -- the trash's own rules --------------------------------------------------------------------


def test_an_entry_without_a_record_is_listed_and_swept(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    _adopted(tmp_path / "app")
    (store / "trash").mkdir()
    stray = make_venv(store / "trash" / "20260101-000000-abcdef")
    old = time.time() - 30 * 86400
    os.utime(stray, (old, old))  # the mtime says nothing: its ctime dates the rename
    (entry,) = _entries(store)
    assert entry.kind == "leftover" and "no record" in entry.why
    assert entry.when > old
    relocate_ok("gc")
    assert stray.is_dir()
    monkeypatch.setenv("RELOCATOR_TRASH_DAYS", "0")
    relocate_ok("gc")
    assert not stray.exists()


def test_a_trash_record_names_no_store_folder_outside(tmp_path: Path, store: Path):
    """A journal record of a move into the trash is data: one naming a folder outside the
    store's venvs, trees and tmp is never acted on."""
    _adopted(tmp_path / "app")
    outside = make_venv(tmp_path / "outside")
    record = {
        "op": "trash",
        "key": str(tmp_path / "app"),
        "project": str(tmp_path / "app"),
        "venv": "20260101-000000-abcdef",
        "step": "begin",
        "src": "../outside",
        "started": 1.0,
    }
    (store / "journal" / "20260101-000000-abcdef.json").write_text(json.dumps(record))
    relocate_ok("doctor", "--fix")
    assert (outside / "pyvenv.cfg").is_file()
    assert not (store / "trash" / "20260101-000000-abcdef").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "/elsewhere"), ("name", "../../elsewhere"), ("tree", "../../../elsewhere")],
)
def test_a_trash_record_that_names_a_place_outside_is_not_restored_there(
    tmp_path: Path, store: Path, field: str, value: str
):
    """The record's name (and tree) say where a restore puts the entry back: one naming a
    place outside the store's venvs and trees leaves the entry in the trash, untouched."""
    project = tmp_path / "app"
    _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(project))
    (entry,) = _entries(store)
    record_path = store / "trash" / f"{entry.id}.json"
    record = json.loads(record_path.read_text())
    elsewhere = tmp_path / "elsewhere"
    record[field] = value.replace("/elsewhere", str(elsewhere)) if value[0] == "/" else value
    if field == "tree":
        record["kind"] = "tree"
    record_path.write_text(json.dumps(record))
    linked = os.path.realpath(project / ".venv")

    result = relocate("restore", str(project), "--id", entry.id)

    assert "not known to be any project's" in one_clean_error_line(result)
    assert not elsewhere.exists() and not Path(f"{elsewhere}.json").exists()
    assert (store / "trash" / entry.id / "pyvenv.cfg").is_file()
    assert os.path.realpath(project / ".venv") == linked
    assert _journal(store) == []
    assert relocate_json("status", str(project))["status"] == "ok"


def test_what_the_trash_holds_follows_a_moved_project(tmp_path: Path, store: Path):
    """A project renamed after a rebuild: its venv follows it, and so do its trash entries,
    which relocate restore finds in its new place (the old one is no more)."""
    project = tmp_path / "app"
    old = _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(project))
    (entry,) = _entries(store)
    moved = tmp_path / "renamed"
    project.rename(moved)

    followed = relocate_json("adopt", str(moved))

    assert any("the trash holds of it follows it" in n for n in followed["notes"])
    (entry,) = _entries(store)
    assert (entry.key, entry.project) == (str(moved), str(moved))
    restored = relocate_json("restore", str(moved))
    assert restored["venv"] == str(old)
    assert _imports(moved, "handmade")


def test_emptying_the_trash_waits_for_a_restore(tmp_path: Path, store: Path):
    """gc --empty-trash while a restore has journaled its intent and not yet moved the entry
    out: it leaves that project's entries to the restore (it holds the lock)."""
    project = tmp_path / "app"
    _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    relocate_ok("rebuild", str(project))
    (entry,) = _entries(store)
    gate = tmp_path / "gate"
    env = {
        **os.environ,
        "RELOCATOR_FAULT_PAUSE": "swap:begin",
        "RELOCATOR_FAULT_GATE": str(gate),
    }
    cmd = [sys.executable, "-m", "relocator", "restore", str(project), "--id", entry.id]
    restoring = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{gate}.paused").exists():
            assert restoring.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert [e.id for e in _entries(store)] == [entry.id]  # not moved out yet

        emptied = relocate(
            "gc",
            "--empty-trash",
            "--yes",
            "--json",
            env={**os.environ, "RELOCATOR_LOCK_TIMEOUT": "0"},
        )
    finally:
        gate.touch()
        _out, err = restoring.communicate(timeout=120)
    assert restoring.returncode == 0, err
    assert json.loads(emptied.stdout)["swept"] == []
    assert _imports(project, "handmade")
    assert relocate_json("status", str(project))["status"] == "ok"
    relocate_ok("restore", str(project))  # and what the restore replaced is still there


@pytest.mark.parametrize("field", ["bytes", "files", "when"])
@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e400"])
def test_a_trash_record_with_numbers_out_of_range_is_read(
    tmp_path: Path, store: Path, field: str, value: str
):
    """A record's numbers that are not finite (Python's json reads NaN, Infinity and 1e400)
    are no numbers: every command that reads the trash still answers, never exit 3."""
    (store / "trash").mkdir(parents=True)
    make_venv(store / "trash" / "20260101-000000-abcdef")
    record = {"id": "20260101-000000-abcdef", "kind": "venv", "name": "x", "key": "/k"}
    text = json.dumps(record)[:-1] + f', "{field}": {value}}}'
    (store / "trash" / "20260101-000000-abcdef.json").write_text(text)

    for args in (("trash",), ("trash", "--json"), ("gc", "--dry-run"), ("list",), ("doctor",)):
        result = relocate(*args)
        assert result.returncode in (0, 1) and "internal error" not in result.stderr, args
    assert relocate_json("trash")[0]["bytes"] >= 0


def test_a_restore_that_cannot_move_the_entry_leaves_the_current_venv_linked(
    tmp_path: Path, store: Path
):
    """Nothing changes before the entry is out of the trash: a restore whose entry went
    meanwhile (deleted by hand) leaves the project on the venv it had."""
    project = tmp_path / "app"
    _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    current = relocate_json("rebuild", str(project))["venv"]
    (entry,) = _entries(store)
    with paused(["restore", str(project), "--id", entry.id], "swap:begin", tmp_path) as held:
        shutil.rmtree(store / "trash" / entry.id)  # gone meanwhile
        done = held.resume()

    assert done.returncode == 1 and "is gone; nothing was replaced" in done.stderr
    assert os.path.realpath(project / ".venv") == current
    assert relocate_json("status", str(project))["status"] == "ok"
    assert _journal(store) == []
