"""Rebuilding a venv from a project's recipe with the real tools, never touching the project.

Each install test locks a small project with the real tool, snapshots every
entry below the project (the dangling ``.venv`` links of a second machine
included), installs into an empty venv in the store, and checks that the
packages import and that the snapshot is unchanged.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from relocator.errors import RelocatorError
from relocator.venv import recipes
from relocator.venv.recipes import Recipe
from tests.helpers import env_without_uv, link_by_hand, make_venv, require_tool, run
from tests.tools import tool, tool_path_env

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
BACKENDS = {
    "setuptools": ("setuptools>=64", "setuptools.build_meta"),
    "hatchling": ("hatchling", "hatchling.build"),
    "poetry-core": ("poetry-core>=2,<3", "poetry.core.masonry.api"),
    "pdm-backend": ("pdm-backend", "pdm.backend"),
}
#: This sandbox's PyPI mirror serves the simple index only, not the JSON API Poetry prefers.
POETRY_SOURCE = """
[[tool.poetry.source]]
name = "pypi-simple"
url = "https://pypi.org/simple/"
priority = "primary"
"""


@pytest.fixture(scope="session")
def tool_caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("tool-caches")
    names = ("POETRY_CACHE_DIR", "PDM_CACHE_DIR", "PIPENV_CACHE_DIR")
    return {name: str(base / name.lower()) for name in names}


@pytest.fixture(autouse=True)
def _caches(monkeypatch: pytest.MonkeyPatch, tool_caches: dict[str, str]) -> None:
    for name, value in tool_caches.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PDM_CHECK_UPDATE", "0")


# -- building projects -----------------------------------------------------------------


def project(tmp_path: Path, backend: str | None = "setuptools", deps=("six",), extra="") -> Path:
    """``~/Documents/demo``: package ``demo_pkg`` in src/, as a second machine receives it."""
    root = tmp_path / "home" / "Documents" / "demo"
    (root / "src" / "demo_pkg").mkdir(parents=True)
    (root / "src" / "demo_pkg" / "__init__.py").write_text("NAME = 'demo'\n")
    (root / "README.md").write_text("demo\n")
    text = textwrap.dedent(
        f"""\
        [project]
        name = "demo-pkg"
        version = "0.1.0"
        requires-python = ">={PY}"
        dependencies = {list(deps)!r}
        """
    ).replace("'", '"')
    if backend:
        requires, api = BACKENDS[backend]
        text += f'\n[build-system]\nrequires = ["{requires}"]\nbuild-backend = "{api}"\n'
    (root / "pyproject.toml").write_text(text + extra)
    second_machine_links(root)
    return root


def second_machine_links(root: Path) -> None:
    """relocator's link, dangling: the store venv it names is on the first machine."""
    link_by_hand(root, "/Users/someone/Library/Caches/relocator/venvs/demo-1")


def store_venv(store: Path, *, pip: bool = False) -> Path:
    (store / "venvs").mkdir(parents=True, exist_ok=True)
    return make_venv(store / "venvs" / "demo-0123abcd", pip=pip)


def snapshot(top: Path) -> dict[str, tuple[str, object]]:
    """Every entry below ``top``: relative path -> (type, bytes or link target)."""
    found: dict[str, tuple[str, object]] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder, name)
            mode = path.lstat().st_mode
            rel = str(path.relative_to(top))
            if stat.S_ISLNK(mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                found[rel] = ("dir", None)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def imports(venv: Path, *modules: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Import ``modules`` with the venv's Python, from outside the project, writing no bytecode."""
    code = "; ".join(f"import {m}" for m in modules)
    return run([str(venv / "bin" / "python"), "-B", "-c", code], cwd=cwd)


def lock(cmd: list[str], root: Path, **env: str) -> None:
    result = run(cmd, cwd=root, env={**os.environ, **env})
    assert result.returncode == 0, result.stdout + result.stderr


def install_unchanged(recipe: Recipe, root: Path, venv: Path) -> tuple[list[str], list[str]]:
    """Install; assert nothing below the project changed. Returns (notes, lines shown)."""
    before = snapshot(root)
    lines: list[str] = []
    notes = recipes.install(recipe, str(root), str(venv), on_line=lines.append)
    assert snapshot(root) == before
    return notes, lines


# -- finding the recipe ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["uv.lock", "poetry.lock", "pdm.lock", "requirements.txt"], ("uv", ("uv.lock",), "uv")),
        (["poetry.lock", "pdm.lock", "Pipfile.lock"], ("poetry", ("poetry.lock",), "poetry")),
        (["pdm.lock", "Pipfile.lock", "pyproject.toml"], ("pdm", ("pdm.lock",), "pdm")),
        (["Pipfile.lock", "requirements.txt"], ("pipenv", ("Pipfile.lock",), "pipenv")),
        (
            ["requirements-dev.txt", "requirements.txt", "requirements-a.txt", "setup.py"],
            (
                "requirements",
                ("requirements.txt", "requirements-a.txt", "requirements-dev.txt"),
                "pip",
            ),
        ),
        (["requirements-test.txt"], ("requirements", ("requirements-test.txt",), "pip")),
        (["setup.py"], ("project", ("setup.py",), "pip")),
        (["setup.cfg"], ("project", ("setup.cfg",), "pip")),
        (["empty:setup.py", "empty:setup.cfg"], None),  # only marks a folder as a project
        ([], None),
    ],
)
def test_find_order(tmp_path: Path, files: list[str], expected: tuple | None) -> None:
    for entry in files:
        empty, _, name = entry.rpartition(":")
        (tmp_path / name).write_text("" if empty else "# something\n")
    assert recipes.find(str(tmp_path)) == (Recipe(*expected) if expected else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nname = "x"\n', True),
        ('[build-system]\nrequires = ["hatchling"]\n', True),
        ("[tool.black]\nline-length = 99\n", False),
        ("not toml [", False),
    ],
)
def test_find_pyproject(tmp_path: Path, text: str, expected: bool) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    found = recipes.find(str(tmp_path))
    assert found == (Recipe("project", ("pyproject.toml",), "pip") if expected else None)


def test_find_ignores_what_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").mkdir()
    (tmp_path / "requirements.txt").mkdir()
    (tmp_path / "requirements-dev.txt").symlink_to("nowhere")
    assert recipes.find(str(tmp_path)) is None


@pytest.mark.parametrize(
    ("files", "pyproject", "expected"),
    [
        (["uv.lock"], None, True),
        ([], "[tool.uv]\npackage = false\n", True),
        ([], "[tool.uv.sources]\nx = { path = 'x' }\n", True),
        (["poetry.lock"], "[tool.poetry]\nname = 'x'\n", False),
        (["requirements.txt"], None, False),
    ],
)
def test_managed_by_uv(tmp_path: Path, files: list[str], pyproject: str | None, expected: bool):
    for name in files:
        (tmp_path / name).write_text("")
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    assert recipes.managed_by_uv(str(tmp_path)) is expected


def test_describe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert recipes.describe(Recipe("uv", ("uv.lock",), "uv")) == "uv.lock (uv sync --locked)"
    assert recipes.describe(Recipe("poetry", ("poetry.lock",), "poetry")) == (
        "poetry.lock (poetry install)"
    )
    assert recipes.describe(Recipe("pipenv", ("Pipfile.lock",), "pipenv")) == (
        "Pipfile.lock (pipenv sync --dev)"
    )
    two = Recipe("requirements", ("requirements.txt", "requirements-dev.txt"), "pip")
    project_recipe = Recipe("project", ("pyproject.toml",), "pip")
    require_tool("uv")  # on PATH: uv's pip installs, and the text says so
    assert recipes.describe(two) == "requirements.txt, requirements-dev.txt (uv pip install)"
    assert recipes.describe(project_recipe) == "pyproject.toml (uv pip install -e .)"
    monkeypatch.setenv("PATH", str(tmp_path))  # no uv: the venv's own pip
    assert recipes.describe(two) == "requirements.txt, requirements-dev.txt (pip install)"
    assert recipes.describe(project_recipe) == "pyproject.toml (pip install -e .)"


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ((3, 11, 7), ">=3.9", True),
        ((3, 11, 7), ">=3.12", False),
        ((3, 11, 7), ">=3.9,<3.11", False),
        ((3, 11, 7), "~=3.11", True),
        ((3, 11, 7), "~=3.11.8", False),
        ((3, 11, 7), "==3.11.*", True),
        ((3, 11, 7), "!=3.11.*", False),
        ((3, 11, 7), "==3.11", False),
        ((3, 11, 0), "==3.11", True),
        ((3, 11, 7), ">3.11", True),
        ((3, 11, 7), "^3.11", None),
        ((3, 11, 7), ">=3.9, <4", True),
    ],
)
def test_requires_python(version: tuple[int, ...], spec: str, expected: bool | None) -> None:
    assert recipes._satisfies(version, spec) is expected


# -- refusing before anything runs ---------------------------------------------------


@pytest.mark.parametrize(
    ("lockfile", "name"),
    [("poetry.lock", "Poetry"), ("pdm.lock", "PDM"), ("Pipfile.lock", "Pipenv"), ("uv.lock", "uv")],
)
def test_missing_tool_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lockfile: str, name: str
) -> None:
    root = project(tmp_path)
    (root / lockfile).write_text("")
    monkeypatch.setenv("PATH", env_without_uv(tmp_path)["PATH"])
    (kind,) = (k for k, (lock, *_) in recipes.LOCKED.items() if lock == lockfile)
    store = tmp_path / "store"
    before = snapshot(root)
    with pytest.raises(RelocatorError) as caught:
        recipes.install(Recipe(kind, (lockfile,), kind), str(root), str(store_venv(store)))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{lockfile} needs {name}, which is not installed: install it")
    assert f"pipx install {kind}" in message
    assert "--no-install" in message
    assert snapshot(root) == before


def test_requirements_without_uv_or_pip(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, backend=None)
    (root / "requirements.txt").write_text("six\n")
    monkeypatch.setenv("PATH", env_without_uv(tmp_path)["PATH"])
    recipe = recipes.find(str(root))
    assert recipe is not None
    with pytest.raises(RelocatorError, match=r"^requirements.txt needs uv or pip: .*--no-install"):
        recipes.install(recipe, str(root), str(store_venv(store)))


def test_python_the_project_excludes_is_refused_before_the_tool_runs(
    tmp_path: Path, store: Path
) -> None:
    """PDM given such a Python would rewrite .pdm-python and make a .venv in the project."""
    root = project(tmp_path, backend="pdm-backend")
    text = (root / "pyproject.toml").read_text().replace(f">={PY}", ">=3.99")
    (root / "pyproject.toml").write_text(text)
    (root / "pdm.lock").write_text("# a lock\n")
    (root / ".pdm-python").write_text(f"{root}/.venv/bin/python\n")
    before = snapshot(root)
    with pytest.raises(RelocatorError, match=r"does not satisfy requires-python >=3\.99"):
        recipes.install(Recipe("pdm", ("pdm.lock",), "pdm"), str(root), str(store_venv(store)))
    assert snapshot(root) == before


# -- installing with the real tools ----------------------------------------------------


@pytest.mark.slow
def test_uv(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A setuptools project: uv sync builds it editable, its egg-info goes elsewhere."""
    uv = require_tool("uv")
    root = project(tmp_path, "setuptools")
    (root / ".python-version").write_text(f"{PY}\n")
    lock([uv, "lock", "--quiet"], root)
    venv = store_venv(store)
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"):  # the outer shell's: never followed
        monkeypatch.setenv(name, str(tmp_path / "elsewhere"))
    recipe = recipes.find(str(root))
    assert recipe == Recipe("uv", ("uv.lock",), "uv")
    notes, lines = install_unchanged(recipe, root, venv)
    assert notes == []
    assert any("six" in line for line in lines)
    assert imports(venv, "six", "demo_pkg", cwd=tmp_path).returncode == 0
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.slow
def test_uv_keeps_the_venv_it_is_given(tmp_path: Path, store: Path) -> None:
    """A .python-version the venv does not match: uv sync would replace the venv with one
    of that Python, or fail when there is none."""
    uv = require_tool("uv")
    root = project(tmp_path, "hatchling")
    text = (root / "pyproject.toml").read_text().replace(f">={PY}", ">=3.9")
    (root / "pyproject.toml").write_text(text)
    lock([uv, "lock", "--quiet"], root)
    (root / ".python-version").write_text(f"3.{sys.version_info[1] + 1}\n")
    venv = store_venv(store)
    (venv / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    cfg = (venv / "pyvenv.cfg").read_text()
    install_unchanged(Recipe("uv", ("uv.lock",), "uv"), root, venv)
    assert (venv / "pyvenv.cfg").read_text() == cfg
    assert (venv / "CACHEDIR.TAG").exists()
    assert imports(venv, "six", "demo_pkg", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_uv_stale_lock_fails_clearly_and_keeps_the_lock(tmp_path: Path, store: Path) -> None:
    uv = require_tool("uv")
    root = project(tmp_path, "hatchling")
    lock([uv, "lock", "--quiet"], root)
    text = (root / "pyproject.toml").read_text().replace('["six"]', '["six", "iniconfig"]')
    (root / "pyproject.toml").write_text(text)
    locked = (root / "uv.lock").read_bytes()
    before = snapshot(root)
    with pytest.raises(recipes.ToolFailed) as caught:
        recipes.install(Recipe("uv", ("uv.lock",), "uv"), str(root), str(store_venv(store)))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("uv.lock is out of date with the project (uv sync --locked")
    assert "run uv lock where the project is edited" in message
    assert "--locked" in caught.value.output
    assert (root / "uv.lock").read_bytes() == locked
    assert snapshot(root) == before


@pytest.mark.slow
def test_poetry(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tool_path_env("poetry")
    root = project(tmp_path, "poetry-core", extra=POETRY_SOURCE)
    lockenv = make_venv(tmp_path / "lockenv")
    lock([tool("poetry"), "lock"], root, **env, VIRTUAL_ENV=str(lockenv),
         POETRY_VIRTUALENVS_CREATE="false")  # fmt: skip
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("POETRY_ACTIVE", "1")
    venv = store_venv(store)
    recipe = recipes.find(str(root))
    assert recipe == Recipe("poetry", ("poetry.lock",), "poetry")
    notes, lines = install_unchanged(recipe, root, venv)
    assert notes == []
    assert any("Installing the current project" in line for line in lines)
    assert imports(venv, "six", "demo_pkg", cwd=tmp_path).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pdm-backend", "hatchling"])
def test_pdm(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """PDM leaves no .pdm-python; a pdm-backend project is not built (it writes .pdm-build/)."""
    env = tool_path_env("pdm")
    root = project(tmp_path, backend)
    lockenv = make_venv(tmp_path / "lockenv")
    lock([tool("pdm"), "lock"], root, **env, PDM_PYTHON=str(lockenv / "bin" / "python"))
    monkeypatch.setenv("PATH", env["PATH"])
    venv = store_venv(store)
    recipe = recipes.find(str(root))
    assert recipe == Recipe("pdm", ("pdm.lock",), "pdm")
    notes, _ = install_unchanged(recipe, root, venv)
    assert imports(venv, "six", cwd=tmp_path).returncode == 0
    own = imports(venv, "demo_pkg", cwd=tmp_path).returncode == 0
    if backend == "pdm-backend":
        assert not own
        assert len(notes) == 1
        assert notes[0].startswith("demo-pkg itself is not installed: its build backend")
        assert "run pdm install there" in notes[0]
    else:
        assert own
        assert notes == []


@pytest.mark.slow
def test_pipenv(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tool_path_env("pipenv")
    root = tmp_path / "home" / "Documents" / "demo"
    root.mkdir(parents=True)
    (root / "Pipfile").write_text(
        textwrap.dedent(
            f"""\
            [[source]]
            url = "https://pypi.org/simple"
            verify_ssl = true
            name = "pypi"

            [packages]
            six = "*"

            [dev-packages]
            iniconfig = "*"

            [requires]
            python_version = "{PY}"
            """
        )
    )
    second_machine_links(root)
    lockenv = make_venv(tmp_path / "lockenv")
    lock([tool("pipenv"), "lock"], root, **env, VIRTUAL_ENV=str(lockenv), PIPENV_VERBOSITY="-1")
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("PIPENV_ACTIVE", "1")  # an outer `pipenv shell`: would make it skip the venv
    venv = store_venv(store)
    recipe = recipes.find(str(root))
    assert recipe == Recipe("pipenv", ("Pipfile.lock",), "pipenv")
    notes, _ = install_unchanged(recipe, root, venv)
    assert notes == []
    assert imports(venv, "six", "iniconfig", cwd=tmp_path).returncode == 0


def requirements_project(tmp_path: Path) -> Path:
    root = tmp_path / "home" / "Documents" / "demo"
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text("six\n")
    (root / "requirements-dev.txt").write_text("iniconfig\n")
    second_machine_links(root)
    return root


@pytest.mark.slow
def test_requirements_with_uv(tmp_path: Path, store: Path) -> None:
    require_tool("uv")
    root = requirements_project(tmp_path)
    venv = store_venv(store)
    recipe = recipes.find(str(root))
    assert recipe == Recipe("requirements", ("requirements.txt", "requirements-dev.txt"), "pip")
    notes, _ = install_unchanged(recipe, root, venv)
    assert notes == []
    assert imports(venv, "six", "iniconfig", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_requirements_with_pip_only(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = requirements_project(tmp_path)
    venv = store_venv(store, pip=True)
    monkeypatch.setenv("PATH", env_without_uv(tmp_path)["PATH"])
    recipe = recipes.find(str(root))
    assert recipe is not None
    notes, lines = install_unchanged(recipe, root, venv)
    assert notes == []
    assert any("Successfully installed" in line for line in lines)
    assert imports(venv, "six", "iniconfig", cwd=tmp_path).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "installer"),
    [("setuptools", "uv"), ("hatchling", "uv"), ("pdm-backend", "uv"), ("setuptools", "pip")],
)
def test_project_editable(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch, backend: str, installer: str
) -> None:
    """No lock: the project itself, editable; setuptools' egg-info lands outside the project."""
    root = project(tmp_path, backend)
    if installer == "uv":
        require_tool("uv")
    else:
        monkeypatch.setenv("PATH", env_without_uv(tmp_path)["PATH"])
    venv = store_venv(store, pip=installer == "pip")
    recipe = recipes.find(str(root))
    assert recipe == Recipe("project", ("pyproject.toml",), "pip")
    notes, _ = install_unchanged(recipe, root, venv)
    assert imports(venv, "six", cwd=tmp_path).returncode == 0
    own = imports(venv, "demo_pkg", cwd=tmp_path)
    if backend == "pdm-backend":
        assert own.returncode != 0
        assert notes == [
            "demo-pkg itself is not installed: its build backend, pdm-backend, writes "
            ".pdm-build/ into the project; run pip install -e . there to add it"
        ]
        return
    assert own.returncode == 0, own.stderr
    assert notes == []
    # editable: a change in the project shows in the venv at once
    (root / "src" / "demo_pkg" / "__init__.py").write_text("NAME = 'changed'\n")
    shown = run([str(venv / "bin" / "python"), "-B", "-c", "import demo_pkg; print(demo_pkg.NAME)"])
    assert shown.stdout.strip() == "changed"


@pytest.mark.slow
def test_setup_py_project_leaves_no_bytecode_or_egg_info(tmp_path: Path, store: Path) -> None:
    """A legacy setup.py that imports a helper from the project: no __pycache__ appears there."""
    require_tool("uv")
    root = tmp_path / "home" / "Documents" / "legacy"
    (root / "src" / "legacy_pkg").mkdir(parents=True)
    (root / "src" / "legacy_pkg" / "__init__.py").write_text("")
    (root / "version_helper.py").write_text("VERSION = '0.3'\n")
    (root / "setup.py").write_text(
        textwrap.dedent(
            """\
            import os, sys
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from version_helper import VERSION
            from setuptools import setup
            setup(name="legacy", version=VERSION, package_dir={"": "src"},
                  packages=["legacy_pkg"], install_requires=["six"])
            """
        )
    )
    venv = store_venv(store)
    recipe = recipes.find(str(root))
    assert recipe == Recipe("project", ("setup.py",), "pip")
    notes, _ = install_unchanged(recipe, root, venv)
    assert notes == []
    assert imports(venv, "six", "legacy_pkg", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_failing_tool_is_one_line_with_the_output_kept(tmp_path: Path, store: Path) -> None:
    require_tool("uv")
    root = tmp_path / "home" / "Documents" / "demo"
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text("relocator-no-such-package-zz9\n")
    with pytest.raises(recipes.ToolFailed) as caught:
        recipes.install(
            Recipe("requirements", ("requirements.txt",), "pip"), str(root), str(store_venv(store))
        )
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("uv pip install failed: ")
    assert "relocator-no-such-package-zz9" in message
    assert "relocator-no-such-package-zz9" in caught.value.output


@pytest.mark.slow
def test_a_failed_uv_is_summed_up_by_its_error_not_its_hint(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("uv")
    root = tmp_path / "home" / "Documents" / "demo"
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text("six==1.0.0\n")  # never in the cache
    monkeypatch.setenv("UV_OFFLINE", "1")  # uv then ends with a hint about the network
    with pytest.raises(recipes.ToolFailed) as caught:
        recipes.install(
            Recipe("requirements", ("requirements.txt",), "pip"), str(root), str(store_venv(store))
        )
    assert "\nhint: " in caught.value.output
    message = str(caught.value)
    assert message.startswith("uv pip install failed: No solution found when resolving"), message
    assert "six==1.0.0" in message and "hint" not in message


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            ["error: No interpreter found for Python 3.99", "", "hint: install it"],
            "No interpreter found for Python 3.99",
        ),
        (
            ["ERROR: Could not find a version", "ERROR: No matching distribution for zz9"],
            "No matching distribution for zz9",
        ),
        (
            ["Error: Command '[...]' returned exit status 1."],
            "Command '[...]' returned exit status 1.",
        ),
        (
            ["  \u00d7 No solution:", "  ╰─▶ Because zz9 was not found", "  hint: x"],
            "Because zz9 was not found",
        ),
        (
            ["error: Failed to build `x`", "  cause: backend failed", "  cause: boom"],
            "Failed to build `x`: boom",
        ),
        (["hint: only advice"], "hint: only advice"),
        (["", "  ^  "], ""),
    ],
)
def test_the_telling_line_of_a_failed_tool(output: list[str], expected: str) -> None:
    from relocator.errors import ToolFailed, telling

    assert telling(output) == expected
    failed = ToolFailed.of("t failed", "\n".join(output), silent="no output")
    assert str(failed) == f"t failed: {expected or 'no output'}"
