"""``relocate service run``: the watcher as a real process over a fake macOS home.

It adopts a new venv once it is quiet (never while it is still written), repairs a
link a tool replaced, leaves ignored projects alone, stops cleanly on SIGTERM and
SIGINT, refuses a second instance, and keeps its contract files. The behaviours that
depend on how changes are noticed run in both modes (events, poll). Every wait polls
against a deadline; the one check of something *not* happening (a venv being written)
holds over a window, and allows only what the quiet rule allows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from relocator.commands import service
from relocator.errors import RelocatorError, UsageError
from relocator.host import watching
from relocator.state import settings
from relocator.state.store import Store
from tests.helpers import (
    CLOUD_DOCS,
    bare_project,
    has_shape,
    hop_of,
    make_venv,
    old_shape,
    relocate_ok,
    run,
    site_packages,
    store_venvs,
)

#: Generous: scripts/test runs a worker per core, and the machine may be busy besides.
DEADLINE = 60.0
# Touches a new file in site-packages every 0.2 s until STOP_FILE exists; prints each
# write's time. The venv is named in no argument and no working folder, so that only
# the quiet rule (not the check for processes using the venv) keeps the service off.
WRITER = """\
import os, time
site, stop = os.environ["WRITE_INTO"], os.environ["STOP_FILE"]
i = 0
while not os.path.exists(stop):
    open(os.path.join(site, "being_installed_%d.py" % i), "w").close()
    print(time.time(), flush=True)
    i += 1
    time.sleep(0.2)
"""


def wait_until(check: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """``check()``'s first true value, polled until ``deadline``; a wait that runs out
    fails with where each running service is (:meth:`Service.post_mortem`)."""
    end = time.monotonic() + deadline
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > end:
            found_out = "".join(svc.post_mortem() for svc in running())
            pytest.fail(f"not within {deadline:g}s: {what}{found_out}")
        time.sleep(0.05)


#: Every service this process started: the running ones are what a wait that ran out shows.
STARTED: list[Service] = []


def running() -> list[Service]:
    STARTED[:] = [svc for svc in STARTED if svc.proc.poll() is None]
    return list(STARTED)


class Service:
    """``relocate service run`` in its own process, with its store's files at hand."""

    def __init__(
        self, tmp: Path, store: Path, env: dict[str, str], interval: float = 1, unit: bool = False
    ) -> None:
        self.store, self.log_path = store, store / "logs" / "service.log"
        self.stderr_path = tmp / f"service-{time.monotonic_ns()}.err"
        run = ["service", "run", "--interval", str(interval), *(["--unit"] if unit else [])]
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "relocator", *run],
                env={**env, "PYTHONFAULTHANDLER": "1"},  # SIGABRT: its threads' stacks
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        STARTED.append(self)

    def post_mortem(self) -> str:
        """Its log, and its threads' stacks as it is ended by SIGABRT: what a wait that ran
        out shows, so that a service that sat still says where."""
        self.proc.send_signal(signal.SIGABRT)
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        log = "\n".join(self.log())
        return f"\n-- service pid {self.proc.pid}, its log:\n{log}\n-- its stderr:\n{self.stderr()}"

    def log(self) -> list[str]:
        try:
            return self.log_path.read_text().splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, text: str, count: int = 1) -> list[str]:
        def found() -> list[str]:
            lines = [line for line in self.log() if text in line]
            if self.proc.poll() is not None:
                pytest.fail(f"the service exited ({self.proc.returncode}): {self.stderr()}")
            return lines if len(lines) >= count else []

        return wait_until(found, f"{count} log line(s) with {text!r}")  # type: ignore[no-any-return]

    def started(self) -> Service:
        self.wait_log(" started: ")
        wait_until((self.store / "service.json").exists, "the first pass")
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def status(self) -> dict[str, Any]:
        return json.loads((self.store / "service.json").read_text())  # type: ignore[no-any-return]

    def stop(self, signum: int = signal.SIGTERM) -> float:
        """Signal it, wait for its exit; return how long that took."""
        begin = time.monotonic()
        self.proc.send_signal(signum)
        self.proc.wait(timeout=DEADLINE)
        return time.monotonic() - begin


MODES = pytest.mark.parametrize("mode", ["events", "poll"])


def _in_project_venv(project: Path) -> Path:
    bare_project(project)
    return make_venv(project / ".venv")


# -- the watcher as a process ------------------------------------------------------------


def test_a_wait_that_runs_out_shows_where_the_service_is(docs, start):
    """A service that sits still fails its test with its log and each thread's stack,
    not only the thing awaited (a wait of 60 s that once took 33 says nothing else)."""
    svc = start().started()
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_until(lambda: False, "what never comes", deadline=0.2)
    text = str(failed.value)
    assert text.startswith("not within 0.2s: what never comes\n-- service pid ")
    assert " started: " in text  # its log
    assert "most recent call first" in text and "relocator/__main__.py" in text, text
    assert svc.proc.poll() is not None and running() == []


@MODES
def test_new_venv_is_adopted_once_quiet(docs, start, store, mode):
    svc = start(mode).started()
    project = docs / "proj"
    _in_project_venv(project)
    wait_until(lambda: os.path.islink(project / ".venv"), "the new venv adopted")
    (venv,) = store_venvs(store)
    assert os.path.realpath(project / ".venv") == str(venv)
    assert (project / ".venv" / "pyvenv.cfg").is_file()
    (line,) = svc.wait_log(" adopted ")
    assert f" adopted {project.resolve()} (moved: {venv})" in line, line
    status = svc.status()
    assert status["mode"] == mode


def test_it_never_makes_a_venv_nor_installs(docs, start, store):
    """A project with a recipe and no venv, and one whose store venv is gone: an explicit
    adopt would build both from their recipes; the service makes neither."""
    fresh = docs / "fresh"
    fresh.mkdir()
    (fresh / "requirements.txt").write_text("six\n")
    emptied = docs / "emptied"
    _in_project_venv(emptied)
    (emptied / "requirements.txt").write_text("six\n")
    relocate_ok("adopt", str(emptied), "--no-install")
    (gone,) = store_venvs(store)
    shutil.rmtree(gone)
    svc = start("poll").started()
    witness = docs / "witness"  # adopted in a pass that saw the other two too
    _in_project_venv(witness)
    svc.wait_log(f" adopted {witness.resolve()} ")
    svc.wait_log(f" skipped {emptied.resolve()}: venv-missing")
    assert not os.path.lexists(fresh / ".venv")
    assert store_venvs(store) == [Path(os.path.realpath(witness / ".venv"))]
    assert json.loads(relocate_ok("status", str(emptied), "--json"))["status"] == "venv-missing"


@MODES
def test_depth_counts_from_icloud_drives_own_folders(isolated, start, store, mode):
    """Desktop & Documents sync off: ``iCloud Drive/Documents`` is a plain folder, four
    levels below the sync root ``~/Library/Mobile Documents``; a project in a folder in
    it is still found."""
    project = isolated / CLOUD_DOCS / "Documents" / "code" / "proj"
    project.parent.mkdir(parents=True)
    svc = start(mode).started()
    _in_project_venv(project)
    wait_until(lambda: os.path.islink(project / ".venv"), "the new venv adopted")
    assert str((isolated / CLOUD_DOCS / "Documents").resolve()) in svc.status()["roots"]


@MODES
def test_a_venv_being_written_waits_until_it_is_quiet(docs, start, store, tmp_path, mode):
    quiet = 2.0
    svc = start(mode, quiet=quiet).started()
    project = docs / "proj"
    venv = _in_project_venv(project)
    writes = [time.time()]  # the venv's own creation is the first write
    stop_file = tmp_path / "stop-writing"
    out = tmp_path / "writes.txt"
    env = {**os.environ, "WRITE_INTO": str(site_packages(venv)), "STOP_FILE": str(stop_file)}
    with open(out, "w") as f:
        writer = subprocess.Popen([sys.executable, "-c", WRITER], env=env, cwd=tmp_path, stdout=f)
    try:
        wait_until(out.read_text, "the writer's first write")
        end = time.monotonic() + 3 * quiet
        while time.monotonic() < end:
            if os.path.islink(project / ".venv"):  # allowed only after a pause >= quiet
                seen = [*writes, *map(float, out.read_text().split())]
                gaps = [b - a for a, b in zip(seen, seen[1:])]
                assert max(gaps) >= quiet, f"adopted while written (longest pause {max(gaps)})"
                break
            time.sleep(0.05)
    finally:
        stop_file.touch()
        writer.wait(timeout=DEADLINE)
    last_write = max(map(float, out.read_text().split()))
    wait_until(lambda: os.path.islink(project / ".venv"), "adopted once the writer stopped")
    assert time.time() - last_write >= quiet - 0.05
    (store_venv,) = store_venvs(store)
    assert len(list(site_packages(store_venv).glob("being_installed_*.py"))) == len(
        out.read_text().split()
    )
    wait_until(lambda: svc.status()["adopted"] == 1, "service.json counting the adoption")


def trashed(store: Path) -> bool:
    """Whether a venv went to the store's trash (a replacement keeps the store path)."""
    from relocator.state import trash

    return any(e.kind == "venv" for e in trash.entries(Store(str(store))))


@MODES
def test_a_replaced_link_is_repaired(docs, start, store, mode):
    project = docs / "proj"
    _in_project_venv(project)
    relocate_ok("adopt", str(project))
    (old,) = store_venvs(store)
    svc = start(mode, quiet=2).started()
    run(
        ["sh", "-c", f"rm -r .venv .venv.nosync && {sys.executable} -m venv --without-pip .venv"],
        cwd=project,
        check=True,
    )

    def repaired() -> bool:  # the tool's venv takes the store path; the old one is in the trash
        # the link last: the swap renames the venvs first, then points the link again
        at_old = os.path.realpath(project / ".venv") == str(old)
        return at_old and store_venvs(store) == [old] and trashed(store)

    wait_until(repaired, "the replaced link repaired, the old store venv in the trash")
    assert os.path.islink(project / ".venv")
    svc.wait_log(f" repaired {project.resolve()} ")
    wait_until(lambda: svc.status()["repaired"] == 1, "service.json counting the repair")
    assert svc.status()["adopted"] == 0


def test_a_removed_link_is_put_back(docs, start, store):
    project = docs / "proj"
    _in_project_venv(project)
    relocate_ok("adopt", str(project))
    (venv,) = store_venvs(store)
    svc = start().started()
    (project / ".venv").unlink()
    wait_until(lambda: os.path.islink(project / ".venv"), "the link put back")
    assert os.path.realpath(project / ".venv") == str(venv)
    svc.wait_log(f" repaired {project.resolve()} (relinked")


def test_an_old_shaped_link_is_converted(docs, start, store):
    """A project relocated by relocator before the shape: the service updates its link
    (builds would ship the venv through the old hop), and nothing else."""
    project = docs / "proj"
    _in_project_venv(project)
    relocate_ok("adopt", str(project))
    (venv,) = store_venvs(store)
    target = old_shape(project)
    svc = start().started()
    wait_until(lambda: has_shape(project), "the link in the new shape")
    assert os.readlink(hop_of(project)) == target and store_venvs(store) == [venv]
    svc.wait_log(f" repaired {project.resolve()} (relinked")
    assert json.loads(relocate_ok("status", str(project), "--json"))["status"] == "ok"


@MODES
def test_ignored_projects_are_left_alone(docs, start, store, mode):
    own = docs / "own"  # an ignore file in the project
    _in_project_venv(own)
    (own / ".relocator-ignore").touch()
    (docs / "clients").mkdir()  # in a folder above it
    (docs / "clients" / ".relocator-ignore").touch()
    _in_project_venv(docs / "clients" / "acme")
    listed = docs / "listed"  # in the config's ignore list
    _in_project_venv(listed)
    svc = start(mode, ignore=[str(listed)]).started()
    control = docs / "control"
    _in_project_venv(control)
    wait_until(lambda: os.path.islink(control / ".venv"), "the control project adopted")
    lines = svc.wait_log(": ignored (", count=3)
    assert len(lines) == 3, lines  # once each, not on every pass
    for project in (own, docs / "clients" / "acme", listed):
        assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
    assert len(store_venvs(store)) == 1
    (own / ".relocator-ignore").unlink()  # opting in again
    wait_until(lambda: os.path.islink(own / ".venv"), "adopted once its ignore file went")
    assert not os.path.islink(docs / "clients" / "acme" / ".venv")
    assert sum(": ignored (" in line for line in svc.log()) == 3


def test_a_venv_in_use_waits_and_one_failing_project_stops_nothing(docs, start, store):
    busy = docs / "busy"
    _in_project_venv(busy)
    sleeper = subprocess.Popen(
        [str(busy / ".venv" / "bin" / "python"), "-c", "import time; time.sleep(600)"]
    )
    broken = docs / "broken"
    _in_project_venv(broken)
    (broken / ".venv.nosync").write_text("not relocator's")  # adopt refuses to replace it
    try:
        svc = start().started()
        svc.wait_log(f" skipped {busy.resolve()} for now: pid {sleeper.pid} ")
        svc.wait_log(f" skipped {broken.resolve()}: ")
        fine = docs / "fine"
        _in_project_venv(fine)
        wait_until(lambda: os.path.islink(fine / ".venv"), "the next project adopted")
        assert not os.path.islink(busy / ".venv") and not os.path.islink(broken / ".venv")
        assert sum(" skipped " in line for line in svc.log()) == 2  # each said once
        assert svc.proc.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(docs, start, store, signum):
    svc = start().started()
    assert json.loads((store / "service.pid").read_text())["pid"] == svc.proc.pid
    took = svc.stop(signum)
    assert svc.proc.returncode == 0, svc.stderr()
    assert took < 5, f"took {took:.1f}s to stop"
    assert svc.log()[-1].endswith(" stopped")
    assert not (store / "service.pid").exists()
    assert svc.stderr() == ""


class Terminal:
    """``relocate service run`` with stderr on a new pseudo-terminal (stdout piped)."""

    def __init__(self, tmp: Path, env: dict[str, str], *flags: str) -> None:
        import pty

        self.leader, follower = pty.openpty()
        argv = [sys.executable, "-m", "relocator", *flags, "service", "run", "--interval", "1"]
        self.proc = subprocess.Popen(
            argv, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=follower, start_new_session=True
        )
        os.close(follower)
        self.shown = b""

    def wait_shown(self, text: str) -> list[str]:
        """The lines shown once one holds ``text``, read until then against the deadline."""
        import select

        end = time.monotonic() + DEADLINE
        while text.encode() not in self.shown:
            if time.monotonic() > end:
                pytest.fail(f"not shown within {DEADLINE:g}s: {text!r}; shown: {self.shown!r}")
            ready, _, _ = select.select([self.leader], [], [], 0.05)
            try:
                chunk = os.read(self.leader, 65536) if ready else b""
            except OSError:  # EIO: the service closed the terminal
                chunk = b""
            if ready and not chunk:
                pytest.fail(f"the terminal closed before {text!r}: {self.shown!r}")
            self.shown += chunk
        return self.shown.decode().replace("\r\n", "\n").splitlines()

    def rest(self) -> bytes:
        """Everything shown, once the service has ended (it closed the terminal)."""
        import select

        while select.select([self.leader], [], [], DEADLINE)[0]:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # EIO: the service closed the terminal
                break
            if not chunk:
                break
            self.shown += chunk
        return self.shown

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.leader)


def test_a_run_on_a_terminal_shows_what_it_logs(docs, store, tmp_path):
    config = tmp_path / "service.toml"
    config.write_text('mode = "poll"\n')
    env = {**os.environ, "RELOCATOR_CONFIG": str(config), "RELOCATOR_SERVICE_QUIET": "1"}
    svc = Terminal(tmp_path, env)
    try:
        svc.wait_shown(" started: ")
        project = docs / "proj"
        _in_project_venv(project)
        adopted = [line for line in svc.wait_shown(" adopted ") if " adopted " in line]
        assert f" adopted {project.resolve()} (moved: " in adopted[0], adopted
        svc.proc.send_signal(signal.SIGTERM)
        shown = svc.wait_shown(" stopped")
        assert svc.proc.wait(timeout=DEADLINE) == 0
        log = (store / "logs" / "service.log").read_text().splitlines()
        assert shown == log  # the same lines, in the same order
        assert svc.proc.stdout is not None and svc.proc.stdout.read() == b""
    finally:
        svc.close()


def test_a_quiet_run_on_a_terminal_shows_nothing(docs, store, tmp_path):
    config = tmp_path / "service.toml"
    config.write_text('mode = "poll"\n')
    env = {**os.environ, "RELOCATOR_CONFIG": str(config)}
    svc = Terminal(tmp_path, env, "-q")
    try:
        log = store / "logs" / "service.log"
        wait_until(lambda: log.exists() and " started: " in log.read_text(), "the start logged")
        svc.proc.send_signal(signal.SIGTERM)
        assert svc.proc.wait(timeout=DEADLINE) == 0
        assert log.read_text().splitlines()[-1].endswith(" stopped")
        assert svc.rest() == b""
    finally:
        svc.close()


def test_a_second_service_refuses_with_one_line(docs, start, store):
    first = start().started()
    second = start()
    assert second.proc.wait(timeout=DEADLINE) == 1
    (line,) = second.stderr().splitlines()
    assert line.startswith("relocate: the relocator service is already running")
    assert f"pid {first.proc.pid}" in line
    assert first.proc.poll() is None
    assert json.loads((store / "service.pid").read_text())["pid"] == first.proc.pid


def test_a_second_service_started_by_a_unit_ends_with_success(docs, start, store):
    """launchd's KeepAlive = {SuccessfulExit: false} and systemd's Restart=on-failure start
    a watcher again only when it fails: one its unit started (``--unit``) that finds
    another holding the store must exit 0, or it is started again every 10 seconds."""
    first = start().started()
    second = start(unit=True)
    assert second.proc.wait(timeout=DEADLINE) == 0
    (line,) = second.stderr().splitlines()
    assert line.startswith("relocate: the relocator service is already running")
    assert f"pid {first.proc.pid}" in line
    assert line.endswith("; this one, started by its unit, ends (exit 0)")
    assert first.proc.poll() is None
    assert json.loads((store / "service.pid").read_text())["pid"] == first.proc.pid
    assert not any("stopped" in line for line in first.log())  # its log is the first's alone


def test_a_stale_pid_file_is_taken_over(docs, start, store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    Store(str(store)).ensure()
    (store / "service.pid").write_text(json.dumps({"pid": dead.pid, "started": 1.0}))
    svc = start().started()
    assert json.loads((store / "service.pid").read_text())["pid"] == svc.proc.pid
    svc.wait_log(f"stale pid file (pid {dead.pid} is gone)")


def test_service_json_keeps_the_contract(docs, start, store):
    svc = start().started()
    for name in ("a", "b"):
        _in_project_venv(docs / name)
    wait_until(lambda: svc.status()["adopted"] == 2, "two adoptions counted")
    status = svc.status()
    assert tuple(status) == service.STATUS_KEYS
    assert status["pid"] == svc.proc.pid
    assert status["repaired"] == 0
    assert status["mode"] == "events"
    assert str(docs.resolve()) in status["roots"]
    assert all(isinstance(status[k], float) for k in ("started", "last_event", "last_scan"))
    assert status["started"] <= status["last_event"] <= status["last_scan"] <= time.time()
    shown = json.loads(relocate_ok("service", "status", "--json"))
    assert (shown["running"], shown["pid"], shown["adopted"]) == (True, svc.proc.pid, 2)
    assert "watcher: running, pid" in relocate_ok("service", "status")
    svc.stop()
    assert svc.status()["adopted"] == 2  # it stays, with the last figures
    assert json.loads(relocate_ok("service", "status", "--json"))["running"] is False


# -- in-process: run() itself ------------------------------------------------------------


def test_run_returns_0_when_stop_is_set(docs, store, tmp_path, monkeypatch):
    monkeypatch.setenv("RELOCATOR_CONFIG", str(tmp_path / "absent.toml"))
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run(interval=0.2, stop=stop)))
    thread.start()
    wait_until((store / "service.json").exists, "a first pass")
    stop.set()
    thread.join(timeout=DEADLINE)
    assert result == [0]
    assert not (store / "service.pid").exists()


def test_run_refuses_a_bad_interval(store):
    with pytest.raises(UsageError):
        service.run(interval=0)


def test_events_mark_projects_and_new_folders(tmp_path):
    root = tmp_path / "root"
    (root / "p").mkdir(parents=True)
    try:
        events = watching.Events([str(root)])
    except watching.Unavailable as e:
        pytest.skip(f"no native events here: {e}")
    gathered: dict[str, dict[str, float]] = {"projects": {}, "folders": {}}

    def saw(kind: str, path: Path) -> bool:
        changes = events.take()
        gathered["projects"].update(changes.projects)
        gathered["folders"].update(changes.folders)
        return str(path) in gathered[kind]

    try:
        before = time.time()
        make_venv(root / "p" / ".venv")
        wait_until(lambda: saw("projects", root / "p"), "the venv's events")
        assert gathered["projects"][str(root / "p")] >= before
        (root / "new" / "deeper").mkdir(parents=True)
        wait_until(lambda: saw("folders", root / "new"), "a new folder to look into")
        (root / "p" / ".relocator-ignore").touch()
        wait_until(lambda: saw("folders", root / "p"), "an ignore file's folder")
        # A venv moved out of the tree (as adopt does) is no longer the project's.
        (root / "p" / ".venv").rename(tmp_path / "moved")
        (root / "p" / ".venv").symlink_to(tmp_path / "moved")
        wait_until(lambda: saw("projects", root / "p"), "the link's own event")
        (root / "marker1").mkdir()  # events come in order: past it, the move is all told
        wait_until(lambda: saw("folders", root / "marker1"), "the first marker folder")
        gathered["projects"].clear()
        (site_packages(tmp_path / "moved") / "late.py").touch()
        (root / "marker2").mkdir()
        wait_until(lambda: saw("folders", root / "marker2"), "the second marker folder")
        assert gathered["projects"] == {}
    finally:
        events.stop()


# -- the pure helpers --------------------------------------------------------------------


def _age(top: Path, seconds: float) -> None:
    when = time.time() - seconds
    for path in [top, *top.rglob("*")]:
        os.utime(path, (when, when), follow_symlinks=False)


def test_quiet_looks_at_what_installers_touch(tmp_path):
    venv = make_venv(tmp_path / "venv")
    now = time.time()
    assert not watching.is_quiet(str(venv), 60, now)
    _age(venv, 100)
    assert watching.is_quiet(str(venv), 60, time.time())
    site = site_packages(venv)
    (site / "newpkg-1.0.dist-info").mkdir()  # a package being installed
    assert not watching.is_quiet(str(venv), 60, time.time())
    (site / "pkg" / "sub").mkdir(parents=True)
    _age(venv, 100)
    (site / "pkg" / "new.py").touch()  # a file in a top-level package folder
    assert not watching.is_quiet(str(venv), 60, time.time())
    _age(venv, 100)
    (site / "pkg" / "sub" / "deep.py").touch()  # deeper: only the full walk sees it
    assert watching.is_quiet(str(venv), 60, time.time())
    assert not watching.is_quiet(str(venv), 60, time.time(), deep=True)


def test_quiet_follows_no_symlink(tmp_path):
    venv = make_venv(tmp_path / "venv")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (site_packages(venv) / "linked").symlink_to(fresh)
    _age(venv, 100)
    (fresh / "new").touch()
    assert watching.is_quiet(str(venv), 60, time.time(), deep=True)


def test_find_venvs_depth_and_links(tmp_path):
    root = tmp_path / "root"
    found = []
    for rel in ("", "a", "a/b", "a/b/c", "x/y/z"):
        make_venv((root / rel / ".venv") if rel else root / ".venv")
        found.append(str(root / rel) if rel else str(root))
    make_venv(root / "a" / "b" / "c" / "d" / ".venv")  # depth 4: beyond the bound
    for hidden in (".git/p", "node_modules/p", "__pycache__/p"):
        make_venv(root / hidden / ".venv")
    outside = tmp_path / "outside"
    make_venv(outside / ".venv")
    (root / "linked").symlink_to(outside)  # a symlinked folder is not entered
    (root / "linkvenv").mkdir()
    (root / "linkvenv" / ".venv").symlink_to(outside / ".venv")  # nor is .venv followed
    (root / "novenv" / ".venv").mkdir(parents=True)  # a .venv without pyvenv.cfg
    assert watching.find_venvs(str(root)) == sorted(found)
    assert watching.find_venvs(str(root), depth=1) == sorted(found[:2])
    assert watching.find_venvs(str(root), depth=0) == [str(root)]
    inner = str(root / "a" / "b")
    skipped = watching.find_venvs(str(root), skip=frozenset([inner]))
    assert skipped == sorted(set(found) - {inner, str(root / "a/b/c")})


def test_the_poll_reuses_listings_of_unchanged_folders(tmp_path):
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "big").mkdir()
    for i in range(50):
        (root / "big" / f"file{i}").touch()
    _age(root, 100)
    cache = watching.Listings()
    assert watching.find_venvs(str(root), cache=cache) == []
    cache.turn()
    assert set(cache.last) == {str(root), str(root / "a"), str(root / "a/b"), str(root / "big")}
    make_venv(root / "a" / ".venv")  # a's mtime changes: listed again
    make_venv(root / "a" / "b" / "c" / ".venv")  # at the last level: always probed
    assert watching.find_venvs(str(root), cache=cache) == [str(root / "a"), str(root / "a/b/c")]
    cache.turn()
    assert str(root / "a") not in cache.last  # changed under 2 s ago: not trusted yet
    shutil.rmtree(root / "big")
    assert len(watching.find_venvs(str(root), cache=cache)) == 2
    cache.turn()
    assert str(root / "big") not in cache.last  # a folder gone drops out


def test_project_of_an_event_path():
    roots = ["/h/Mobile", "/h/Mobile/cloud/Documents"]
    assert watching.project_of("/h/Mobile/cloud/Documents/p/.venv/lib/x.py", roots) == (
        "/h/Mobile/cloud/Documents/p"
    )  # depth 4 below the outer root, 1 below the inner one
    assert watching.project_of("/h/Mobile/cloud/Documents/a/b/c/.venv.nosync", roots) == (
        "/h/Mobile/cloud/Documents/a/b/c"
    )
    assert watching.project_of("/h/Mobile/cloud/Documents/a/b/c/d/.venv/x", roots) is None
    assert watching.project_of("/h/Mobile/cloud/Documents/.git/p/.venv/x", roots) is None
    assert watching.project_of("/h/Mobile/cloud/Documents/p/notes.txt", roots) is None
    assert watching.project_of("/elsewhere/p/.venv/x", roots) is None


def test_ignored_up_to_the_root(tmp_path):
    root = tmp_path / "root"
    project = root / "a" / "p"
    project.mkdir(parents=True)
    roots = [str(root)]
    assert settings.ignored(str(project), roots) is None
    (tmp_path / ".relocator-ignore").touch()  # above the root: not the service's business
    assert settings.ignored(str(project), roots) is None
    (root / ".relocator-ignore").touch()
    assert str(root) in (settings.ignored(str(project), roots) or "")
    assert "ignore list" in (settings.ignored(str(project), roots, (str(root / "a"),)) or "")


def test_config(tmp_path, monkeypatch):
    path = tmp_path / "service.toml"
    monkeypatch.setenv("RELOCATOR_CONFIG", str(path))
    assert settings.load_config() == settings.Config()  # no file: the defaults
    (tmp_path / "extra").mkdir()
    path.write_text(
        f'roots = ["{tmp_path}/extra"]\nignore = ["~/skip"]\nquiet = 3\nmode = "poll"\n'
    )
    config = settings.load_config()
    assert config.roots == (str(tmp_path / "extra"),)
    assert config.ignore == (str(Path.home() / "skip"),)
    assert (config.quiet, config.mode) == (3.0, "poll")
    assert str(tmp_path / "extra") in settings.sync_roots(config)
    monkeypatch.setenv("RELOCATOR_SERVICE_QUIET", "0.5")
    assert settings.load_config().quiet == 0.5
    for bad in (
        "roots = [",
        "nope = 1",
        "quiet = -1",
        'quiet = "x"',
        'mode = "x"',
        'roots = ["relative"]',
        "ignore = [1]",
    ):
        path.write_text(bad + "\n")
        with pytest.raises(RelocatorError) as e:
            settings.load_config()
        assert str(path) in str(e.value)
    monkeypatch.setenv("RELOCATOR_SERVICE_QUIET", "soon")
    path.write_text("")
    with pytest.raises(RelocatorError, match="RELOCATOR_SERVICE_QUIET"):
        settings.load_config()
