"""The bash hook loads in login shells too: real `bash -l` (and bash 3.2's) on a terminal.

macOS Terminal starts bash as a login shell, which reads the first of
~/.bash_profile, ~/.bash_login and ~/.profile, and ~/.bashrc only when that
file sources it. `relocate hook bash --install` puts the line in ~/.bashrc and
in that login file when it does not source ~/.bashrc; with none there, it
makes a ~/.bash_profile of its own. Uninstalling gives back every file as it
was, and removes the one it made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from tests.helpers import relocate_ok, run, venv_project
from tests.shell_session import BASH_32, Session

DEBIAN_PROFILE = (  # what Debian and Ubuntu put in a new user's ~/.profile
    "# ~/.profile: executed by the command interpreter for login shells.\n"
    'if [ -n "$BASH_VERSION" ]; then\n'
    '    if [ -f "$HOME/.bashrc" ]; then\n'
    '\t. "$HOME/.bashrc"\n'
    "    fi\n"
    "fi\n"
    "export MINE=profile\n"
)

BEFORE: dict[str, dict[str, str]] = {
    "no rc files": {},
    "a .profile that skips .bashrc": {".profile": "# .bashrc is not read\nexport MINE=profile\n"},
    "a .profile that sources .bashrc": {".profile": DEBIAN_PROFILE, ".bashrc": "export RC=1\n"},
    "a .bash_profile": {".bash_profile": "export MINE=bash_profile\n", ".profile": "export NO=1\n"},
    "a .bash_login": {".bash_login": "export MINE=bash_login\n"},
}
NAMES = (".bashrc", ".bash_profile", ".bash_login", ".profile")


def _files(home: Path) -> dict[str, Optional[bytes]]:
    return {n: (home / n).read_bytes() if (home / n).exists() else None for n in NAMES}


def _shell(program: str, login: bool, home: Path, project: Path, scratch: Path) -> Session:
    bindir = scratch / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    if not (bindir / "relocate").exists():
        (bindir / "relocate").symlink_to(shutil.which("relocate") or pytest.fail("no relocate"))
    env = {
        "HOME": str(home),
        "PATH": f"{bindir}:/usr/bin:/bin",
        "RELOCATOR_HOME": os.environ["RELOCATOR_HOME"],
        "TERM": "dumb",
        "HISTFILE": "/dev/null",
        "LANG": "C.UTF-8",
    }
    name = ("bash-3.2" if program == BASH_32 else "bash") + ("-login" if login else "")
    out = scratch / name
    out.mkdir()
    return Session(name, env, project, out)


@pytest.mark.parametrize("program", ["bash", "bash-3.2"])
@pytest.mark.parametrize("before", list(BEFORE))
def test_login_and_other_shells_load_the_hook_and_uninstall_gives_back_the_files(
    isolated: Path, tmp_path: Path, program: str, before: str
) -> None:
    if program == "bash-3.2":
        if not os.path.exists(BASH_32):  # shared/bin/bash-3.2: present here and in CI
            pytest.skip(f"{BASH_32} is absent (a fresh clone)")
        program = BASH_32
    for name, text in BEFORE[before].items():
        (isolated / name).write_text(text)
    was = _files(isolated)
    project = venv_project(tmp_path / "work" / "proj")
    relocate_ok("adopt", str(project))
    venv = os.path.realpath(project / ".venv")
    installed = run([shutil.which("relocate") or "relocate", "hook", "bash", "--install"])
    assert installed.returncode == 0, installed.stderr
    mine = {".bash_profile": "bash_profile", ".bash_login": "bash_login"}.get(
        next(iter(BEFORE[before]), ""), "profile" if ".profile" in BEFORE[before] else ""
    )
    for login in (True, False):
        s = _shell(program, login, isolated, project, tmp_path / "scratch")
        try:
            s.run("true")  # the hook runs before the prompt
            assert s.env("VIRTUAL_ENV")["VIRTUAL_ENV"] == venv, s.text()
            if login:  # the user's own login file still does its part
                assert s.env("MINE")["MINE"] == mine
        finally:
            s.close()
    # sh reads ~/.profile at login too (dash here; a desktop session on Ubuntu): the bash
    # hook is not for it, and the line must leave it alone.
    env = {"HOME": str(isolated), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    env["RELOCATOR_HOME"] = os.environ["RELOCATOR_HOME"]
    sh = subprocess.run(["sh", "-l", "-c", "echo started"], env=env, capture_output=True, text=True)
    assert (sh.stdout, sh.stderr) == ("started\n", "")
    now = _files(isolated)
    if before == "no rc files":
        assert "created" in installed.stdout and ".bash_profile" in installed.stdout
    if before == "a .profile that sources .bashrc":  # bash reads .bashrc through it: left alone
        assert now[".profile"] == was[".profile"] and now[".bash_profile"] is None
    if before == "a .bash_profile":  # not read by bash while .bash_profile is there
        assert now[".profile"] == was[".profile"]

    removed = run([shutil.which("relocate") or "relocate", "hook", "bash", "--uninstall"])
    assert removed.returncode == 0, removed.stderr
    assert _files(isolated) == was
