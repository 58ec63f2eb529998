"""The real tools through the links of ``adopt --trees``.

mypy, ruff, pytest, tox and nox write into ``<store>/trees/<bundle>/NAME`` through
``NAME -> NAME.nosync/NAME`` and keep both links; the relocated venv's Python writes no
bytecode in the project; npm replaces a linked ``node_modules`` with a folder, which
``adopt --node-modules`` moves into the store again; eject brings the tools' files back.
The links themselves (moves, kills, settings, gc) are tested in ``test_trees.py``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    has_shape,
    hop_of,
    make_venv,
    relocate_json,
    relocate_ok,
    require_tool,
    run,
    site_packages,
)
from tests.tools import tool

PYPROJECT = """\
[project]
name = "demo"
version = "0"

[tool.mypy]
strict = true

[tool.ruff]
line-length = 100

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

CODE = "def add(a: int, b: int) -> int:\n    return a + b\n"

TESTS = """\
from pkg import add


def test_pass() -> None:
    assert add(1, 2) == 3


def test_fail() -> None:
    assert add(1, 2) == 4
"""

#: One env that needs no network: nothing to install, it prints where it is.
TOX_INI = """\
[tox]
skipsdist = true

[testenv:py]
skip_install = true
commands = python -c "import sys; print('prefix=' + sys.prefix)"
"""

#: One session in a venv without pip (fast, no network) that prints where it is.
NOXFILE = """\
import nox


@nox.session(venv_backend="venv", venv_params=["--without-pip"])
def probe(session):
    session.run("python", "-c", "import sys; print('prefix=' + sys.prefix)")
"""

MYPY_VERSION_DIR = f"{sys.version_info.major}.{sys.version_info.minor}"  # mypy's cache folder


def _project(root: Path, *, with_pytest: bool = False) -> Path:
    """A project configuring mypy, ruff and pytest, with a package, a passing and a failing
    test, and a real venv in ``.venv`` (pytest installed in it when asked)."""
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "pkg" / "__init__.py").write_text(CODE)
    (root / "tests" / "test_add.py").write_text(TESTS)
    venv = make_venv(root / ".venv")
    if with_pytest:
        _install(venv, f"pytest=={pytest.__version__}")
    return root


def _bare(root: Path, **files: str) -> Path:
    """A project (a pyproject.toml and a real venv) with ``files`` in it."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    for name, text in files.items():
        (root / name).write_text(text)
    make_venv(root / ".venv")
    return root


def _install(venv: Path, requirement: str) -> None:
    """``uv pip install`` into the venv with the test env's uv (a failure skips offline)."""
    uv = Path(sys.executable).parent / "uv"
    python = str(venv / "bin" / "python")
    result = run([str(uv), "pip", "install", "--quiet", "--python", python, requirement])
    if result.returncode != 0:
        reason = f"uv pip install {requirement} failed: {result.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _tree(project: Path, store: Path, name: str) -> Path:
    """The store tree behind ``project/name``, checking the two hops on the way:
    ``name -> name.nosync/name -> <store>/trees/<bundle>/name``, a real folder."""
    assert has_shape(project, name)
    tree = Path(os.readlink(hop_of(project, name)))
    assert tree.is_absolute() and tree.name == name, tree
    assert Path(os.path.realpath(tree.parent.parent)) == Path(os.path.realpath(store / "trees"))
    assert tree.is_dir() and not tree.is_symlink()
    return tree


def _bytecode_in(top: Path) -> list[str]:
    """Every ``__pycache__`` and ``.pyc`` below ``top``, never through a symlink (the links
    of the project lead into the store)."""
    found = []
    for folder, dirs, files in os.walk(top):  # followlinks=False: a linked folder is not entered
        found += [os.path.join(folder, d) for d in dirs if d == "__pycache__"]
        found += [os.path.join(folder, f) for f in files if f.endswith(".pyc")]
    return sorted(found)


def _writing_bytecode() -> dict[str, str]:
    """The environment with bytecode writing on: this machine sets PYTHONDONTWRITEBYTECODE,
    under which no test about ``__pycache__`` could fail."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def _mypy(project: Path) -> str:
    """``mypy -v pkg`` from the test env in the project; its log (stderr)."""
    result = run([sys.executable, "-m", "mypy", "-v", "pkg"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout
    return result.stderr


def _ruff(project: Path) -> str:
    """``ruff check .`` from the test env in the project; ruff's version."""
    ruff = str(Path(sys.executable).parent / "ruff")
    result = run([ruff, "check", "."], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return run([ruff, "--version"]).stdout.split()[1]


def _pytest(project: Path, *args: str, env: dict[str, str]) -> str:
    """The project's tests with the venv's Python (one of them fails); pytest's output."""
    python = str(project / ".venv" / "bin" / "python")
    result = run([python, "-m", "pytest", *args], cwd=project, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


def test_mypy_writes_its_cache_in_the_store_and_uses_it_again(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "proj")
    relocate_ok("adopt", "--trees", str(project))
    tree = _tree(project, store, ".mypy_cache")  # linked ahead (configured): [tool.mypy]
    assert list(tree.iterdir()) == []

    first = _mypy(project)
    assert "Metadata fresh for pkg" not in first  # nothing cached yet: checked from scratch
    cached = list((tree / MYPY_VERSION_DIR).iterdir())
    assert cached, "mypy wrote no cache into the store"
    assert (tree / "CACHEDIR.TAG").is_file()
    assert _tree(project, store, ".mypy_cache") == tree  # still the link, nothing real

    second = _mypy(project)
    assert "Metadata fresh for pkg" in second  # read back through the link
    assert _tree(project, store, ".mypy_cache") == tree


def test_ruff_writes_its_cache_in_the_store(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "proj")
    relocate_ok("adopt", "--trees", str(project))
    tree = _tree(project, store, ".ruff_cache")
    assert list(tree.iterdir()) == []

    version = _ruff(project)
    assert list((tree / version).iterdir()), "ruff wrote no cache into the store"
    assert _tree(project, store, ".ruff_cache") == tree


@pytest.mark.slow
def test_pytest_remembers_failures_in_the_store_and_no_bytecode_is_in_the_project(
    tmp_path: Path, store: Path
) -> None:
    env = _writing_bytecode()
    project = _project(tmp_path / "proj", with_pytest=True)
    relocate_ok("adopt", "--trees", str(project))
    tree = _tree(project, store, ".pytest_cache")
    prefix = tree.parent / "bytecode"
    python = str(project / ".venv" / "bin" / "python")
    said = run([python, "-c", "import sys; print(sys.pycache_prefix)"], env=env)
    assert said.stdout.strip() == str(prefix), said.stderr

    first = _pytest(project, env=env)
    assert "1 failed, 1 passed" in first
    again = _pytest(project, "--lf", env=env)
    assert "run-last-failure: rerun previous 1 failure" in again
    assert "collected 1 item" in again
    assert re.search(r"=+ 1 failed in ", again), again  # test_pass did not run
    lastfailed = json.loads((tree / "v" / "cache" / "lastfailed").read_text())
    assert lastfailed == {"tests/test_add.py::test_fail": True}
    assert (tree / "v" / "cache" / "nodeids").is_file()
    assert _tree(project, store, ".pytest_cache") == tree

    assert _bytecode_in(project) == []
    # the prefix repeats the source's absolute folder: <prefix>/<project>/tests/...
    assert list(prefix.rglob(f"{project.relative_to('/')}/tests/test_add.*-pytest-*.pyc"))
    assert list(prefix.rglob(f"{project.relative_to('/')}/pkg/__init__.*.pyc"))

    # the control: the same without --trees writes __pycache__ beside the sources
    control = _project(tmp_path / "control", with_pytest=True)
    relocate_ok("adopt", str(control))
    assert "1 failed, 1 passed" in _pytest(control, env=env)
    found = _bytecode_in(control)
    assert str(control / "pkg" / "__pycache__") in found
    assert str(control / "tests" / "__pycache__") in found
    assert any(re.search(r"test_add\..*-pytest-.*\.pyc$", f) for f in found), found


@pytest.mark.slow
def test_tox_builds_its_env_in_the_store_and_recreating_keeps_the_links(
    tmp_path: Path, store: Path
) -> None:
    tox = tool("tox")
    project = _bare(tmp_path / "proj", **{"tox.ini": TOX_INI})
    relocate_ok("adopt", "--trees", str(project))
    tree = _tree(project, store, ".tox")  # linked ahead (configured): tox.ini
    env = {**os.environ, "VIRTUALENV_NO_PERIODIC_UPDATE": "1"}

    first = run([tox, "-e", "py"], cwd=project, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tree / "py" / "pyvenv.cfg").is_file()
    # virtualenv resolves the env's folder: the env knows itself by its store path
    (printed,) = re.findall(r"^prefix=(.*)$", first.stdout, re.MULTILINE)
    assert printed == os.path.realpath(project / ".tox" / "py") == str(tree / "py")
    assert _tree(project, store, ".tox") == tree

    (tree / "py" / "marker").write_text("from before -r")
    again = run([tox, "-r", "-e", "py"], cwd=project, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"remove tox env folder {project / '.tox' / 'py'}" in again.stdout
    assert not (tree / "py" / "marker").exists()  # the env was really made again
    assert (tree / "py" / "pyvenv.cfg").is_file()
    assert _tree(project, store, ".tox") == tree


@pytest.mark.slow
def test_nox_builds_its_env_in_the_store_and_keeps_the_links(tmp_path: Path, store: Path) -> None:
    nox = tool("nox")
    project = _bare(tmp_path / "proj", **{"noxfile.py": NOXFILE})
    relocate_ok("adopt", "--trees", str(project))
    tree = _tree(project, store, ".nox")  # linked ahead (configured): noxfile.py

    first = run([nox], cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tree / "probe" / "pyvenv.cfg").is_file()
    (printed,) = re.findall(r"^prefix=(.*)$", first.stdout, re.MULTILINE)
    assert printed == str(project / ".nox" / "probe")  # the project's path, into the store
    assert os.path.realpath(printed) == str(tree / "probe")
    assert _tree(project, store, ".nox") == tree

    (tree / "probe" / "marker").write_text("from the first run")
    again = run([nox], cwd=project)  # without reuse: the env is made again
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Creating virtual environment" in again.stderr
    assert not (tree / "probe" / "marker").exists()
    assert (tree / "probe" / "pyvenv.cfg").is_file()
    assert _tree(project, store, ".nox") == tree


@pytest.mark.slow
def test_npm_replaces_a_linked_node_modules_and_adopt_moves_it_in_again(
    tmp_path: Path, store: Path
) -> None:
    node, npm = require_tool("node"), require_tool("npm")
    package = {"name": "demo", "version": "1.0.0", "private": True}
    package["dependencies"] = {"is-number": "^7.0.0"}
    project = _bare(tmp_path / "proj", **{"package.json": json.dumps(package)})
    env = {**os.environ, "npm_config_update_notifier": "false"}
    npm_install = [npm, "install", "--no-audit", "--no-fund"]

    def resolves() -> str:
        """Where node finds is-number from the project (the realpath of its index.js)."""
        found = run([node, "-e", "console.log(require.resolve('is-number'))"], cwd=project)
        assert found.returncode == 0, found.stderr
        return found.stdout.strip()

    installed = run(npm_install, cwd=project, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    out = relocate_json("adopt", "--node-modules", str(project))
    assert "node_modules moved into the store" in out["notes"], out["notes"]
    tree = _tree(project, store, "node_modules")
    assert (tree / "is-number" / "package.json").is_file()
    assert resolves() == str(tree / "is-number" / "index.js")

    # npm does not keep a linked node_modules: it makes a folder in the project again
    (tree / "marker").write_text("the store's copy")
    reinstalled = run(npm_install, cwd=project, env=env)
    assert reinstalled.returncode == 0, reinstalled.stdout + reinstalled.stderr
    nm = project / "node_modules"
    assert nm.is_dir() and not nm.is_symlink()
    assert (nm / "is-number" / "package.json").is_file()
    assert os.readlink(hop_of(project, "node_modules")) == str(tree)  # the hop is left
    assert (tree / "marker").is_file()  # npm install left the store's copy alone
    assert resolves() == str(nm / "is-number" / "index.js")

    out = relocate_json("adopt", "--node-modules", str(project))
    assert "node_modules moved into the store" in out["notes"], out["notes"]
    assert _tree(project, store, "node_modules") == tree
    assert not (tree / "marker").exists()  # npm's new folder replaced the stale copy
    assert (tree / "is-number" / "package.json").is_file()
    assert resolves() == str(tree / "is-number" / "index.js")


@pytest.mark.slow
def test_eject_brings_back_what_the_tools_wrote(tmp_path: Path, store: Path) -> None:
    env = _writing_bytecode()
    project = _project(tmp_path / "proj", with_pytest=True)
    (project / "tox.ini").write_text("[tox]\nskipsdist = true\n")  # linked, never used
    relocate_ok("adopt", "--trees", str(project))
    (bundle,) = [p for p in (store / "trees").iterdir() if p.is_dir()]
    assert _tree(project, store, ".tox").parent == bundle
    _mypy(project)
    version = _ruff(project)
    _pytest(project, env=env)
    assert (bundle / "bytecode").is_dir()

    relocate_ok("eject", str(project))
    for name in (".mypy_cache", ".ruff_cache", ".pytest_cache", ".venv"):
        assert (project / name).is_dir() and not (project / name).is_symlink(), name
    assert list((project / ".mypy_cache" / MYPY_VERSION_DIR).iterdir())
    assert list((project / ".ruff_cache" / version).iterdir())
    lastfailed = json.loads((project / ".pytest_cache" / "v" / "cache" / "lastfailed").read_text())
    assert lastfailed == {"tests/test_add.py::test_fail": True}
    assert not os.path.lexists(project / ".tox")  # empty, never used: just removed
    assert sorted(p.name for p in project.glob("*.nosync")) == []
    assert list((store / "trees").iterdir()) == []  # the bundle and its owner record

    packages = site_packages(project / ".venv")
    assert sorted(str(p) for p in packages.rglob("_relocator_bytecode*")) == []
    python = str(project / ".venv" / "bin" / "python")
    said = run([python, "-c", "import sys; print(sys.pycache_prefix)"], env=env)
    assert said.stdout.strip() == "None", said.stderr
    assert "Metadata fresh for pkg" in _mypy(project)  # the cache came back whole
