"""doctor's cheap recipe check (relocator/venv/unrecorded.py) on the forms requirements files
take that name no package, or name it another way: ``-e .``, ``--editable``, local paths,
``name @ URL`` lines (what ``pip freeze`` writes), and a setup.py-only project installed in
place. Real venvs (``uv venv``), filled by ``uv pip install`` from the project's folder, as
a user does; the check never says a venv holds what the requirements lack when they name
it."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from relocator.venv import unrecorded
from relocator.venv.recipes import Recipe
from tests.helpers import relocate, run

pytestmark = pytest.mark.slow

BY_HAND = "iniconfig"


def ok(cmd: list[str], cwd: Path) -> None:
    result = run(cmd, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr


def package(root: Path, name: str, dependencies: list[str]) -> Path:
    """A hatchling project ``name`` at ``root`` requiring ``dependencies``."""
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text("X = 1\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{name}"
            version = "0.1.0"
            dependencies = {json.dumps(dependencies)}

            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [tool.hatch.build.targets.wheel]
            packages = ["src/{module}"]
            """
        )
    )
    return root


def venv_of(project: Path, *args: str) -> Path:
    """A venv beside ``project``, ``uv pip install ARGS`` run in it from the project."""
    venv = project.parent / f"{project.name}-venv"
    ok(["uv", "venv", "-q", "--clear", "--python", sys.executable, str(venv)], project)
    install(venv, project, *args)
    return venv


def install(venv: Path, cwd: Path, *args: str) -> None:
    ok(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *args], cwd)


def holds(project: Path, venv: Path) -> list[str]:
    """What the check says the venv holds that the recipe lacks."""
    found = unrecorded.check(str(project), str(venv))
    return [] if found is None else [d.name for d in found.missing]


def test_editable_project_reaches_its_own_dependencies(isolated: Path) -> None:
    project = package(isolated / "app", "app", ["six"])
    for line in ("-e .", "--editable .", "--editable=.", "-e ./"):
        (project / "requirements.txt").write_text(f"{line}\nidna\n")
        venv = venv_of(project, "-r", "requirements.txt")
        assert holds(project, venv) == [], line
    install(venv, project, BY_HAND)  # a check that finds nothing would pass the above
    assert holds(project, venv) == [BY_HAND]


def test_paths_and_direct_references_name_what_they_install(isolated: Path) -> None:
    project = isolated / "app"
    project.mkdir()
    package(project / "libs" / "foo", "foo-lib", ["six"])
    package(project / "libs" / "bar", "bar", [])
    package(isolated / "shared", "shared-lib", ["idna"])  # beside the project, not in it
    uri = (project / "libs" / "bar").as_uri()
    (project / "requirements.txt").write_text(f"./libs/foo\nBar @ {uri}\n-e ../shared\n")
    venv = venv_of(project, "-r", "requirements.txt")
    assert holds(project, venv) == []
    (project / "requirements.txt").write_text(f"libs/foo\nbar[x] @ {uri}\n-e ../shared\n")
    assert holds(project, venv) == []
    (project / "requirements.txt").write_text("libs/foo\n")
    assert holds(project, venv) == ["bar", "idna", "shared-lib"]


def test_a_setup_py_project_installed_in_place_is_its_own(isolated: Path) -> None:
    project = isolated / "legacy"
    (project / "legacy").mkdir(parents=True)
    (project / "legacy" / "__init__.py").write_text("X = 1\n")
    (project / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='Legacy_App', version='1.0', packages=['legacy'], install_requires=['six'])\n"
    )
    (project / "requirements.txt").write_text("idna\n")
    venv = venv_of(project, "-r", "requirements.txt", "-e", ".")
    assert holds(project, venv) == []
    install(venv, project, BY_HAND)
    assert holds(project, venv) == [BY_HAND]


def test_doctor_says_a_note_and_passes(isolated: Path, store: Path) -> None:
    project = package(isolated / "Documents" / "app", "app", ["six"])
    (project / "requirements.txt").write_text("-e .\n")
    assert relocate("adopt", str(project), "--python", sys.executable).returncode == 0
    venv = Path(os.path.realpath(project / ".venv"))
    assert relocate("doctor", str(project)).returncode == 0
    install(venv, project, BY_HAND)
    for args in ((), ("--fix",)):
        result = relocate("doctor", str(project), *args, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        (note,) = [f for f in json.loads(result.stdout) if f["check"] == "recipe"]
        assert note["status"] == "note" and not note["fixed"]
        assert f"the venv holds {BY_HAND} " in note["message"]
    text = relocate("doctor")
    assert text.returncode == 0, text.stdout + text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"note recipe ~/Documents/app: the venv holds {BY_HAND} ")
    assert lines[-1].startswith("1 project ok, no problems, 1 note")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-e .\n--editable=./x\n-e git+https://h/r.git\nlibs/foo\n./bar\n/abs/baz\n"
         "dist/foo-1.0-py3-none-any.whl\n; bad\n", set()),
        ("idna @ https://h/idna-3.10-py3-none-any.whl\nFoo.Bar[x] @ file:///tmp/foo\n"
         "-e git+https://h/r.git#egg=Baz\nsix\n", {"idna", "foo-bar", "baz", "six"}),
    ],
)  # fmt: skip
def test_requirement_names(tmp_path: Path, text: str, expected: set[str]) -> None:
    (tmp_path / "requirements.txt").write_text(text)
    recipe = Recipe("requirements", ("requirements.txt",), "x")
    assert unrecorded.names(str(tmp_path), recipe) == expected
