"""Installing relocate from the checkout, for real: ``uv tool install``, ``pipx install``
and ``scripts/install``, each into temporary folders under a fake HOME, then the
installed ``relocate`` adopting and ejecting a real venv, and the removal command
:func:`relocator.commands.removal.tool_hint` names run and checked; then all three in one HOME,
where each finds the others (``relocate info``, ``uninstall``, ``scripts/install``).

Every install builds from a copy of the checkout's files (``helpers.source_copy``).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_venv, require_tool, run, source_copy
from tests.tools import tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HINT = "to remove relocate itself: "
PRINT_HINT = [
    "-c",
    "import relocator, relocator.commands.removal as r; "
    "print(relocator.__file__); print(*r.tool_hint())",
]


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
    the installed package, not the checkout), with no other copy on PATH."""
    env = {**env, "PATH": "/usr/bin:/bin"}
    module, hint = _ok([str(python), *PRINT_HINT], env=env, cwd=cwd).stdout.splitlines()
    assert Path(module).is_relative_to(python.parent.parent), module
    assert hint.startswith(HINT)
    return hint[len(HINT) :]


def test_uv_tool_install_from_the_checkout(tmp_path: Path, isolated: Path) -> None:
    uv = require_tool("uv")
    src = source_copy(tmp_path / "src")
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
    src = source_copy(tmp_path / "src")
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
    script = source_copy(tmp_path / "src") / "scripts" / "install"
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


def test_each_install_finds_the_others_and_says_what_to_run(tmp_path: Path, isolated: Path) -> None:
    """uv tool, pipx and scripts/install in one HOME, all wanting ~/.local/bin/relocate:
    scripts/install leaves uv's alone and says what to run, pipx's copy (which pipx
    installs without linking) shows in ``info`` and ``uninstall``, and ``uninstall
    --self`` removes what scripts/install made."""
    if run([sys.executable, "-c", "import ensurepip"]).returncode != 0:
        pytest.skip("scripts/install would install python3-venv with apt first")
    uv, pipx = require_tool("uv"), tool("pipx")
    src = source_copy(tmp_path / "src")
    script = src / "scripts" / "install"
    home = isolated
    bindir, prefix = home / ".local" / "bin", home / ".local" / "share" / "relocator" / "venv"
    link = bindir / "relocate"
    uv_tools, pipx_home = tmp_path / "uv-tools", tmp_path / "pipx-home"
    python_only = tmp_path / "python-only"  # python3 for scripts/install, no other relocate
    python_only.mkdir()
    (python_only / "python3").symlink_to(sys.executable)
    env = _env(
        HOME=str(home),
        PATH=f"{bindir}:{python_only}:/usr/bin:/bin",
        SHELL="/bin/bash",
        UV_TOOL_DIR=str(uv_tools),
        UV_TOOL_BIN_DIR=str(bindir),
        PIPX_HOME=str(pipx_home),
        PIPX_BIN_DIR=str(bindir),
        PIPX_MAN_DIR=str(tmp_path / "pipx-man"),
    )
    env.pop("RELOCATOR_PREFIX", None)
    uv_venv, pipx_venv = uv_tools / "relocator", pipx_home / "venvs" / "relocator"

    _ok([uv, "tool", "install", "--python", sys.executable, str(src)], env=env, cwd=tmp_path)
    assert link.resolve() == (uv_venv / "bin" / "relocate").resolve()
    refused = run(["bash", str(script)], env=env, cwd=home)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == (
        f"relocate: {link} is relocate installed with uv tool install (venv {uv_venv}): keep "
        "that one (`uv tool install --reinstall relocator` updates it), or `uv tool uninstall "
        "relocator` and then run scripts/install again\n"
    )
    assert link.resolve() == (uv_venv / "bin" / "relocate").resolve()
    assert not os.path.lexists(prefix.parent)  # nothing made before the refusal

    _ok([pipx, "install", "--python", sys.executable, str(src)], env=env, cwd=tmp_path)
    assert link.resolve() == (uv_venv / "bin" / "relocate").resolve()  # pipx did not link
    info = json.loads(_ok([str(link), "info", "--json"], env=env, cwd=tmp_path).stdout)
    assert info["store"] == os.environ["RELOCATOR_HOME"]
    assert info["hooks"] == os.path.join(info["store"], "hooks")
    found = [(i["method"], i["prefix"], i["commands"], i["running"]) for i in info["installs"]]
    assert found == [
        ("uv tool", str(uv_venv), [str(link)], True),
        ("pipx", str(pipx_venv), [], False),
    ]
    said = _ok([str(link), "uninstall", "--yes"], env=env, cwd=tmp_path).stdout.splitlines()
    assert said[-3:] == [
        "relocate is installed 2 ways; to remove relocate itself, run each:",
        f"  uv tool, venv {uv_venv} (this one): uv tool uninstall relocator",
        f"  pipx, venv {pipx_venv}: pipx uninstall relocator",
    ]

    _ok([uv, "tool", "uninstall", "relocator"], env=env, cwd=tmp_path)
    _ok([pipx, "uninstall", "relocator"], env=env, cwd=tmp_path)
    assert not os.path.lexists(link)
    _ok(["bash", str(script)], env=env, cwd=home)
    assert os.readlink(link) == str(prefix / "bin" / "relocate")
    assert json.loads((prefix / "relocator-install.json").read_text())["link"] == str(link)
    verbose = _ok([str(link), "-V", "-v"], env=env, cwd=tmp_path).stdout.splitlines()
    assert verbose[1] == f"installed: scripts/install, venv {prefix}"
    assert f"store: {os.environ['RELOCATOR_HOME']}" in verbose

    done = _ok([str(link), "uninstall", "--yes", "--self"], env=env, cwd=tmp_path).stdout
    lines = done.splitlines()
    assert f"ok     remove relocate itself: removed {link}, {prefix}, {prefix.parent}" in lines
    assert lines[-1] == "no other copy of relocate is installed"
    assert not os.path.lexists(link) and not os.path.lexists(prefix.parent)
    assert bindir.is_dir()  # the folder is the user's too


def test_the_demo_installs_nothing_and_leaves_nothing(tmp_path: Path, isolated: Path) -> None:
    if run([sys.executable, "-c", "import ensurepip"]).returncode != 0:
        pytest.skip("scripts/install would install python3-venv with apt first")
    script = source_copy(tmp_path / "src") / "scripts" / "install"
    temp = tmp_path / "temp"
    temp.mkdir()
    python_only = tmp_path / "python-only"
    python_only.mkdir()
    (python_only / "python3").symlink_to(sys.executable)
    env = _env(HOME=str(isolated), PATH=f"{python_only}:/usr/bin:/bin", TMPDIR=str(temp))
    env.pop("RELOCATOR_HOME")  # the demo brings its own store
    result = _ok(["bash", str(script), "--demo"], env=env, cwd=isolated)
    assert "+ " in result.stderr and " adopt " in result.stderr  # it showed its steps
    assert "venv back in" in result.stdout  # the eject at the end
    assert (
        result.stdout.splitlines()[-1]
        == "nothing is installed. To install relocate: scripts/install"
    )
    assert list(temp.iterdir()) == []  # relocate, the project and the store: all gone
    assert not (isolated / ".local").exists()
    assert sorted(p.name for p in isolated.iterdir()) in ([], [".cache"])  # pip's cache at most
