"""The hook scripts parse and lint cleanly; --install and --uninstall touch only our line.

An rc file keeps every byte that is not ours (line ends, form feeds, undecodable
bytes, a missing final newline), its mode and owner; a symlinked one is edited at
its target; anything that is not a regular file, or not ours to write, gets a note.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relocator.host import rcedits, shells
from relocator.state.store import Store
from tests.helpers import one_clean_error_line, relocate, require_tool, run
from tests.shell_session import BASH_32

SHELLS = ("bash", "zsh", "fish")


def _rendered(shell: str, tmp_path: Path) -> Path:
    out = relocate("hook", shell)
    assert out.returncode == 0, out.stderr
    path = tmp_path / f"hook.{shell}"
    path.write_text(out.stdout)
    return path


@pytest.mark.parametrize(
    ("shell", "check"),
    [
        ("bash", ["bash", "-n"]),
        ("zsh", ["zsh", "-n"]),
        ("fish", ["fish", "--no-execute"]),
        ("bash", ["shellcheck", "-s", "bash", "-S", "info"]),
        ("bash", [BASH_32, "-n"]),
    ],
)
def test_hooks_parse_and_lint(tmp_path: Path, shell: str, check: list[str]) -> None:
    _require_shell("bash-3.2" if check[0] == BASH_32 else check[0])
    hook = _rendered(shell, tmp_path)
    result = run([*check, str(hook)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_the_hook_names_the_real_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shell: str
) -> None:
    real = tmp_path / "real store's $(place)"
    real.mkdir()
    monkeypatch.setenv("RELOCATOR_HOME", str(tmp_path / "alias"))
    (tmp_path / "alias").symlink_to(real)
    text = relocate("hook", shell).stdout
    assert shells.get(shell).quote(str(real / "venvs")) in text
    assert "__RELOCATOR_VENVS__" not in text
    assert oct(os.stat(real).st_mode & 0o777) == "0o700"


@pytest.mark.parametrize("shell", SHELLS)
def test_install_and_uninstall_round_trip(isolated: Path, shell: str) -> None:
    user = "# my own settings\nexport EDITOR=vi\n"
    bashrc, zshrc = isolated / ".bashrc", isolated / ".zshrc"
    fish = isolated / ".config" / "fish" / "conf.d" / "relocator.fish"
    rc = {"bash": bashrc, "zsh": zshrc, "fish": fish}[shell]
    if shell != "fish":
        rc.write_text(user)
        rc.chmod(0o600)
    exe = shutil.which("relocate") or "relocate"
    result = run([exe, "hook", shell, "--install"])
    assert result.returncode == 0, result.stderr
    text = rc.read_text()
    ours = [line for line in text.splitlines() if line.endswith(rcedits.MARKER)]
    assert len(ours) == 1 and f"hook {shell}" in ours[0]
    if shell != "fish":
        assert text.startswith(user)
        assert oct(rc.stat().st_mode & 0o777) == "0o600"
    again = run([exe, "hook", shell, "--install"])
    assert "already installed" in again.stdout
    assert rc.read_text() == text

    assert run([exe, "hook", shell, "--uninstall"]).returncode == 0
    if shell == "fish":
        assert not rc.exists()
    else:
        assert rc.read_text() == user


def test_bash_install_covers_a_login_profile_that_skips_bashrc(isolated: Path) -> None:
    profile = isolated / ".bash_profile"
    profile.write_text("export A=1\n")
    (isolated / ".profile").write_text(". ~/.bashrc\n")  # not read: .bash_profile comes first
    exe = shutil.which("relocate") or "relocate"
    run([exe, "hook", "bash", "--install"], check=True)
    assert rcedits.MARKER in profile.read_text()
    assert rcedits.MARKER in (isolated / ".bashrc").read_text()
    assert rcedits.MARKER not in (isolated / ".profile").read_text()
    profile.write_text(profile.read_text() + ". ~/.bashrc\n")  # the user fixed it meanwhile
    run([exe, "hook", "bash", "--uninstall"], check=True)
    assert profile.read_text() == "export A=1\n. ~/.bashrc\n"  # our line went all the same


def test_zsh_install_honours_zdotdir(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zdotdir = isolated / "zdot"
    monkeypatch.setenv("ZDOTDIR", str(zdotdir))
    exe = shutil.which("relocate") or "relocate"
    run([exe, "hook", "zsh", "--install"], check=True)
    assert rcedits.MARKER in (zdotdir / ".zshrc").read_text()
    assert not (isolated / ".zshrc").exists()


@pytest.mark.parametrize("shell", [*SHELLS, "bash-3.2"])
def test_a_shell_starts_cleanly_once_relocate_is_gone(
    isolated: Path, tmp_path: Path, shell: str
) -> None:
    program = _require_shell(shell)
    family = "bash" if shell == "bash-3.2" else shell
    gone = tmp_path / "uninstalled" / "relocate"
    hook = tmp_path / "store" / "hooks" / f"relocator.{family}"
    hook.parent.mkdir(parents=True)
    hook.write_text("echo STALE-HOOK\n")  # left behind, and newer than the command: never read
    line = shells.get(family).load_line(str(gone), str(hook))
    if family == "fish":
        rc = isolated / ".config" / "fish" / "conf.d" / "relocator.fish"
        rc.parent.mkdir(parents=True)
    else:
        rc = isolated / (".bashrc" if family == "bash" else ".zshrc")
    rc.write_text(line + "\n")
    env = {"HOME": str(isolated), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    result = subprocess.run(
        [program, "-i", "-c", "echo started"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.stdout.strip().endswith("started")
    assert "relocate" not in result.stderr
    assert "STALE" not in result.stdout


def _require_shell(shell: str) -> str:
    if shell != "bash-3.2":
        return require_tool(shell)
    if not os.path.exists(BASH_32):  # shared/bin/bash-3.2: present here and in CI
        pytest.skip(f"{BASH_32} is absent (a fresh clone)")
    return BASH_32


def test_hook_usage_errors() -> None:
    assert "unknown shell" in one_clean_error_line(relocate("hook", "tcsh"))
    assert relocate("hook").returncode == 2
    assert relocate("hook", "bash", "--install", "--uninstall").returncode == 2


def test_hook_keeps_to_the_standard_library(tmp_path: Path) -> None:
    result = run(
        [sys.executable, "-X", "importtime", "-m", "relocator", "hook", "zsh"],
        env={**os.environ},
    )
    heavy = {"typer", "click", "filelock", "psutil", "platformdirs", "rich", "sqlite3"}
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert not heavy & imported
    assert Store().root in result.stdout or "venvs" in result.stdout


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("unset PROMPT_COMMAND", "_relocator_hook"),
        ("PROMPT_COMMAND='history -a'", "_relocator_hook;history -a"),
        ("PROMPT_COMMAND=('history -a' 'echo x')", "_relocator_hook|history -a|echo x"),
    ],
)
def test_bash_prompt_command_gets_the_hook_once(tmp_path: Path, before: str, after: str) -> None:
    require_tool("bash")
    hook = _rendered("bash", tmp_path)
    script = f'{before}; . "$1"; . "$1"; IFS="|"; printf %s "${{PROMPT_COMMAND[*]}}"'
    result = run(["bash", "-c", script, "bash", str(hook)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == after
    if os.path.exists(BASH_32):  # before 5.1 an array's first item is the command
        old = run([BASH_32, "-c", script, "bash", str(hook)])
        assert old.returncode == 0, old.stderr
        assert old.stdout == after.replace("|", ";", 1)


# -- rc files: bytes, links, owners -------------------------------------------------------

EXE = "/opt/relocator/bin/relocate"
RC_HOSTILE = (
    b"# mine\r\n"
    b"alias ll='ls -l'\x0c\n"
    b"echo sep\xe2\x80\xa8para\xe2\x80\xa9\x1c\x1d\x1e\xc2\x85\n"
    b"echo \xff\xfe not utf-8\n"
    b"\n"
    b"export LAST=1"
)


def _rc(isolated: Path, shell: str) -> Path:
    """The rc file of ``shell``; for bash, with a login profile that sources it, so that
    ``~/.bashrc`` is the one file install edits."""
    if shell == "bash":
        (isolated / ".profile").write_text("[ -f ~/.bashrc ] && . ~/.bashrc\n")
    return isolated / {"bash": ".bashrc", "zsh": ".zshrc"}[shell]


def _our_line(shell: str) -> bytes:
    one = shells.get(shell)
    return one.load_line(EXE, shells.hook_file(Store(), one)).encode()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@pytest.mark.parametrize(
    "original",
    [RC_HOSTILE, RC_HOSTILE + b"\n", RC_HOSTILE + b"\r\n", b"", b"x", b"\n\n"],
    ids=["hostile-no-final-newline", "hostile", "hostile-crlf", "empty", "one-bare", "blank"],
)
def test_install_then_uninstall_gives_back_the_exact_bytes(
    isolated: Path, shell: str, original: bytes
) -> None:
    rc = _rc(isolated, shell)
    rc.write_bytes(original)
    edits = shells.install(shells.get(shell), EXE)
    assert edits.changed == [str(rc)] and edits.notes == []
    text = rc.read_bytes()
    if original and not original.endswith(b"\n"):  # ours goes after a newline of ours
        assert text == original + b"\n" + _our_line(shell)
    else:
        assert text == original + _our_line(shell) + b"\n"
    assert shells.install(shells.get(shell), EXE) == rcedits.Edits([], [])
    assert shells.uninstall(shells.get(shell)).changed == [str(rc)]
    assert rc.read_bytes() == original


def test_an_older_line_of_ours_is_replaced_where_it_stands(isolated: Path) -> None:
    rc = _rc(isolated, "zsh")
    old = b'[ -x /old/relocate ] && eval "$(/old/relocate hook zsh)" # relocator-hook'
    rc.write_bytes(b"first\r\n" + old + b"\r\nlast\x0c\n" + old + b"\nbare")
    shells.install(shells.get("zsh"), EXE)
    assert rc.read_bytes() == b"first\r\n" + _our_line("zsh") + b"\nlast\x0c\nbare"
    shells.uninstall(shells.get("zsh"))
    assert rc.read_bytes() == b"first\r\nlast\x0c\nbare"


def test_only_lines_ending_in_the_marker_are_ours(isolated: Path) -> None:
    rc = _rc(isolated, "bash")
    user = b"# relocator-hook is what relocate writes\necho '# relocator-hook' # mine\n"
    rc.write_bytes(user)
    shells.install(shells.get("bash"), EXE)
    shells.uninstall(shells.get("bash"))
    assert rc.read_bytes() == user


def test_a_symlinked_rc_file_is_edited_at_its_target(isolated: Path) -> None:
    dotfiles = isolated / "dotfiles" / "zsh"
    dotfiles.mkdir(parents=True)
    target = dotfiles / "zshrc"
    target.write_bytes(RC_HOSTILE)
    target.chmod(0o640)
    (isolated / "dotfiles" / "current").symlink_to(target)  # a chain of two links
    rc = _rc(isolated, "zsh")
    rc.symlink_to(isolated / "dotfiles" / "current")
    edits = shells.install(shells.get("zsh"), EXE)
    assert edits.changed == [str(rc)]
    assert os.readlink(rc) == str(isolated / "dotfiles" / "current")  # still a link
    assert target.read_bytes() == RC_HOSTILE + b"\n" + _our_line("zsh")
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in dotfiles.iterdir()) == ["zshrc"]  # nothing left beside it
    shells.uninstall(shells.get("zsh"))
    assert rc.is_symlink() and target.read_bytes() == RC_HOSTILE


@pytest.mark.parametrize("shape", ["dangling", "loop"])
def test_a_symlink_leading_nowhere_is_left_alone_with_a_note(isolated: Path, shape: str) -> None:
    rc = _rc(isolated, "zsh")
    missing = isolated / "unmounted" / "dotfiles" / "zshrc"
    if shape == "dangling":
        rc.symlink_to(missing)
    else:
        (isolated / "other").symlink_to(rc)
        rc.symlink_to(isolated / "other")
    before = sorted(str(p) for p in isolated.rglob("*"))
    exe = shutil.which("relocate") or "relocate"
    result = run([exe, "hook", "zsh", "--install"])
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"relocate: {rc} is a symlink to ") and "does not exist" in line
    assert sorted(str(p) for p in isolated.rglob("*")) == before
    assert run([exe, "hook", "zsh", "--uninstall"]).returncode == 0


def test_mode_and_owner_are_kept(isolated: Path) -> None:
    rc = _rc(isolated, "bash")
    rc.write_bytes(RC_HOSTILE)
    rc.chmod(0o604)
    if os.geteuid() == 0:  # as root (sudo with the user's HOME): give it back to its owner
        os.chown(rc, 4242, 4343)
    before = rc.stat()
    for edit in (
        lambda: shells.install(shells.get("bash"), EXE),
        lambda: shells.uninstall(shells.get("bash")),
    ):
        assert edit().changed == [str(rc)]
        after = rc.stat()
        assert (after.st_mode, after.st_uid, after.st_gid) == (
            before.st_mode,
            before.st_uid,
            before.st_gid,
        )
    assert rc.read_bytes() == RC_HOSTILE


def test_another_users_rc_file_is_left_alone(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc = _rc(isolated, "zsh")
    rc.write_bytes(RC_HOSTILE)
    monkeypatch.setattr(shells.os, "geteuid", lambda: os.getuid() + 4242)  # not root, not its owner
    edits = shells.install(shells.get("zsh"), EXE)
    assert edits.changed == []
    (note,) = edits.notes
    assert note.startswith(f"{rc} belongs to another user")
    assert rc.read_bytes() == RC_HOSTILE


@pytest.mark.parametrize("shape", ["fifo", "folder"])
def test_an_rc_that_is_not_a_regular_file_is_never_opened(isolated: Path, shape: str) -> None:
    rc = _rc(isolated, "bash")
    profile = isolated / ".bash_profile"  # read to see whether it sources .bashrc
    for path in (rc, profile):
        if shape == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir()
    exe = shutil.which("relocate") or "relocate"
    result = run([exe, "hook", "bash", "--install"], timeout=60)  # an open FIFO would hang
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"relocate: {rc} is not a regular file; not changed",
        f"relocate: {profile} is not a regular file; not changed",
    ]
    assert run([exe, "hook", "bash", "--uninstall"], timeout=60).returncode == 0
    assert (rc.is_fifo() if shape == "fifo" else rc.is_dir()) and profile.exists()


# -- the rendered hook: sourced without a process, rendered again after an upgrade ----------


def _start(program: str, home: Path, store: Path, probe: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "TERM": "dumb",
        "RELOCATOR_HOME": str(store),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    result = subprocess.run(
        [program, "-i", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("shell", [*SHELLS, "bash-3.2"])
def test_the_rendered_hook_is_used_until_an_upgrade_and_never_stale(
    isolated: Path, tmp_path: Path, store: Path, shell: str
) -> None:
    program = _require_shell(shell)
    family = "bash" if shell == "bash-3.2" else shell
    one = shells.get(family)
    log = tmp_path / "ran.log"
    exe = tmp_path / "bin" / "relocate"  # stands for the installed command: logs each run
    exe.parent.mkdir()
    real = shutil.which("relocate")
    assert real is not None
    exe.write_text(f"#!/bin/sh\necho ran >> '{log}'\nexec '{real}' \"$@\"\n")
    exe.chmod(0o755)
    installed = exe.stat().st_mtime_ns - 10_000_000_000  # bash 3.2 compares whole seconds
    os.utime(exe, ns=(installed, installed))
    assert shells.install(one, str(exe)).notes == []
    hook = Path(shells.hook_file(Store(), one))
    probe = (
        "functions -q __relocator_hook; and echo loaded"
        if family == "fish"
        else ("type _relocator_hook >/dev/null && echo loaded")
    )

    # Installed: the hook was rendered; a new shell sources it and starts no process.
    assert _start(program, isolated, store, probe).stdout.strip().endswith("loaded")
    assert not log.exists()

    # An upgrade writes the command anew: the next shell renders the hook again (once).
    hook.write_text(hook.read_text() + "\necho STALE-HOOK\n")
    older = exe.stat().st_mtime_ns - 2_000_000_000  # rendered before the upgrade
    os.utime(hook, ns=(older, older))
    result = _start(program, isolated, store, probe)
    assert result.stdout.strip().endswith("loaded") and "STALE" not in result.stdout
    assert log.read_text() == "ran\n"
    assert "STALE" not in hook.read_text() and hook.stat().st_mtime_ns > exe.stat().st_mtime_ns
    assert _start(program, isolated, store, probe).stdout.strip().endswith("loaded")
    assert log.read_text() == "ran\n"  # fast again

    # Uninstalled without --uninstall: the line does nothing, the file is never read.
    hook.write_text("echo STALE-HOOK\n")
    exe.unlink()
    result = _start(program, isolated, store, "echo started")
    assert result.stdout.strip().endswith("started") and "STALE" not in result.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_uninstall_removes_the_rendered_hook_and_the_rc_files_install_created(
    isolated: Path, shell: str
) -> None:
    one = shells.get(shell)
    kept = isolated / ".profile"  # bash: a login profile that was there, empty, stays
    kept.write_text("")
    shells.install(one, EXE)
    hook = Path(shells.hook_file(Store(), one))
    rc_files = [Path(p) for p in one.rc_files()]
    assert hook.is_file() and all(p.is_file() for p in rc_files)
    shells.uninstall(one)
    assert not hook.exists()
    assert [p for p in rc_files if p.exists() and p != kept] == []
    assert kept.read_text() == ""
    # A file the install created but the user wrote into since stays, without our line.
    shells.install(one, EXE)
    with open(rc_files[0], "a", encoding="utf-8") as f:
        f.write("export MINE=1\n")
    shells.uninstall(one)
    assert rc_files[0].read_text() == "export MINE=1\n"
