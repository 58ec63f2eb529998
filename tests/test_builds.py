"""Building a relocated project: the distributions hold no file of the store.

For each common build backend (hatchling, setuptools, flit-core, pdm-backend,
poetry-core, uv_build, scikit-build-core, maturin), each front end (``uv build``,
``python -m build --installer uv``, and the backend's own: ``hatch build``, ``flit
build``, ``pdm build``, ``poetry build``) builds an sdist and a wheel of a project
``relocate adopt`` relocated, with and without ``--trees``, in a git repository and
outside one. Neither distribution may hold an entry under a ``*.nosync`` name, a file
of the store venv or of the project's trees (``pyvenv.cfg``, ``bin/python``...), nor a
symlink to an absolute path; and ``tox`` with packaging (it builds the sdist in
``.tox/.pkg`` and installs it) passes.

Speed: each of the 32 projects is made and adopted once, and every build of the run
is made up front, a project's builds one after another (a backend may write into the
project: ``.pdm-build``, ``dist/``), several projects at a time; each test then judges
its own build. Only the selected tests' builds run. Build isolation installs each
backend from uv's or pip's cache, shared by the run.

Before the link's machine-local part became ``NAME.nosync/NAME`` (a real folder holding
a link of the tree's own name), hatchling, which follows symlinks and skips only the
exact names ``.venv``, ``.tox``, ``.mypy_cache``..., walked into the store through every
``NAME.nosync`` hop, and so did scikit-build-core outside a git repository. One case
still needs the user's own line: scikit-build-core outside git with ``--trees`` follows
the tree links themselves and reads no ``.gitignore`` through a link, so not the ``*`` a
real cache folder holds; its project here carries the ``sdist.exclude`` setting that
docs/package-managers.md gives (:data:`SKBUILD_TREES`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import make_venv, require_tool, run
from tests.test_recipes import tool_caches  # noqa: F401 (a fixture)
from tests.tools import tool

#: The first test makes every build. Under pytest-xdist (scripts/test) one worker runs the
#: whole module (tests/conftest.py's WHOLE_MODULES): the builds are made once.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

#: Projects built at a time (a project's own builds run one after another).
WORKERS = 4
TOP = "demo-0.1.0"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
description = "demo"
readme = "README.md"
requires-python = ">=3.9"

{scripts}[build-system]
requires = [{requires}]
build-backend = "{api}"
"""

CODE = '"""demo"""\n\n\ndef main() -> None:\n    print("hello from demo")\n'
TEST = "from demo import main\n\n\ndef test_main() -> None:\n    main()\n"
#: What ``uv init`` writes (minus the comment): ``.venv``, but no ``.venv.nosync``.
GITIGNORE = "__pycache__/\n*.py[oc]\nbuild/\ndist/\nwheels/\n*.egg-info\n.venv\n"
TOX_INI = '[testenv]\ncommands = python -c "import demo; demo.main()"\n'
#: The trees of ``adopt --trees``.
TREES = (".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox")


#: scikit-build-core outside git follows the tree links of ``--trees`` and, reading no
#: ``.gitignore`` through a link, not the ``*`` a real cache folder holds: without this
#: setting its sdist would hold ``.mypy_cache/...`` (measured). In git,
#: ``.git/info/exclude`` names the links and it needs nothing.
SKBUILD_TREES = (
    '\n[tool.scikit-build]\nsdist.exclude = [".mypy_cache", ".pytest_cache", ".ruff_cache"]\n'
)


class Backend(NamedTuple):
    requires: str
    api: str
    own: str | None = None  # the backend's own front end, a tool of tests/tools.py
    package: str = "src/demo"  # where the package's sources are
    files: tuple[tuple[str, str], ...] = ()
    extra: str = ""  # more of pyproject.toml
    scripts: bool = True  # a console script demo (maturin's bin bindings make the binary one)
    tox: str = ""  # more of tox.ini
    needs: tuple[str, ...] = ()  # programs it needs on this machine


BACKENDS = {
    "hatchling": Backend('"hatchling"', "hatchling.build", own="hatch"),
    "setuptools": Backend('"setuptools>=64"', "setuptools.build_meta"),
    "flit-core": Backend('"flit_core>=3.9,<5"', "flit_core.buildapi", own="flit"),
    "pdm-backend": Backend('"pdm-backend"', "pdm.backend", own="pdm"),
    "poetry-core": Backend('"poetry-core>=2"', "poetry.core.masonry.api", own="poetry"),
    # uv build is uv_build's own front end (uv builds with its built-in copy)
    "uv_build": Backend('"uv_build>=0.9,<0.14"', "uv_build"),
    "scikit-build-core": Backend(
        '"scikit-build-core"',
        "scikit_build_core.build",
        files=(
            (
                "CMakeLists.txt",
                "cmake_minimum_required(VERSION 3.15)\n"
                "project(${SKBUILD_PROJECT_NAME} LANGUAGES NONE)\n",
            ),
        ),
        needs=("cmake",),
    ),
    "maturin": Backend(
        '"maturin>=1,<2"',
        "maturin",
        package="python/demo",
        files=(
            ("Cargo.toml", '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n'),
            ("src/main.rs", 'fn main() {\n    println!("hello from demo");\n}\n'),
        ),
        extra='\n[tool.maturin]\nbindings = "bin"\npython-source = "python"\n',
        scripts=False,
        # rustup's toolchains are not in the tests' HOME: tox passes where they are
        tox="pass_env = RUSTUP_HOME, CARGO_HOME\n[pkgenv]\npass_env = RUSTUP_HOME, CARGO_HOME\n",
        needs=("cargo",),
    ),
}


class Variant(NamedTuple):
    backend: str
    trees: bool
    git: bool

    @property
    def name(self) -> str:
        return (
            f"{self.backend}-{'trees' if self.trees else 'venv'}-{'git' if self.git else 'nogit'}"
        )


def _fronts(backend: str) -> list[str]:
    own = BACKENDS[backend].own
    return ["uv", "build", *([own] if own else [])]


CASES = [
    pytest.param(Variant(b, trees, git), front, id=f"{Variant(b, trees, git).name}-{front}")
    for b in BACKENDS
    for front in _fronts(b)
    for trees in (False, True)
    for git in (False, True)
]
VARIANTS = [
    pytest.param(Variant(b, trees, git), id=Variant(b, trees, git).name)
    for b in BACKENDS
    for trees in (False, True)
    for git in (False, True)
]


# -- what a distribution must not hold ----------------------------------------------------


class StoreFiles(AssertionError):
    """A distribution holds files of the store; ``entries`` names them."""

    def __init__(self, archive: Path, entries: list[str]) -> None:
        shown = "\n  ".join(entries[:15])
        more = f"\n  ... and {len(entries) - 15} more" if len(entries) > 15 else ""
        super().__init__(f"{archive.name} holds {len(entries)} store entries:\n  {shown}{more}")
        self.entries = entries


def store_fingerprints(project: Path) -> set[str]:
    """The paths of the store's files as an archive would spell them below its top: each
    file of the project's store venv relative to the venv (``pyvenv.cfg``, ``bin/python``),
    each file of its trees' folder relative to that folder (``.mypy_cache/3.11/...``)."""
    found: set[str] = set()
    roots = {Path(os.path.realpath(project / ".venv"))}
    trees = [project / name for name in TREES if (project / name).is_symlink()]
    roots |= {Path(os.path.realpath(tree)).parent for tree in trees}  # the trees' folder
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def _members(archive: Path) -> Iterator[tuple[str, str | None]]:
    """Each entry of a wheel or an sdist: its name, and its target when it is a symlink."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                link = stat.S_ISLNK(info.external_attr >> 16)
                yield info.filename, z.read(info).decode() if link else None
        return
    with tarfile.open(archive) as t:
        for member in t.getmembers():
            yield member.name, member.linkname if member.issym() or member.islnk() else None


def store_entries(archive: Path, fingerprints: set[str]) -> list[str]:
    """The entries of ``archive`` that are the store's: under a ``*.nosync`` name, a file
    of the store venv or trees (by its path), or a symlink to an absolute path."""
    found = []
    for name, target in _members(archive):
        parts = name.rstrip("/").split("/")
        if archive.suffix != ".whl" and parts[0] == TOP:
            parts = parts[1:]
        suffixes = {"/".join(parts[i:]) for i in range(len(parts))}
        why = []
        if any(p.endswith(".nosync") for p in parts):
            why.append("under a .nosync name")
        if parts and parts[-1] == "pyvenv.cfg":
            why.append("a venv's pyvenv.cfg")
        if suffixes & fingerprints:
            why.append("a file of the store")
        if target is not None and target.startswith("/"):
            why.append(f"a symlink to {target}")
        if why:
            found.append(f"{name} ({', '.join(why)})")
    return found


def assert_no_store_files(archive: Path, fingerprints: set[str]) -> None:
    found = store_entries(archive, fingerprints)
    if found:
        raise StoreFiles(archive, found)


def _names(archive: Path) -> set[str]:
    return {name for name, _ in _members(archive)}


# -- the projects and their builds, made once ----------------------------------------------


@dataclass
class Done:
    """One build (or tox run) of one project."""

    returncode: int
    output: str
    artifacts: list[Path] = field(default_factory=list)


@dataclass
class Lab:
    base: Path
    env: dict[str, str]
    exes: dict[str, str]  # the tool of each job
    projects: dict[Variant, Path] = field(default_factory=dict)
    done: dict[tuple[Variant, str], Done] = field(default_factory=dict)


def _selected(request: pytest.FixtureRequest) -> dict[Variant, list[str]]:
    """The jobs of the selected tests of this module, by project: front ends, then tox."""
    jobs: dict[Variant, list[str]] = {}
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.module is not sys.modules[__name__] or callspec is None:
            continue
        variant = callspec.params["variant"]
        job = callspec.params.get("front", "tox")
        jobs.setdefault(variant, [])
        if job not in jobs[variant]:
            jobs[variant].append(job)
    for names in jobs.values():
        names.sort(key=lambda j: j == "tox")  # tox last: it fills .tox
    return jobs


#: What the ``isolated`` fixture sets for each test, which has not run yet when a module
#: fixture is made: the builds get it here.
_UNSET = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONPYCACHEPREFIX",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "RELOCATOR_CONFIG",
)
_SET = {
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def _env(base: Path, caches: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(_SET)
    home = base / "home"
    home.mkdir()
    real_home = pwd.getpwuid(os.getuid()).pw_dir  # HOME is the test's: find rustup's own
    rustup = os.environ.get("RUSTUP_HOME") or os.path.join(real_home, ".rustup")
    env.update(
        caches,
        HOME=str(home),
        RELOCATOR_HOME=str(base / "store"),
        RELOCATOR_LOCK_TIMEOUT="120",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        PDM_CHECK_UPDATE="0",
        PDM_USE_UV="1",  # pdm installs the build requirements with uv, as the others do
        RUSTUP_HOME=rustup,  # the toolchains cargo runs (read only)
        CARGO_HOME=str(base / "cargo"),
    )
    return env


def _make(lab: Lab, variant: Variant) -> Path:
    """The project of ``variant``, with a real venv, adopted (``--trees``: with a mypy and
    a pytest cache moved into the store first); in git, committed first."""
    backend = BACKENDS[variant.backend]
    root = lab.base / "projects" / variant.name
    package = root / backend.package
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(CODE)
    (root / "tests").mkdir()
    (root / "tests" / "test_demo.py").write_text(TEST)
    (root / "README.md").write_text("demo\n")
    (root / ".gitignore").write_text(GITIGNORE)
    (root / "tox.ini").write_text(TOX_INI + backend.tox)
    scripts = '[project.scripts]\ndemo = "demo:main"\n\n' if backend.scripts else ""
    text = PYPROJECT.format(requires=backend.requires, api=backend.api, scripts=scripts)
    if variant.backend == "scikit-build-core" and variant.trees and not variant.git:
        text += SKBUILD_TREES  # the line docs/package-managers.md gives for this one case
    (root / "pyproject.toml").write_text(text + backend.extra)
    for name, content in backend.files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    make_venv(root / ".venv")
    if variant.trees:
        for cache, inside in (
            (".mypy_cache", "3.11/demo.data.json"),
            (".pytest_cache", "v/cache/nodeids"),
        ):
            (root / cache / inside).parent.mkdir(parents=True)
            (root / cache / inside).write_text("{}\n")
            (root / cache / ".gitignore").write_text("*\n")  # as mypy and pytest write it
    if variant.git:
        for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "demo"]):
            _ok(["git", *cmd], root, lab.env)
    trees = ["--trees"] if variant.trees else []
    _ok([sys.executable, "-m", "relocator", "adopt", str(root), *trees], root, lab.env)
    return root


def _ok(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = run(cmd, cwd=cwd, env=env, timeout=600)
    assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _command(exe: str, job: str, out: Path) -> list[str]:
    """The command line of ``job``, whose program is ``exe``, writing into ``out``."""
    return {
        "uv": [exe, "build", "-o", str(out)],
        "build": [exe, "--installer", "uv", "-o", str(out)],
        "hatch": [exe, "build", str(out)],
        "pdm": [exe, "build", "-d", str(out)],
        "poetry": [exe, "build", "-o", str(out)],
        "flit": [exe, "build"],  # into the project's dist/, moved to out
        "tox": [exe, "-e", "py"],
    }[job]


def _job(lab: Lab, variant: Variant, job: str, root: Path) -> Done:
    out = lab.base / "out" / variant.name / job
    out.mkdir(parents=True)
    result = run(_command(lab.exes[job], job, out), cwd=root, env=lab.env, timeout=900)
    done = Done(result.returncode, result.stdout + result.stderr)
    if job == "flit" and (root / "dist").is_dir():
        for built in (root / "dist").iterdir():
            shutil.move(str(built), out / built.name)
        (root / "dist").rmdir()
    if job == "tox":  # the sdist tox built and installed
        for built in (root / ".tox" / ".pkg" / "dist").glob("*.tar.gz"):
            shutil.copy(built, out / built.name)
    done.artifacts = sorted(p for p in out.iterdir() if p.name.endswith((".tar.gz", ".whl")))
    return done


def _project_jobs(lab: Lab, variant: Variant, jobs: list[str]) -> dict[tuple[Variant, str], Done]:
    root = lab.projects[variant] = _make(lab, variant)
    found = {}
    for job in jobs:
        found[variant, job] = _job(lab, variant, job, root)
    return found


@pytest.fixture(scope="module")
def lab(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    shared_caches: dict[str, str],
    tool_caches: dict[str, str],  # noqa: F811
) -> Lab:
    jobs = {  # a backend whose programs are missing is not built (its tests say so)
        variant: names
        for variant, names in _selected(request).items()
        if all(shutil.which(p) for p in BACKENDS[variant.backend].needs)
    }
    exes = {"uv": str(Path(sys.executable).parent / "uv")}
    for job in {j for names in jobs.values() for j in names} - {"uv"}:
        exes[job] = tool("tox-uv" if job == "tox" else job)  # installed before the builds
    base = tmp_path_factory.mktemp("builds")
    lab = Lab(base, _env(base, {**shared_caches, **tool_caches}), exes)
    with ThreadPoolExecutor(WORKERS) as pool:
        for found in pool.map(lambda v: _project_jobs(lab, v, jobs[v]), jobs):
            lab.done.update(found)
    return lab


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "front"), CASES)
def test_build_holds_no_store_file(lab: Lab, variant: Variant, front: str) -> None:
    for program in BACKENDS[variant.backend].needs:
        require_tool(program)
    project, done = lab.projects[variant], lab.done[variant, front]
    fingerprints = store_fingerprints(project)

    for artifact in done.artifacts:
        assert_no_store_files(artifact, fingerprints)
    assert done.returncode == 0, done.output[-3000:]
    kinds = sorted("wheel" if a.suffix == ".whl" else "sdist" for a in done.artifacts)
    assert kinds == ["sdist", "wheel"], (done.artifacts, done.output[-3000:])
    (sdist,) = [a for a in done.artifacts if a.suffix != ".whl"]
    (wheel,) = [a for a in done.artifacts if a.suffix == ".whl"]
    package = BACKENDS[variant.backend].package
    assert {f"{TOP}/pyproject.toml", f"{TOP}/{package}/__init__.py"} <= _names(sdist)
    assert "demo/__init__.py" in _names(wheel)


@pytest.mark.parametrize("variant", VARIANTS)
def test_tox_with_packaging_passes(lab: Lab, variant: Variant) -> None:
    for program in BACKENDS[variant.backend].needs:
        require_tool(program)
    project, done = lab.projects[variant], lab.done[variant, "tox"]
    fingerprints = store_fingerprints(project)

    for artifact in done.artifacts:
        assert_no_store_files(artifact, fingerprints)
    assert done.returncode == 0, done.output[-3000:]
    assert "hello from demo" in done.output
    assert [a.name for a in done.artifacts] == [f"{TOP}.tar.gz"]  # built, not skipped
    if variant.trees:  # .tox went through its link into the store
        assert (project / ".tox").is_symlink()
        assert (Path(os.path.realpath(project / ".tox")) / ".pkg" / "dist").is_dir()


def test_the_helper_names_each_store_entry(tmp_path: Path) -> None:
    """The check itself: a tar that holds a hop's files, a venv file and an absolute link
    fails, naming them; one with only the project's files passes."""
    bad = tmp_path / "bad.tar.gz"
    files = tmp_path / "files"
    files.mkdir()
    (files / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (files / "m.py").write_text("")
    with tarfile.open(bad, "w:gz") as t:
        t.add(files / "m.py", f"{TOP}/src/demo/__init__.py")
        t.add(files / "pyvenv.cfg", f"{TOP}/.venv.nosync/pyvenv.cfg")
        t.add(files / "m.py", f"{TOP}/lib/python3.11/site-packages/_relocator_bytecode.py")
        link = tarfile.TarInfo(f"{TOP}/bin/python3")
        link.type, link.linkname = tarfile.SYMTYPE, "/usr/bin/python3"
        t.addfile(link)
    fingerprints = {"pyvenv.cfg", "lib/python3.11/site-packages/_relocator_bytecode.py"}
    with pytest.raises(StoreFiles) as caught:
        assert_no_store_files(bad, fingerprints)
    assert caught.value.entries == [
        f"{TOP}/.venv.nosync/pyvenv.cfg "
        "(under a .nosync name, a venv's pyvenv.cfg, a file of the store)",
        f"{TOP}/lib/python3.11/site-packages/_relocator_bytecode.py (a file of the store)",
        f"{TOP}/bin/python3 (a symlink to /usr/bin/python3)",
    ]
    assert "bad.tar.gz holds 3 store entries" in str(caught.value)
    good = tmp_path / "good.whl"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("demo/__init__.py", "")
        z.writestr("demo-0.1.0.dist-info/RECORD", "")
    assert_no_store_files(good, fingerprints)
