"""Installing relocate from the checkout, for real: ``uv tool install``, ``pipx install``
and ``scripts/install``, each into temporary folders under a fake HOME, then the
installed ``relocate`` adopting and ejecting a real venv, and the removal command
:func:`relocator.removal.tool_hint` names run and checked.

Every install builds from a copy of the checkout's files (``git ls-files``: tracked,
and untracked ones not ignored), never from the checkout itself: setuptools leaves
``build/`` and ``*.egg-info`` beside the sources it builds.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_venv, require_tool, run
from tests.tools import tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HINT = "to remove relocate itself: "
PRINT_HINT = [
    "-c",
    "import relocator, relocator.removal as r; print(relocator.__file__); print(r.tool_hint())",
]


def _source_copy(dest: Path) -> Path:
    """The checkout's files (tracked, and untracked ones git does not ignore) under ``dest``."""
    git = require_tool("git")
    listed = run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
    ).stdout
    names = sorted({n for n in listed.split("\0") if n})
    assert "pyproject.toml" in names and "relocator/removal.py" in names
    for name in names:
        source = REPO / name
        if not os.path.lexists(source):  # deleted in the work tree, not yet in the index
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name, follow_symlinks=False)
    return dest


def _env(**extra: str) -> dict[str, str]:
    """The environment of the tools: no active venv, and every XDG folder under the fake
    HOME (fish, pip and uv write there)."""
    home = os.environ["HOME"]
    xdg = {
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_DATA_HOME": f"{home}/.local/share",
        "XDG_STATE_HOME": f"{home}/.local/state",
        "XDG_CACHE_HOME": f"{home}/.cache",
    }
    env = {**os.environ, **xdg, "UV_PYTHON_DOWNLOADS": "never", **extra}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PIP_USER", "UV_TOOL_DIR", "UV_TOOL_BIN_DIR"):
        if name not in extra:
            env.pop(name, None)
    return env


def _ok(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = run(cmd, **kw)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _check_relocate_works(exe: Path, work: Path, env: dict[str, str]) -> None:
    """The installed ``relocate``: its help, a lookup, and adopt then eject of a real venv
    in a store of its own."""
    assert "adopt" in _ok([str(exe), "--help"], env=env, cwd=work).stdout
    assert _ok([str(exe), "resolve", "/"], env=env, cwd=work).stdout.strip()
    store = work / "store"
    env = {**env, "RELOCATOR_HOME": str(store)}
    project = work / "My Project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1"\n')
    make_venv(project / ".venv")
    _ok([str(exe), "adopt", str(project)], env=env, cwd=work)
    assert (project / ".venv").is_symlink()
    assert (project / ".venv").resolve().parent == store / "venvs"
    python = _ok([str(exe), "python", str(project)], env=env, cwd=work).stdout.strip()
    assert python == str(project / ".venv" / "bin" / "python")
    _ok([str(exe), "eject", str(project)], env=env, cwd=work)
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()


def _hint(python: Path, env: dict[str, str], cwd: Path) -> str:
    """What tool_hint says in the installed relocate's own interpreter (which must import
    the installed package, not the checkout)."""
    module, hint = _ok([str(python), *PRINT_HINT], env=env, cwd=cwd).stdout.splitlines()
    assert Path(module).is_relative_to(python.parent.parent), module
    assert hint.startswith(HINT)
    return hint[len(HINT) :]


def test_uv_tool_install_from_the_checkout(tmp_path: Path, isolated: Path) -> None:
    uv = require_tool("uv")
    src = _source_copy(tmp_path / "src")
    tools, bindir = tmp_path / "uv-tools", tmp_path / "uv-bin"
    env = _env(UV_TOOL_DIR=str(tools), UV_TOOL_BIN_DIR=str(bindir))
    _ok([uv, "tool", "install", "--python", sys.executable, str(src)], env=env, cwd=tmp_path)
    exe = bindir / "relocate"
    assert exe.resolve() == (tools / "relocator" / "bin" / "relocate").resolve()
    assert str(src) in (tools / "relocator" / "uv-receipt.toml").read_text()  # built from the copy
    _check_relocate_works(exe, tmp_path, env)

    command = _hint(tools / "relocator" / "bin" / "python", env, tmp_path)
    assert command == "uv tool uninstall relocator"
    _ok([uv, *shlex.split(command)[1:]], env=env, cwd=tmp_path)
    assert not os.path.lexists(exe)
    assert not os.path.lexists(tools / "relocator")


def test_pipx_install_from_the_checkout(tmp_path: Path, isolated: Path) -> None:
    pipx = tool("pipx")
    src = _source_copy(tmp_path / "src")
    home, bindir = tmp_path / "pipx-home", tmp_path / "pipx-bin"
    env = _env(
        PIPX_HOME=str(home), PIPX_BIN_DIR=str(bindir), PIPX_MAN_DIR=str(tmp_path / "pipx-man")
    )
    _ok([pipx, "install", "--python", sys.executable, str(src)], env=env, cwd=tmp_path)
    venv = home / "venvs" / "relocator"
    exe = bindir / "relocate"
    assert exe.resolve() == (venv / "bin" / "relocate").resolve()
    assert str(src) in (venv / "pipx_metadata.json").read_text()  # built from the copy
    _check_relocate_works(exe, tmp_path, env)

    command = _hint(venv / "bin" / "python", env, tmp_path)
    assert command == "pipx uninstall relocator"
    _ok([pipx, *shlex.split(command)[1:]], env=env, cwd=tmp_path)
    assert not os.path.lexists(exe)
    assert not os.path.lexists(venv)


def _run_install_script(script: Path, home: Path, path: str, shell: str) -> tuple[str, str]:
    env = {**_env(), "HOME": str(home), "PATH": path, "SHELL": shell}
    env.pop("RELOCATOR_PREFIX", None)
    result = _ok(["bash", str(script)], env=env, cwd=home)
    return result.stdout, result.stderr


def test_scripts_install_says_how_to_put_its_folder_on_path(tmp_path: Path, isolated: Path) -> None:
    if run([sys.executable, "-c", "import ensurepip"]).returncode != 0:
        pytest.skip("scripts/install would install python3-venv with apt first")
    script = _source_copy(tmp_path / "src") / "scripts" / "install"
    home = isolated
    bindir = home / ".local" / "bin"
    base_path = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # python3, and no ~/.local/bin
    warning = f"warning: {bindir} is not on your PATH, so your shell will not find relocate."

    out, err = _run_install_script(script, home, base_path, "/bin/bash")
    assert out.strip() == f"installed {bindir / 'relocate'}"
    assert err.splitlines() == [
        warning,
        "  add this line to ~/.bashrc, then open a new shell:",
        '    export PATH="$HOME/.local/bin:$PATH"',
    ]
    # The line it prints is the one that makes the shell find relocate.
    line = err.splitlines()[-1].strip()
    env = {**_env(), "HOME": str(home), "PATH": base_path}
    found = _ok(["bash", "-c", f"{line}; command -v relocate"], env=env, cwd=home).stdout
    assert found.strip() == str(bindir / "relocate")

    _, err = _run_install_script(script, home, base_path, "/usr/bin/zsh")
    assert err.splitlines()[1:] == [
        "  add this line to ~/.zshrc, then open a new shell:",
        '    export PATH="$HOME/.local/bin:$PATH"',
    ]
    _, err = _run_install_script(script, home, base_path, "/usr/bin/fish")
    assert err.splitlines() == [
        warning,
        "  run this once in fish (it stays set):",
        "    fish_add_path ~/.local/bin",
    ]
    fish = require_tool("fish")
    found = _ok([fish, "-c", "fish_add_path ~/.local/bin; command -v relocate"], env=env).stdout
    assert found.strip() == str(bindir / "relocate")

    out, err = _run_install_script(script, home, f"{bindir}:{base_path}", "/bin/bash")
    assert (out.strip(), err) == (f"installed {bindir / 'relocate'}", "")

    prefix = home / ".local" / "share" / "relocator" / "venv"
    link = bindir / "relocate"
    assert os.readlink(link) == str(prefix / "bin" / "relocate")
    _check_relocate_works(link, tmp_path, env)

    command = _hint(prefix / "bin" / "python", env, tmp_path)
    assert command == f"rm {link} && rm -rf {prefix} && rmdir {prefix.parent}"
    _ok(["sh", "-c", command], env=env, cwd=home)
    assert not os.path.lexists(link)
    assert not os.path.lexists(prefix.parent)
    assert bindir.is_dir()  # the folder is the user's too
