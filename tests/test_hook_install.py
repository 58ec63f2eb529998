"""The hook scripts parse and lint cleanly; --install and --uninstall touch only our line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relocator import shells
from relocator.store import Store
from tests.helpers import one_clean_error_line, relocate, require_tool, run

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
    ],
)
def test_hooks_parse_and_lint(tmp_path: Path, shell: str, check: list[str]) -> None:
    require_tool(check[0])
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
    ours = [line for line in text.splitlines() if line.endswith(shells.MARKER)]
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
    assert shells.MARKER in profile.read_text()
    assert shells.MARKER in (isolated / ".bashrc").read_text()
    assert shells.MARKER not in (isolated / ".profile").read_text()
    profile.write_text(profile.read_text() + ". ~/.bashrc\n")  # the user fixed it meanwhile
    run([exe, "hook", "bash", "--uninstall"], check=True)
    assert profile.read_text() == "export A=1\n. ~/.bashrc\n"  # our line went all the same


def test_zsh_install_honours_zdotdir(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zdotdir = isolated / "zdot"
    monkeypatch.setenv("ZDOTDIR", str(zdotdir))
    exe = shutil.which("relocate") or "relocate"
    run([exe, "hook", "zsh", "--install"], check=True)
    assert shells.MARKER in (zdotdir / ".zshrc").read_text()
    assert not (isolated / ".zshrc").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_shell_starts_cleanly_once_relocate_is_gone(
    isolated: Path, tmp_path: Path, shell: str
) -> None:
    require_tool(shell)
    gone = tmp_path / "uninstalled" / "relocate"
    line = shells.get(shell).load_line(str(gone))
    if shell == "fish":
        rc = isolated / ".config" / "fish" / "conf.d" / "relocator.fish"
        rc.parent.mkdir(parents=True)
    else:
        rc = isolated / (".bashrc" if shell == "bash" else ".zshrc")
    rc.write_text(line + "\n")
    env = {"HOME": str(isolated), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    result = subprocess.run(
        [shell, "-i", "-c", "echo started"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.stdout.strip().endswith("started")
    assert "relocate" not in result.stderr


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
