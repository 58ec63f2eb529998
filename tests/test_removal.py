"""``relocator.commands.removal``: undoing everything relocator did to a machine.

A fake home with real projects adopted by ``relocate`` run as a process, the shell hook's
line in real rc files, and a service unit installed with stand-in ``systemctl`` /
``launchctl`` scripts on PATH (as in test_units.py). After ``removal.uninstall`` the home
must be what it was before relocator touched it, byte for byte, and the store gone; and
the store must stay whenever it still holds something worth keeping.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relocator.commands import removal
from relocator.host import rcedits
from relocator.state.store import Store
from tests.helpers import drop_hop, make_venv, relocate, relocate_ok, require_tool, run

_ACTIVATE = re.compile(r"(^|/)bin/activate(\.[a-z]+)?$")
SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
#: A user's own rc files: CRLF lines, a form feed, an undecodable byte, no final newline.
BASHRC = b"# my settings\r\nexport EDITOR=vi\n\x0c\nalias ll='ls -l' # caf\xe9"
BASH_PROFILE = b"export LANG=C.UTF-8\n"  # does not read .bashrc: the line goes here too
ZSHRC = b"setopt autocd\nbindkey -e\n"


@pytest.fixture
def service_env(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As in test_units.py: XDG_CONFIG_HOME under the fake home, no session bus, and a
    recording ``systemctl`` and a stateful ``launchctl`` first on PATH. Returns their log."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated / ".config"))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    for name in ("DBUS_SESSION_BUS_ADDRESS", "ZDOTDIR", "RELOCATOR_SERVICE_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    log = tmp_path / "calls.log"
    loaded = tmp_path / "loaded"
    fakes = {
        "systemctl": "exit 0",
        "launchctl": (
            f'case "$1" in print) test -e "{loaded}";; bootstrap) touch "{loaded}";;'
            f' bootout) rm -f "{loaded}";; esac'
        ),
    }
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    for name, body in fakes.items():
        script = bindir / name
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "{log}"\n{body}\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return log


def _snapshot(top: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below ``top``, never followed: a link's target, a folder's mode, a
    file's mode and bytes (a venv's activate scripts: only their mode, since adopt and
    eject write the venv's path into them with other quotes)."""
    found: dict[str, tuple[object, ...]] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, top)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode))
            elif _ACTIVATE.search(rel):  # re-quoted by adopt: checked by sourcing it
                found[rel] = ("activate script", stat.S_IMODE(st.st_mode))
            else:
                found[rel] = ("file", stat.S_IMODE(st.st_mode), Path(path).read_bytes())
    return found


def _activated(venv: Path) -> str:
    """``$VIRTUAL_ENV`` after sourcing the venv's ``bin/activate`` in bash."""
    script = '. "$1/bin/activate" && printf %s "$VIRTUAL_ENV"'
    return run(["bash", "-c", script, "bash", str(venv)], check=True).stdout


def _project(root: Path, *, venv: str = ".venv", git: bool = False) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0.1"\n')
    if git:
        run([require_tool("git"), "init", "-q", str(root)], check=True)
    make_venv(root / venv)
    (root / venv / "lib" / "marker.txt").write_text(f"the venv of {root.name}\n")
    return root


def _our_lines(path: Path) -> list[bytes]:
    marker = rcedits.MARKER.encode()
    return [x for x in path.read_bytes().splitlines() if x.endswith(marker)]


def _prefix(venv: Path) -> str:
    out = run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"], check=True)
    return out.stdout.strip()


def _unit(home: Path, platform: str) -> Path:
    if platform == "launchd":
        return home / "Library" / "LaunchAgents" / "io.github.relocator.service.plist"
    return home / ".config" / "systemd" / "user" / "relocator.service"


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_uninstall_gives_the_home_back_as_it_was(
    isolated: Path, store: Path, service_env: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    home = isolated
    alpha = _project(home / "Documents" / "alpha", git=True)
    beta = _project(home / "Documents" / "beta project", venv="venv")  # adopt --name venv
    (home / ".bashrc").write_bytes(BASHRC)
    (home / ".bash_profile").write_bytes(BASH_PROFILE)
    (home / ".zshrc").write_bytes(ZSHRC)
    (home / ".zshrc").chmod(0o600)
    unit = _unit(home, platform)
    unit.parent.mkdir(parents=True)
    (unit.parent / "the-users-own.unit").write_text("mine\n")  # the folder was there already
    before = _snapshot(home)

    monkeypatch.setenv("RELOCATOR_SERVICE_PLATFORM", platform)
    relocate_ok("adopt", str(alpha))
    relocate_ok("adopt", str(beta), "--name", "venv")
    relocate_ok("hook", "bash", "--install")
    relocate_ok("hook", "zsh", "--install")
    relocate_ok("service", "install")
    # Installed, every piece of it:
    assert (alpha / ".venv").is_symlink() and (beta / "venv").is_symlink()
    assert (alpha / ".venv").resolve().parent == store / "venvs"
    for rc in (".bashrc", ".bash_profile", ".zshrc"):
        assert len(_our_lines(home / rc)) == 1, rc
    assert unit.is_file()
    assert removal.plan(Store()) == [
        f"stop and remove the service {unit}",
        "eject 2 projects (each venv goes back as a folder):",
        f"  {alpha}",
        f"  {beta}",
        f"remove the relocator line from {home / '.bashrc'}",
        f"remove the relocator line from {home / '.bash_profile'}",
        f"remove the relocator line from {home / '.zshrc'}",
        f"remove the store {store}",
    ]
    service_env.unlink()

    steps = removal.uninstall(Store())

    assert [(s.what, s.ok) for s in steps] == [
        ("remove the service", True),
        (f"eject {alpha}", True),
        (f"eject {beta}", True),
        ("remove the bash hook line", True),
        ("remove the zsh hook line", True),
        ("remove the fish hook line", True),
        (f"remove the store {store}", True),
    ], steps
    assert steps[0].detail == f"removed {unit}"
    assert steps[1].detail == f"the venv is back in {alpha / '.venv'}"
    assert steps[2].detail == f"the venv is back in {beta / 'venv'}"
    assert steps[3].detail == f"removed it from {home / '.bashrc'}, {home / '.bash_profile'}"
    assert steps[5].detail == "none was installed"
    assert steps[6].detail == "removed"
    # The home is byte for byte what it was: rc files, git's exclude file, the venvs (their
    # scripts and pyvenv.cfg rewritten back), the unit folder with the user's own file.
    assert _snapshot(home) == before
    assert not os.path.lexists(store)
    assert _prefix(alpha / ".venv") == str(alpha / ".venv")
    assert _prefix(beta / "venv") == str(beta / "venv")
    assert _activated(alpha / ".venv") == str(alpha / ".venv")
    assert _activated(beta / "venv") == str(beta / "venv")
    stop = "systemctl --user disable --now relocator.service"
    if platform == "launchd":
        stop = f"launchctl bootout gui/{os.getuid()}/io.github.relocator.service"
    assert stop in service_env.read_text().splitlines()
    # Nothing is left to do, and asking does not make a store again.
    assert removal.plan(Store()) == [
        "no service is installed",
        "no project to eject",
        "no rc file holds the relocator line",
        f"no store at {store}",
    ]
    assert not os.path.lexists(store)


def test_a_failed_eject_keeps_the_store_and_the_rest_goes(
    isolated: Path, store: Path, service_env: Path
) -> None:
    alpha = _project(isolated / "alpha")
    beta = _project(isolated / "beta")
    (isolated / ".bashrc").write_bytes(BASHRC)
    relocate_ok("adopt", str(alpha))
    relocate_ok("adopt", str(beta))
    relocate_ok("hook", "bash", "--install")
    relocate_ok("service", "install")
    (beta_venv,) = [p for p in (store / "venvs").iterdir() if p.is_dir() and "beta" in p.name]
    (beta / ".venv").unlink()
    (beta / ".venv").write_text("not a venv\n")  # eject refuses a .venv that is a file

    steps = removal.uninstall(Store())

    by_what = {s.what: s for s in steps}
    assert by_what[f"eject {alpha}"].ok
    failed = by_what[f"eject {beta}"]
    assert not failed.ok
    assert "is not relocated (its .venv is file)" in failed.detail
    assert "its venv stays in the store, so the store is kept" in failed.detail
    kept = by_what[f"remove the store {store}"]
    assert not kept.ok
    assert kept.detail.startswith("kept: 1 project could not be ejected")
    assert (beta_venv / "lib" / "marker.txt").read_text() == "the venv of beta\n"
    assert (alpha / ".venv").is_dir() and not (alpha / ".venv").is_symlink()
    assert (beta / ".venv").read_text() == "not a venv\n"
    # The rc line and the service go all the same.
    assert by_what["remove the bash hook line"].ok
    assert by_what["remove the service"].ok
    assert (isolated / ".bashrc").read_bytes() == BASHRC
    assert not _unit(isolated, "systemd").exists()
    # Once the file is out of the way, uninstall finishes the job.
    (beta / ".venv").unlink()
    again = removal.uninstall(Store())
    assert all(s.ok for s in again), again
    assert (beta / ".venv" / "lib" / "marker.txt").read_text() == "the venv of beta\n"
    assert _prefix(beta / ".venv") == str(beta / ".venv")
    assert not os.path.lexists(store)


def test_a_hop_replaced_by_a_file_keeps_its_venv(isolated: Path, store: Path) -> None:
    beta = _project(isolated / "beta")
    relocate_ok("adopt", str(beta))
    (venv,) = [p for p in (store / "venvs").iterdir() if p.is_dir()]
    drop_hop(beta)
    (beta / ".venv.nosync").write_text("a sync conflict, say\n")
    steps = removal.uninstall(Store())
    assert (venv / "lib" / "marker.txt").is_file(), steps  # the only copy of the venv
    (eject,) = [s for s in steps if s.what == f"eject {beta.resolve()}"]
    assert not eject.ok and ".venv.nosync is a file, not relocator's link" in eject.detail
    assert store.is_dir()


def test_a_project_that_is_gone_says_gc_and_then_goes(isolated: Path, store: Path) -> None:
    gone = _project(isolated / "gone")
    relocate_ok("adopt", str(gone))
    subprocess.run(["rm", "-rf", str(gone)], check=True)
    steps = removal.uninstall(Store())
    (eject,) = [s for s in steps if s.what == f"eject {gone}"]
    assert not eject.ok
    assert "`relocate gc` moves its venv to the trash" in eject.detail
    assert "then run `relocate uninstall` again" in eject.detail
    assert store.is_dir()
    relocate_ok("gc")
    kept = removal.uninstall(Store())
    assert "its trash holds 1 retired venv or tree" in kept[-1].detail and store.is_dir()
    relocate_ok("gc", "--empty-trash", "--yes")
    again = removal.uninstall(Store())
    assert again[1].what == "eject the relocated projects"
    assert all(s.ok for s in again), again
    assert not os.path.lexists(store)


def test_nothing_installed_is_nothing_to_do(isolated: Path, store: Path) -> None:
    before = _snapshot(isolated)
    steps = removal.uninstall(Store())
    assert [(s.what, s.ok, s.detail) for s in steps] == [
        ("remove the service", True, "none was installed"),
        ("eject the relocated projects", True, "no project was relocated"),
        ("remove the bash hook line", True, "none was installed"),
        ("remove the zsh hook line", True, "none was installed"),
        ("remove the fish hook line", True, "none was installed"),
        (f"remove the store {store}", True, "there is none"),
    ]
    assert not os.path.lexists(store)
    assert _snapshot(isolated) == before


def test_a_store_setting_that_names_the_users_own_folder_deletes_nothing(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = isolated / "Documents"
    (documents / "thesis").mkdir(parents=True)
    (documents / "thesis" / "chapter1.tex").write_text("words\n")
    monkeypatch.setenv("RELOCATOR_HOME", str(documents))  # a slip: not a store
    before = _snapshot(isolated)
    assert removal.plan(Store())[1].startswith(
        f"cannot read the registry, so no project can be ejected: {documents} is not a "
        "relocator store"
    )
    steps = removal.uninstall(Store())
    assert (steps[1].what, steps[1].ok) == ("eject the relocated projects", False)
    assert steps[-1] == removal.Step(
        f"remove the store {documents}",
        False,
        "kept: no project was ejected; fix what is said above, then run `relocate uninstall` again",
    )
    assert _snapshot(isolated) == before


def test_a_store_with_a_file_of_the_users_stays(isolated: Path, store: Path) -> None:
    relocate_ok("adopt", str(_project(isolated / "alpha")))
    (store / "notes.txt").write_text("mine\n")
    steps = removal.uninstall(Store())
    assert steps[1].ok
    assert steps[-1] == removal.Step(
        f"remove the store {store}",
        False,
        "kept: it holds what relocator did not put there (notes.txt); "
        "move that away (or delete the folder yourself)",
    )
    assert (store / "notes.txt").read_text() == "mine\n"
    (store / "notes.txt").unlink()
    assert removal.uninstall(Store())[-1].ok
    assert not os.path.lexists(store)


def test_a_venv_no_project_is_registered_for_keeps_the_store(isolated: Path, store: Path) -> None:
    relocate_ok("adopt", str(_project(isolated / "alpha")))
    orphan = make_venv(store / "venvs" / "orphan-0123abcd")
    (last,) = removal.uninstall(Store())[-1:]
    assert not last.ok
    assert last.detail.startswith("kept: it still holds 1 venv of no registered project")
    assert "orphan-0123abcd" in last.detail
    assert (orphan / "pyvenv.cfg").is_file()


def test_an_interrupted_adopt_keeps_the_store_until_it_is_settled(
    isolated: Path, store: Path
) -> None:
    alpha = _project(isolated / "alpha")
    killed = relocate("adopt", str(alpha), env={**os.environ, "RELOCATOR_FAULT": "adopt:begin"})
    assert killed.returncode == -9
    assert list((store / "journal").glob("*.json"))
    (last,) = removal.uninstall(Store())[-1:]
    assert not last.ok
    assert last.detail == (
        f"kept: an interrupted adopt or eject of {alpha} is not settled yet: "
        "`relocate eject PROJECT` settles it; then run `relocate uninstall` again"
    )
    relocate("eject", str(alpha))  # rolls the adopt back (then says it is not relocated)
    assert removal.uninstall(Store())[-1].ok
    assert not os.path.lexists(store)
    assert (alpha / ".venv" / "lib" / "marker.txt").is_file()


def test_a_running_watcher_keeps_the_store(isolated: Path, store: Path) -> None:
    relocate_ok("adopt", str(_project(isolated / "alpha")))
    watcher = subprocess.Popen(SLEEP, stdin=subprocess.DEVNULL)
    try:
        pid = f'{{"pid": {watcher.pid}, "started": {time.time()}}}'
        (store / "service.pid").write_text(pid)
        (last,) = removal.uninstall(Store())[-1:]
        assert not last.ok
        assert last.detail.startswith(f"kept: a watcher (pid {watcher.pid}) still uses it")
    finally:
        watcher.kill()
        watcher.wait()
    assert removal.uninstall(Store())[-1].ok  # a dead watcher's pid file is no obstacle
    assert not os.path.lexists(store)


def test_a_store_behind_a_symlink_goes_with_its_link(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real-store"
    link = tmp_path / "store-link"
    real.mkdir(mode=0o700)
    link.symlink_to(real)
    monkeypatch.setenv("RELOCATOR_HOME", str(link))
    alpha = _project(isolated / "alpha")
    relocate_ok("adopt", str(alpha))
    neighbour = tmp_path / "neighbour.txt"
    neighbour.write_text("stays\n")
    steps = removal.uninstall(Store())
    assert all(s.ok for s in steps), steps
    assert not os.path.lexists(real) and not os.path.lexists(link)
    assert neighbour.read_text() == "stays\n"
    assert _prefix(alpha / ".venv") == str(alpha / ".venv")


def test_tool_hint_for_a_plain_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test env is an editable pip install: no uv receipt, no pipx metadata, not
    # scripts/install's venv. (uv tool, pipx and scripts/install: test_install.py.)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    python = os.path.join(sys.prefix, "bin", "python")
    expected = f"to remove relocate itself: {python} -m pip uninstall relocator"
    assert removal.tool_hint() == [expected]
