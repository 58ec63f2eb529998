"""A project synced to a second machine, and a project moved on one machine.

The second machine is a second HOME and store; the project is copied with its
links kept and every ``*.nosync`` name dropped, as iCloud Drive syncs it. The
repair there must change no synced entry of the project.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    env_without_uv,
    has_shape,
    make_venv,
    other_volume,
    pip_install_editable,
    relocate,
    relocate_json,
    run,
    store_venvs,
    write_project,
)
from tests.test_lifecycle import imports_six, uv, uv_app

pytestmark = pytest.mark.slow


def machine(base: Path) -> dict[str, str]:
    home = base / "home"
    (home / "Documents").mkdir(parents=True)
    return {**os.environ, "HOME": str(home), "RELOCATOR_HOME": str(base / "store")}


def synced(project: Path) -> dict[str, tuple[str, object]]:
    """Every entry a sync engine uploads: path -> (kind, bytes or link target)."""
    found: dict[str, tuple[str, object]] = {}
    for folder, dirs, files in os.walk(project):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(project))
            if name.endswith(".nosync") or ".nosync/" in f"{rel}/":
                continue
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir", None)
            else:
                found[rel] = ("file", path.read_bytes())
        dirs[:] = [
            d for d in dirs if not (Path(folder) / d).is_symlink() and not d.endswith(".nosync")
        ]
    return found


def sync_to(project: Path, other: Path) -> Path:
    """What iCloud Drive delivers: links kept, ``*.nosync`` never uploaded."""
    shutil.copytree(project, other, symlinks=True, ignore=shutil.ignore_patterns("*.nosync"))
    return other


def second_machine_repair(tmp_path: Path, project_a: Path, env_a: dict[str, str]) -> Path:
    adopted = relocate("adopt", str(project_a), env=env_a)
    assert adopted.returncode == 0, adopted.stderr
    env_b = machine(tmp_path / "b")
    project_b = sync_to(project_a, Path(env_b["HOME"]) / "Documents" / project_a.name)
    assert os.readlink(project_b / ".venv") == ".venv.nosync/.venv"
    assert not os.path.lexists(project_b / ".venv.nosync")
    before = synced(project_b)
    link_before = os.lstat(project_b / ".venv")
    result = relocate("adopt", str(project_b), "--json", env=env_b)
    assert result.returncode == 0, result.stderr
    assert synced(project_b) == before  # nothing that syncs changed or appeared
    link_after = os.lstat(project_b / ".venv")  # the link itself was not even rewritten
    assert (link_after.st_ino, link_after.st_mtime_ns) == (
        link_before.st_ino,
        link_before.st_mtime_ns,
    )
    assert has_shape(project_b)
    assert imports_six(project_b) and imports_six(project_a)  # both machines work
    (venv_b,) = store_venvs(tmp_path / "b" / "store")
    assert os.path.realpath(project_b / ".venv") == str(venv_b)
    assert relocate_json("status", str(project_b), env=env_b)["status"] == "ok"
    return project_b


def test_second_machine_is_rebuilt_from_uv_lock(tmp_path: Path) -> None:
    env_a = machine(tmp_path / "a")
    project = uv_app(Path(env_a["HOME"]) / "Documents" / "app")
    lock = (project / "uv.lock").read_bytes()
    project_b = second_machine_repair(tmp_path, project, env_a)
    assert (project_b / "uv.lock").read_bytes() == lock
    result = run([uv(), "run", "--locked", "python", "-c", "import six"], cwd=project_b)
    assert result.returncode == 0, result.stderr


def test_second_machine_is_rebuilt_from_requirements(tmp_path: Path) -> None:
    env_a = machine(tmp_path / "a")
    project = Path(env_a["HOME"]) / "Documents" / "reqs"
    project.mkdir()
    (project / "requirements.txt").write_text("six\n")
    make_venv(project / ".venv", pip=True)
    pip = [str(project / ".venv/bin/python"), "-m", "pip", "-q", "install", "-r"]
    assert run([*pip, "requirements.txt"], cwd=project).returncode == 0
    second_machine_repair(tmp_path, project, env_a)


def test_second_machine_without_install_keeps_an_empty_venv(tmp_path: Path) -> None:
    env_a = machine(tmp_path / "a")
    project = uv_app(Path(env_a["HOME"]) / "Documents" / "app")
    assert relocate("adopt", str(project), env=env_a).returncode == 0
    env_b = machine(tmp_path / "b")
    project_b = sync_to(project, Path(env_b["HOME"]) / "Documents" / "app")
    out = relocate("adopt", str(project_b), "--no-install", "--json", env=env_b)
    assert out.returncode == 0, out.stderr
    assert not imports_six(project_b)
    assert '"action": "created"' in out.stdout and "--no-install" in out.stdout


def test_a_new_project_is_built_from_uv_lock_as_a_second_machine_is(tmp_path: Path) -> None:
    """An explicit adopt that makes a venv installs from the lock, whether the project
    never had one (a fresh clone) or arrives with a link that leads nowhere."""
    env_a = machine(tmp_path / "a")
    project = uv_app(Path(env_a["HOME"]) / "Documents" / "app", sync=False)
    first = relocate_json("adopt", str(project), env=env_a)
    assert first["action"] == "built from uv.lock (uv sync --locked)", first
    assert imports_six(project)
    env_b = machine(tmp_path / "b")
    project_b = sync_to(project, Path(env_b["HOME"]) / "Documents" / "app")
    second = relocate_json("adopt", str(project_b), env=env_b)
    assert second["action"] == first["action"] and imports_six(project_b)


@pytest.mark.parametrize("uv_there", [False, True])
def test_a_new_project_is_built_from_requirements(tmp_path: Path, uv_there: bool) -> None:
    env = machine(tmp_path / "a")
    if not uv_there:
        env = {
            **env_without_uv(tmp_path),
            "HOME": env["HOME"],
            "RELOCATOR_HOME": env["RELOCATOR_HOME"],
        }
    project = Path(env["HOME"]) / "Documents" / "reqs"
    project.mkdir()
    (project / "requirements.txt").write_text("six\n")
    before = synced(project)
    out = relocate_json("adopt", str(project), env=env)
    tool = "uv pip install" if uv_there else "pip install"  # the one that really ran
    assert out["action"] == f"built from requirements.txt ({tool})", out
    assert imports_six(project)
    assert {k: v for k, v in synced(project).items() if k != ".venv"} == before
    venv = Path(out["venv"])
    assert ("uv = " in (venv / "pyvenv.cfg").read_text()) is uv_there


def test_no_install_leaves_a_new_project_empty(tmp_path: Path) -> None:
    env = machine(tmp_path / "a")
    project = uv_app(Path(env["HOME"]) / "Documents" / "app", sync=False)
    out = relocate_json("adopt", str(project), "--no-install", env=env)
    assert out["action"] == "created" and not imports_six(project)
    assert out["notes"] == ["the venv is empty: --no-install skipped uv.lock (uv sync --locked)"]
    assert relocate_json("status", str(project), env=env)["status"] == "ok"


def test_a_moved_project_takes_its_venv_along(
    tmp_path: Path, store: Path, wheelhouse: Path
) -> None:
    old = write_project(tmp_path / "Documents" / "demo")
    make_venv(old / ".venv", pip=True)
    pip_install_editable(old / ".venv", str(old), wheelhouse, cwd=old)
    venv = Path(relocate_json("adopt", str(old))["venv"])
    new = tmp_path / "Documents" / "renamed demo"
    old.rename(new)
    status = relocate("status", str(new))
    assert status.returncode == 1 and "moved here? relocate adopt" in status.stderr
    out = relocate_json("adopt", str(new))
    assert out["action"] == "moved along"
    assert store_venvs(store) == [venv]
    (row,) = relocate_json("list")
    assert (row["project"], row["status"]) == (str(new), "ok")
    hello = run([str(new / ".venv/bin/demo-hello")])
    assert hello.returncode == 0, hello.stderr
    assert f"hello from {new}/src/demo_pkg/__init__.py" in hello.stdout
    code = "import demo_pkg; print(demo_pkg.__file__)"
    imported = run([str(new / ".venv/bin/python"), "-c", code], cwd=tmp_path)
    assert imported.stdout.strip() == f"{new}/src/demo_pkg/__init__.py"
    owner = (store / "venvs" / f"{venv.name}.json").read_text()
    assert str(new) in owner and str(old) not in owner


def test_a_copied_project_gets_a_copy_of_the_venv(
    tmp_path: Path, store: Path, wheelhouse: Path
) -> None:
    original = write_project(tmp_path / "a")
    make_venv(original / ".venv", pip=True)
    pip_install_editable(original / ".venv", str(original), wheelhouse, cwd=original)
    venv = Path(relocate_json("adopt", str(original))["venv"])
    copy = tmp_path / "b"
    shutil.copytree(original, copy, symlinks=True)
    assert f"{original}" in relocate("status", str(copy)).stderr
    out = relocate_json("adopt", str(copy))
    assert out["action"] == "copied" and out["venv"] != str(venv)
    assert sorted(store_venvs(store)) == sorted([venv, Path(out["venv"])])
    for project in (original, copy):
        assert relocate_json("status", str(project))["status"] == "ok"
        code = "import demo_pkg; print(demo_pkg.__file__)"
        imported = run([str(project / ".venv/bin/python"), "-c", code], cwd=tmp_path)
        assert imported.stdout.strip() == f"{project}/src/demo_pkg/__init__.py"
        hello = run([str(project / ".venv/bin/demo-hello")])
        assert f"hello from {project}/src" in hello.stdout, hello.stderr
    assert os.path.realpath(original / ".venv") == str(venv)


def test_moved_to_another_volume_is_still_one_venv(tmp_path: Path, store: Path) -> None:
    shm = other_volume()
    old = tmp_path / "p"
    old.mkdir()
    (old / "setup.py").write_text("")
    make_venv(old / ".venv")
    venv = Path(relocate_json("adopt", str(old))["venv"])
    new = shm / f"relocator-moved-{os.getpid()}"
    try:
        shutil.move(str(old), str(new))  # a copy across volumes keeps the links
        assert relocate_json("adopt", str(new))["action"] == "moved along"
        assert store_venvs(store) == [venv]
    finally:
        shutil.rmtree(new, ignore_errors=True)


def test_status_on_a_second_machine_names_the_command(tmp_path: Path) -> None:
    env_a = machine(tmp_path / "a")
    project = Path(env_a["HOME"]) / "Documents" / "p"
    project.mkdir()
    (project / "requirements.txt").write_text("six\n")
    assert relocate("adopt", str(project), "--no-install", env=env_a).returncode == 0
    env_b = machine(tmp_path / "b")
    project_b = sync_to(project, Path(env_b["HOME"]) / "Documents" / "p")
    (project_b / "sub").mkdir()
    result = relocate("status", str(project_b / "sub"), env=env_b)
    assert result.returncode == 1
    assert f"relocate adopt {project_b} builds it" in result.stderr


def test_progress_of_a_long_install_shows_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    env_a = machine(tmp_path / "a")
    project = uv_app(Path(env_a["HOME"]) / "Documents" / "app")
    assert relocate("adopt", str(project), env=env_a).returncode == 0
    shown = {}
    for name, terminal in (("tty", True), ("pipe", False)):
        env_b = machine(tmp_path / name)
        project_b = sync_to(project, Path(env_b["HOME"]) / "Documents" / "app")
        cmd = [sys.executable, "-m", "relocator", "adopt", str(project_b)]
        if terminal:
            leader, follower = pty.openpty()
            proc = subprocess.run(cmd, env=env_b, stderr=follower, stdout=subprocess.PIPE)
            os.close(follower)
            chunks = []
            with contextlib.suppress(OSError):  # EIO once everything written was read
                while chunk := os.read(leader, 65536):
                    chunks.append(chunk)
            os.close(leader)
            shown[name] = b"".join(chunks).decode(errors="replace")
        else:
            proc = subprocess.run(cmd, env=env_b, capture_output=True)
            shown[name] = proc.stderr.decode()
        assert proc.returncode == 0
    assert "\r\x1b[K" in shown["tty"] and "six" in shown["tty"]
    assert shown["pipe"] == ""
