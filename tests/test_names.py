"""``adopt --name``: a venv folder named ``venv`` or ``env`` is relocated, and its name
stays as the alias ``venv -> .venv``; eject makes it a folder again."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    dir_paths,
    drop_hop,
    env_without_uv,
    has_shape,
    mac_home,
    make_venv,
    one_clean_error_line,
    other_volume,
    pip_install_editable,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    site_packages,
    write_project,
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return env_without_uv(tmp_path)


def _git(project: Path, *args: str) -> str:
    result = run(["git", "-C", str(project), *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def _exclude(project: Path) -> str:
    return (project / ".git" / "info" / "exclude").read_text()


@pytest.fixture
def legacy(isolated: Path, wheelhouse: Path) -> Path:
    """An iCloud project whose venv is ``venv/``, ignored by a ``venv/`` line in .gitignore
    (as GitHub's Python template writes it), with an editable install and a script."""
    docs = mac_home(isolated, "documents-link")["short"]
    project = write_project(docs / "legacy")
    _git(project, "init", "-q")
    (project / ".gitignore").write_text("venv/\n*.egg-info/\n")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "start")
    venv = make_venv(project / "venv", pip=True)
    pip_install_editable(venv, str(project), wheelhouse, cwd=project)
    (site_packages(venv) / "handmade.py").write_text("VALUE = 42\n")
    return project


def _works_through(project: Path, name: str, env: dict[str, str]) -> None:
    """The venv's Python imports the handmade module and the editable package, and the
    console script pip wrote runs, all through ``project/name``."""
    python = str(project / name / "bin" / "python")
    check = run([python, "-c", "import handmade, demo_pkg; print(handmade.VALUE)"], env=env)
    assert check.stdout == "42\n", check.stderr
    hello = run([str(project / name / "bin" / "demo-hello")], env=env)
    assert hello.returncode == 0 and "hello from" in hello.stdout, hello.stderr


def test_a_venv_folder_is_adopted_and_keeps_its_name_as_a_link(
    legacy: Path, store: Path, env: dict[str, str]
) -> None:
    before = dir_paths(legacy / "venv")
    out = relocate_json("adopt", str(legacy / "src"), "--name", "venv", env=env)
    real = Path(os.path.realpath(legacy))
    assert out["project"] == str(real) and out["action"] == "moved"
    assert any("venv is now a link to .venv" in n for n in out["notes"])
    assert os.readlink(legacy / "venv") == ".venv"
    assert has_shape(legacy)
    (venv,) = [p for p in (store / "venvs").iterdir() if p.is_dir()]
    assert os.path.realpath(legacy / "venv") == str(venv)
    assert before <= dir_paths(venv)
    _works_through(legacy, "venv", env)
    _works_through(legacy, ".venv", env)
    assert f"#!{venv}/bin/python" in (venv / "bin" / "demo-hello").read_text()
    # git sees nothing new: `venv/` in .gitignore does not match a symlink, the exclude does.
    assert _git(legacy, "status", "--porcelain") == ""
    assert "/venv\n" in _exclude(legacy)
    # an editor that asks about the interpreter by the alias gets the project's
    python = relocate_ok("python", str(legacy / "venv" / "bin" / "python"), env=env)
    assert python == f"{real}/.venv/bin/python\n"

    again = relocate_json("adopt", str(legacy), "--name", "./venv/", env=env)  # as typed
    assert again["action"] == "unchanged"
    assert relocate_json("adopt", str(legacy), env=env)["action"] == "unchanged"
    assert os.readlink(legacy / "venv") == ".venv"
    assert relocate_json("status", str(legacy), env=env)["status"] == "ok"


def test_eject_gives_the_folder_back_under_its_name(
    legacy: Path, store: Path, env: dict[str, str]
) -> None:
    exclude_before = (legacy / ".git" / "info" / "exclude").read_bytes()
    before = dir_paths(legacy / "venv")
    relocate_ok("adopt", str(legacy), "--name", "venv", env=env)
    out = relocate_json("eject", str(legacy), env=env)
    assert out["venv"] == os.path.realpath(legacy / "venv")
    venv = legacy / "venv"
    assert venv.is_dir() and not venv.is_symlink()
    assert not os.path.lexists(legacy / ".venv") and not os.path.lexists(legacy / ".venv.nosync")
    assert before <= dir_paths(venv)
    assert list((store / "venvs").iterdir()) == []
    _works_through(legacy, "venv", env)
    assert f"{os.path.realpath(venv)}/bin/python" in (venv / "bin" / "demo-hello").read_text()
    assert (legacy / ".git" / "info" / "exclude").read_bytes() == exclude_before
    assert _git(legacy, "status", "--porcelain") == ""


@pytest.fixture
def shm_store() -> Iterator[Path]:
    where = other_volume() / f"rn-{uuid.uuid4().hex}"
    yield where
    shutil.rmtree(where, ignore_errors=True)


def test_across_volumes_both_ways(legacy: Path, shm_store: Path, env: dict[str, str]) -> None:
    env = {**env, "RELOCATOR_HOME": str(shm_store)}
    before = dir_paths(legacy / "venv")
    assert relocate_json("adopt", str(legacy), "--name", "venv", env=env)["action"] == "copied"
    assert os.readlink(legacy / "venv") == ".venv"
    assert os.path.realpath(legacy / "venv").startswith(str(shm_store) + "/")
    assert not list(legacy.glob(".venv.relocator-*"))
    _works_through(legacy, "venv", env)
    assert relocate_json("eject", str(legacy), env=env)["action"] == "ejected (copied)"
    assert (legacy / "venv").is_dir() and not (legacy / "venv").is_symlink()
    assert before <= dir_paths(legacy / "venv")
    assert not list(legacy.glob(".venv*"))
    _works_through(legacy, "venv", env)


def test_a_relocated_project_gains_the_alias_when_asked(
    isolated: Path, env: dict[str, str]
) -> None:
    project = isolated / "app"
    project.mkdir()
    (project / "setup.py").write_text("")
    make_venv(project / ".venv")
    relocate_ok("adopt", str(project), env=env)
    assert relocate_json("adopt", str(project), "--name", "env", env=env)["action"] == "unchanged"
    assert os.readlink(project / "env") == ".venv"
    # eject takes the one alias as the name to give the folder back under
    relocate_ok("eject", str(project), env=env)
    assert (project / "env" / "pyvenv.cfg").is_file() and not os.path.lexists(project / ".venv")


def test_a_second_machine_repairs_through_the_alias(
    isolated: Path, store: Path, env: dict[str, str]
) -> None:
    """What syncs (``.venv -> .venv.nosync/.venv``, ``venv -> .venv``) is the same on both
    machines: a machine without the store venv builds one, and ``venv`` works again."""
    project = isolated / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("")
    make_venv(project / "venv")
    relocate_ok("adopt", str(project), "--name", "venv", env=env)
    synced = {n: os.readlink(project / n) for n in (".venv", "venv")}
    drop_hop(project)  # iCloud never uploads it
    shutil.rmtree(store)  # the other machine has no store yet
    assert relocate_json("adopt", str(project), env=env)["action"].startswith("built from")
    assert {n: os.readlink(project / n) for n in (".venv", "venv")} == synced
    assert run([str(project / "venv" / "bin" / "python"), "-c", "pass"]).returncode == 0


@pytest.mark.parametrize(
    "case",
    [
        ("both", "venv", "has a .venv (in-project) besides venv"),
        ("relocated-and-folder", "venv", "has a .venv (relocated) besides venv"),
        ("none", "venv", "venv: no such venv"),
        ("not-a-venv", "venv", "is not a venv (no pyvenv.cfg)"),
        ("link-elsewhere", "venv", "is a symlink; --name takes a venv folder"),
        ("none", "a/b", "give the name of a folder in the project"),
        ("none", "..", "give the name of a folder in the project"),
        ("none", ".venv.nosync", "give the name of a folder in the project"),
    ],
)
def test_what_adopt_name_refuses_changes_nothing(
    isolated: Path, tmp_path: Path, env: dict[str, str], case: tuple[str, str, str]
) -> None:
    setup, name, says = case  # the project's state, --name, what the error line says
    project = isolated / "app"
    project.mkdir()
    (project / "setup.py").write_text("")
    if setup in ("both", "relocated-and-folder"):
        make_venv(project / ".venv")
        make_venv(project / "venv")
    if setup == "relocated-and-folder":
        shutil.move(str(project / "venv"), str(tmp_path / "aside"))
        relocate_ok("adopt", str(project), env=env)
        shutil.move(str(tmp_path / "aside"), str(project / "venv"))
    if setup == "not-a-venv":
        (project / "venv" / "bin").mkdir(parents=True)
    if setup == "link-elsewhere":
        make_venv(tmp_path / "elsewhere")
        (project / "venv").symlink_to(tmp_path / "elsewhere")
    before = dir_paths(project) | dir_paths(isolated)
    line = one_clean_error_line(relocate("adopt", str(project), "--name", name, env=env))
    assert says in line
    assert dir_paths(project) | dir_paths(isolated) == before
