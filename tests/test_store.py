"""The store, the registry, locks, and the CLI's error contract, on real files and processes."""

from __future__ import annotations

import contextlib
import json
import os
import plistlib
import random
import re
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from relocator.errors import (
    EXIT_BUSY,
    EXIT_INTERNAL,
    EXIT_USAGE,
    EXIT_USER,
    Busy,
    RelocatorError,
    warn,
)
from relocator.paths import resolver
from relocator.paths.storeroot import CACHEDIR_TAG, README
from relocator.state import registry as registry_module
from relocator.state.registry import SCHEMA_VERSION, Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system import platform
from tests import helpers

SUBFOLDERS = ("venvs", "journal", "tmp", "logs", "locks")


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _row(n: int | str, *, venv: str | None = None, t: float = 1000.0) -> Row:
    return Row(
        key=f"/p/proj{n}",
        path=f"/p/Proj{n}",
        venv=venv or f"proj{n}-{n:0>8}",
        python="3.12.1",
        provider="icloud",
        created=t,
        last_seen=t,
    )


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    return folder


# -- the store folder ------------------------------------------------------------------


def test_ensure_creates_a_private_store(store: Path):
    assert not store.exists()
    s = Store()
    assert s.root == str(store)  # RELOCATOR_HOME from the isolated fixture
    assert s.ensure() is s
    assert store.is_dir()
    assert _mode(store) == 0o700
    for sub in SUBFOLDERS:
        assert (store / sub).is_dir(), sub
    readme = (store / "README").read_text()
    assert "relocator" in readme
    assert "relocate list" in readme
    assert sorted(os.listdir(store)) == sorted([*SUBFOLDERS, "README"])
    # A second time changes nothing and keeps the README, with what was added below its first line.
    readme = store / "README"
    readme.write_text(README + "a note of mine\n")
    before = os.stat(readme)
    Store().ensure()
    assert readme.read_text() == README + "a note of mine\n"
    assert os.stat(readme).st_ino == before.st_ino


def test_ensure_creates_missing_parents(tmp_path: Path):
    root = tmp_path / "a" / "b" / "store"
    Store(str(root)).ensure()
    assert _mode(root) == 0o700
    assert (root / "venvs").is_dir()


def test_ensure_tightens_an_open_store(store: Path):
    store.mkdir()
    os.chmod(store, 0o755)  # noqa: S103 - the point of the test
    assert _mode(store) == 0o755
    Store().ensure()
    assert _mode(store) == 0o700
    assert (store / "locks").is_dir()


def test_ensure_refuses_a_file(store: Path):
    store.write_text("not a folder")
    with pytest.raises(RelocatorError, match="not a directory"):
        Store().ensure()
    assert store.read_text() == "not a folder"


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a folder to another user")
def test_ensure_refuses_a_store_of_another_user(store: Path):
    store.mkdir(mode=0o700)
    os.chown(store, 65534, 65534)
    with pytest.raises(RelocatorError, match="another user") as caught:
        Store().ensure()
    assert "RELOCATOR_HOME" in str(caught.value)
    assert os.listdir(store) == []  # nothing created in it
    assert os.lstat(store).st_uid == 65534


def test_ensure_under_a_file_is_a_user_error(tmp_path: Path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(RelocatorError, match="RELOCATOR_HOME"):
        Store(str(tmp_path / "afile" / "store")).ensure()


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every name below ``folder`` (not following links) with its mode and size."""
    found = {".": (os.lstat(folder).st_mode, 0)}
    for top, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            st = os.lstat(os.path.join(top, name))
            found[os.path.relpath(os.path.join(top, name), folder)] = (st.st_mode, st.st_size)
    return found


def _foreign_folder(kind: str, where: Path) -> Path:
    """A folder that is not a store: a home, a project, a README of someone else's..."""
    where.mkdir(parents=True)
    if kind == "home":
        (where / ".bashrc").write_text("export X=1\n")
        (where / "Documents" / "thesis").mkdir(parents=True)
        (where / "venvs").mkdir()  # one of relocator's names does not make it a store
    elif kind == "project":
        (where / "pyproject.toml").write_text("[project]\n")
        (where / "README").write_text("My project\n")
    elif kind == "readme-folder":
        (where / "README").mkdir()
    elif kind == "readme-link":  # our text, but through a link: not a README of this folder
        (where.parent / "elsewhere").write_text(README)
        (where / "README").symlink_to(where.parent / "elsewhere")
    elif kind == "readme-pipe":
        os.mkfifo(where / "README")  # reading it must not hang
    os.chmod(where, 0o755)  # noqa: S103 - a mode ensure() must not touch
    return where


FOREIGN = ["home", "project", "readme-folder", "readme-link", "readme-pipe"]


@pytest.mark.parametrize("kind", FOREIGN)
def test_ensure_refuses_a_folder_that_is_not_a_store(tmp_path: Path, kind: str):
    folder = _foreign_folder(kind, tmp_path / "mine")
    before = _snapshot(folder)
    with pytest.raises(RelocatorError) as caught:
        Store(str(folder)).ensure()
    message = str(caught.value)
    assert message == (
        f"{folder} is not a relocator store (it holds other files); "
        "set RELOCATOR_HOME to a new or empty folder"
    )
    assert _snapshot(folder) == before  # not even chmod-ed
    assert _mode(folder) == 0o755


def test_relocate_with_relocator_home_set_to_home_touches_nothing(tmp_path: Path, isolated: Path):
    home = isolated
    (home / ".bashrc").write_text("export X=1\n")
    (home / "Documents").mkdir()
    os.chmod(home, 0o751)  # noqa: S103 - a mode ensure() must not touch
    before = _snapshot(home)
    env = {**os.environ, "RELOCATOR_HOME": str(home)}
    project = _project(tmp_path / "proj")
    for args in (["list"], ["adopt", str(project)], ["status", str(project)], ["hook", "zsh"]):
        result = helpers.relocate(*args, env=env, cwd=tmp_path)
        assert result.returncode == EXIT_USER, (args, result.stderr)
        line = helpers.one_clean_error_line(result)
        assert "is not a relocator store" in line, line
        assert _snapshot(home) == before
    assert not os.path.lexists(project / ".venv")


@pytest.mark.parametrize(
    "leftovers",
    [
        [],
        [".DS_Store"],
        ["README.4242.tmp"],
        ["README.4242.tmp", "venvs", "locks"],
        ["registry.db"],
    ],
    ids=["empty", "finder", "readme-tmp", "cut-short", "old-store"],
)
def test_ensure_takes_an_empty_folder_or_what_it_left(tmp_path: Path, leftovers: list[str]):
    root = tmp_path / "new"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)  # noqa: S103
    for name in leftovers:
        if "." in name:
            (root / name).write_text("")
        else:
            (root / name).mkdir()
    Store(str(root)).ensure()
    assert _mode(root) == 0o700
    assert (root / "README").read_text() == README
    assert all((root / sub).is_dir() for sub in SUBFOLDERS)


@pytest.mark.parametrize("sub", ["venvs", "locks"])
def test_ensure_with_a_file_in_place_of_a_subfolder_is_a_clear_error(store: Path, sub: str):
    Store().ensure()
    (store / sub).rmdir()
    (store / sub).write_text("x")
    with pytest.raises(RelocatorError) as caught:
        Store().ensure()
    assert str(caught.value) == (
        f"cannot set up the store {store}: {store / sub} (File exists); "
        "move that away or set RELOCATOR_HOME"
    )
    assert (store / sub).read_text() == "x"


def test_ensure_keeps_a_store_with_its_readme_whatever_else_it_holds(store: Path):
    s = Store().ensure()
    (store / "registry.db.damaged-20240101-000000").write_bytes(b"x")
    (store / "notes.txt").write_text("mine")
    os.chmod(store, 0o750)  # noqa: S103 - ensure() tightens its own store
    assert s.ensure() is s
    assert _mode(store) == 0o700
    assert (store / "notes.txt").read_text() == "mine"


def test_a_symlinked_store_is_checked_at_its_target(tmp_path: Path):
    target = tmp_path / "real-store"
    link = tmp_path / "store-link"
    link.symlink_to(target, target_is_directory=True)
    target.mkdir()
    Store(str(link)).ensure()
    assert (target / "README").read_text() == README
    assert _mode(target) == 0o700
    assert os.path.islink(link)
    # A link to a folder that is not a store is refused like the folder itself.
    other = _foreign_folder("home", tmp_path / "a-home")
    before = _snapshot(other)
    (tmp_path / "link-home").symlink_to(other)
    with pytest.raises(RelocatorError, match="is not a relocator store"):
        Store(str(tmp_path / "link-home")).ensure()
    assert _snapshot(other) == before


@pytest.mark.parametrize(
    "value", ["rel/store", "store", "./store", "../store", "~user-nobody-has/x"]
)
def test_a_relative_relocator_home_is_refused(tmp_path: Path, value: str):
    (tmp_path / "plain").mkdir()
    env = {**os.environ, "RELOCATOR_HOME": value}
    for args in (["list"], ["python", "."], ["status"], ["hook", "bash"]):
        result = helpers.relocate(*args, env=env, cwd=tmp_path / "plain")
        assert result.returncode == EXIT_USER, (args, result.stderr)
        line = helpers.one_clean_error_line(result)
        assert line == f"relocate: RELOCATOR_HOME must be an absolute path (got {value!r})"
    assert os.listdir(tmp_path / "plain") == []  # no store in the current folder


# -- marks: backup exclusion and CACHEDIR.TAG -----------------------------------------------


def test_backup_exclude_value_is_the_binary_plist_of_backupd():
    value = platform.BACKUP_EXCLUDE_VALUE
    assert value.startswith(b"bplist00")
    assert plistlib.loads(value) == "com.apple.backupd"
    assert value == plistlib.dumps("com.apple.backupd", fmt=plistlib.FMT_BINARY)
    assert platform.BACKUP_EXCLUDE_XATTR == "com.apple.metadata:com_apple_backup_excludeItem"


def test_cachedir_tag(store: Path):
    signature = b"Signature: 8a477f597d28d172789f06886806bc55"
    assert len(signature) == 43
    assert CACHEDIR_TAG.encode()[:43] == signature
    s = Store().ensure()
    os.mkdir(s.venv_path("proj-0badf00d"))
    s.tag_venv("proj-0badf00d")
    tag = store / "venvs" / "proj-0badf00d" / "CACHEDIR.TAG"
    assert tag.read_bytes()[:43] == signature
    assert tag.read_text() == CACHEDIR_TAG
    # Tagging again keeps the file as it is.
    s.tag_venv("proj-0badf00d")
    assert tag.read_text() == CACHEDIR_TAG
    assert os.listdir(tag.parent) == ["CACHEDIR.TAG"]


def test_tar_exclude_caches_skips_a_tagged_venv(store: Path, tmp_path: Path):
    s = Store().ensure()
    for name in ("tagged-00000001", "plain-00000002"):
        os.mkdir(s.venv_path(name))
        Path(s.venv_path(name), "payload.txt").write_text("x")
    s.tag_venv("tagged-00000001")
    tar = helpers.gnu_tar()  # GNU's option: macOS's own bsdtar lacks it
    out = helpers.run(
        [tar, "--exclude-caches-under", "-cvf", str(tmp_path / "a.tar"), "venvs"], cwd=store
    )
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split()
    assert "venvs/plain-00000002/payload.txt" in listed
    assert not [x for x in listed if "tagged-00000001/payload" in x]


# -- the registry --------------------------------------------------------------------------


def test_registry_is_wal_sqlite_with_a_schema_version(store: Path):
    with Registry(Store().ensure()) as registry:
        assert registry.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db = sqlite3.connect(store / "registry.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == 3
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    # Opening again does not add a second version row.
    Registry(Store().ensure()).close()
    Registry(Store().ensure()).close()
    db = sqlite3.connect(store / "registry.db")
    try:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(3,)]
    finally:
        db.close()


def test_registry_put_get_all_remove_touch(store: Path):
    with Registry(Store().ensure()) as registry:
        assert registry.all() == []
        assert registry.get("/p/proj1") is None
        rows = [_row(3), _row(1), _row(2)]
        for row in rows:
            registry.put(row)
        assert registry.get("/p/proj1") == _row(1)
        assert registry.by_venv(_row(2).venv) == _row(2)
        assert registry.all() == sorted(rows, key=lambda r: r.path)

        # put with the same key replaces.
        moved = _row(1)._replace(path="/q/Proj1", python="3.13.0")
        registry.put(moved)
        assert registry.get("/p/proj1") == moved
        assert len(registry.all()) == 3

        before = time.time()
        registry.touch("/p/proj2")
        touched = registry.get("/p/proj2")
        assert touched is not None
        assert touched.last_seen >= before > touched.created == 1000.0
        assert registry.get("/p/proj3") == _row(3)  # others untouched
        registry.touch("/p/none")  # no row: nothing happens

        registry.remove("/p/proj3")
        assert registry.get("/p/proj3") is None
        assert registry.by_venv(_row(3).venv) is None
        registry.remove("/p/proj3")  # twice is fine
        assert [r.key for r in registry.all()] == ["/p/proj2", "/p/proj1"]  # by path

    # All of it is on disk, not only in the connection.
    with Registry(Store()) as again:
        assert again.get("/p/proj1") == moved
        assert len(again.all()) == 2


def test_registry_put_with_a_used_venv_replaces_the_old_row(store: Path):
    with Registry(Store().ensure()) as registry:
        registry.put(_row(1, venv="shared-00000001"))
        registry.put(_row(9))
        newcomer = _row(2, venv="shared-00000001")
        registry.put(newcomer)
        assert registry.get("/p/proj1") is None
        assert registry.by_venv("shared-00000001") == newcomer
        assert [r.key for r in registry.all()] == ["/p/proj2", "/p/proj9"]


def test_registry_rolls_back_a_failed_transaction(store: Path):
    with Registry(Store().ensure()) as registry:
        registry.put(_row(1))
        with pytest.raises(ZeroDivisionError), registry.transaction():
            registry.db.execute("DELETE FROM projects")
            _ = 1 / 0
        assert registry.all() == [_row(1)]


def _write_owned_venvs(s: Store, rows: list[Row]) -> None:
    for row in rows:
        os.mkdir(s.venv_path(row.venv))
        s.write_owner(row.venv, row.owner_record())


def test_registry_is_rebuilt_from_owner_records(store: Path):
    s = Store().ensure()
    rows = [_row(1, t=1.5), _row(2, t=2.5), _row(3, t=3.5)._replace(python=None, provider=None)]
    with Registry(s) as registry:
        for row in rows:
            registry.put(row)
    _write_owned_venvs(s, rows)
    assert s.read_owner(rows[0].venv) == rows[0]._asdict()

    os.unlink(s.registry_path)
    assert not os.path.exists(s.registry_path)
    with Registry(s) as registry:
        assert registry.all() == sorted(rows, key=lambda r: r.path)
    assert os.path.exists(s.registry_path)


def test_rebuild_ignores_owners_without_a_venv_and_bad_records(store: Path):
    s = Store().ensure()
    kept = [_row(1), _row(2)]
    _write_owned_venvs(s, kept)
    s.write_owner("lost-00000003", _row(3, venv="lost-00000003").owner_record())  # no folder
    os.mkdir(s.venv_path("bad-00000004"))
    s.write_owner("bad-00000004", {"key": "/p/bad", "surprise": 1})  # not a row
    Path(s.venvs, "junk-00000005.json").write_text("{not json")
    os.mkdir(s.venv_path("junk-00000005"))

    with Registry(s) as registry:
        registry.put(_row(7))  # not in any owner record: rebuild drops it
        assert registry.rebuild() == 2
        assert registry.all() == kept
        assert registry.get("/p/proj3") is None
        assert registry.get("/p/bad") is None
    # The records themselves are left alone.
    assert s.read_owner("lost-00000003") is not None


def test_rebuild_takes_the_venv_name_from_the_file_name(store: Path):
    s = Store().ensure()
    os.mkdir(s.venv_path("proj1-aaaaaaaa"))
    s.write_owner("proj1-aaaaaaaa", _row(1, venv="proj1-stale000").owner_record())
    with Registry(s) as registry:
        assert registry.rebuild() == 1
        row = registry.get("/p/proj1")
        assert row is not None
        assert row.venv == "proj1-aaaaaaaa"


# -- a registry that is not one ---------------------------------------------------------


def _sqlite_file(path: Path, *statements: str) -> bytes:
    db = sqlite3.connect(path)
    try:
        for statement in statements:
            db.execute(statement)
        db.commit()
    finally:
        db.close()
    return path.read_bytes()


def _full_registry(tmp_path: Path) -> bytes:
    """The bytes of a real registry of 300 rows, checkpointed into its main file."""
    s = Store(str(tmp_path / "donor")).ensure()
    with Registry(s) as registry:
        with registry.transaction():
            for n in range(300):
                registry._put(_row(n))
        registry.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(s.registry_path).read_bytes()


def _damaged(kind: str, tmp_path: Path) -> bytes:
    if kind == "random":
        return random.Random(7).randbytes(5000)  # noqa: S311
    if kind == "zeros":
        return bytes(8192)
    if kind == "newline":
        return b"\n"
    if kind == "text":
        return b"this is not an SQLite database\n" * 200
    if kind == "other-app":
        return _sqlite_file(tmp_path / "other.db", "CREATE TABLE cookies (name TEXT, value TEXT)")
    if kind == "no-projects-table":
        return _sqlite_file(
            tmp_path / "x.db",
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "INSERT INTO schema_version VALUES (1)",
        )
    if kind == "projects-garbled":
        return _sqlite_file(
            tmp_path / "x.db",
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "INSERT INTO schema_version VALUES (1)",
            "CREATE TABLE projects (key TEXT, where_ TEXT)",
        )
    if kind == "version-missing":
        return _sqlite_file(
            tmp_path / "x.db",
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "CREATE TABLE projects (key TEXT)",
        )
    if kind == "version-text":
        return _sqlite_file(
            tmp_path / "x.db",
            "CREATE TABLE schema_version (version)",
            "INSERT INTO schema_version VALUES ('one')",
        )
    good = _full_registry(tmp_path)
    assert len(good) > 8 * 4096
    if kind == "truncated-header":
        return good[:50]
    if kind == "truncated-page":
        return good[:4196]
    if kind == "truncated-end":
        return good[: len(good) - 2 * 4096]
    assert kind == "page-zeroed"
    return good[: 4 * 4096] + bytes(4096) + good[5 * 4096 :]


DAMAGE = [
    "random",
    "zeros",
    "newline",
    "text",
    "truncated-header",
    "truncated-page",
    "truncated-end",
    "page-zeroed",
    "other-app",
    "no-projects-table",
    "projects-garbled",
    "version-missing",
    "version-text",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_registry_is_set_aside_and_rebuilt(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
):
    s = Store().ensure()
    rows = [_row(1, t=1.0), _row(2, t=2.0)]
    _write_owned_venvs(s, rows)
    damaged = _damaged(kind, tmp_path)
    Path(s.registry_path).write_bytes(damaged)
    capsys.readouterr()

    with Registry(s) as registry:
        assert registry.all() == rows
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"relocate: warning: the registry {s.registry_path} was damaged (")
    assert lines[0].endswith("rebuilt it from the owner records (2 projects)")
    (aside,) = store.glob("registry.db.damaged-*")
    assert re.fullmatch(r"registry\.db\.damaged-\d{8}-\d{6}", aside.name)
    assert f"set it aside as {aside.name} " in lines[0]
    assert aside.read_bytes() == damaged  # kept as it was, for whoever wants to look
    # The new registry is a good one: the next opening has nothing to say.
    with Registry(s) as registry:
        assert registry.all() == rows
        assert registry.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert capsys.readouterr().err == ""
    assert len(list(store.glob("registry.db.damaged-*"))) == 1


def test_a_damaged_registry_goes_aside_with_its_wal(store: Path, capsys):
    s = Store().ensure()
    _write_owned_venvs(s, [_row(1)])
    Path(s.registry_path).write_bytes(b"garbage" * 1000)
    Path(s.registry_path + "-wal").write_bytes(b"old wal" * 100)
    Path(s.registry_path + "-shm").write_bytes(b"old shm" * 100)
    with Registry(s) as registry:
        assert registry.all() == [_row(1)]
    (aside,) = store.glob("registry.db.damaged-*[0-9]")
    assert Path(f"{aside}-wal").read_bytes() == b"old wal" * 100
    assert Path(f"{aside}-shm").read_bytes() == b"old shm" * 100
    assert "was damaged" in capsys.readouterr().err
    # Two damages within one second get two names.
    with Registry(s):
        pass
    Path(s.registry_path).write_bytes(b"garbage again" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(s.registry_path + suffix).unlink(missing_ok=True)
    with Registry(s) as registry:
        assert registry.all() == [_row(1)]
    assert len(list(store.glob("registry.db.damaged-*[0-9]"))) == 2


def test_a_garbage_wal_beside_a_good_registry_is_ignored(store: Path, capsys):
    s = Store().ensure()
    with Registry(s) as registry:
        registry.put(_row(1))
        registry.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    Path(s.registry_path + "-wal").write_bytes(random.Random(3).randbytes(20000))  # noqa: S311
    with Registry(s) as registry:
        assert registry.all() == [_row(1)]
    assert capsys.readouterr().err == ""
    assert not list(store.glob("registry.db.damaged-*"))


def test_an_empty_registry_file_is_filled_from_the_owner_records(store: Path, capsys):
    # A new database to SQLite (a crash right after creating it): nothing to set aside.
    s = Store().ensure()
    _write_owned_venvs(s, [_row(1), _row(2)])
    Path(s.registry_path).write_bytes(b"")
    with Registry(s) as registry:
        assert registry.all() == [_row(1), _row(2)]
        assert registry.rebuilt == 2
    assert capsys.readouterr().err == ""
    assert not list(store.glob("registry.db.damaged-*"))


def test_list_and_status_go_on_past_a_garbage_registry(store: Path, tmp_path: Path):
    s = Store().ensure()
    project = _project(tmp_path / "proj")
    found = resolver.resolve(str(project))
    row = Row(found.key, found.path, "proj-00000001", "3.12.1", None, 5.0, 5.0)
    _write_owned_venvs(s, [row])
    (store / "registry.db").write_bytes(random.Random(1).randbytes(3000))  # noqa: S311

    result = helpers.relocate("list", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p["project"] for p in json.loads(result.stdout)] == [str(project)]
    (line,) = result.stderr.splitlines()
    assert line.startswith("relocate: warning: the registry ")
    assert "(1 project)" in line
    # Repaired once: the next command has nothing to say.
    result = helpers.relocate("status", str(project), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["project"] == str(project)
    # The same for status meeting the damage first.
    (store / "registry.db").write_bytes(bytes(4096))
    result = helpers.relocate("status", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "relocate: warning: the registry" in result.stderr
    assert str(project) in result.stdout


OPENER = textwrap.dedent(
    """
    from relocator.state.registry import Registry
    from relocator.state.store import Store

    with Registry(Store(root).ensure()) as registry:
        print(len(registry.all()))
    """
)


def test_processes_meeting_one_damaged_registry_repair_it_once(store: Path, tmp_path: Path):
    s = Store().ensure()
    _write_owned_venvs(s, [_row(n) for n in range(5)])
    (store / "registry.db").write_bytes(b"not a database\n" * 500)
    results = _together(OPENER, store, 6, tmp_path)
    assert [(code, out) for code, out, _ in results] == [(0, "5\n")] * 6, results
    warnings = [line for _, _, err in results for line in err.splitlines()]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("relocate: warning: the registry ")
    assert len(list(store.glob("registry.db.damaged-*[0-9]"))) == 1


@pytest.mark.parametrize("kind", ["folder", "symlink", "dangling-symlink", "fifo"])
def test_a_registry_that_is_not_a_file_is_a_clear_error(store: Path, tmp_path: Path, kind: str):
    s = Store().ensure()
    path = Path(s.registry_path)
    if kind == "folder":
        path.mkdir()
        (path / "inside").write_text("x")
        what = "a folder"
    elif kind == "fifo":
        os.mkfifo(path)  # SQLite would wait on it forever
        what = "not a regular file"
    else:
        target = tmp_path / ("elsewhere.db" if kind == "symlink" else "nowhere/x.db")
        if kind == "symlink":
            _sqlite_file(target, "CREATE TABLE t (x)")
        path.symlink_to(target)
        what = "a symlink"
    with pytest.raises(RelocatorError) as caught:
        Registry(s)
    assert str(caught.value) == (
        f"the registry {path} is {what}, not relocator's database; "
        "move it out of the store and run again"
    )
    assert os.path.lexists(path)
    assert not list(store.glob("registry.db.damaged-*"))
    assert not (tmp_path / "nowhere").exists()  # nothing created through the link
    result = helpers.relocate("list", cwd=tmp_path)
    assert result.returncode == EXIT_USER, result.stderr
    assert "move it out of the store" in helpers.one_clean_error_line(result)


def test_an_unreadable_registry_is_a_clear_error(store: Path, tmp_path: Path):
    s = Store().ensure()
    with Registry(s) as registry:
        registry.put(_row(1))
    registry_file = Path(s.registry_path)
    # Root reads and writes any file: there, the immutable flag denies the writes.
    as_root = os.getuid() == 0
    lock = ["chattr", "+i", str(registry_file)] if as_root else None
    if lock:
        subprocess.run(lock, check=True)
    else:
        os.chmod(registry_file, 0)
    try:
        with pytest.raises(RelocatorError) as caught:
            Registry(s)
        expected = (
            f"cannot read and write the registry {registry_file} (permission denied); "
            "give it back to your user (chmod u+rw) or move it away and run again"
        )
        assert str(caught.value) == expected
        for args in (["list"], ["adopt", str(_project(tmp_path / "proj"))]):
            result = helpers.relocate(*args, cwd=tmp_path)
            assert result.returncode == EXIT_USER, result.stderr
            assert helpers.one_clean_error_line(result) == f"relocate: {expected}"
        assert not list(store.glob("registry.db.damaged-*"))
    finally:
        if lock:
            subprocess.run(["chattr", "-i", str(registry_file)], check=True)
        else:
            os.chmod(registry_file, 0o600)
    with Registry(s) as registry:
        assert registry.all() == [_row(1)]


def test_a_registry_from_a_newer_relocator_is_left_alone(store: Path, tmp_path: Path):
    s = Store().ensure()
    with Registry(s) as registry:
        registry.put(_row(1))
        registry.db.execute("UPDATE schema_version SET version = 7")
        registry.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = Path(s.registry_path).read_bytes()
    with pytest.raises(RelocatorError) as caught:
        Registry(s)
    assert str(caught.value) == (
        f"the registry {s.registry_path} was made by a newer relocator (schema 7); upgrade relocate"
    )
    assert Path(s.registry_path).read_bytes() == before
    result = helpers.relocate("list", cwd=tmp_path)
    assert result.returncode == EXIT_USER
    assert helpers.one_clean_error_line(result).endswith("(schema 7); upgrade relocate")
    assert not list(store.glob("registry.db.damaged-*"))


def test_a_registry_held_too_long_is_busy(store: Path, monkeypatch: pytest.MonkeyPatch):
    s = Store().ensure()
    Registry(s).close()
    monkeypatch.setattr(registry_module, "BUSY_TIMEOUT_S", 0.3)
    other = sqlite3.connect(s.registry_path, isolation_level=None)
    try:
        opened = Registry(s)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Busy) as caught:
            opened.put(_row(1))
        assert str(caught.value) == (
            f"another relocate holds the registry {s.registry_path} (waited 0.3s); "
            "try again when it is done"
        )
        opened.close()
        with pytest.raises(Busy):
            Registry(s)
        other.execute("ROLLBACK")
        with Registry(s) as registry:
            registry.put(_row(1))
            assert registry.all() == [_row(1)]
    finally:
        other.close()


_GOOD = _row(9, t=9.0).owner_record()
HOSTILE_RECORDS = {
    "list": json.dumps([1, 2]),
    "string": json.dumps("/p/x"),
    "number": "3",
    "null": "null",
    "key-int": json.dumps({**_GOOD, "key": 5}),
    "key-relative": json.dumps({**_GOOD, "key": "p/proj9"}),
    "key-empty": json.dumps({**_GOOD, "key": ""}),
    "key-nul": json.dumps({**_GOOD, "key": "/p/a\0b"}),
    "key-lone-surrogate": json.dumps({**_GOOD, "key": "/p/\ud800"}),
    "path-none": json.dumps({**_GOOD, "path": None}),
    "path-dict": json.dumps({**_GOOD, "path": {"a": 1}}),
    "created-text": json.dumps({**_GOOD, "created": "yesterday"}),
    "created-bool": json.dumps({**_GOOD, "created": True}),
    "created-nan": json.dumps({**_GOOD, "created": float("nan")}),
    "created-inf": json.dumps({**_GOOD, "last_seen": float("inf")}),
    "created-huge": json.dumps({**_GOOD, "created": 10**400}),
    "python-int": json.dumps({**_GOOD, "python": 3}),
    "provider-list": json.dumps({**_GOOD, "provider": ["icloud"]}),
    "extra-field": json.dumps({**_GOOD, "surprise": 1}),
    "missing-field": json.dumps({k: v for k, v in _GOOD.items() if k != "last_seen"}),
    "empty-object": "{}",
    "deep": "[" * 100_000 + "]" * 100_000,
    "not-json": "{not json",
    "not-utf8": b'{"key": "/p/\xff"}',
}


def test_rebuild_skips_hostile_owner_records(store: Path, tmp_path: Path):
    s = Store().ensure()
    good = [_row(1, t=1.0), _row(2, t=2.0)]
    _write_owned_venvs(s, good)
    for n, (label, text) in enumerate(HOSTILE_RECORDS.items()):
        name = f"{label}-{n:08d}"
        os.mkdir(s.venv_path(name))
        raw = text if isinstance(text, bytes) else text.encode()
        Path(s.owner_path(name)).write_bytes(raw)
    with Registry(s) as registry:  # a new registry: built from the owner records on opening
        assert registry.rebuilt == 2
        assert registry.all() == good
        assert registry.rebuild() == 2
        assert registry.all() == good
    os.unlink(s.registry_path)
    result = helpers.relocate("list", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2


def test_names_that_are_not_utf8_are_stored_and_found(store: Path, tmp_path: Path):
    s = Store().ensure()
    name = os.fsdecode(b"/p/caf\xe9")  # a Latin-1 name from an old disk: not UTF-8
    row = _row(1)._replace(key=name, path=name)
    with Registry(s) as registry:
        registry.put(row)
        registry.put(_row(2))
        assert registry.get(name) == row
        assert registry.by_venv(row.venv) == row
        assert row in registry.all()
        registry.touch(name)
        touched = registry.get(name)
        assert touched is not None and touched.last_seen > row.last_seen
        registry.remove(name)
        assert registry.get(name) is None
        assert registry.get(os.fsdecode(b"/p/caf\xc3\xa9")) is None  # the UTF-8 twin is another
    _write_owned_venvs(s, [row])
    os.unlink(s.registry_path)
    with Registry(s) as registry:
        assert registry.all() == [row]
    # A folder with such a name: a clear answer from status, not an internal error.
    folder = tmp_path / os.fsdecode(b"caf\xe9") / "plain"
    folder.mkdir(parents=True)
    result = helpers.relocate("status", cwd=folder)
    assert result.returncode == EXIT_USER, result.stderr
    assert "is in no relocated project" in helpers.one_clean_error_line(result)


# -- concurrency ---------------------------------------------------------------------------

PUTTER = textwrap.dedent(
    """
    from relocator.state.registry import Registry
    from relocator.state.rows import Row
    from relocator.state.store import Store

    with Registry(Store(root).ensure()) as registry:
        for j in range(25):
            key = f"/w/{me}/{j}"
            registry.put(Row(key, key, f"v{me}-{j}", "3.12", None, time.time(), time.time()))
            registry.touch(key)
    """
)


def test_eight_processes_write_one_registry(store: Path, tmp_path: Path):
    results = [(code, err) for code, _, err in _together(PUTTER, store, 8, tmp_path)]
    assert results == [(0, "")] * 8
    db = sqlite3.connect(store / "registry.db")
    try:
        assert db.execute("SELECT count(*) FROM projects").fetchone() == (200,)
        assert db.execute("SELECT count(DISTINCT venv) FROM projects").fetchone() == (200,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


def test_opening_a_fresh_registry_waits_for_another_writer(store: Path):
    # Another process creating the registry, caught between its first lock and its WAL switch:
    # a rollback-mode write lock on the brand-new file, released a moment later.
    s = Store().ensure()
    other = sqlite3.connect(s.registry_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with Registry(s) as registry:  # busy timeout 30 s: should wait half a second
            assert registry.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        release.join()
        other.close()


# -- locks ----------------------------------------------------------------------------------


def test_a_held_project_lock_makes_a_second_relocate_exit_75(store: Path, tmp_path: Path):
    project = _project(tmp_path / "work" / "my proj")
    key = resolver.resolve(str(project)).key
    env = {**os.environ, "RELOCATOR_LOCK_TIMEOUT": "0.5"}
    assert env["RELOCATOR_HOME"] == str(store)
    s = Store().ensure()
    with s.lock(key, "x"):
        for command in ("adopt", "eject"):
            started = time.monotonic()
            result = helpers.relocate(command, str(project), env=env, cwd=tmp_path)
            waited = time.monotonic() - started
            assert result.returncode == EXIT_BUSY, result.stderr
            line = helpers.one_clean_error_line(result)
            assert "another relocate" in line
            assert "0.5s" in line
            assert waited >= 0.5
        # A subfolder of the project is the same project, so the same lock.
        (project / "src").mkdir()
        result = helpers.relocate("eject", str(project / "src"), env=env, cwd=tmp_path)
        assert result.returncode == EXIT_BUSY, result.stderr
    assert not os.path.lexists(project / ".venv")
    assert os.listdir(store / "venvs") == []
    # Released: the same command gets past the lock (and fails for its own reason).
    result = helpers.relocate("eject", str(project), env=env, cwd=tmp_path)
    assert result.returncode == EXIT_USER
    assert "not relocated" in helpers.one_clean_error_line(result)


def test_locks_of_different_projects_do_not_block(store: Path):
    s = Store().ensure()
    with s.lock("/a", "a"), s.lock("/b", "b"):
        assert len(os.listdir(store / "locks")) == 2


def test_a_projects_lock_file_is_named_as_every_version_names_it(store: Path):
    """The first 16 hex digits of the key's SHA-256 (a running service of an older version
    and this one take the same lock), whichever SHA-256 implementation computes it."""
    import hashlib

    key = "/Users/me/Documents/caf\u00e9 app"
    with Store().ensure().lock(key, "x"):
        (name,) = os.listdir(store / "locks")
    assert name == hashlib.sha256(key.encode()).hexdigest()[:16] + ".lock"


def test_lock_timeout_in_process(store: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", "0.2")
    s = Store().ensure()
    # a lock held by another thread of this process blocks too (one flock per open file).
    with _held_by_another_thread(s, "/k"), pytest.raises(Busy) as caught, s.lock("/k", "mine"):
        pass
    assert "mine" in str(caught.value)
    assert caught.value.lock_file.startswith(str(store / "locks") + "/")


@contextlib.contextmanager
def _held_by_another_thread(s: Store, key: str):
    held, done = threading.Event(), threading.Event()

    def holder() -> None:
        with s.lock(key, key):
            held.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        yield
    finally:
        done.set()
        t.join()


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "-inf", "1e999", "5s", "0x10"])
def test_a_bad_lock_timeout_is_a_clear_error(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
):
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", value)
    s = Store().ensure()
    with pytest.raises(RelocatorError) as caught, s.lock("/k", "k"):
        pass
    assert str(caught.value) == (
        f"RELOCATOR_LOCK_TIMEOUT must be a number of seconds >= 0 (got {value!r}); "
        "fix it, or unset it for the default of 30"
    )
    project = _project(tmp_path / "proj")
    result = helpers.relocate("adopt", str(project), cwd=tmp_path)
    assert result.returncode == EXIT_USER, result.stderr
    assert "RELOCATOR_LOCK_TIMEOUT" in helpers.one_clean_error_line(result)
    assert not os.path.lexists(project / ".venv")


@pytest.mark.parametrize(
    ("value", "expected"), [("", 30.0), ("  ", 30.0), ("0", 0.0), (" 2.5 ", 2.5)]
)
def test_lock_timeout_values_that_are_fine(
    store: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: float
):
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", value)
    s = Store().ensure()
    with s.lock("/k", "k"):
        pass
    if expected == 0.0:  # zero: one try, then busy at once
        busy = pytest.raises(Busy, match="waited 0s")
        with _held_by_another_thread(s, "/k"), busy, s.lock("/k", "k"):
            pass


def test_a_lock_file_that_is_a_folder_is_a_clear_error(store: Path, tmp_path: Path):
    s = Store().ensure()
    project = _project(tmp_path / "proj")
    key = resolver.resolve(str(project)).key
    with s.lock(key, "x"):
        (lock,) = os.listdir(store / "locks")
    os.unlink(store / "locks" / lock)
    (store / "locks" / lock).mkdir()
    with pytest.raises(RelocatorError, match="cannot take the lock") as caught, s.lock(key, "x"):
        pass
    assert lock in str(caught.value)
    result = helpers.relocate("adopt", str(project), cwd=tmp_path)
    assert result.returncode == EXIT_USER, result.stderr
    assert "move it away" in helpers.one_clean_error_line(result)


# -- the CLI's error contract -----------------------------------------------------------------


def test_unknown_command_is_a_usage_error(tmp_path: Path):
    result = helpers.relocate("nosuchcommand", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "nosuchcommand" in helpers.one_clean_error_line(result)
    assert result.stdout == ""


def test_unknown_option_is_a_usage_error(tmp_path: Path):
    result = helpers.relocate("adopt", "--bogus", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "--bogus" in helpers.one_clean_error_line(result)


def test_adopt_of_a_missing_path(tmp_path: Path, store: Path):
    result = helpers.relocate("adopt", "/does/not/exist", cwd=tmp_path)
    assert result.returncode == EXIT_USER
    assert "/does/not/exist" in helpers.one_clean_error_line(result)


def test_status_outside_any_project(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    result = helpers.relocate("status", cwd=tmp_path / "plain")
    assert result.returncode == EXIT_USER
    helpers.one_clean_error_line(result)
    # Also once the store exists.
    Store().ensure()
    result = helpers.relocate("status", str(tmp_path / "plain"), "--json", cwd=tmp_path)
    assert result.returncode == EXIT_USER
    helpers.one_clean_error_line(result)


def test_python_outside_any_project(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    result = helpers.relocate("python", cwd=tmp_path / "plain")
    assert result.returncode == EXIT_USER
    assert "is in no Python project" in helpers.one_clean_error_line(result)
    assert result.stdout == ""

    result = helpers.relocate("python", str(tmp_path / "plain"), "--json", cwd=tmp_path)
    assert result.returncode == EXIT_USER
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert "is in no Python project" in data["error"]
    assert "Traceback" not in result.stderr


def test_store_under_a_file_is_a_clean_user_error(tmp_path: Path):
    project = _project(tmp_path / "proj")
    (tmp_path / "afile").write_text("x")
    env = {**os.environ, "RELOCATOR_HOME": str(tmp_path / "afile" / "store")}
    result = helpers.relocate("adopt", str(project), env=env, cwd=tmp_path)
    line = helpers.one_clean_error_line(result)  # this much holds today
    assert result.returncode == EXIT_USER, line
    assert "RELOCATOR_HOME" in line
    assert not os.path.lexists(project / ".venv")


INJECTED = textwrap.dedent(
    """
    import sys
    from relocator.cli import entry
    from relocator.commands import adoption

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug, injected")

    adoption.adopt = broken
    sys.argv = ["relocate", *sys.argv[1:]]
    sys.exit(entry.main())
    """
)


def test_internal_error_exits_3_and_logs_a_traceback(tmp_path: Path, store: Path):
    # A bug (not a RelocatorError): one short line, exit 3, the traceback in the store's logs.
    project = _project(tmp_path / "proj")
    Store().ensure()
    result = helpers.run([sys.executable, "-c", INJECTED, "adopt", str(project)], cwd=tmp_path)
    assert result.returncode == EXIT_INTERNAL, result.stderr
    line = helpers.one_clean_error_line(result)
    assert line.startswith("relocate: internal error: ZeroDivisionError: a bug, injected")
    found = re.search(r"details in (\S+\.log)$", line)
    assert found, line
    log = Path(found.group(1))
    assert log.parent == store / "logs"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "ZeroDivisionError" in text
    assert text.startswith("relocate adopt ")
    assert not os.path.lexists(project / ".venv")


def test_a_registry_that_is_not_a_database_is_repaired_not_an_internal_error(
    tmp_path: Path, store: Path
):
    # It was exit 3 ("internal error") before: now set aside, rebuilt, and the command goes on.
    project = _project(tmp_path / "proj")
    Store().ensure()
    (store / "registry.db").write_bytes(b"this is not an SQLite database\n" * 200)
    env = helpers.env_without_uv(tmp_path)
    result = helpers.relocate("adopt", str(project), "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("relocate: warning: the registry ")
    assert json.loads(result.stdout)["project"] == str(project)
    assert os.path.islink(project / ".venv")
    listed = helpers.relocate_json("list", cwd=tmp_path)
    assert [p["project"] for p in listed] == [str(project)]


def test_warn_is_one_line_whatever_the_path_holds(capsys: pytest.CaptureFixture[str]):
    path = os.fsdecode(b"/x/caf\xe9")
    warn(f"the registry {path}\nsecond line was damaged")
    assert capsys.readouterr().err == (
        "relocate: warning: the registry /x/caf\\udce9\\nsecond line was damaged\n"
    )


WARN_IN_ASCII = textwrap.dedent(
    """
    import sys
    from relocator.errors import warn
    warn("café " + sys.argv[1])
    sys.stderr.close()
    warn("to a closed stderr: nothing, and no crash")
    sys.stderr = None
    warn("to no stderr at all")
    print("went on")
    """
)


def test_warn_writes_what_the_terminal_can_show(tmp_path: Path):
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict"}
    odd = os.fsdecode(b"\xff")
    result = helpers.run([sys.executable, "-c", WARN_IN_ASCII, odd], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "relocate: warning: caf\\xe9 \\udcff\n"
    assert result.stdout == "went on\n"


# -- the fast path stays fast ---------------------------------------------------------------

HEAVY = {"typer", "click", "filelock", "psutil", "platformdirs", "rich"}


def _imported(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names


def test_relocate_python_imports_nothing_heavy(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    cmd = [sys.executable, "-X", "importtime", "-m", "relocator", "python", str(tmp_path / "plain")]
    result = helpers.run(cmd, cwd=tmp_path)
    assert result.returncode == EXIT_USER
    imported = _imported(result.stderr)
    # (importlib.import_module is not timed: relocator.commands.lookup itself never shows.)
    light = {"relocator.paths.resolver", "relocator.paths.storeroot", "relocator.paths.link"}
    assert light <= imported
    heavy = {name for name in imported if name.split(".")[0] in HEAVY}
    assert heavy == set()
    assert "sqlite3" not in imported

    # The control: the typer CLI (--help) does import them, and the parse sees it.
    control = helpers.run([*cmd[:5], "resolve", "--help"], cwd=tmp_path)
    assert control.returncode == 0
    assert "typer" in _imported(control.stderr)


def test_relocate_python_json_imports_nothing_heavy(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    cmd = [sys.executable, "-X", "importtime", "-m", "relocator", "python", "--json", "."]
    result = helpers.run(cmd, cwd=tmp_path / "plain")
    assert result.returncode == EXIT_USER
    assert {n for n in _imported(result.stderr) if n.split(".")[0] in HEAVY} == set()


MODULES_AFTER = textwrap.dedent(
    """
    import sys
    from relocator.cli.entry import main
    code = main(["python", *sys.argv[1:]])
    print(code, *sorted(sys.modules), file=sys.stderr)
    """
)


@pytest.mark.parametrize("args", [[], ["--json"], ["--resolve"]])
def test_relocate_python_leaves_heavy_modules_unloaded(tmp_path: Path, args: list[str]):
    # sys.modules also sees what importlib.import_module loaded, which importtime does not time.
    (tmp_path / "plain").mkdir()
    result = helpers.run([sys.executable, "-c", MODULES_AFTER, *args, "."], cwd=tmp_path / "plain")
    assert result.returncode == 0, result.stderr
    code, *modules = result.stderr.strip().splitlines()[-1].split()
    assert code == str(EXIT_USER)
    assert "relocator.commands.lookup" in modules
    assert {m for m in modules if m.split(".")[0] in HEAVY} == set()
    assert "sqlite3" not in modules


def test_rebuild_keeps_the_newest_of_two_owners_of_one_project(store: Path):
    s = Store().ensure()
    for name, created in (("p-new", 200.0), ("p-old", 100.0)):  # the newer name sorts first
        os.mkdir(s.venv_path(name))
        s.write_owner(name, Row("/k", "/k", name, "3.12", None, created, created).owner_record())
    with Registry(s) as registry:
        assert registry.rebuild() == 2
        row = registry.get("/k")
        assert row is not None and row.venv == "p-new"


def test_sweep_removes_only_what_dead_processes_left(store: Path):
    s = Store().ensure()
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = Path(s.journal) / f"p-1.json.{dead.pid}.tmp"
    mine = Path(s.venvs) / f"p-2.json.{os.getpid()}.tmp"
    other = Path(s.venvs) / "p-3.json"
    for path in (left, mine, other):
        path.write_text("{}")
    s.sweep()
    assert not left.exists()
    assert mine.exists() and other.exists()


_BARRIER = textwrap.dedent(
    """
    import os, sys, time
    root, me, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    open(go + f".ready{me}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    """
)


def _together(script: str, store: Path, count: int, tmp_path: Path) -> list[tuple[int, str, str]]:
    """Run ``count`` processes of ``script``, released at once.

    Each first touches ``go.ready<i>`` and waits for the go-file; ``script`` then
    has ``root`` (the store), ``me`` (its index), ``time`` and ``os``. Returns
    (exit code, stdout, stderr) of each.
    """
    go = str(tmp_path / "go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BARRIER + script, str(store), str(i), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("go.ready*"))) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        Path(go).touch()  # all start at once
        return [(p.wait(timeout=120), *p.communicate()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
