"""``relocate service install | uninstall | status``: the unit files (exact contents, only
ours touched), loading them where that cannot work here (no user systemd, no launchctl)
and where it can (a recording systemctl / launchctl on PATH), the watcher's reports read
from real processes, and the sync daemons' CPU measured on real processes named like them.

Every test runs under a fake HOME, with ``XDG_CONFIG_HOME`` under it and an empty
``XDG_RUNTIME_DIR``: a real ``systemctl --user`` can never reach the user's own session.
"""

from __future__ import annotations

import datetime
import json
import os
import plistlib
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from relocator.cli import render
from relocator.commands import watcher as reports
from relocator.errors import RelocatorError
from relocator.host import unitfile, units
from tests.helpers import linux_only

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
MANUAL_SYSTEMD = "systemctl --user daemon-reload && systemctl --user enable --now relocator.service"


#: The system's own service manager is systemd's only on Linux (launchd's on macOS).
SYSTEMD = linux_only("the system's own service manager is systemd here")
#: Where no launchctl is found (on macOS the tests' stand-in refuses instead).
NO_LAUNCHCTL = linux_only("no launchctl on PATH")


@pytest.fixture(autouse=True)
def service_env(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_CONFIG_HOME under the fake HOME; no session bus; the running relocate is a
    script of ours (so every command line is known). Returns that script."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated / "xdg-config"))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv(unitfile.PLATFORM_ENV, raising=False)
    exe = _script(tmp_path / "install" / "bin" / "relocate")
    monkeypatch.setattr(sys, "argv", [str(exe), "service", "install"])
    return exe


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start real processes; all are killed and reaped at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _script(path: Path, body: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _systemd_unit(home: Path) -> Path:
    return home / "xdg-config" / "systemd" / "user" / "relocator.service"


def _plist(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / "io.github.relocator.service.plist"


def _fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, body: str) -> Path:
    """A ``name`` first on PATH that appends its arguments to a log; returns the log."""
    log = tmp_path / f"{name}.log"
    _script(tmp_path / "fakebin" / name, f'printf "%s\\n" "$*" >> "{log}"\n{body}')
    monkeypatch.setenv("PATH", f"{tmp_path / 'fakebin'}:{os.environ['PATH']}")
    return log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


# -- install ------------------------------------------------------------------------


@SYSTEMD
def test_systemd_unit_is_written_and_says_why_it_is_not_started(
    isolated: Path, store: Path, service_env: Path
) -> None:
    result = units.install()
    unit = _systemd_unit(isolated)
    assert result["platform"] == "systemd"
    assert result["unit"] == str(unit)
    assert result["command"] == [str(service_env), "service", "run", "--unit"]
    assert unit.read_text() == (
        "# written by relocate service install\n"
        "# `relocate service uninstall` stops and removes this file (only while it has the line\n"
        "# above); `relocate service status` says whether the watcher runs.\n"
        "[Unit]\n"
        "Description=relocator watcher: keeps Python venvs out of cloud-synced folders\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={service_env} service run --unit\n"
        "Restart=on-failure\n"
        "RestartSec=10\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        f"Environment=RELOCATOR_HOME={store}\n"
        f"Environment=HOME={isolated}\n"  # not the account's own home: the watcher's too
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    # Here there is no user systemd: systemctl --user cannot connect (or is not installed).
    # `enable` needs no session (it makes a link), so the unit starts at the next login.
    assert result["loaded"] is False
    wants = unit.parent / "default.target.wants" / "relocator.service"
    if shutil.which("systemctl"):
        assert "Failed to connect to bus" in result["reason"]
        assert result["enabled"] is True
        assert os.readlink(wants) == str(unit)
        assert "starts at the next login" in result["message"]
    else:
        assert "systemctl was not found" in result["reason"]
        assert result["enabled"] is False
        assert not wants.exists()
    assert result["manual"] == MANUAL_SYSTEMD
    assert result["reason"] in result["message"]
    assert MANUAL_SYSTEMD in result["message"]


@SYSTEMD
def test_systemd_unit_defaults_to_dot_config_and_names_the_default_store(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.delenv("RELOCATOR_HOME")
    result = units.install()
    unit = isolated / ".config" / "systemd" / "user" / "relocator.service"
    assert result["unit"] == str(unit)
    default = isolated / ".cache" / "relocator"
    # named all the same: the user manager does not have the installing shell's variables
    assert f"\nEnvironment=RELOCATOR_HOME={default}\n" in unit.read_text()
    assert (default / "README").is_file()


@SYSTEMD
def test_systemd_quoting_is_what_systemd_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _script(tmp_path / "my tools 100%" / "$bin" / "relocate")
    monkeypatch.setattr(sys, "argv", [str(exe)])
    home = tmp_path / "a store, 50% $HOME"
    monkeypatch.setenv("RELOCATOR_HOME", str(home))
    units.install()
    text = _systemd_unit(Path(os.environ["HOME"])).read_text()
    escaped_exe = str(exe).replace("%", "%%")  # no variable is expanded in the program's path
    assert f'ExecStart="{escaped_exe}" service run --unit\n' in text
    assert f'Environment="RELOCATOR_HOME={str(home).replace("%", "%%")}"\n' in text
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit was not checked by systemd")
    unit = _systemd_unit(Path(os.environ["HOME"]))
    checked = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@SYSTEMD
def test_a_program_path_systemd_cannot_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _script(tmp_path / 'it"s' / "relocate")
    monkeypatch.setattr(sys, "argv", [str(exe)])
    with pytest.raises(RelocatorError, match="quotes, backslashes"):
        units.install()
    assert not _systemd_unit(Path(os.environ["HOME"])).exists()


@NO_LAUNCHCTL
def test_launchd_agent_is_written_under_home(
    isolated: Path, store: Path, service_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(unitfile.PLATFORM_ENV, "launchd")
    result = units.install()
    plist = _plist(isolated)
    assert result["platform"] == "launchd"
    assert result["unit"] == str(plist)
    with plist.open("rb") as f:
        agent = plistlib.load(f)
    log = str(store / "logs" / "service.out")
    # Only keys of launchd.plist(5): no mark of our own (no RelocatorWrittenBy)
    assert agent == {
        "Label": "io.github.relocator.service",
        "ProgramArguments": [str(service_env), "service", "run", "--unit"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": 10,
        "StandardOutPath": log,
        "StandardErrorPath": log,
        "EnvironmentVariables": {"RELOCATOR_HOME": str(store), "HOME": str(isolated)},
    }
    assert (store / "logs").is_dir()  # launchd opens the log but makes no folder
    assert stat.S_IMODE(plist.stat().st_mode) == 0o644
    # launchctl exists only on macOS
    assert result["loaded"] is False
    assert "launchctl was not found" in result["reason"]
    assert (result["enabled"], result["changed"]) == (False, True)  # no launchd to load it
    target = f"gui/{os.getuid()}/io.github.relocator.service"
    assert result["manual"] == (
        f"launchctl enable {target} && launchctl bootstrap gui/{os.getuid()} {plist}"
    )
    assert result["manual"] in result["message"]


def test_launchd_agent_names_the_default_store_the_installing_shell_sees(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent gets no shell variable: the store this shell's XDG_CACHE_HOME picks is
    written into the plist, or the agent would use ~/.cache/relocator."""
    monkeypatch.delenv("RELOCATOR_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    units.install(platform="launchd")
    with _plist(isolated).open("rb") as f:
        agent = plistlib.load(f)
    store = tmp_path / "cache" / "relocator"
    assert agent["EnvironmentVariables"] == {"RELOCATOR_HOME": str(store), "HOME": str(isolated)}
    assert agent["StandardOutPath"] == str(store / "logs" / "service.out")


def test_the_unit_names_home_and_settings_only_when_they_are_not_the_accounts_own(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwd

    from relocator.state.store import Store

    own = pwd.getpwuid(os.getuid()).pw_dir
    monkeypatch.setenv("HOME", own)
    monkeypatch.delenv("RELOCATOR_CONFIG", raising=False)
    assert unitfile.environment(Store()) == {"RELOCATOR_HOME": str(store)}
    # a home of its own (a test, a CI job): the watcher must not act for the real one
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELOCATOR_CONFIG", "service.toml")
    assert unitfile.environment(Store()) == {
        "RELOCATOR_HOME": str(store),
        "RELOCATOR_CONFIG": str(tmp_path / "service.toml"),
        "HOME": str(tmp_path / "h"),
    }


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_install_twice_is_the_same_file(isolated: Path, platform: str) -> None:
    first = units.install(platform=platform)
    path = Path(first["unit"])
    before = (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns)
    second = units.install(platform=platform)
    assert (first["changed"], second["changed"]) == (True, False)
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir() if not p.is_dir()) == [path.name]


@SYSTEMD
def test_a_recording_systemctl_sees_enable_and_restart(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_tool(tmp_path, monkeypatch, "systemctl", "exit 0")
    result = units.install()
    assert (result["loaded"], result["enabled"], result["reason"], result["manual"]) == (
        True,
        True,
        None,
        None,
    )
    assert (
        result["message"] == f"installed {result['unit']}; the watcher runs now and at every login"
    )
    assert _calls(log) == [
        "--user enable relocator.service",
        "--user daemon-reload",
        "--user restart relocator.service",  # an older watcher makes way for this unit
    ]
    log.unlink()
    removed = units.uninstall()
    unit = _systemd_unit(isolated)  # and the folders it made, which held nothing else
    assert removed["removed"] == [str(unit), str(unit.parent), str(unit.parent.parent)]
    assert removed["notes"] == [] and removed["stopped"] is True
    assert _calls(log) == ["--user disable --now relocator.service", "--user daemon-reload"]


@SYSTEMD
def test_a_failing_restart_says_where_to_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = 'case "$2" in restart) echo "Job for relocator.service failed." >&2; exit 1;; esac'
    _fake_tool(tmp_path, monkeypatch, "systemctl", body)
    result = units.install()
    assert result["loaded"] is False
    assert result["reason"].startswith("Job for relocator.service failed.")
    assert "journalctl --user -u relocator.service" in result["reason"]
    assert result["manual"] == "systemctl --user restart relocator.service"


def test_a_recording_launchctl_sees_enable_then_bootout_then_bootstrap(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = tmp_path / "loaded"
    body = (
        f'case "$1" in print) test -e "{loaded}";; bootstrap) touch "{loaded}";;'
        f' bootout) rm -f "{loaded}";; esac'
    )
    log = _fake_tool(tmp_path, monkeypatch, "launchctl", body)
    plist = _plist(isolated)
    domain, target = f"gui/{os.getuid()}", f"gui/{os.getuid()}/io.github.relocator.service"
    result = units.install(platform="launchd")
    assert (result["loaded"], result["enabled"]) == (True, True)
    # enable first: bootstrap refuses a service the user disabled
    assert _calls(log) == [f"enable {target}", f"print {target}", f"bootstrap {domain} {plist}"]
    log.unlink()
    assert units.install(platform="launchd")["loaded"] is True  # reloaded: launchd caches plists
    assert _calls(log) == [
        f"enable {target}",
        f"print {target}",
        f"bootout {target}",
        f"bootstrap {domain} {plist}",
    ]
    log.unlink()
    assert units.uninstall(platform="launchd") == {
        "platform": "launchd",
        "unit": str(plist),
        "removed": [str(plist)],
        "notes": [],
        "stopped": True,
    }
    assert _calls(log) == [f"print {target}", f"bootout {target}"]


def test_a_failing_enable_is_told_and_nothing_is_bootstrapped(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = 'case "$1" in enable) echo "Operation not permitted" >&2; exit 1;; esac'
    log = _fake_tool(tmp_path, monkeypatch, "launchctl", body)
    target = f"gui/{os.getuid()}/io.github.relocator.service"
    result = units.install(platform="launchd")
    assert _calls(log) == [f"enable {target}"]
    assert (result["loaded"], result["enabled"]) == (False, False)
    assert result["reason"].startswith("Operation not permitted")
    assert "Login Items" in result["reason"]
    assert "next login" not in result["message"]
    assert result["message"].startswith(f"wrote {_plist(isolated)}, but could not enable")
    assert result["manual"].startswith(f"launchctl enable {target} && launchctl bootstrap ")


@SYSTEMD
def test_without_systemctl_the_unit_is_written_and_removed(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = units.install()
    assert result["loaded"] is False
    assert result["reason"] == "systemctl was not found (this system does not run systemd)"
    assert result["manual"] == MANUAL_SYSTEMD
    assert result["enabled"] is False
    assert "could not enable or start it" in result["message"]
    assert _systemd_unit(isolated).is_file()
    removed = units.uninstall()
    unit = _systemd_unit(isolated)
    assert removed["removed"] == [str(unit), str(unit.parent), str(unit.parent.parent)]
    assert removed["notes"] == ["systemctl was not found, so nothing was stopped"]
    assert removed["stopped"] is False


@pytest.mark.parametrize("platform", ["launchd", "systemd", "nonsense"])
def test_the_platform_comes_from_the_environment(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setenv(unitfile.PLATFORM_ENV, platform)
    if platform == "nonsense":
        with pytest.raises(RelocatorError, match="must be launchd or systemd"):
            units.install()
        assert not (isolated / "Library").exists()
        assert not (isolated / "xdg-config").exists()
        return
    assert units.install()["platform"] == platform
    assert unitfile.unit_path() == str(
        _plist(isolated) if platform == "launchd" else _systemd_unit(isolated)
    )


def test_the_command_is_the_running_relocate_then_its_neighbour_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service_env: Path
) -> None:
    tail = ["service", "run", "--unit"]
    assert unitfile.command() == [str(service_env), *tail]
    monkeypatch.chdir(service_env.parent)
    monkeypatch.setattr(sys, "argv", ["./relocate"])
    assert unitfile.command() == [str(service_env), *tail]  # absolute, symlinks kept
    # Run as `python -m relocator`: the relocate beside that python.
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "relocator" / "__main__.py")])
    env_bin = tmp_path / "env" / "bin"
    python = env_bin / "python"
    _script(python)
    monkeypatch.setattr(sys, "executable", str(python))
    beside = _script(env_bin / "relocate")
    assert unitfile.command() == [str(beside), *tail]
    # None there: the one on PATH.
    beside.unlink()
    on_path = _script(tmp_path / "path-bin" / "relocate")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert unitfile.command() == [str(on_path), *tail]
    # None anywhere: this python runs the module.
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert unitfile.command() == [str(python), "-m", "relocator", *tail]
    units.install()
    unit = _systemd_unit(Path(os.environ["HOME"])).read_text()
    assert f"ExecStart={python} -m relocator service run --unit\n" in unit


# -- uninstall ----------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_uninstall_removes_our_unit_and_nothing_else(
    isolated: Path, store: Path, platform: str
) -> None:
    path = Path(units.install(platform=platform)["unit"])
    neighbours = {"other.service": "[Service]\n", path.name + ".bak": "a copy\n"}
    for name, text in neighbours.items():
        (path.parent / name).write_text(text)
    (store / "logs" / "service.log").write_text("the watcher's log\n")
    result = units.uninstall(platform=platform)
    assert result["removed"] == [str(path)]  # not its folder, which holds more
    assert all(
        "failed" in n or "was not found" in n or "no systemd user session" in n
        for n in result["notes"]
    )  # notes only
    assert not path.exists()
    files = {p.name: p.read_text() for p in path.parent.iterdir() if not p.is_dir()}
    assert files == neighbours
    assert not os.path.lexists(path.parent / "default.target.wants" / path.name)
    assert (store / "logs" / "service.log").read_text() == "the watcher's log\n"


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_uninstall_with_nothing_installed_is_fine(platform: str) -> None:
    result = units.uninstall(platform=platform)
    assert result == {
        "platform": platform,
        "unit": unitfile.unit_path(platform),
        "removed": [],
        "notes": [],
        "stopped": True,
    }


FOREIGN = {
    "systemd": b"[Service]\nExecStart=/usr/bin/my-own relocator\n# written by someone else\n",
    "launchd": plistlib.dumps({"Label": "io.github.relocator.service", "Program": "/bin/true"}),
    # our label, but a program of someone else's
    "launchd-args": plistlib.dumps(
        {
            "Label": "io.github.relocator.service",
            "ProgramArguments": ["/usr/local/bin/relocate", "service", "status"],
        }
    ),
    # our label and arguments, but a program that is not relocate
    "launchd-program": plistlib.dumps(
        {
            "Label": "io.github.relocator.service",
            "ProgramArguments": ["/usr/local/bin/other", "service", "run", "--unit"],
        }
    ),
    # relocate's own program, under another label
    "launchd-label": plistlib.dumps(
        {"Label": "com.example.mine", "ProgramArguments": ["/bin/relocate", "service", "run"]}
    ),
}


@pytest.mark.parametrize(
    "platform", ["systemd", "launchd", "launchd-args", "launchd-program", "launchd-label"]
)
@pytest.mark.parametrize("kind", ["file", "garbage", "symlink to ours"])
def test_a_unit_we_did_not_write_is_refused_and_left(
    tmp_path: Path, platform: str, kind: str
) -> None:
    foreign = FOREIGN[platform]
    platform = platform.partition("-")[0]
    path = Path(unitfile.unit_path(platform))
    path.parent.mkdir(parents=True)
    if kind == "file":
        path.write_bytes(foreign)
    elif kind == "garbage":
        path.write_bytes(b"\x00\xff<plist" * 50)
    else:  # a link is never ours, even to a file that carries the mark
        units.install(platform=platform)
        ours = tmp_path / "elsewhere"
        path.rename(ours)
        path.symlink_to(ours)
    before = path.read_bytes()
    for action in (units.uninstall, units.install):
        with pytest.raises(RelocatorError) as caught:
            action(platform=platform)
        message = str(caught.value)
        assert caught.value.exit_code == 1
        assert "\n" not in message
        assert message.startswith(f"{path} was not written by relocate service install")
        assert path.read_bytes() == before
    assert path.is_symlink() == (kind == "symlink to ours")


@pytest.mark.parametrize(
    "program", [["/opt/bin/relocate"], ["/usr/bin/python3", "-m", "relocator"]]
)
def test_a_plist_written_before_is_ours_replaced_and_removed(
    isolated: Path, service_env: Path, program: list[str]
) -> None:
    """The plist an older relocate wrote (a RelocatorWrittenBy key, no --unit) is ours:
    install writes today's over it, and uninstall removes that."""
    path = _plist(isolated)
    path.parent.mkdir(parents=True)
    old = {
        "Label": "io.github.relocator.service",
        "ProgramArguments": [*program, "service", "run"],
        "RelocatorWrittenBy": "relocate service install",
    }
    path.write_bytes(plistlib.dumps(old))
    assert units.installed(str(path), "launchd") is True
    assert units.install(platform="launchd")["changed"] is True
    agent = plistlib.loads(path.read_bytes())
    assert "RelocatorWrittenBy" not in agent
    assert agent["ProgramArguments"] == [str(service_env), "service", "run", "--unit"]
    assert units.uninstall(platform="launchd")["removed"] == [str(path)]
    assert not path.exists()


@SYSTEMD
def test_uninstall_removes_the_enable_link_systemctl_could_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = Path(units.install()["unit"])
    wants = unit.parent / "default.target.wants"
    wants.mkdir(exist_ok=True)
    if not (wants / "relocator.service").is_symlink():
        (wants / "relocator.service").symlink_to(unit)  # what `enable` made
    (wants / "other.service").symlink_to(unit.parent / "other.service")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # systemctl is gone since
    result = units.uninstall()
    assert result["removed"] == [str(unit), str(wants / "relocator.service")]
    assert os.listdir(wants) == ["other.service"]


@SYSTEMD
@pytest.mark.parametrize("cause", ["no session", "refused"])
def test_a_failed_stop_is_told_by_its_cause_not_by_what_systemctl_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cause: str
) -> None:
    """``disable --now`` without a user session removes the enable link ("Removed ...")
    and fails to stop: the cause is the failure, and with no session nothing runs the
    watcher, so the step is ok; a stop refused for another reason is not."""
    from relocator.commands import removal

    unit = Path(units.install()["unit"])
    wants = unit.parent / "default.target.wants" / unit.name
    failure = (
        "Failed to connect to bus: No medium found"
        if cause == "no session"
        else "Failed to stop relocator.service: Access denied"
    )
    body = (
        f'case "$2" in disable) rm -f "{wants}"; echo "Removed \\"{wants}\\"." >&2;'
        f' echo "{failure}" >&2; exit 1;; esac'
    )
    _fake_tool(tmp_path, monkeypatch, "systemctl", body)
    (step,) = [removal._unservice()]
    assert "Removed" not in step.detail and failure in step.detail, step
    assert step.ok is (cause == "no session")
    if cause == "no session":
        assert step.detail.endswith(
            f"no systemd user session is reachable from here ({failure}), so none runs the "
            "watcher to stop"
        )
    assert not unit.parent.exists()  # the folders install made, empty now, are gone too
    assert unit.parent.parent.parent.is_dir()  # never the config folder itself


# -- status -------------------------------------------------------------------------


def test_status_without_a_watcher(store: Path) -> None:
    result = reports.status(interval=0.1)
    assert result["running"] is False
    assert (result["pid"], result["uptime"], result["adopted"], result["mode"]) == (None,) * 4
    assert result["unit_installed"] is False
    assert result["unit"] == unitfile.unit_path()
    assert isinstance(result["daemons"], list)
    assert isinstance(result["daemons_cpu"], float)
    assert not store.exists()  # status only reads
    units.install()
    assert reports.status(interval=0.1)["unit_installed"] is True


@pytest.mark.parametrize(
    ("listing", "enabled"),
    [
        ('\t"io.github.relocator.service" => disabled\n', False),
        ('\t"io.github.relocator.service" => true\n', False),  # older macOS
        ('\t"io.github.relocator.service" => enabled\n', True),
        ('\t"io.github.relocator.service.other" => disabled\n', True),  # not ours: not listed
    ],
)
def test_status_says_the_user_disabled_the_launchd_agent(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listing: str, enabled: bool
) -> None:
    body = 'case "$1" in print) exit 1;; print-disabled) cat "$(dirname "$0")/listing";; esac'
    log = _fake_tool(tmp_path, monkeypatch, "launchctl", body)
    (tmp_path / "fakebin" / "listing").write_text(
        '\t"com.apple.Siri.agent" => enabled\n' + f"disabled services = {{\n{listing}}}\n"
    )
    assert reports.status(platform="launchd", interval=0.1)["unit_enabled"] is None  # none yet
    units.install(platform="launchd")
    status = reports.status(platform="launchd", interval=0.1)
    assert status["unit_enabled"] is enabled
    assert f"print-disabled gui/{os.getuid()}" in _calls(log)
    shown = "\n".join(render.service_status(status, colour=False))
    assert ("disabled: it will not start at login" in shown) is not enabled


@SYSTEMD
@pytest.mark.parametrize(
    ("answer", "enabled"), [("enabled", True), ("disabled", False), ("masked", False), ("", None)]
)
def test_status_says_the_user_disabled_the_systemd_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, enabled: Any
) -> None:
    body = f'case "$2" in is-enabled) echo "{answer}"; test "{answer}" = enabled;; esac'
    log = _fake_tool(tmp_path, monkeypatch, "systemctl", body)
    units.install()
    assert reports.status(interval=0.1)["unit_enabled"] is enabled
    assert "--user is-enabled relocator.service" in _calls(log)


@SYSTEMD
def test_status_does_not_wait_long_on_a_service_manager_that_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tool(tmp_path, monkeypatch, "systemctl", 'case "$2" in is-enabled) exec sleep 120;; esac')
    units.install()
    began = time.monotonic()
    assert reports.status(interval=0.1)["unit_enabled"] is None
    assert time.monotonic() - began < 25  # a query gives up long before a change would (30 s)


@pytest.mark.parametrize("started_as", ["epoch", "iso"])
def test_status_of_a_running_watcher(
    store: Path, spawn: Callable[..., subprocess.Popen[bytes]], started_as: str
) -> None:
    watcher = spawn(SLEEP)
    now = time.time()
    started: Any = now
    if started_as == "iso":
        started = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
    _write_json(store / "service.pid", {"pid": watcher.pid, "started": started})
    report = {
        "pid": watcher.pid,
        "started": started,
        "last_event": "2025-01-02T03:04:05Z",
        "last_scan": now,
        "adopted": 3,
        "repaired": 1,
        "roots": ["/Users/me/Documents"],
        "mode": "poll",
    }
    _write_json(store / "service.json", report)
    time.sleep(0.05)
    result = reports.status(interval=0.1)
    assert result["running"] is True
    assert result["pid"] == watcher.pid
    assert result["uptime"] > 0
    assert result["started"] == pytest.approx(now, abs=1e-3)
    assert (result["adopted"], result["repaired"], result["mode"]) == (3, 1, "poll")
    assert (result["last_event"], result["last_scan"]) == ("2025-01-02T03:04:05Z", now)
    assert result["roots"] == ["/Users/me/Documents"]
    # A report of an earlier watcher is not this one's.
    _write_json(store / "service.json", {**report, "pid": watcher.pid + 1})
    assert reports.status(interval=0)["adopted"] is None


def test_status_of_a_dead_or_reused_pid_is_not_running(
    store: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    dead = spawn(SLEEP)
    dead.kill()
    dead.wait()
    _write_json(store / "service.pid", {"pid": dead.pid, "started": time.time() - 60})
    _write_json(store / "service.json", {"pid": dead.pid, "adopted": 7, "mode": "poll"})
    result = reports.status(interval=0)
    assert (result["running"], result["pid"], result["uptime"]) == (False, None, None)
    assert (result["adopted"], result["mode"]) == (7, "poll")  # its last report still shows
    # A live process that began an hour after the watcher said it started: the pid was reused.
    other = spawn(SLEEP)
    _write_json(store / "service.pid", {"pid": other.pid, "started": time.time() - 3600})
    assert reports.status(interval=0)["running"] is False


GARBAGE: list[Any] = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[" * 100_000,
    b"[]",
    b"true",
    b'{"pid": "1"}',
    b'{"pid": true}',
    b'{"pid": -5}',
    b'{"pid": 99999999999999999999}',
    b'{"pid": 1.5}',
    "dir",
    "fifo",
]


@pytest.mark.parametrize("content", GARBAGE, ids=range(len(GARBAGE)))
def test_status_reads_garbage_as_not_running(store: Path, content: Any) -> None:
    store.mkdir()
    for name in ("service.pid", "service.json"):
        path = store / name
        if content == "dir":
            path.mkdir()
        elif content == "fifo":
            os.mkfifo(path)  # never waited on
        else:
            path.write_bytes(content)
    result = reports.status(interval=0)
    assert result["running"] is False
    assert (result["pid"], result["adopted"], result["last_event"], result["roots"]) == (
        None,
        None,
        None,
        [],
    )


def test_status_survives_garbage_fields_of_a_live_watcher(
    store: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    watcher = spawn(SLEEP)
    _write_json(store / "service.pid", {"pid": watcher.pid, "started": "yesterday-ish"})
    _write_json(
        store / "service.json",
        {"pid": watcher.pid, "adopted": ["/a", "/b"], "repaired": -1, "mode": 5, "roots": "/x"},
    )
    time.sleep(0.05)
    result = reports.status(interval=0)
    assert result["running"] is True
    assert result["uptime"] > 0  # from the process's own start time
    assert (result["adopted"], result["repaired"], result["mode"], result["roots"]) == (
        2,
        None,
        None,
        [],
    )


# -- the sync daemons ----------------------------------------------------------------


def test_daemons_lists_sync_clients_with_their_cpu(
    tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    bin_dir = tmp_path / "daemons"
    bin_dir.mkdir()
    shutil.copy("/bin/sleep", bin_dir / "maestral")  # psutil's name is the executable's
    shell = shutil.which("dash") or "/bin/sh"
    shutil.copy(shell, bin_dir / "Dropbox")  # matched whatever the case
    idle = spawn([str(bin_dir / "maestral"), "600"])
    busy = spawn([str(bin_dir / "Dropbox"), "-c", "while :; do :; done"])
    time.sleep(0.1)
    found = reports.daemons(interval=0.5)
    ours = {d["pid"]: d for d in found if d["pid"] in (idle.pid, busy.pid)}
    assert ours[idle.pid]["name"] == "maestral"
    assert ours[busy.pid]["name"] == "Dropbox"
    assert ours[idle.pid]["cpu_percent"] < 5
    assert ours[busy.pid]["cpu_percent"] > 20  # measured over the window, not since start
    assert found[0]["pid"] == busy.pid  # busiest first
    assert reports.total_cpu(found) >= ours[busy.pid]["cpu_percent"]
    shown = reports.status(interval=0.2)
    assert {idle.pid, busy.pid} <= {d["pid"] for d in shown["daemons"]}
    assert shown["daemons_cpu"] == reports.total_cpu(shown["daemons"])


def test_daemons_none_matching(spawn: Callable[..., subprocess.Popen[bytes]]) -> None:
    spawn(SLEEP)
    begin = time.monotonic()
    found = reports.daemons(names=("no-such-sync-client",))
    assert found == []
    assert time.monotonic() - begin < 0.4  # nothing to measure: no wait
    assert reports.total_cpu(found) == 0
