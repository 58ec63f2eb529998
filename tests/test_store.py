"""The store, the registry, locks, and the CLI's error contract, on real files and processes."""

from __future__ import annotations

import json
import os
import plistlib
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

from relocator import platform, resolver
from relocator.errors import EXIT_BUSY, EXIT_INTERNAL, EXIT_USAGE, EXIT_USER, Busy, RelocatorError
from relocator.registry import SCHEMA_VERSION, Registry, Row
from relocator.store import CACHEDIR_TAG, Store
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
    # A second time changes nothing and keeps the README.
    (store / "README").write_text("kept\n")
    Store().ensure()
    assert (store / "README").read_text() == "kept\n"


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
    out = helpers.run(
        ["tar", "--exclude-caches-under", "-cvf", str(tmp_path / "a.tar"), "venvs"], cwd=store
    )
    if out.returncode != 0:
        pytest.skip(f"tar cannot --exclude-caches-under here: {out.stderr}")
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
        assert SCHEMA_VERSION == 1
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    # Opening again does not add a second version row.
    Registry(Store().ensure()).close()
    Registry(Store().ensure()).close()
    db = sqlite3.connect(store / "registry.db")
    try:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
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


# -- concurrency ---------------------------------------------------------------------------

PUTTER = textwrap.dedent(
    """
    import os, sys, time
    from relocator.registry import Registry, Row
    from relocator.store import Store

    root, me, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    open(go + f".ready{me}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    with Registry(Store(root).ensure()) as registry:
        for j in range(25):
            key = f"/w/{me}/{j}"
            registry.put(Row(key, key, f"v{me}-{j}", "3.12", None, time.time(), time.time()))
            registry.touch(key)
    """
)


def test_eight_processes_write_one_registry(store: Path, tmp_path: Path):
    go = str(tmp_path / "go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PUTTER, str(store), str(i), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("go.ready*"))) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        Path(go).touch()  # all start writing at once
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
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


def test_lock_timeout_in_process(store: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", "0.2")
    s = Store().ensure()
    held = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with s.lock("/k", "k"):
            held.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        # filelock is reentrant per object in one thread only; another thread must wait.
        with pytest.raises(Busy) as caught, s.lock("/k", "my project"):
            pass
        assert "my project" in str(caught.value)
        assert caught.value.lock_file.startswith(str(store / "locks") + "/")
    finally:
        done.set()
        t.join()


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
    assert "no relocated project" in helpers.one_clean_error_line(result)
    assert result.stdout == ""

    result = helpers.relocate("python", str(tmp_path / "plain"), "--json", cwd=tmp_path)
    assert result.returncode == EXIT_USER
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert "no relocated project" in data["error"]
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


def test_internal_error_exits_3_and_logs_a_traceback(tmp_path: Path, store: Path):
    # A registry that is not a database: nothing the user did by the book, so "internal".
    project = _project(tmp_path / "proj")
    Store().ensure()
    (store / "registry.db").write_bytes(b"this is not an SQLite database\n" * 200)
    result = helpers.relocate("adopt", str(project), cwd=tmp_path)
    assert result.returncode == EXIT_INTERNAL, result.stderr
    line = helpers.one_clean_error_line(result)
    assert line.startswith("relocate: internal error: ")
    found = re.search(r"details in (\S+\.log)$", line)
    assert found, line
    log = Path(found.group(1))
    assert log.parent == store / "logs"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "DatabaseError" in text
    assert text.startswith("relocate adopt ")
    assert not os.path.lexists(project / ".venv")


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
    # (importlib.import_module is not timed: relocator.lookup itself never shows.)
    assert {"relocator.resolver", "relocator.store", "relocator.link"} <= imported
    heavy = {name for name in imported if name.split(".")[0] in HEAVY}
    assert heavy == set()
    assert "sqlite3" not in imported

    # The control: the typer CLI does import them, and the parse sees it.
    control = helpers.run([*cmd[:5], "resolve", str(tmp_path)], cwd=tmp_path)
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
    from relocator.entry import main
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
    assert "relocator.lookup" in modules
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
