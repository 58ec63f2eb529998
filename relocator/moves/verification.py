"""``relocate verify``: does the project's recipe give back the venv the user works with?

A scratch venv is built from the project's recipe (:func:`relocator.venv.recipes.find`,
filled by :func:`relocator.moves.creation.build`: what a rebuild and a second machine's
repair run), with the live venv's own base Python (else another of the same minor), in
the store's ``tmp/``.
Then the two are compared by distribution (:func:`relocator.state.inventory.differ`: the
live venv is the old one, the scratch venv the new), and the scratch venv is tried:
``run`` runs a command in it from the project's folder, activated as ``activate``
would; without one, each top-level module the recipe installs is imported, all in one
process. The live venv, the project's files and the registry are only read.

The scratch venv is journaled (a ``verify`` record naming it and the process that
builds it, :mod:`relocator.moves.scratch`): it is removed at the end, also on SIGINT or
SIGTERM; after a SIGKILL the next relocate that settles the project, or ``relocate
gc``, removes it. No project lock is held while it builds (that takes minutes): the
shell hook, the service and other commands go on.
"""

from __future__ import annotations

import os
import time

from relocator.errors import NotFound, RelocatorError
from relocator.moves.scratch import journaled
from relocator.paths import link, resolver
from relocator.paths.project import find_root, read_pyproject, table
from relocator.records import NamedTuple
from relocator.state import inventory, venvs
from relocator.state.store import Store
from relocator.system import faults
from relocator.venv import recipes, unrecorded, venvcheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


#: Lines of a ``--run`` command's output kept for the report.
TAIL = 20


class Ran(NamedTuple):
    command: str
    exit_code: int
    tail: tuple[str, ...]  # its last lines (stdout and stderr, as printed)


class Verified(NamedTuple):
    project: str
    venv: str  # the live venv, as ``.venv`` resolves
    recipe: str  # what built the scratch venv: ``uv.lock (uv sync --locked)``
    python: str  # the Python minor both run
    difference: inventory.Difference  # the scratch venv against the live one
    notes: tuple[str, ...]
    run: Optional[Ran]  # --run's command
    failed_imports: tuple[tuple[str, str], ...]  # (module, what it raised); without --run
    imported: int  # modules tried without --run
    seconds: float
    #: of ``difference.lost``, those the recipe lists (an extra or a group it does not
    #: install): not installed by hand, but a rebuild loses them too
    optional: tuple[inventory.Distribution, ...] = ()

    @property
    def ok(self) -> bool:
        passed = self.run.exit_code == 0 if self.run is not None else not self.failed_imports
        return passed and not self.difference

    def as_dict(self) -> dict[str, Any]:
        def each(dists: tuple[inventory.Distribution, ...]) -> list[dict[str, Any]]:
            return [d._asdict() for d in dists]

        diff = self.difference
        changed = [
            {"name": o.name, "live": o.version, "recipe": n.version} for o, n in diff.changed
        ]
        run = None if self.run is None else dict(self.run._asdict(), tail=list(self.run.tail))
        return {
            "ok": self.ok,
            "project": self.project,
            "venv": self.venv,
            "recipe": self.recipe,
            "python": self.python,
            "lost": each(diff.lost),
            "optional": each(self.optional),
            "gained": each(diff.gained),
            "changed": changed,
            "run": run,
            "imported": self.imported,
            "failed_imports": [{"module": m, "error": e} for m, e in self.failed_imports],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
        }


def verify(
    path: str,
    *,
    run: Optional[str] = None,
    store: Optional[Store] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> Verified:
    """Build the project's recipe into a scratch venv, compare it with the live venv, try
    it (``run``: a shell command in the project's folder; else the imports), remove it."""
    from relocator.moves.creation import build, find_minor
    from relocator.moves.relocation import Wants

    started = time.monotonic()
    store = store or Store()
    store.ensure()
    project = resolver.resolve(find_root(path, store.venvs))
    root = project.path
    live = _live_venv(root)
    recipe = recipes.find(root)
    if recipe is None:
        raise RelocatorError(
            f"{root} has no recipe to build a venv from (uv.lock, poetry.lock, pdm.lock, "
            "Pipfile.lock, requirements*.txt or pyproject.toml): nothing to verify"
        )
    version = venvs.python_version(live) or ""
    minor = ".".join(version.split(".")[:2])
    python = venvcheck.base_interpreter(live) or (find_minor(minor) if minor else None)
    if python is None:
        raise RelocatorError(
            f"no Python {minor or '(unknown)'} here, the version {live} runs: install it "
            "(uv python install), then run relocate verify again"
        )
    with journaled(store, project) as scratch:
        notes = build(root, scratch, recipe, Wants(python=python, progress=progress))
        faults.point("verify:built")
        theirs = inventory.read(scratch)
        difference = _unbuilt_self(root, inventory.differ(live, scratch), theirs)
        optional, by_hand = _listed(root, recipe, difference.lost)
        if by_hand:
            add = unrecorded.of(recipe, by_hand, live).add()
            notes.append(f"to keep what was installed by hand in the recipe: {add}")
        ran: Optional[Ran] = None
        failed: tuple[tuple[str, str], ...] = ()
        tried = 0
        if run is not None:
            if progress is not None:
                progress(f"running {run}")
            ran = _run(run, scratch, root, progress)
        else:
            if progress is not None:
                progress("importing what the recipe installs")
            tried, failed = _imports(scratch, set(theirs) - inventory.SEED_PACKAGES)
    return Verified(
        root,
        live,
        recipes.describe(recipe),
        minor,
        difference,
        tuple(notes),
        ran,
        failed,
        tried,
        time.monotonic() - started,
        optional,
    )


def _listed(
    root: str, recipe: recipes.Recipe, lost: tuple[inventory.Distribution, ...]
) -> tuple[tuple[inventory.Distribution, ...], tuple[inventory.Distribution, ...]]:
    """``lost`` split in two: what the recipe lists (an extra or a group its build does
    not install) and what it does not (installed by hand)."""
    listed = (unrecorded.names(root, recipe) or set()) if lost else set()
    return tuple(d for d in lost if d.name in listed), tuple(
        d for d in lost if d.name not in listed
    )


def _live_venv(root: str) -> str:
    """The venv ``.venv`` leads to (relocated or not)."""
    venv = os.path.realpath(os.path.join(root, link.LINK))
    if not link.is_venv(venv):
        raise NotFound(
            f"{root} has no venv at .venv to compare its recipe with: relocate adopt makes one"
        )
    return venv


def _unbuilt_self(
    root: str, difference: inventory.Difference, theirs: dict[str, inventory.Distribution]
) -> inventory.Difference:
    """The project itself, installed in place in the live venv and left out of the
    scratch venv on purpose (a pdm-backend build writes into the project), is no loss."""
    name = (table(read_pyproject(root), "project") or {}).get("name")
    own = inventory.normalize(name) if isinstance(name, str) else None
    if own is None or own in theirs or not recipes.builds_in_place(root):
        return difference
    lost = tuple(d for d in difference.lost if not (d.name == own and d.editable))
    return difference._replace(lost=lost)


#: What would send ``--run``'s tools to another venv, project or interpreter than the
#: scratch venv: taken out of the inherited environment (and some set again).
_ELSEWHERE = frozenset(
    {"VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    | {"UV_PROJECT", "UV_PYTHON", "POETRY_ACTIVE", "POETRY_VIRTUALENVS_CREATE", "PDM_PYTHON"}
    | {"PDM_IGNORE_ACTIVE_VENV", "PDM_PROJECT", "PDM_IN_VENV", "PIPENV_ACTIVE"}
    | {"PIPENV_IGNORE_VIRTUALENVS", "POETRY_VIRTUALENVS_PATH"}
)


def _activated(scratch: str) -> dict[str, str]:
    """The environment ``activate`` of ``scratch`` would give: ``VIRTUAL_ENV`` set, its
    ``bin`` first on PATH (another venv's, activated before, taken off), no PYTHONHOME;
    no bytecode written, so that the run leaves none in the project. A tool's own run
    uses the scratch venv too, never the project's ``.venv``: ``uv run`` through
    ``UV_PROJECT_ENVIRONMENT``, ``poetry run`` through the active venv (with
    ``POETRY_VIRTUALENVS_CREATE=false``, and ``POETRY_VIRTUALENVS_PATH`` a folder with no
    record of a ``poetry env use``, which would take the project's ``.venv`` over it),
    ``pdm run`` through ``PDM_PYTHON``."""
    env = {k: v for k, v in os.environ.items() if k not in _ELSEWHERE}
    before = os.environ.get("VIRTUAL_ENV")
    paths = env.get("PATH", os.defpath).split(os.pathsep)
    if before:
        paths = [p for p in paths if p != os.path.join(before, "bin")]
    env["PATH"] = os.pathsep.join([os.path.join(scratch, "bin"), *paths])
    env.update(VIRTUAL_ENV=scratch, UV_PROJECT_ENVIRONMENT=scratch, PYTHONDONTWRITEBYTECODE="1")
    env.update(POETRY_VIRTUALENVS_CREATE="false", PDM_PYTHON=venvs.interpreter(scratch))
    env["POETRY_VIRTUALENVS_PATH"] = os.path.join(scratch, "poetry-envs")
    return env


def _run(command: str, scratch: str, root: str, progress: Optional[Callable[[str], None]]) -> Ran:
    from collections import deque

    from relocator.system import children

    tail: deque[str] = deque(maxlen=TAIL)
    shell = os.environ.get("SHELL") or "/bin/sh"
    with children.started("--run", [shell, "-c", command], cwd=root, env=_activated(scratch)) as p:
        for raw in p.stdout or ():
            tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if progress is not None:
                progress(tail[-1])
    return Ran(command, p.returncode, tuple(tail))


_IMPORTS = """\
import importlib, importlib.util, json, sys
found = []
names, guessed = json.loads(sys.argv[1]), json.loads(sys.argv[2])
names += [n for n in guessed if importlib.util.find_spec(n) is not None]
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as e:
        found.append((name, (type(e).__name__ + ": " + str(e)).strip()[:300]))
sys.stdout.flush()
sys.__stdout__.write("\\n@@relocate@@" + json.dumps([len(names), found]) + "\\n")
"""


def _imports(scratch: str, names: set[str]) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Import every top-level module the distributions ``names`` install, in one process of
    the scratch venv's Python (isolated from the user's site and ``PYTHON*`` variables,
    writing no bytecode, from the scratch venv's folder); returns how many were tried and
    those that failed, with what they raised."""
    import json

    from relocator.system import children

    listed = inventory.modules(scratch, names)
    wanted = sorted({m for found in listed.values() for m in found})
    # an editable install that only adds a path (.pth) names no module: its name, if found
    guessed = sorted(
        {n.replace("-", "_") for n, found in listed.items() if not found} - set(wanted)
    )
    if not wanted and not guessed:
        return 0, ()
    python = venvs.interpreter(scratch)
    cmd = [python, "-I", "-B", "-c", _IMPORTS, json.dumps(wanted), json.dumps(guessed)]
    with children.started("importing", cmd, cwd=scratch, env=dict(os.environ)) as proc:
        output = (proc.stdout.read() if proc.stdout else b"").decode("utf-8", "replace")
    _, mark, result = output.rpartition("@@relocate@@")
    try:
        tried, failed = json.loads(result) if mark else (None, None)
    except ValueError:
        tried, failed = None, None
    if not isinstance(tried, int) or not isinstance(failed, list):  # the process died
        problem = (output.strip().splitlines() or ["no output"])[-1]
        return len(wanted), (("(all)", f"the import process died: {problem}"),)
    return tried, tuple((str(m), str(e)) for m, e in failed)
