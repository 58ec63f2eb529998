"""Sync roots the watcher may not read: said, recorded, reported, and taken up once readable.

The refusal is real: the service, ``service status`` and ``doctor`` run as uid 65534
(root reads everything) over a root of mode 000, which lists with ``EACCES``. macOS's
privacy protection (TCC) answers ``EPERM`` to a launchd agent's interpreter instead;
that cannot run here, so its wording is checked through the macOS stand-in of
:mod:`relocator.system.platform`, over a denial recorded as the service records it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from relocator.cli import render
from relocator.commands import service, watcher
from relocator.host import access, launchd, unitfile
from relocator.state.store import Store
from relocator.system import platform
from tests.helpers import NOBODY, as_nobody, linux_only, nobody_env, shared_base
from tests.test_service import wait_until

PYTHON = "/usr/bin/python3"
SETPRIV = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _venv_as_nobody(project: Path, env: dict[str, str]) -> None:
    project.mkdir(parents=True)
    (project / "setup.py").write_text("")
    os.chown(project, NOBODY, NOBODY)
    os.chown(project / "setup.py", NOBODY, NOBODY)
    made = as_nobody([PYTHON, "-m", "venv", "--without-pip", str(project / ".venv")], env)
    assert made.returncode == 0, made.stderr


def _folder(path: Path) -> Path:
    path.mkdir()
    os.chown(path, NOBODY, NOBODY)
    return path


class NobodyService:
    """``relocate service run`` as uid 65534, over roots ``open`` and ``closed``."""

    def __init__(self, base: Path, mode: str) -> None:
        self.base, self.store = base, base / "store"
        self.open = _folder(base / "home" / "open")
        self.closed = _folder(base / "home" / "closed")
        config = base / "service.toml"
        roots = json.dumps([str(self.open), str(self.closed)])
        config.write_text(f'mode = "{mode}"\nroots = {roots}\n')
        self.env = nobody_env(base, RELOCATOR_CONFIG=str(config), RELOCATOR_SERVICE_QUIET="1")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [*SETPRIV, PYTHON, "-m", "relocator", "service", "run", "--interval", "0.5"]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def log(self) -> list[str]:
        try:
            return (self.store / "logs" / "service.log").read_text().splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, text: str) -> list[str]:
        def found() -> list[str]:
            assert self.proc is not None and self.proc.poll() is None, self.proc
            return [line for line in self.log() if text in line]

        return wait_until(found, f"a log line with {text!r}; log: {self.log()}")  # type: ignore[no-any-return]

    def report(self) -> dict[str, Any]:
        """``service.json`` ({} before the first pass: the start logs a denial already)."""
        try:
            return json.loads((self.store / "service.json").read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            return {}

    def passes(self, count: int) -> None:
        """Wait for ``count`` more passes (each rewrites ``last_scan``)."""
        for _ in range(count):
            last = self.report()["last_scan"]
            wait_until(lambda last=last: self.report()["last_scan"] != last, "one more pass")

    def relocate(self, *args: str) -> subprocess.CompletedProcess[str]:
        return as_nobody(["relocate", *args], self.env)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def nobody_service():
    base = shared_base()
    made: list[NobodyService] = []

    def make(mode: str) -> NobodyService:
        made.append(NobodyService(base, mode))
        return made[-1]

    try:
        yield make
    finally:
        for svc in made:
            svc.stop()
        if (base / "home" / "closed").exists():
            os.chmod(base / "home" / "closed", 0o755)  # noqa: S103 - so that it can go
        shutil.rmtree(base, ignore_errors=True)


AS_NOBODY = linux_only("runs relocate as uid 65534 through setpriv")


@AS_NOBODY
@pytest.mark.parametrize("mode", ["events", "poll"])
def test_a_denied_root_is_said_recorded_reported_and_taken_up_once_readable(
    nobody_service: Any, mode: str
) -> None:
    svc = nobody_service(mode)
    _venv_as_nobody(svc.closed / "late", svc.env)
    os.chmod(svc.closed, 0o000)
    svc.start()
    binary = os.path.realpath(PYTHON)

    (said,) = svc.wait_log(f" denied {svc.closed}: ")
    assert f"{binary} may not read {svc.closed} (EACCES)" in said
    assert "chmod u+rx" in said and "System Settings" not in said
    wait_until(lambda: svc.report().get("denied"), "the denial recorded")
    assert svc.report()["denied"] == [
        {"root": str(svc.closed), "reason": "EACCES", "binary": binary}
    ]
    assert svc.report()["mode"] == mode  # a denied root does not cost the others their events

    # the other root keeps working meanwhile
    _venv_as_nobody(svc.open / "now", svc.env)
    wait_until((svc.open / "now" / ".venv").is_symlink, "the open root's venv adopted")

    # service status, text and JSON, shows the denied root and the binary to grant
    shown = svc.relocate("service", "status", "--json")
    assert shown.returncode == 0, shown.stderr
    (denied,) = json.loads(shown.stdout)["denied"]
    assert (denied["root"], denied["reason"], denied["binary"]) == (
        str(svc.closed),
        "EACCES",
        binary,
    )
    assert binary in denied["message"] and "System Settings" not in denied["message"]
    text = svc.relocate("service", "status")
    assert text.returncode == 0, text.stderr
    assert f"  denied: {binary} may not read {svc.closed} (EACCES)" in text.stdout

    # doctor: a problem, once (the watcher's record, not its own check again)
    doctor = svc.relocate("doctor", "--json")
    assert doctor.returncode != 0
    found = [f for f in json.loads(doctor.stdout) if f["check"] == "access"]
    assert [(f["project"], f["status"]) for f in found] == [(str(svc.closed), "problem")]
    assert "the watcher may not read this sync root" in found[0]["message"]
    assert binary in found[0]["message"]

    svc.passes(3)
    assert len([line for line in svc.log() if " denied " in line]) == 1  # once per reason

    os.chmod(svc.closed, 0o755)  # noqa: S103 - access given while it runs
    svc.wait_log(f" readable again: {svc.closed} (it was denied: EACCES)")
    late = svc.closed / "late" / ".venv"
    wait_until(late.is_symlink, "the venv in the root now readable adopted")
    wait_until(lambda: svc.report()["denied"] == [], "the denial cleared")
    _venv_as_nobody(svc.closed / "later", svc.env)  # seen by events too: that root is watched now
    wait_until((svc.closed / "later" / ".venv").is_symlink, "a new venv there adopted")
    assert json.loads(svc.relocate("service", "status", "--json").stdout)["denied"] == []


def _doctor_json(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    try:
        return json.loads(result.stdout)  # type: ignore[no-any-return]
    except ValueError:
        pytest.fail(f"doctor printed no JSON: {result.stdout!r} {result.stderr!r}")


@AS_NOBODY
def test_doctor_checks_the_roots_itself_without_a_service(nobody_service: Any) -> None:
    svc = nobody_service("poll")
    os.chmod(svc.closed, 0o000)
    (svc.store).mkdir()
    os.chown(svc.store, NOBODY, NOBODY)
    doctor = svc.relocate("doctor", "--json")
    assert doctor.returncode != 0, doctor.stdout
    found = [f for f in _doctor_json(doctor) if f["check"] == "access"]
    assert [f["project"] for f in found] == [str(svc.closed)]
    message = found[0]["message"]
    assert message.startswith("this user may not read this sync root, so neither may the watcher")
    assert "(EACCES)" in message and "ls -ld" in message and "System Settings" not in message
    os.chmod(svc.closed, 0o755)  # noqa: S103
    again = svc.relocate("doctor", "--json")
    assert not [f for f in _doctor_json(again) if f["check"] == "access"]


# -- the wording, per platform (macOS through its stand-in) --------------------------------


def _record(reason: str) -> dict[str, str]:
    binary = (
        "/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12/"
        "Resources/Python.app/Contents/MacOS/Python"
    )
    return {"root": "/Users/u/Documents", "reason": reason, "binary": binary}


def test_macos_names_system_settings_and_the_binary_for_eperm(monkeypatch):
    monkeypatch.setattr(platform, "current", platform.Darwin())
    record = _record("EPERM")
    said = access.hint(record)
    assert said == (
        f"macOS keeps {record['binary']} out of /Users/u/Documents (EPERM) until you allow it: "
        "System Settings > Privacy & Security > Full Disk Access (or Files and Folders) > "
        f"add {record['binary']}"
    )
    plain = access.hint(_record("EACCES"))  # a folder's mode, on macOS too
    assert "System Settings" not in plain and "ls -ld /Users/u/Documents" in plain


def test_linux_wording_is_about_owner_and_mode(monkeypatch):
    monkeypatch.setattr(platform, "current", platform.Linux())
    for reason in ("EPERM", "EACCES"):
        said = access.hint(_record(reason))
        assert "System Settings" not in said and "Privacy" not in said
        assert f"({reason}): its owner or mode keeps this user out" in said


def test_status_shows_a_recorded_macos_denial(isolated, store, monkeypatch):
    """What ``service status`` prints on a Mac for the agent's recorded ``EPERM``."""
    monkeypatch.setattr(platform, "current", platform.Darwin())
    Store(str(store)).ensure()
    record = _record("EPERM")
    report = dict.fromkeys(service.STATUS_KEYS)
    report.update(pid=1 << 30, roots=[record["root"]], denied=[record, {"root": 3}])
    (store / "service.json").write_text(json.dumps(report))
    state = watcher.status(Store(str(store)), interval=0)
    assert [d["root"] for d in state["denied"]] == [record["root"]]  # garbage left out
    lines = render.service_status(state)
    (line,) = [line for line in lines if "denied" in line]
    assert line.startswith("  denied: macOS keeps ")
    assert "System Settings > Privacy & Security > Full Disk Access" in line
    assert line.endswith(f"add {record['binary']}")


def _framework(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """A framework Python's layout: its bin/python3.12, the Python.app that one starts,
    a venv's python link to it, and a ``relocate`` script whose #! line names the link."""
    framework = tmp_path / "Python.framework" / "Versions" / "3.12"
    python = framework / "bin" / "python3.12"
    app = framework / "Resources" / "Python.app" / "Contents" / "MacOS" / "Python"
    for path in (python, app):
        path.parent.mkdir(parents=True)
        path.write_text("")
    link = tmp_path / "venv" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(python)
    script = tmp_path / "venv" / "bin" / "relocate"
    script.write_text(f"#!{link}\nimport relocator\n")
    return python, app, link, script


def test_the_binary_is_the_real_interpreter_and_a_frameworks_app(tmp_path, monkeypatch):
    python, app, link, script = _framework(tmp_path)
    monkeypatch.setattr(platform, "current", platform.Darwin())
    assert access.interpreter_of(str(script)) == str(app)
    assert access.interpreter_of(str(link)) == str(app)
    monkeypatch.setattr(platform, "current", platform.Linux())
    assert access.interpreter_of(str(script)) == str(python)
    assert access.running_binary() == os.path.realpath(os.readlink("/proc/self/exe"))


def test_the_program_is_the_installed_agents(isolated, store, tmp_path, monkeypatch):
    """doctor's own check names what the launchd agent's ProgramArguments run."""
    monkeypatch.setenv("RELOCATOR_SERVICE_PLATFORM", "launchd")
    _, app, _, script = _framework(tmp_path)
    agent = Path(unitfile.unit_path())
    agent.parent.mkdir(parents=True)
    data = launchd.plist([str(script), "service", "run", "--unit"], str(store), "/dev/null", 5)
    agent.write_bytes(data)
    assert unitfile.program() == str(script)
    monkeypatch.setattr(platform, "current", platform.Darwin())
    assert access.interpreter_of(unitfile.program()) == str(app)
    agent.write_bytes(data.replace(launchd.LABEL.encode(), b"org.example.other"))
    assert unitfile.program() == unitfile.command()[0]  # not ours: what install would write


def test_a_readable_root_and_a_gone_one_are_not_denied(tmp_path):
    assert access.denied(str(tmp_path)) is None
    assert access.denied(str(tmp_path / "gone")) is None
    logged: list[str] = []
    denials = access.Denials(logged.append)
    assert denials.readable([str(tmp_path)]) == [str(tmp_path)]
    assert not denials.granted() and denials.report() == [] and logged == []
