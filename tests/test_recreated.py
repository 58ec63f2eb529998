"""Tools that make a relocated venv anew in place, often with another Python (uv, PDM,
Hatch, virtualenv from PyPI; Pipenv, which tries and fails): what ``status`` and
``doctor`` say then, and ``relocate adopt`` converging the project to a working venv,
marked again, registered with the Python it runs now.

The project is the one the reports were made with: a hatchling ``src/`` package
``demo`` with a console script ``demo`` that imports ``attrs``.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from relocator.paths.storeroot import CACHEDIR_TAG
from tests.helpers import relocate, relocate_json, relocate_ok, run, store_venvs
from tests.test_health import python_of
from tests.tools import tool

pytestmark = pytest.mark.slow

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"
requires-python = ">=3.11"
dependencies = ["attrs"]

[project.scripts]
demo = "demo:main"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
HATCH_AT_VENV = '\n[tool.hatch.envs.default]\ntype = "virtual"\npath = ".venv"\n'


def pythons_env(*tools: str, **extra: str) -> dict[str, str]:
    """The environment with Python 3.11 and 3.12 (their own bin folders, not PATH's shims),
    uv and ``tools`` on PATH, and nothing else of the machine's Pythons."""
    folders = [os.path.dirname(python_of(v)) for v in ("3.11", "3.12")]
    folders += [os.path.dirname(tool(name)) for name in tools]
    uv = shutil.which("uv")
    assert uv, "uv must be installed for the tests (scripts/test installs it)"
    folders += [os.path.dirname(uv), "/usr/local/bin", "/usr/bin", "/bin"]
    return {**os.environ, "PATH": os.pathsep.join(folders), **extra}


def ok(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = run(cmd, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def demo(root: Path, extra: str = "") -> Path:
    code = root / "src" / "demo"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text(
        "import attrs\n\n\ndef main():\n    print('demo ok', attrs.__version__)\n"
    )
    (root / "pyproject.toml").write_text(PYPROJECT + extra)
    return root


def demo_runs(project: Path) -> bool:
    result = run([str(project / ".venv" / "bin" / "demo")])
    return result.returncode == 0 and result.stdout.startswith("demo ok")


def adopted(project: Path, env: dict[str, str]) -> Path:
    venv = Path(relocate_json("adopt", str(project), env=env)["venv"])
    assert relocate_json("status", str(project), env=env)["status"] == "ok"
    assert demo_runs(project)
    return venv


def uv_demo(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """The demo synced by uv on Python 3.11, relocated; its store venv."""
    project = demo(tmp_path / "demo")
    (project / ".python-version").write_text("3.11\n")
    ok(["uv", "sync", "-q"], project, env)
    return project, adopted(project, env)


def status(project: Path, env: dict[str, str]) -> dict[str, object]:
    found: dict[str, object] = relocate_json("status", str(project), env=env)
    return found


def doctor_problems(project: Path, env: dict[str, str]) -> list[dict[str, object]]:
    result = relocate("doctor", str(project), "--json", env=env)
    found = [f for f in json.loads(result.stdout) if f["status"] != "ok"]
    assert result.returncode == (1 if found else 0), result.stdout
    return found


def marked_again_and_reported(project: Path, venv: Path, env: dict[str, str], minor: str) -> None:
    """adopt on the relocated project: unchanged, its own tag back, the Python it runs now
    in what it says and in the registry."""
    done = relocate_json("adopt", str(project), env=env)
    assert done["action"] == "unchanged" and done["venv"] == str(venv)
    assert str(done["python"]).startswith(minor + "."), done
    assert (venv / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert f"(Python {minor}." in relocate_ok("adopt", str(project), env=env)
    (row,) = relocate_json("list", env=env)
    assert str(row["python"]).startswith(minor + ".") and row["status"] == "ok"
    owner = json.loads((venv.parent / f"{venv.name}.json").read_text())
    assert str(owner["python"]).startswith(minor + ".")
    assert doctor_problems(project, env) == [] and demo_runs(project)


# -- virtualenv -------------------------------------------------------------------------


@pytest.mark.parametrize("repair", [["adopt"], ["doctor", "--fix"]])
def test_virtualenv_p_over_a_relocated_venv_is_named_and_adopt_rebuilds_it(
    tmp_path: Path, store: Path, repair: list[str]
) -> None:
    env = pythons_env()
    project, old = uv_demo(tmp_path, env)
    ok([tool("virtualenv"), "-q", "-p", python_of("3.12"), ".venv"], project, env)
    assert (project / ".venv").is_symlink() and os.path.realpath(project / ".venv") == str(old)
    assert not demo_runs(project)  # ModuleNotFoundError: demo is in lib/python3.11
    found = status(project, env)
    assert found["status"] == "python-mismatch", found
    assert "lib/python3.11/site-packages" in str(found["detail"])
    (problem,) = doctor_problems(project, env)
    assert (problem["check"], problem["status"]) == ("interpreter", "python-mismatch")

    result = relocate(*repair, str(project), "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    if repair == ["adopt"]:
        done = json.loads(result.stdout)
        assert done["action"].startswith("built from uv.lock"), done
    else:  # pip, which virtualenv seeded, is no package the new venv lacks
        (fixed,) = json.loads(result.stdout)
        assert fixed["fixed"] is True and "built from uv.lock" in fixed["message"], fixed
    assert demo_runs(project)
    after = status(project, env)
    assert after["status"] == "ok" and str(after["python"]).startswith("3.12.")  # as asked
    # rebuilt under the same store path; the broken venv is in the trash
    assert store_venvs(store) == [old] and Path(str(after["venv"])) == old
    assert [e["kind"] for e in relocate_json("trash", env=env)] == ["venv"]
    assert doctor_problems(project, env) == []


# -- uv ---------------------------------------------------------------------------------


def test_uv_python_pin_and_sync_make_it_anew_and_adopt_marks_it_again(
    tmp_path: Path, store: Path
) -> None:
    env = pythons_env()
    project, venv = uv_demo(tmp_path, env)
    ok(["uv", "python", "pin", "3.12"], project, env)
    ok(["uv", "sync", "-q"], project, env)
    assert os.path.realpath(project / ".venv") == str(venv)  # in place, through the link
    tag = (venv / "CACHEDIR.TAG").read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55") and tag != CACHEDIR_TAG
    found = status(project, env)  # uv's own tag counts: nothing is wrong
    assert found["status"] == "ok" and str(found["python"]).startswith("3.12.")
    assert doctor_problems(project, env) == []
    marked_again_and_reported(project, venv, env, "3.12")


# -- PDM --------------------------------------------------------------------------------


def pdm_demo(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    env = pythons_env("pdm", PDM_CHECK_UPDATE="0", PDM_NON_INTERACTIVE="1")
    project = demo(tmp_path / "demo")
    ok([tool("pdm"), "use", "-f", python_of("3.11")], project, env)
    ok([tool("pdm"), "install"], project, env)  # .venv in the project, and pdm.lock
    return project, adopted(project, env), env


def test_pdm_use_f_makes_it_anew_and_adopt_marks_it_again(tmp_path: Path, store: Path) -> None:
    project, venv, env = pdm_demo(tmp_path)
    ok([tool("pdm"), "use", "-f", python_of("3.12")], project, env)
    assert os.path.realpath(project / ".venv") == str(venv)
    assert status(project, env)["status"] == "venv-emptied"  # new and empty until pdm install
    ok([tool("pdm"), "install"], project, env)
    assert "relocator" not in (venv / "CACHEDIR.TAG").read_text()  # virtualenv's tag
    assert status(project, env)["status"] == "ok" and demo_runs(project)
    marked_again_and_reported(project, venv, env, "3.12")


def test_pdm_venv_create_force_is_rebuilt_from_the_lock_on_its_python(
    tmp_path: Path, store: Path
) -> None:
    project, old, env = pdm_demo(tmp_path)
    ok([tool("pdm"), "venv", "create", "--force", python_of("3.12")], project, env)
    assert os.path.realpath(project / ".venv") == str(old)
    found = status(project, env)
    assert found["status"] == "venv-emptied" and str(found["python"]).startswith("3.12.")
    done = relocate_json("adopt", str(project), env=env)  # before pdm install: adopt builds
    assert done["action"].startswith("built from pdm.lock"), done
    assert str(done["python"]).startswith("3.12.") and demo_runs(project)
    assert status(project, env)["status"] == "ok" and done["venv"] == str(old)  # same path
    assert [e["kind"] for e in relocate_json("trash", env=env)] == ["venv"]  # the emptied one


# -- Hatch ------------------------------------------------------------------------------


def test_hatch_env_remove_then_hatch_run_and_adopt_marks_it_again(
    tmp_path: Path, store: Path
) -> None:
    env = pythons_env("hatch")
    hatch = tool("hatch")
    project = demo(tmp_path / "demo", HATCH_AT_VENV)
    ok([hatch, "env", "create"], project, env)
    venv = adopted(project, env)
    ok([hatch, "env", "remove", "default"], project, env)  # deletes the store venv through it
    assert status(project, env)["status"] == "venv-missing"
    assert "demo ok" in ok([hatch, "run", "demo"], project, env)  # makes it at the same place
    assert venv.is_dir() and "relocator" not in (venv / "CACHEDIR.TAG").read_text()
    assert status(project, env)["status"] == "ok"
    marked_again_and_reported(project, venv, env, "3.11")


# -- Pipenv -----------------------------------------------------------------------------


def manifest(top: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``top``, through its link: (size, mtime in ns)."""
    found = {}
    for folder, _dirs, files in os.walk(top):
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            found[os.path.relpath(os.path.join(folder, name), top)] = (st.st_size, st.st_mtime_ns)
    return found


def test_pipenv_python_leaves_a_relocated_project_as_it_was_and_rebuild_does_it(
    tmp_path: Path, store: Path
) -> None:
    env = pythons_env("pipenv", PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1")
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
    ok([pipenv, "--python", python_of("3.11"), "install"], project, env)
    old = Path(relocate_json("adopt", str(project), env=env)["venv"])
    files = {n: (project / n).read_bytes() for n in ("Pipfile", "Pipfile.lock")}
    before = manifest(old)

    result = run([pipenv, "--python", "python3.12", "install"], cwd=project, env=env)
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "RecursionError" in said
    assert said.count("Cannot call rmtree on a symbolic link") > 100  # once per recursion
    # pipenv changed nothing: the link, the venv, Pipfile and its lock are as they were
    assert os.path.realpath(project / ".venv") == str(old) and manifest(old) == before
    assert {n: (project / n).read_bytes() for n in files} == files
    found = status(project, env)
    assert found["status"] == "ok" and str(found["python"]).startswith("3.11.")
    assert relocate_json("adopt", str(project), env=env)["action"] == "unchanged"
    assert run([str(project / ".venv/bin/python"), "-c", "import six"]).returncode == 0

    # what works on a relocated project: a new venv on 3.12 from Pipfile.lock
    out = relocate("rebuild", str(project), "--python", "3.12", "--json", env=env)
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert done["action"] == "built from Pipfile.lock (pipenv sync --dev)", done
    assert str(done["python"]).startswith("3.12.")
    assert run([str(project / ".venv/bin/python"), "-c", "import six"]).returncode == 0
    assert status(project, env)["status"] == "ok"
    assert store_venvs(store) == [Path(done["venv"])]
    assert {n: (project / n).read_bytes() for n in files} == files
