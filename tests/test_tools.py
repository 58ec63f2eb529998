"""Poetry, Hatch, PDM and Pipenv on a relocated project (each from PyPI, in a venv of its
own): what each does to the link, and the relocate command that brings it back to one
working store venv with the user's packages."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import relocate, relocate_json, run, store_venvs
from tests.test_recipes import POETRY_SOURCE, _caches, tool_caches  # noqa: F401 (fixtures)
from tests.tools import tool, tool_path_env

pytestmark = pytest.mark.slow
OTHER_PYTHON = "/usr/bin/python3"  # Debian's: another interpreter than the test env's


def app(root: Path, extra: str = "", *, build: bool = False) -> Path:
    root.mkdir(parents=True)
    text = '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
    text += 'dependencies = ["six"]\n'
    if build:
        (root / "app").mkdir()
        (root / "app" / "__init__.py").write_text("")
        text += '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    (root / "pyproject.toml").write_text(text + extra)
    return root


def ok(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = run(cmd, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def adopt(project: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    result = relocate("adopt", str(project), "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return relocate_json("status", str(project), env=env)


def _trashed(store: Path) -> int:
    """How many venvs the trash holds (what a rebuild or a takeover replaced)."""
    return len([p for p in (store / "trash").glob("*") if (p / "pyvenv.cfg").is_file()])


def six_imports(project: Path) -> bool:
    return run([str(project / ".venv/bin/python"), "-c", "import six"]).returncode == 0


def test_poetry_env_remove_and_env_use(tmp_path: Path, store: Path) -> None:
    env = {**tool_path_env("poetry"), "POETRY_VIRTUALENVS_IN_PROJECT": "true"}
    poetry = tool("poetry")
    extra = "\n[tool.poetry]\npackage-mode = false\n" + POETRY_SOURCE
    project = app(tmp_path / "app", extra)
    ok([poetry, "install", "-q"], project, env)
    before = adopt(project, env)
    assert before["status"] == "ok"
    (venv,) = store_venvs(store)

    ok([poetry, "env", "remove", "--all"], project, env)  # removes only the link
    assert not (project / ".venv").exists() and venv.is_dir()
    assert relocate_json("status", str(project))["status"] == "link-missing"
    assert adopt(project, env)["status"] == "ok"
    assert store_venvs(store) == [venv] and six_imports(project)

    if not os.path.exists(OTHER_PYTHON):
        pytest.fail(f"{OTHER_PYTHON} is needed: a second interpreter for poetry env use")
    ok([poetry, "env", "use", OTHER_PYTHON], project, env)  # a new, empty, real .venv
    assert not (project / ".venv").is_symlink()
    assert relocate_json("status", str(project))["status"] == "link-replaced"
    status = adopt(project, env)
    assert status["status"] == "ok" and status["python"] != before["python"]
    assert store_venvs(store) == [venv] and six_imports(project)  # filled from poetry.lock
    assert _trashed(store) == 1  # the old venv; the one of the other Python took its name
    ok([poetry, "run", "python", "-c", "import six"], project, env)


def test_hatch_env_remove_deletes_through_the_link_and_adopt_rebuilds(
    tmp_path: Path, store: Path
) -> None:
    env = tool_path_env("hatch")
    hatch = tool("hatch")
    extra = '\n[tool.hatch.envs.default]\ntype = "virtual"\npath = ".venv"\n'
    project = app(tmp_path / "app", extra, build=True)
    ok([hatch, "env", "create"], project, env)
    assert adopt(project, env)["status"] == "ok"
    ok([hatch, "env", "remove", "default"], project, env)
    assert relocate_json("status", str(project))["status"] in ("venv-missing", "link-missing")
    assert adopt(project, env)["status"] == "ok"
    assert len(store_venvs(store)) == 1 and six_imports(project)
    ok([hatch, "run", "python", "-c", "import app, six"], project, env)


def test_pdm_venv_remove_refuses_and_relocate_rebuild_does_it(tmp_path: Path, store: Path) -> None:
    env = {**tool_path_env("pdm"), "PDM_CHECK_UPDATE": "0"}
    pdm = tool("pdm")
    project = app(tmp_path / "app", "\n[tool.pdm]\ndistribution = false\n")
    ok([pdm, "install"], project, env)  # makes .venv in the project, and pdm.lock
    assert adopt(project, env)["status"] == "ok"
    (old,) = store_venvs(store)
    run([pdm, "venv", "remove", "--yes", "in-project"], cwd=project, env=env)
    assert relocate_json("status", str(project))["status"] == "ok" and old.is_dir()
    out = relocate("rebuild", str(project), "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert "pdm.lock" in out.stdout
    assert store_venvs(store) == [old] and six_imports(project)  # a new venv, same path
    assert _trashed(store) == 1


def test_pipenv_rm_refuses_and_relocate_rebuild_does_it(tmp_path: Path, store: Path) -> None:
    env = {**tool_path_env("pipenv"), "PIPENV_VERBOSITY": "-1", "PIPENV_VENV_IN_PROJECT": "1"}
    pipenv = tool("pipenv")
    project = tmp_path / "app"
    project.mkdir()
    (project / "Pipfile").write_text(
        textwrap.dedent(
            """\
            [[source]]
            url = "https://pypi.org/simple"
            verify_ssl = true
            name = "pypi"

            [packages]
            six = "*"
            """
        )
    )
    ok([pipenv, "install"], project, env)
    assert adopt(project, env)["status"] == "ok"
    (old,) = store_venvs(store)
    removed = run([pipenv, "--rm"], cwd=project, env=env)
    assert removed.returncode == 0  # says it did, but the link and the venv are untouched
    assert relocate_json("status", str(project))["status"] == "ok" and old.is_dir()
    out = relocate("rebuild", str(project), "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert "Pipfile.lock" in out.stdout
    assert store_venvs(store) == [old] and six_imports(project)  # a new venv, same path
    assert _trashed(store) == 1


@pytest.mark.parametrize("creator", ["venv", "virtualenv"])
def test_venv_and_virtualenv_refuse_the_link_and_relocate_rebuild_does_it(
    tmp_path: Path, store: Path, creator: str
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("six\n")
    env = dict(os.environ)
    assert run([sys.executable, "-m", "venv", str(project / ".venv")]).returncode == 0
    ok([".venv/bin/pip", "-q", "install", "-r", "requirements.txt"], project, env)
    assert adopt(project, env)["status"] == "ok"
    (old,) = store_venvs(store)
    if creator == "venv":
        cmd = [sys.executable, "-m", "venv", ".venv"]
    else:
        cmd = [tool("virtualenv"), "--clear", ".venv"]
    run(cmd, cwd=project, env=env)
    assert (project / ".venv").is_symlink() and old.is_dir()
    assert relocate_json("status", str(project))["status"] == "ok" and six_imports(project)
    out = relocate("rebuild", str(project), "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert store_venvs(store) == [old] and six_imports(project)  # a new venv, same path
    assert _trashed(store) == 1
