"""``adopt --trees`` on a project that configures no tool: bytecode goes to the store at
once, the trees of the tools installed in the venv are linked ahead, and adopt says why;
then what real nox and tox still leave in the project, and the setting that removes it.

One project shape (``demo``, flit-core, src layout, a console script ``demo``, one test),
its tools from PyPI: pytest and mypy in the project's venv by ``uv sync``, nox and tox
from ``tests/tools.py``.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import has_shape, make_venv, relocate_json, run
from tests.tools import tool

pytestmark = pytest.mark.slow

TAG = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
PYTEST = importlib.metadata.version("pytest")
MYPY = importlib.metadata.version("mypy")

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
description = "demo"
requires-python = ">=3.10"
dependencies = []

[project.scripts]
demo = "demo:main"

[build-system]
requires = ["flit_core>=3.9,<4"]
build-backend = "flit_core.buildapi"
"""

CODE = '"""demo"""\n\n\ndef main() -> None:\n    print("hello from demo")\n'
TEST = "from demo import main\n\n\ndef test_main() -> None:\n    main()\n"

NOXFILE = """\
import nox


@nox.session
def tests(session):
    session.install(".", "pytest")
    session.run("pytest")
"""

TOX_INI = """\
[testenv]
deps = pytest
commands = pytest
"""

#: tox passes no PYTHONPYCACHEPREFIX through: this line sends the tests' bytecode to .tox.
TOX_BYTECODE = "set_env = PYTHONPYCACHEPREFIX = {toxworkdir}/bytecode\n"


def _project(root: Path, extra: str = "", **files: str) -> Path:
    """``demo`` at ``root``: src/demo, tests/test_demo.py, ``files`` at the top."""
    (root / "src" / "demo").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT + extra)
    (root / "src" / "demo" / "__init__.py").write_text(CODE)
    (root / "tests" / "test_demo.py").write_text(TEST)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def _env() -> dict[str, str]:
    """The environment with bytecode writing on (this machine sets PYTHONDONTWRITEBYTECODE,
    under which no test about ``__pycache__`` could fail) and no update checks."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "VIRTUALENV_NO_PERIODIC_UPDATE": "1"}


def _ok(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = run(cmd, cwd=cwd, env=env, timeout=600)
    assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _uv_sync(project: Path, *dev: str) -> None:
    """``uv sync``, with ``dev`` as the project's dev group when given, from PyPI (uv's
    cache is shared by the run)."""
    if dev:
        group = ", ".join(f'"{d}"' for d in dev)
        with (project / "pyproject.toml").open("a") as f:
            f.write(f"\n[dependency-groups]\ndev = [{group}]\n")
    uv = str(Path(sys.executable).parent / "uv")
    _ok([uv, "sync", "--quiet"], project, _env())


def _entries(top: Path) -> set[str]:
    """Every entry below ``top`` (relative), links listed but never entered, .git left out."""
    found = set()
    for folder, dirs, files in os.walk(top):
        rel = os.path.relpath(folder, top)
        dirs[:] = [d for d in dirs if not (rel == "." and d == ".git")]
        for name in dirs + files:
            found.add(os.path.normpath(os.path.join(rel, name)))
    return found


def _linked(project: Path, name: str) -> bool:
    return has_shape(project, name)


def test_trees_asked_send_bytecode_and_installed_tools_trees_to_the_store(
    tmp_path: Path, store: Path
) -> None:
    """The issue's project: ``uv sync && relocate adopt --trees``, nothing configured."""
    env = _env()
    project = _project(tmp_path / "demo")
    _uv_sync(project, f"pytest=={PYTEST}", f"mypy=={MYPY}")
    out = relocate_json("adopt", "--trees", str(project))
    notes = out["notes"]
    assert ".mypy_cache linked ahead into the store (mypy is installed in the venv)" in notes
    assert ".pytest_cache linked ahead into the store (pytest is installed in the venv)" in notes
    assert any(n.startswith("the venv's Python now writes bytecode to the store") for n in notes)
    assert len([n for n in notes if "linked ahead" in n]) == 2, notes  # no ruff, tox, nox
    for name in (".ruff_cache", ".tox", ".nox"):
        assert not os.path.lexists(project / name), name
    (bundle,) = [p for p in (store / "trees").iterdir() if p.is_dir()]
    before = _entries(project)

    assert _ok([str(project / ".venv" / "bin" / "demo")], project, env) == "hello from demo\n"
    assert "1 passed" in _ok([str(project / ".venv" / "bin" / "pytest")], project, env)
    mypy = [str(project / ".venv" / "bin" / "mypy"), "--strict", "src"]
    assert "Success" in _ok(mypy, project, env)

    assert _entries(project) == before  # no __pycache__, no real cache folder
    assert _linked(project, ".mypy_cache") and _linked(project, ".pytest_cache")
    assert (bundle / ".pytest_cache" / "v" / "cache" / "nodeids").is_file()
    assert list((bundle / ".mypy_cache").glob("3.*/cache*.db"))  # mypy 2: sqlite caches
    sources = bundle / "bytecode" / project.relative_to("/")
    assert (sources / "src" / "demo" / f"__init__.{TAG}.pyc").is_file()
    assert (sources / "tests" / f"test_demo.{TAG}-pytest-{PYTEST}.pyc").is_file()


def test_trees_asked_with_no_tree_to_link_still_send_bytecode(tmp_path: Path, store: Path) -> None:
    env = _env()
    project = _project(tmp_path / "demo")
    _uv_sync(project)
    notes = relocate_json("adopt", "--trees", str(project))["notes"]
    assert not [n for n in notes if "linked ahead" in n], notes
    assert any(n.startswith("the venv's Python now writes bytecode to the store") for n in notes)
    before = _entries(project)
    assert _ok([str(project / ".venv" / "bin" / "demo")], project, env) == "hello from demo\n"
    assert _entries(project) == before  # the issue: src/demo/__pycache__ was written here
    (bundle,) = [p for p in (store / "trees").iterdir() if p.is_dir()]
    assert sorted(p.name for p in bundle.iterdir()) == ["CACHEDIR.TAG", "bytecode"]
    status = relocate_json("status", str(project))
    assert status["bytecode"] == str(bundle / "bytecode") and status["trees"] == []

    _uv_sync(project, f"pytest=={PYTEST}")  # a tool installed later: the next adopt, no flag
    notes = relocate_json("adopt", str(project))["notes"]
    assert notes == [".pytest_cache linked ahead into the store (pytest is installed in the venv)"]


@pytest.mark.parametrize("where", ["pyproject", "config"])
def test_trees_set_once_do_the_same(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[tool.relocator] trees = true``, or ``trees = true`` in the config file, is the flag."""
    env = _env()
    mine = "\n[tool.relocator]\ntrees = true\n" if where == "pyproject" else ""
    project = _project(tmp_path / "demo", mine)
    if where == "config":
        (tmp_path / "config.toml").write_text("trees = true\n")
        monkeypatch.setenv("RELOCATOR_CONFIG", str(tmp_path / "config.toml"))
    _uv_sync(project, f"pytest=={PYTEST}")
    notes = relocate_json("adopt", str(project))["notes"]
    assert [n for n in notes if "linked ahead" in n] == [
        ".pytest_cache linked ahead into the store (pytest is installed in the venv)"
    ]
    before = _entries(project)
    assert _ok([str(project / ".venv" / "bin" / "demo")], project, env) == "hello from demo\n"
    assert "1 passed" in _ok([str(project / ".venv" / "bin" / "pytest")], project, env)
    assert _entries(project) == before


def test_what_nox_leaves_and_the_settings_that_remove_it(tmp_path: Path) -> None:
    """nox runs with its own Python (the noxfile's bytecode) and its sessions' pytest
    (the tests' bytecode, a ``.pytest_cache`` of pytest's own when pytest is neither
    configured nor installed in the project's venv)."""
    nox, env = tool("nox"), _env()
    project = _project(tmp_path / "demo", **{"noxfile.py": NOXFILE})
    make_venv(project / ".venv")
    notes = relocate_json("adopt", "--trees", str(project))["notes"]
    assert ".nox linked ahead into the store (configured: noxfile.py)" in notes
    before = _entries(project)
    assert "Session tests was successful" in _ok([nox], project, env)
    left = _entries(project) - before
    cache = {".gitignore", "CACHEDIR.TAG", "README.md", "v", "v/cache", "v/cache/nodeids"}
    assert left == {
        ".pytest_cache",
        *(f".pytest_cache/{name}" for name in cache),
        "__pycache__",
        f"__pycache__/noxfile.{TAG}.pyc",
        "tests/__pycache__",
        f"tests/__pycache__/test_demo.{TAG}-pytest-{PYTEST}.pyc",
    }
    assert len(left) == 11

    # pytest configured: adopt links .pytest_cache ahead; PYTHONPYCACHEPREFIX (which nox
    # passes to its sessions) takes the bytecode of the noxfile and of the tests
    clean = _project(tmp_path / "clean", "\n[tool.pytest.ini_options]\n", **{"noxfile.py": NOXFILE})
    make_venv(clean / ".venv")
    notes = relocate_json("adopt", "--trees", str(clean))["notes"]
    why = "configured: [tool.pytest] in pyproject.toml"
    assert f".pytest_cache linked ahead into the store ({why})" in notes
    before = _entries(clean)
    prefix = tmp_path / "home" / ".cache" / "pycache"
    _ok([nox], clean, {**env, "PYTHONPYCACHEPREFIX": str(prefix)})
    assert _entries(clean) == before
    assert (prefix / clean.relative_to("/") / f"noxfile.{TAG}.pyc").is_file()
    assert _linked(clean, ".pytest_cache")
    assert (clean / ".pytest_cache" / "v" / "cache" / "nodeids").is_file()


def test_what_tox_leaves_and_the_setting_that_removes_it(tmp_path: Path) -> None:
    """tox builds the sdist and the envs in the linked ``.tox``; pytest keeps its cache
    under ``$TOX_ENV_DIR``; only the tests' bytecode stays, which one line sends away."""
    tox, env = tool("tox"), _env()
    project = _project(tmp_path / "demo", **{"tox.ini": TOX_INI})
    make_venv(project / ".venv")
    notes = relocate_json("adopt", "--trees", str(project))["notes"]
    assert ".tox linked ahead into the store (configured: tox.ini)" in notes
    before = _entries(project)
    out = _ok([tox, "-e", "py"], project, env)
    assert "congratulations" in out and "build_sdist" in out
    assert _entries(project) - before == {
        "tests/__pycache__",
        f"tests/__pycache__/test_demo.{TAG}-pytest-{PYTEST}.pyc",
    }
    assert "cachedir: .tox/py/.pytest_cache" in out

    (project / "tests" / "__pycache__" / f"test_demo.{TAG}-pytest-{PYTEST}.pyc").unlink()
    (project / "tests" / "__pycache__").rmdir()
    (project / "tox.ini").write_text(TOX_INI.replace("commands", TOX_BYTECODE + "commands"))
    _ok([tox, "-e", "py"], project, env)
    assert _entries(project) == before
    bytecode = Path(os.path.realpath(project / ".tox")) / "bytecode"
    assert list(bytecode.rglob(f"test_demo.{TAG}-pytest-{PYTEST}.pyc"))
