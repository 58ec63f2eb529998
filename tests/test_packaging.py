"""The package as PyPI would get it: ``uv build`` makes an sdist and a wheel from a copy of
the checkout, ``twine check --strict`` accepts both, each holds what it must (the hook
scripts, ``py.typed``, one version), and the wheel installed into a fresh venv runs.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import relocator
from tests.helpers import require_tool, run, source_copy
from tests.tools import tool

pytestmark = pytest.mark.slow

VERSION = relocator.__version__
HOOKS = ["relocator.bash", "relocator.fish", "relocator.sh", "relocator.zsh"]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel, built once."""
    uv = require_tool("uv")
    top = tmp_path_factory.mktemp("build")
    src = source_copy(top / "src")
    out = top / "dist"
    result = run([uv, "build", "--python", sys.executable, "--out-dir", str(out), str(src)])
    assert result.returncode == 0, result.stderr
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    assert (sdist.name, wheel.name) == (
        f"relocator-{VERSION}.tar.gz",
        f"relocator-{VERSION}-py3-none-any.whl",
    )
    return sdist, wheel


def test_twine_accepts_the_sdist_and_the_wheel(dists: tuple[Path, Path]) -> None:
    result = run([tool("twine"), "check", "--strict", *map(str, dists)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_holds_the_hooks_the_types_and_one_version(dists: tuple[Path, Path]) -> None:
    _, wheel = dists
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = f"relocator-{VERSION}.dist-info"
        metadata = z.read(f"{info}/METADATA").decode()
        entry_points = z.read(f"{info}/entry_points.txt").decode()
    assert {f"relocator/shell/{name}" for name in HOOKS} <= names
    assert {"relocator/py.typed", "relocator/__init__.py", "relocator/host/installs.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nRequires-Python: >=3.9\n" in metadata
    assert "relocate = relocator.cli.entry:main" in entry_points


def test_the_sdist_holds_what_builds_and_tests_it(dists: tuple[Path, Path]) -> None:
    sdist, _ = dists
    top = f"relocator-{VERSION}"
    with tarfile.open(sdist) as t:
        names = {n.removeprefix(f"{top}/") for n in t.getnames()}
    wanted = {
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "relocator/__init__.py",
        "relocator/py.typed",
        "tests/conftest.py",
        "tests/helpers.py",
        "docs/install.md",
        "scripts/install",
        *[f"shell/{name}" for name in HOOKS],
    }
    assert wanted <= names, sorted(wanted - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_installed_in_a_fresh_venv_runs(
    dists: tuple[Path, Path], tmp_path: Path, isolated: Path
) -> None:
    uv = require_tool("uv")
    _, wheel = dists
    venv = tmp_path / "fresh"
    made = run([uv, "venv", "--python", sys.executable, str(venv)])
    assert made.returncode == 0, made.stderr
    installed = run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), str(wheel)])
    assert installed.returncode == 0, installed.stderr
    exe = str(venv / "bin" / "relocate")

    version = run([exe, "--version"], cwd=tmp_path)
    assert (version.returncode, version.stdout, version.stderr) == (0, f"relocate {VERSION}\n", "")
    verbose = run([exe, "--version", "-v"], cwd=tmp_path).stdout.splitlines()
    assert verbose[:2] == [f"relocate {VERSION}", f"installed: pip, venv {venv}"]
    package = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert verbose[2] == f"package: {package / 'site-packages' / 'relocator'}"
    hook = run([exe, "hook", "zsh"], cwd=tmp_path)
    assert hook.returncode == 0, hook.stderr
    assert "chpwd_functions=(_relocator_hook" in hook.stdout
