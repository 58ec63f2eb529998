"""Recipes: installing a project's packages into a fresh store venv, from its lock file.

A project synced to a second machine arrives without its venv. relocator makes
an empty one in the store, then :func:`install` fills it with the tool the
project uses. The project folder syncs to other machines, so no tool may
change or add a file in it, and no lock file is ever rewritten. Each command
was chosen by comparing every entry of a project before and after a run (uv
0.13.9, Poetry 2.5.1, PDM 2.29.3, Pipenv 2026.10.3):

- uv: ``UV_PROJECT_ENVIRONMENT=<venv> uv sync --locked --python <venv>/bin/python``.
  Without ``--python``, a ``.python-version`` the venv does not match makes uv
  delete the venv and make another. Where there is no venv yet, ``uv sync``
  makes it (without ``--python``: the project's own request). ``--locked``
  refuses a stale lock instead of rewriting it. The user's and the project's uv
  settings still apply.
- Poetry: ``poetry install`` with the venv activated (``VIRTUAL_ENV``, its
  ``bin`` first on PATH) and ``POETRY_VIRTUALENVS_CREATE=false``, so that a
  Python the project refuses is an error, not a new venv. A stale lock fails.
  ``POETRY_VIRTUALENVS_PATH`` names an empty folder: where ``poetry env use``
  was run once, Poetry's record of it (``envs.toml`` there) would make it take
  the project's ``.venv`` over the active venv.
- PDM: ``PDM_PYTHON=<venv>/bin/python pdm install --check --frozen-lockfile``.
  PDM writes ``.pdm-python`` only when it must choose an interpreter: given a
  PDM_PYTHON that requires-python excludes, it rewrites ``.pdm-python`` and
  makes a ``.venv`` in the project, so the Python is checked here first. With
  ``python.use_venv`` off it would fill ``__pypackages__``: ``PDM_USE_VENV=1``.
- Pipenv: ``pipenv verify``, then ``pipenv sync --dev`` with the venv activated
  (``sync`` alone installs a stale lock without a word). It would load the
  project's ``.env`` over the environment, where a variable can make it skip
  the venv: ``PIPENV_DONT_LOAD_ENV``; ``PIPENV_PIPFILE`` pins the Pipfile.
- requirements, project: ``uv pip install --python <venv>/bin/python`` when
  uv is on PATH, else the venv's own pip.

Building the project itself is where files appear. setuptools writes
``<name>.egg-info`` beside the code, whoever drives it: ``DIST_EXTRA_CONFIG``
sends it (and ``build/``) to a temporary folder. pdm-backend always writes
``.pdm-build/`` into the project and nothing moves it, so a project it builds
is not installed itself (its dependencies are) and a note says so. hatchling,
poetry-core and flit-core write nothing. ``PYTHONDONTWRITEBYTECODE`` keeps
build hooks imported from the project from leaving ``__pycache__`` there.
"""

from __future__ import annotations

import operator
import os
import re

from relocator import errors
from relocator.errors import RelocatorError
from relocator.paths.project import read_pyproject, table
from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    OnLine = Optional[Callable[[str], None]]


class Recipe(NamedTuple):
    kind: str  # uv, poetry, pdm, pipenv, requirements, project
    files: tuple[str, ...]  # the recipe files, relative to the project root
    tool: str  # uv, poetry, pdm, pipenv, pip (uv pip when uv is on PATH, else the venv's pip)


class ToolFailed(errors.ToolFailed):
    """A package manager failed; ``output`` holds everything it printed (shown under
    the error, and kept in a log)."""


Command = tuple[str, list[str]]  # what the user is shown, and the argument list

#: Kind (and tool) -> (its lock, its name, how it installs, how it relocks, its word for stale).
LOCKED = {
    "uv": ("uv.lock", "uv", "uv sync --locked", "uv lock", "`--locked` was provided"),
    "poetry": ("poetry.lock", "Poetry", "poetry install", "poetry lock", "poetry.lock was last"),
    "pdm": ("pdm.lock", "PDM", "pdm install --frozen-lockfile", "pdm lock", "run `pdm lock`"),
    "pipenv": ("Pipfile.lock", "Pipenv", "pipenv sync --dev", "pipenv lock", "is out-of-date"),
}
#: Variables of the outer environment that would send a tool to another venv, project or prefix.
_REDIRECTS = frozenset(
    {"VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONHOME", "PYTHONPATH"}
    | {"UV_PROJECT_ENVIRONMENT", "UV_PROJECT", "UV_WORKING_DIR", "UV_FROZEN", "POETRY_ACTIVE"}
    | {"PDM_PROJECT", "PDM_LOCKFILE", "PDM_IGNORE_SAVED_PYTHON", "PDM_IN_VENV", "PIPENV_ACTIVE"}
    | {"PIPENV_IGNORE_VIRTUALENVS", "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER"}
)
_SPEC = re.compile(r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}
_COMPARE.update({">": operator.gt, ">=": operator.ge})
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def find(project: str) -> Optional[Recipe]:
    """The recipe to rebuild ``project``'s venv from; None when there is nothing to install."""
    for kind, (lock, *_) in LOCKED.items():
        if os.path.isfile(os.path.join(project, lock)):
            return Recipe(kind, (lock,), kind)
    requirements = _requirements(project)
    if requirements:
        return Recipe("requirements", requirements, "pip")
    data = read_pyproject(project)
    if "build-system" in data or "project" in data:
        return Recipe("project", ("pyproject.toml",), "pip")
    for name in ("setup.py", "setup.cfg"):  # an empty one only marks a folder as a project
        path = os.path.join(project, name)
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            return Recipe("project", (name,), "pip")
    return None


def _requirements(project: str) -> tuple[str, ...]:
    """``requirements*.txt`` at the root: ``requirements.txt`` first, then the others sorted."""
    import fnmatch

    try:
        names = sorted(os.listdir(project))
    except OSError:
        return ()
    found = [n for n in names if fnmatch.fnmatchcase(n, "requirements*.txt")]
    found = [n for n in found if os.path.isfile(os.path.join(project, n))]
    return tuple(sorted(found, key=lambda n: n != "requirements.txt"))


def managed_by_uv(project: str) -> bool:
    """Whether uv manages the project: its venv needs no pip (``uv venv`` without ``--seed``)."""
    if os.path.isfile(os.path.join(project, "uv.lock")):
        return True
    return table(read_pyproject(project), "tool", "uv") is not None


def describe(recipe: Recipe) -> str:
    """A short text for the user naming the tool that runs: ``uv.lock (uv sync --locked)``,
    ``requirements.txt (uv pip install)``, ``pyproject.toml (pip install -e .)``."""
    if recipe.kind in LOCKED:
        how = LOCKED[recipe.kind][2]
    else:
        how = _pip_shown(os.environ.get("PATH", os.defpath))
        how += " -e ." if recipe.kind == "project" else ""
    return f"{', '.join(recipe.files)} ({how})"


def install(recipe: Recipe, project: str, venv: str, *, on_line: OnLine = None) -> list[str]:
    """Install ``project``'s packages into ``venv`` (outside the project): an existing
    venv, or for a uv recipe none yet (``uv sync`` then makes it).

    Nothing in the project changes. Returns notes for the user; ``on_line`` gets
    each line the tool prints, as it prints it. A missing tool or a failed one
    raises :class:`RelocatorError` (:class:`ToolFailed` carries the output).
    """
    import tempfile

    if recipe.kind not in ("requirements", "pipenv"):
        _check_python(project, venv)
    with tempfile.TemporaryDirectory(prefix="relocator-build-") as scratch:
        env = _environment(scratch)
        commands, extra, notes = _commands(recipe, project, venv, env)
        before = _listing(project)
        for step in commands:
            _run(recipe, step, {**env, **extra}, project, on_line)
    added = sorted(_listing(project) - before)
    if added:  # a build backend none of the above accounts for (an old setuptools, say)
        notes.append(f"the build wrote {', '.join(added)} into the project")
    return notes


def _commands(
    recipe: Recipe, project: str, venv: str, env: dict[str, str]
) -> tuple[list[Command], dict[str, str], list[str]]:
    """The commands to run, the variables they need, and notes for the user."""
    python = os.path.join(venv, "bin", "python")
    active = {"VIRTUAL_ENV": venv, "PATH": os.pathsep.join([os.path.dirname(python), env["PATH"]])}
    skip = builds_in_place(project) and recipe.kind != "pipenv"
    notes = [_not_installed(project, recipe.kind)] if skip else []
    if recipe.kind == "uv":
        cmd = [_tool(recipe, env), "sync", "--locked"]
        cmd += ["--python", python] if os.path.isdir(venv) else []  # else uv makes it
        cmd += ["--no-install-project"] * skip
        return [("uv sync --locked", cmd)], {"UV_PROJECT_ENVIRONMENT": venv}, notes
    if recipe.kind == "poetry":
        cmd = [_tool(recipe, env), "install", "--no-interaction", "--no-ansi"]
        cmd += ["--no-root"] * skip
        return [("poetry install", cmd)], {**active, "POETRY_VIRTUALENVS_CREATE": "false"}, notes
    if recipe.kind == "pdm":
        cmd = [_tool(recipe, env), "install", "--check", "--frozen-lockfile"]
        cmd += ["--no-self"] * skip
        extra = {"PDM_PYTHON": python, "PDM_USE_VENV": "1", "PDM_VENV_IN_PROJECT": "0"}
        return [("pdm install", cmd)], {**extra, "PDM_CHECK_UPDATE": "0"}, notes
    if recipe.kind == "pipenv":
        pipenv = _tool(recipe, env)
        extra = {**active, "PIPENV_PIPFILE": os.path.join(project, "Pipfile")}
        extra.update(PIPENV_VERBOSITY="-1", PIPENV_DONT_LOAD_ENV="1", PIPENV_NOSPIN="1")
        verify, sync = [pipenv, "verify"], [pipenv, "sync", "--dev"]
        return [("pipenv verify", verify), ("pipenv sync", sync)], extra, []
    shown, pip = _pip(recipe, venv, env)
    if recipe.kind == "requirements":
        return [(shown, pip + [arg for f in recipe.files for arg in ("-r", f)])], {}, []
    if not skip:
        return [(f"{shown} -e", [*pip, "-e", project])], {}, []
    dependencies = _static_dependencies(project)
    return ([(shown, pip + dependencies)] if dependencies else []), {}, notes


def _not_installed(project: str, kind: str) -> str:
    name = (table(read_pyproject(project), "project") or {}).get("name")
    how = {"uv": "uv sync", "poetry": "poetry install", "pdm": "pdm install"}.get(kind)
    return (
        f"{name if isinstance(name, str) else 'the project'} itself is not installed: its build "
        "backend, pdm-backend, writes .pdm-build/ into the project; run "
        f"{how or 'pip install -e .'} there to add it"
    )


def _tool(recipe: Recipe, env: dict[str, str]) -> str:
    import shutil

    found = shutil.which(recipe.tool, path=env["PATH"])
    if found is None:
        name = LOCKED[recipe.kind][1]
        raise RelocatorError(
            f"{recipe.files[0]} needs {name}, which is not installed: install it (pipx install "
            f"{recipe.tool}), or run with --no-install and install the packages yourself"
        )
    return found


def _pip(recipe: Recipe, venv: str, env: dict[str, str]) -> Command:
    """``uv pip install --python <venv>`` when uv is on PATH, else the venv's own pip."""
    import shutil

    from relocator.state.venvs import site_packages

    python = os.path.join(venv, "bin", "python")
    uv = shutil.which("uv", path=env["PATH"])
    if uv:
        return _pip_shown(env["PATH"]), [uv, "pip", "install", "--python", python]
    if any(os.path.isdir(os.path.join(sp, "pip")) for sp in site_packages(venv)):
        cmd = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check"]
        return _pip_shown(env["PATH"]), cmd
    raise RelocatorError(
        f"{recipe.files[0]} needs uv or pip: uv is not installed and the venv has no pip; install "
        "uv (pipx install uv), or run with --no-install and install the packages yourself"
    )


def _pip_shown(path: str) -> str:
    """What installs a requirements or project recipe, as the user is shown it: uv's pip
    when uv is on ``path``, else the venv's own pip."""
    import shutil

    return "uv pip install" if shutil.which("uv", path=path) else "pip install"


def _environment(scratch: str) -> dict[str, str]:
    """The tools' environment: the user's, without what redirects them, plus build guards."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTS}
    env.setdefault("PATH", os.defpath)
    env.update(PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    if not any(ch in scratch for ch in "%\n\r"):  # setuptools reads the file with interpolation
        config = os.path.join(scratch, "setuptools.cfg")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"[egg_info]\negg_base = {scratch}\n[build]\nbuild_base = {scratch}/build\n")
        env["DIST_EXTRA_CONFIG"] = config
    env["POETRY_VIRTUALENVS_PATH"] = os.path.join(scratch, "poetry-envs")  # no envs.toml
    return env


def builds_in_place(project: str) -> bool:
    """Whether the project's build backend is pdm-backend, which writes ``.pdm-build/`` in it."""
    backend = (table(read_pyproject(project), "build-system") or {}).get("build-backend")
    return isinstance(backend, str) and backend.startswith("pdm.")


def _static_dependencies(project: str) -> list[str]:
    data = table(read_pyproject(project), "project") or {}
    found = data.get("dependencies")
    if "dependencies" in (data.get("dynamic") or []) or not isinstance(found, list):
        return []
    return [d for d in found if isinstance(d, str)]


def _check_python(project: str, venv: str) -> None:
    """Refuse a venv whose Python the project's ``requires-python`` excludes."""
    from relocator.state.venvs import python_version

    spec = (table(read_pyproject(project), "project") or {}).get("requires-python")
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", python_version(venv) or "")
    if not isinstance(spec, str) or found is None:
        return
    version = tuple(int(p) for p in found.groups() if p is not None)
    if _satisfies(version, spec) is False:
        raise RelocatorError(
            f"the venv's Python {'.'.join(map(str, version))} does not satisfy requires-python "
            f"{spec.strip()} in pyproject.toml: make the venv with one that does (--python)"
        )


def _satisfies(version: tuple[int, ...], spec: str) -> Optional[bool]:
    """Whether ``version`` meets a specifier set such as ``>=3.9,<4``; None when unsure."""
    for clause in spec.split(","):
        found = _SPEC.fullmatch(clause)
        if found is None or (found[3] and found[1] not in ("==", "!=")):
            return None
        op, want = found[1], tuple(int(p) for p in found[2].split("."))
        n = max(len(version), len(want))
        have, want_padded = version + (0,) * (n - len(version)), want + (0,) * (n - len(want))
        if found[3]:  # ==3.11.*, !=3.10.*
            ok = (version[: len(want)] == want) == (op == "==")
        elif op == "~=":  # ~=3.11 means >=3.11, ==3.*
            ok = have >= want_padded and version[: len(want) - 1] == want[:-1]
        else:
            ok = _COMPARE[op](have, want_padded)
        if not ok:
            return False
    return True


def _listing(project: str) -> set[str]:
    """Names at the project's root and in ``src/``: where builds leave what they leave."""
    import contextlib

    names: set[str] = set()
    for sub in ("", "src"):
        with contextlib.suppress(OSError):
            names.update(os.path.join(sub, n) for n in os.listdir(os.path.join(project, sub)))
    return names


def _run(recipe: Recipe, step: Command, env: dict[str, str], cwd: str, on_line: OnLine) -> None:
    """Run one tool (in a process group of its own, ended with it when relocate is
    interrupted: :mod:`relocator.system.children`), passing on its lines; a failure raises with
    its most telling line."""
    from relocator.system import children

    shown, cmd = step
    lines: list[str] = []
    with children.started(shown, cmd, cwd=cwd, env=env) as proc:
        for raw in proc.stdout or ():
            lines.append(_ANSI.sub("", raw.decode("utf-8", "replace").rstrip("\r\n")))
            if on_line is not None:
                on_line(lines[-1])
    if proc.returncode == 0:
        return
    output = "\n".join(lines)
    if recipe.kind in LOCKED and LOCKED[recipe.kind][4] in output:
        lock, relock = recipe.files[0], LOCKED[recipe.kind][3]
        raise ToolFailed(
            f"{lock} is out of date with the project ({shown} refuses it): run {relock} where "
            "the project is edited, let it sync, and run again (relocate never rewrites a lock)",
            output,
        )
    raise ToolFailed.of(f"{shown} failed", output)
