"""``relocate gc``: what goes (venvs of gone or unlinked projects, rows and records without
venvs), what stays (an unmounted volume, a missing link, a venv a live process uses, one
without an owner), never anything outside the store, and a kill at any point leaves only
what the next gc removes. Real venvs, real processes; gc runs in-process (the CLI wiring
is tested with the command)."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from relocator.commands import gc
from relocator.state import trash
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system import platform, processes
from tests.helpers import (
    NOBODY,
    as_nobody,
    drop_hop,
    linux_only,
    make_venv,
    nobody_env,
    one_clean_error_line,
    relocate,
    relocate_json,
    relocate_ok,
    shared_base,
    site_packages,
    store_venvs,
    venv_project,
)

SLEEP = "import time; print('ready', flush=True); time.sleep(600)"


def _adopted(root: Path) -> Path:
    """A project with a venv, adopted: returns the store venv (its real path)."""
    venv_project(root)
    relocate_ok("adopt", str(root))
    venv = Path(os.path.realpath(root / ".venv"))
    assert venv.parent.name == "venvs"
    return venv


def _collect(store: Path, **kw: Any) -> dict[str, Any]:
    return gc.collect(Store(str(store)), **kw)


def _rows(store: Path) -> list[tuple[str, str]]:
    with Registry(Store(str(store))) as registry:
        return [(row.path, row.venv) for row in registry.all()]


def _owners(store: Path) -> list[str]:
    return [name for name, _record in Store(str(store)).owners()]


def _only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


NOTHING = {"removed": [], "spared": [], "swept": [], "bytes_freed": 0}


def _all_clean(store: Path) -> None:
    assert store_venvs(store) == []
    assert _owners(store) == []
    assert _rows(store) == []
    assert list((store / "tmp").iterdir()) == []
    assert [p for p in (store / "journal").iterdir()] == []


def _trashed(store: Path, venv: Path) -> Path:
    """The one entry of the trash, which holds ``venv`` whole (its name recorded)."""
    (entry,) = trash.entries(Store(str(store)))
    assert entry.name == venv.name
    folder = store / "trash" / entry.id
    assert (folder / "pyvenv.cfg").is_file() and (folder / "bin").is_dir()
    return folder


@contextlib.contextmanager
def _running(cmd: list[str], **kw: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A sleeping Python, past its start-up (which needs its working folder) before this
    yields; killed on the way out."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, **kw)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n", "the sleeper died"  # EOF if it does
        assert SLEEP in psutil.Process(proc.pid).cmdline()
        yield proc
    finally:
        proc.kill()
        proc.wait()


# -- what goes -----------------------------------------------------------------------------


def test_a_project_renamed_in_place_keeps_its_venv_until_adopted(tmp_path: Path, store: Path):
    venv = _adopted(tmp_path / "old-name")
    (tmp_path / "old-name").rename(tmp_path / "new-name")
    spared = _only(_collect(store)["spared"])
    assert "relocate adopt" in spared["reason"] and str(tmp_path / "new-name") in spared["reason"]
    assert venv.is_dir()
    relocate_ok("adopt", str(tmp_path / "new-name"))
    result = _collect(store)
    assert result["removed"] == [] and venv.is_dir()


def test_gone_project_venv_row_and_record_removed(tmp_path: Path, store: Path):
    project = tmp_path / "work" / "p"
    venv = _adopted(project)
    shutil.rmtree(project)

    result = _collect(store)

    entry = _only(result["removed"])
    assert entry["kind"] == "venv"
    assert entry["venv"] == venv.name
    assert entry["project"] == str(project)
    assert "is gone" in entry["reason"]
    assert entry["bytes"] > 0
    assert result["bytes_freed"] == 0  # it is in the trash, not deleted
    assert result["spared"] == []
    assert not venv.exists()
    assert _trashed(store, venv).name == entry["trash_id"]
    _all_clean(store)
    assert relocate_ok("list", "--json").strip() == "[]"
    assert _collect(store) == NOTHING


def test_dry_run_deletes_nothing_and_says_what_a_run_does(tmp_path: Path, store: Path):
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    venv = _adopted(gone)
    _adopted(kept)
    (kept / ".venv").unlink()
    shutil.rmtree(gone)
    before = sorted(p.name for p in (store / "venvs").iterdir())

    dry = _collect(store, dry_run=True)

    assert sorted(p.name for p in (store / "venvs").iterdir()) == before
    assert venv.is_dir()
    assert len(_rows(store)) == 2
    assert _only(dry["removed"])["venv"] == venv.name
    assert _only(dry["removed"])["bytes"] > 0
    assert not (store / "trash").exists()
    run = _collect(store)
    assert [{**e, "trash_id": None} for e in run["removed"]] == dry["removed"]
    assert run["spared"] == dry["spared"]
    assert not venv.exists()
    _trashed(store, venv)


def test_venv_replaced_by_a_real_one_goes_and_the_real_one_stays(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    (project / ".venv").unlink()
    drop_hop(project)
    make_venv(project / ".venv")
    (project / ".venv" / "mine.txt").write_text("keep me")

    result = _collect(store)

    entry = _only(result["removed"])
    assert (entry["venv"], entry["project"]) == (venv.name, str(project))
    assert "now leads to" in entry["reason"]
    assert not venv.exists()
    assert (project / ".venv" / "mine.txt").read_text() == "keep me"
    assert (project / ".venv" / "pyvenv.cfg").is_file()
    assert not (project / ".venv").is_symlink()
    _all_clean(store)


def test_a_replaced_venv_a_process_runs_from_goes_to_the_trash_at_once(tmp_path: Path, store: Path):
    """A takeover gives the tool's venv the project's name, so the old venv cannot wait
    there for its process: it goes to the trash (a rename: the process runs on), and the
    note names the process. gc then has nothing to take."""
    project = tmp_path / "p"
    old = _adopted(project)
    (site_packages(old) / "first.py").write_text("")
    with _running([str(old / "bin" / "python"), "-c", SLEEP], cwd=tmp_path) as proc:
        (project / ".venv").unlink()
        drop_hop(project)
        make_venv(project / ".venv")  # `rm -rf .venv && uv sync`, say
        out = relocate_json("adopt", str(project))
        assert os.path.realpath(project / ".venv") == str(old)  # the name stays
        assert not (site_packages(old) / "first.py").exists()  # the new venv is there
        assert any(f"pid {proc.pid}" in n and "restart it" in n for n in out["notes"]), out
        assert proc.poll() is None  # it runs on, from the trash
        (trashed,) = (store / "trash").glob("*/pyvenv.cfg")
        assert (site_packages(trashed.parent) / "first.py").is_file()

        result = _collect(store)

    assert result["removed"] == [] and result["spared"] == []
    assert _rows(store) == [(str(project), old.name)]
    assert _owners(store) == [old.name]


def test_row_without_venv_removed_with_its_owner_record(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(venv)

    result = _collect(store)

    entry = _only(result["removed"])
    assert (entry["kind"], entry["venv"], entry["bytes"]) == ("row", venv.name, 0)
    assert _rows(store) == []
    assert _owners(store) == []
    assert (project / ".venv").is_symlink()  # the project is not touched


def test_owner_record_without_venv_or_row_removed(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    with Registry(Store(str(store))) as registry:
        registry.remove(registry.all()[0].key)
    shutil.rmtree(venv)

    entry = _only(_collect(store)["removed"])

    assert (entry["kind"], entry["venv"], entry["project"]) == ("record", venv.name, str(project))
    _all_clean(store)


# -- what stays ----------------------------------------------------------------------------


def test_unmounted_volume_never_makes_a_project_gone(tmp_path: Path, store: Path):
    volume = tmp_path / "Volumes" / "usb"
    project = volume / "code" / "p"
    venv = _adopted(project)
    volume.rename(tmp_path / "Volumes" / "elsewhere")  # as if unmounted

    result = _collect(store)

    entry = _only(result["spared"])
    assert (entry["venv"], entry["project"]) == (venv.name, str(project))
    assert "unmounted volume" in entry["reason"]
    assert result["removed"] == []
    assert venv.is_dir()
    assert _rows(store) == [(str(project), venv.name)]

    (tmp_path / "Volumes" / "elsewhere").rename(volume)  # mounted again: healthy, not reported
    assert _collect(store) == NOTHING


def test_missing_link_keeps_the_venv(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    (project / ".venv").unlink()

    result = _collect(store)

    assert "relocate adopt" in _only(result["spared"])["reason"]
    assert result["removed"] == []
    assert venv.is_dir()
    relocate_ok("adopt", str(project))
    assert os.path.realpath(project / ".venv") == str(venv)


def test_venv_without_owner_is_spared(store: Path, tmp_path: Path):
    _adopted(tmp_path / "p")  # makes the store
    stray = make_venv(store / "venvs" / "stray-0123abcd")

    result = _collect(store)

    entry = _only(result["spared"])
    assert entry["venv"] == "stray-0123abcd"
    assert "no owner record" in entry["reason"]
    assert stray.is_dir()


def test_pending_intent_spares_the_venv(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(project)
    with Registry(Store(str(store))) as registry:
        (row,) = registry.all()
    intent = Intent.begin(
        Store(str(store)), op="eject", key=row.key, project=row.path, venv=row.venv, mode="rename"
    )

    assert "interrupted" in _only(_collect(store)["spared"])["reason"]
    assert venv.is_dir()
    intent.done()
    assert _only(_collect(store)["removed"])["venv"] == venv.name


def test_busy_project_is_spared(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch):
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(project)
    with Registry(Store(str(store))) as registry:
        (row,) = registry.all()
    ready = tmp_path / "locked"
    holder = (
        "import sys, time\nfrom relocator.state.store import Store\n"
        "with Store(sys.argv[1]).lock(sys.argv[2], 'test'):\n"
        "    open(sys.argv[3], 'w').close()\n    time.sleep(600)\n"
    )
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", "0.2")
    proc = subprocess.Popen([sys.executable, "-c", holder, str(store), row.key, str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        assert "another relocate" in _only(_collect(store)["spared"])["reason"]
        assert venv.is_dir()
    finally:
        proc.kill()
        proc.wait()
    assert _only(_collect(store)["removed"])["venv"] == venv.name


# -- live processes ------------------------------------------------------------------------


@pytest.mark.parametrize("then", ["deleted", "moved"])
def test_process_started_by_relative_link_path_spares_the_venv(
    tmp_path: Path, store: Path, then: str
):
    project = tmp_path / "p"
    venv = _adopted(project)
    with _running([".venv/bin/python", "-c", SLEEP], cwd=project) as proc:
        # The trap: its executable is the base interpreter, not anything in the venv.
        assert not psutil.Process(proc.pid).exe().startswith(str(venv) + "/")
        if then == "deleted":
            shutil.rmtree(project)
        else:
            (tmp_path / "elsewhere").mkdir()  # not beside it: gc cannot see where it went
            project.rename(tmp_path / "elsewhere" / "renamed")

        result = _collect(store)

        entry = _only(result["spared"])
        assert entry["venv"] == venv.name
        assert f"pid {proc.pid}" in entry["reason"]
        assert "--force" in entry["reason"]
        assert venv.is_dir()
        assert _rows(store) == [(str(project), venv.name)]

        forced = _collect(store, force=True)

        assert _only(forced["removed"])["venv"] == venv.name
        assert not venv.exists()


def test_process_started_by_store_path_spares_the_venv(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    with _running([str(venv / "bin" / "python"), "-c", SLEEP], cwd=tmp_path) as proc:
        shutil.rmtree(project)

        entry = _only(_collect(store)["spared"])
        assert f"pid {proc.pid}" in entry["reason"]
        assert "command line" in entry["reason"]
        assert venv.is_dir()
        assert _only(_collect(store, force=True)["removed"])["venv"] == venv.name


@pytest.mark.parametrize("spelled", ["link", "store"])
def test_process_with_virtual_env_spares_the_venv(tmp_path: Path, store: Path, spelled: str):
    project = tmp_path / "p"
    venv = _adopted(project)
    value = str(project / ".venv") if spelled == "link" else str(venv)  # the hook sets the first
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "VIRTUAL_ENV": value}
    with _running([sys.executable, "-c", SLEEP], cwd=elsewhere, env=env) as proc:
        shutil.rmtree(project)

        entry = _only(_collect(store)["spared"])
        assert f"pid {proc.pid}" in entry["reason"]
        assert "VIRTUAL_ENV" in entry["reason"]
        assert venv.is_dir()


def test_process_working_in_the_venv_spares_it(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    with _running([sys.executable, "-c", SLEEP], cwd=venv / "lib") as proc:
        shutil.rmtree(project)
        assert f"pid {proc.pid}" in _only(_collect(store)["spared"])["reason"]
    assert _only(_collect(store)["removed"])["venv"] == venv.name


def test_exited_zombie_is_no_user(tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "pass"], cwd=folder)
    try:
        deadline = time.monotonic() + 60
        while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:  # not reaped yet
            assert time.monotonic() < deadline
            time.sleep(0.01)
        found = processes.users([str(folder)])
        assert proc.pid not in {p.pid for p in found[str(folder)]}
    finally:
        proc.wait()


class _Unreadable:
    """A process whose details may not be read (a non-dumpable one of this user, say)."""

    pid = os.getpid()

    def oneshot(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def _denied(self) -> None:
        raise psutil.AccessDenied(self.pid)

    cwd = exe = cmdline = environ = open_files = _denied


def test_unreadable_process_of_this_user_counts_as_a_user():
    wanted: dict[str, list[processes.ProcessInfo]] = {"/nowhere/venv": []}
    ties = processes._ties(_Unreadable(), wanted, strict=True)
    assert "could not be inspected" in ties["/nowhere/venv"]
    assert processes._ties(_Unreadable(), wanted, strict=False) == {}


@pytest.mark.parametrize(
    ("uids", "whose"),
    [
        ((1000, 1000, 1000), processes.MINE),
        ((0, 1000, 0), processes.MINE),  # runs as this user; the kernel reads it to us
        ((1000, 0, 0), processes.OTHER),  # login's parent waiting, sudo, su: setuid root
        ((1000, 501, 501), processes.OTHER),  # a setuid program of another user
        ((0, 0, 0), processes.OTHER),  # root's
        ((501, 501, 501), None),  # another user's: cannot reach the private store
        (None, processes.MINE),  # an owner that cannot be read may be this user
    ],
)
def test_whose_a_process_is_decided_by_its_effective_uid(uids: Any, whose: Any):
    assert processes._whose(uids, 1000) == whose


def _refused_like_macos(monkeypatch: pytest.MonkeyPatch, pids: set[int]) -> None:
    """Refuse what XNU refuses a caller whose effective uid differs from the process's:
    the command line and environment (``sysctl_procargsx``: EINVAL, psutil's AccessDenied),
    the working folder and open files (``proc_security_policy``: EPERM). The executable
    (``proc_pidpath``) stays readable, as it does there."""
    for attr in ("cmdline", "environ", "cwd", "open_files"):
        real = getattr(psutil.Process, attr)

        def refused(self: psutil.Process, *a: Any, _real: Any = real, **kw: Any) -> Any:
            if self.pid in pids:
                raise psutil.AccessDenied(self.pid)
            return _real(self, *a, **kw)

        monkeypatch.setattr(psutil.Process, attr, refused)


def _whys(pid: int, folder: str) -> list[str]:
    """Why the process ``pid`` uses ``folder``, by :func:`processes.users`."""
    return [p.why for p in processes.users([folder])[folder] if p.pid == pid]


@contextlib.contextmanager
def _setuid_like(euid: int) -> Iterator[psutil.Process]:
    """A real process whose real uid is this one's and whose effective and saved uids
    are ``euid``: the shape of Terminal's ``login`` waiting on a tab (user, root, root),
    seen from the other side, as this test can make it."""
    proc = subprocess.Popen(["setpriv", f"--euid={euid}", "sleep", "600"])
    try:
        seen = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while tuple(seen.uids()) != (os.getuid(), euid, euid) or seen.name() != "sleep":
            assert proc.poll() is None, "setpriv failed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        yield seen
    finally:
        proc.kill()
        proc.wait()


@linux_only("setpriv starts a process of another effective uid (as root)")
def test_a_setuid_process_whose_command_line_is_refused_keeps_no_venv(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    """A terminal open on macOS: its ``login`` runs as root for this user, and the kernel
    refuses its command line. Read as far as allowed (its executable, outside the store),
    it uses no venv; counted as one that might use any, it kept gc from all of them."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        if os.environ.get("CI"):
            pytest.fail("a process of another effective uid needs root and setpriv in CI")
        pytest.skip("a process of another effective uid needs root and setpriv")
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(project)
    with _setuid_like(65534) as setuid:
        _refused_like_macos(monkeypatch, {setuid.pid})
        assert processes._whose(setuid.uids(), os.getuid()) == processes.OTHER
        assert setuid.exe().endswith("/sleep")  # proc_pidpath tells it on macOS too

        assert _whys(setuid.pid, "/nowhere/venv") == []
        assert _only(_collect(store)["removed"])["venv"] == venv.name


def test_gc_of_a_user_is_not_kept_by_a_login_running_as_root_for_them():
    """The real shape of Terminal's waiting ``login``, uids (user, root, root), beside
    ``relocate gc`` run by that user (uid 65534). Linux lets the user read its command
    line, not the rest; macOS refuses the command line too (the test above)."""
    base = shared_base()
    try:
        env = nobody_env(base)
        project = base / "P"
        project.mkdir()
        (project / "setup.py").write_text("")
        cmd = ["/usr/bin/python3", "-m", "venv", "--without-pip", str(project / ".venv")]
        subprocess.run(cmd, check=True)
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(project)], check=True)
        adopted = as_nobody(["relocate", "adopt", str(project)], env)
        assert adopted.returncode == 0, adopted.stderr
        venv = Path(os.path.realpath(project / ".venv"))
        shutil.rmtree(project)
        login = subprocess.Popen(["setpriv", f"--ruid={NOBODY}", "sleep", "600"])
        try:
            seen = psutil.Process(login.pid)
            deadline = time.monotonic() + 60
            while tuple(seen.uids()) != (NOBODY, 0, 0) or seen.name() != "sleep":
                assert login.poll() is None, "setpriv failed"
                assert time.monotonic() < deadline
                time.sleep(0.01)

            collected = as_nobody(["relocate", "gc", "--json"], env)

            assert collected.returncode == 0, collected.stderr
            removed = json.loads(collected.stdout)["removed"]
            assert [e["venv"] for e in removed if e["kind"] == "venv"] == [venv.name]
        finally:
            login.kill()
            login.wait()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_process_of_this_user_whose_command_line_is_refused_keeps_every_venv(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    """The same refusal for a process running as this user is no kernel rule about
    identities: it might be running any venv, so gc keeps them all."""
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(project)
    with _running([sys.executable, "-c", SLEEP], cwd=tmp_path) as proc:
        _refused_like_macos(monkeypatch, {proc.pid})

        entry = _only(_collect(store)["spared"])

        assert f"pid {proc.pid}" in entry["reason"]
        assert "could not be inspected" in entry["reason"]
        assert venv.is_dir()


def test_on_macos_mapped_files_and_capabilities_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """macOS has no ``/proc`` and psutil no ``memory_maps`` there: a process is judged by
    the rest, without an error. On Linux the same process is found by its mapping."""
    folder = tmp_path / "venv"
    folder.mkdir()
    extension = Path(str(importlib.import_module("_csv").__file__))  # loaded from a .so
    data = folder / extension.name
    shutil.copyfile(extension, data)
    code = "import os, sys; sys.path.insert(0, os.environ['AT']); import _csv; exec(sys.argv[1])"
    env = {**os.environ, "AT": str(folder)}  # mapped by the loader, its file closed
    with _running([sys.executable, "-c", code, SLEEP], cwd=tmp_path, env=env) as proc:
        linux = processes.users([str(folder)])[str(folder)]
        assert [p.why for p in linux if p.pid == proc.pid] == [f"has {data} mapped"]

        monkeypatch.setattr(platform, "current", platform.Darwin())

        def no_proc(pid: str) -> None:
            raise AssertionError(f"read /proc/{pid}/status on macOS")

        monkeypatch.setattr(processes, "_capabilities", no_proc)
        darwin = processes.users([str(folder)])[str(folder)]
        assert [p.why for p in darwin if p.pid == proc.pid] == []
        assert not processes._privileged(proc.pid)


class _RefusedAsOnMacos(_Unreadable):
    """A process of another effective uid as macOS shows it: its executable alone."""

    def __init__(self, exe: str) -> None:
        self._exe = exe

    def exe(self) -> str:  # type: ignore[override]
        return self._exe


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_process_of_another_uid_running_a_venvs_interpreter_keeps_that_venv(
    tmp_path: Path,
):
    """``sudo .venv/bin/python`` on macOS: root runs the base interpreter, its command
    line refused. It might be running any venv built on that interpreter: those are kept
    (weakly, as gc keeps what it cannot rule out); others, and ``login``, are not."""
    venv = _adopted(tmp_path / "p")
    other = tmp_path / "other"
    (other / "bin").mkdir(parents=True)  # a venv of another interpreter
    base = tmp_path / "base" / "bin" / "python3"
    base.parent.mkdir(parents=True)
    base.write_bytes(b"")
    (other / "bin" / "python").symlink_to(base)
    wanted: dict[str, list[processes.ProcessInfo]] = {str(venv): [], str(other): []}
    bases = processes._bases(wanted)
    interpreter = os.path.realpath(venv / "bin" / "python")

    ties = processes._ties(_RefusedAsOnMacos(interpreter), wanted, strict=False, bases=bases)

    assert list(ties) == [str(venv)]
    found = processes.ProcessInfo(1, "python3", ties[str(venv)])
    assert found.weak and interpreter in found.why
    login = _RefusedAsOnMacos("/usr/bin/login")
    assert processes._ties(login, wanted, strict=False, bases=bases) == {}


def test_a_framework_builds_interpreter_is_known_by_its_app(tmp_path: Path):
    """A macOS framework build's ``bin/python3.12`` starts
    ``Resources/Python.app/Contents/MacOS/Python``: that is what the process runs."""
    version = tmp_path / "Python.framework" / "Versions" / "3.12"
    (version / "bin").mkdir(parents=True)
    (version / "bin" / "python3.12").write_bytes(b"")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(version / "bin" / "python3.12")
    wanted: dict[str, list[processes.ProcessInfo]] = {str(venv): []}

    bases = processes._bases(wanted)

    app = version / "Resources" / "Python.app" / "Contents" / "MacOS" / "Python"
    assert bases == {str(version / "bin" / "python3.12"): [str(venv)], str(app): [str(venv)]}


def test_an_environment_that_reads_empty_is_unread_not_empty(tmp_path: Path):
    """macOS hides a restricted process's environment: it reads empty. That is noted as
    not read, never taken for a process without ``VIRTUAL_ENV``."""
    with _running([sys.executable, "-c", SLEEP], cwd=tmp_path, env={}) as proc:
        uses, unread = processes._uses(psutil.Process(proc.pid), {})
        assert "environ (empty)" in unread
        assert not [why for _, why in uses if "VIRTUAL_ENV" in why]


# -- never outside the store; killed at any point ------------------------------------------


def test_symlink_out_of_the_store_is_not_followed(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "data.bin").write_bytes(b"x" * 2_000_000)
    (outside / "note.txt").write_text("mine")
    (venv / "lib" / "linked-folder").symlink_to(outside)
    (venv / "linked-file").symlink_to(outside / "note.txt")
    shutil.rmtree(project)

    entry = _only(_collect(store)["removed"])

    assert entry["bytes"] < 2_000_000  # the size of what is inside the store only
    assert not venv.exists()
    _trashed(store, venv)
    assert _only(_collect(store, empty_trash=True)["swept"])["name"] == venv.name
    assert list((store / "trash").iterdir()) == []
    assert (outside / "note.txt").read_text() == "mine"
    assert (outside / "deep" / "data.bin").stat().st_size == 2_000_000


@pytest.mark.parametrize(
    ("point", "then"),
    [
        ("gc:unregistered", {"venv"}),
        ("trash:begin", {"venv"}),  # rolled back by the next gc, which moves it again
        ("trash:moved", set()),  # finished by the next gc
        ("trash:recorded", set()),
        ("trash:done", set()),
    ],
)
def test_gc_killed_at_each_point_leaves_what_the_next_gc_removes(
    tmp_path: Path, store: Path, point: str, then: set[str]
):
    project = tmp_path / "p"
    venv = _adopted(project)
    shutil.rmtree(project)
    code = (
        "import sys; from relocator.commands import gc; from relocator.state import store; "
        "gc.collect(store.Store(sys.argv[1]))"
    )
    env = {**os.environ, "RELOCATOR_FAULT": point}
    killed = subprocess.run([sys.executable, "-c", code, str(store)], env=env, check=False)
    assert killed.returncode == -9
    assert _rows(store) == []  # the row goes first

    result = _collect(store)

    assert {e["kind"] for e in result["removed"]} == then
    assert {e["venv"] for e in result["removed"]} <= {venv.name}
    _all_clean(store)
    _trashed(store, venv)  # whole, once


def test_tmp_symlinked_out_of_the_store_is_not_renamed_into(tmp_path: Path, store: Path):
    project = tmp_path / "p"
    venv = _adopted(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.gc-1-abcd").mkdir()  # a name gc would take for its own, were it inside
    (store / "tmp").rmdir()
    (store / "tmp").symlink_to(outside)
    shutil.rmtree(project)

    refused = relocate("gc")

    assert "is a symlink" in one_clean_error_line(refused)
    assert venv.is_dir()
    assert sorted(p.name for p in outside.iterdir()) == ["x.gc-1-abcd"]


@pytest.mark.parametrize("folder", ["trees", "venvs", "trash"])
def test_a_store_folder_symlinked_outside_is_refused(tmp_path: Path, store: Path, folder: str):
    """A ``trees/`` (or ``venvs/``, ``trash/``) that leads out of the store, to a folder
    holding ``x/`` and an owner record naming a gone project: gc would have renamed ``x``
    through the link and deleted it. Every command refuses with one line instead."""
    _adopted(tmp_path / "p")
    outside = tmp_path / "outside"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "data.txt").write_text("mine")
    gone = {"key": str(tmp_path / "gone"), "path": str(tmp_path / "gone"), "created": 1.0}
    (outside / "x.json").write_text(json.dumps(gone))
    real = store / folder
    if real.exists():
        real.rename(tmp_path / f"{folder}-moved")
    real.symlink_to(outside)

    for args in (["gc"], ["gc", "--empty-trash", "--yes"], ["doctor", "--fix"], ["list"]):
        assert "is a symlink" in one_clean_error_line(relocate(*args))
    assert (outside / "x" / "data.txt").read_text() == "mine"
    assert (outside / "x.json").is_file()


def test_what_a_running_gc_set_aside_is_left_to_it(tmp_path: Path, store: Path):
    _adopted(tmp_path / "p")
    ours = make_venv(store / "tmp" / f"p-0123abcd.gc-{os.getpid()}-0a1b2c3d")

    assert _collect(store) == NOTHING
    assert ours.is_dir()


def test_the_command(tmp_path: Path, store: Path):
    venv = _adopted(tmp_path / "gone")
    shutil.rmtree(tmp_path / "gone")
    dry = relocate("gc", "--dry-run")
    assert dry.returncode == 0 and f"would move to the trash {venv.name}" in dry.stdout
    assert venv.is_dir()
    result = json.loads(relocate_ok("gc", "--json"))
    assert set(result) == {"removed", "spared", "swept", "bytes_freed"}
    assert _only(result["removed"])["venv"] == venv.name and result["bytes_freed"] == 0
    assert not venv.exists()
    assert relocate_ok("gc") == "nothing to remove\n"
    emptied = relocate("gc", "--empty-trash")  # no terminal: it asks for --yes
    assert emptied.returncode == 2 and "--yes" in emptied.stderr
    assert (store / "trash" / result["removed"][0]["trash_id"]).is_dir()
    swept = json.loads(relocate_ok("gc", "--empty-trash", "--yes", "--json"))
    assert _only(swept["swept"])["name"] == venv.name and swept["bytes_freed"] > 0
    assert list((store / "trash").iterdir()) == []
