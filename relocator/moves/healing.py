"""Healing a linked store venv in place: what ``relocate adopt`` (and ``doctor --fix``)
does to a project that is relocated already, or that it has just linked again.

The venv is judged as :func:`relocator.venv.health.venv_condition` judges it and brought
back to working by the least that does it: an interpreter that went away is replaced by
one of the same minor version; console scripts whose Python is gone are pointed at the
venv's own; a venv a tool emptied, removed, or made anew with another Python away from
its packages is rebuilt from the project's recipe (never into an empty one while it has
packages). A venv that works is marked again on every run (CACHEDIR.TAG, Time Machine's
exclusion, the hop's sync-ignore mark), since a tool that makes it anew in place drops
the marks, and the Python it runs now goes into the registry.
"""

from __future__ import annotations

import contextlib
import os

from relocator.errors import RelocatorError
from relocator.moves.relocation import Notes, Outcome, Wants, marks
from relocator.paths import link, resolver
from relocator.state import venvs
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system import platform
from relocator.venv import health, venvcheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Why a venv adopt found broken is rebuilt (the trash's record, and a note).
_WHY = {
    health.VENV_MISSING: "was removed by a tool",
    health.VENV_EMPTIED: "was emptied by a tool",
    health.INTERPRETER_MISSING: "lost its Python",
    health.PYTHON_MISMATCH: "was made again by a tool with another Python, away from its packages",
    health.SCRIPTS_BROKEN: "had console scripts whose Python is gone",
}


def heal(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    *,
    name: str,
    wants: Wants,
    done: Outcome,
) -> Outcome:
    """Repair the linked store venv ``name`` of ``project`` when a tool or an upgrade
    broke it; ``done`` is what adopt did so far (its outcome, when nothing else is to do,
    with the Python the venv runs now)."""
    venv = store.venv_path(name)
    condition = health.venv_condition(store, name).status
    notes: Notes = []
    if condition == health.INTERPRETER_MISSING:
        from relocator.moves import creation

        mended = creation.mend_interpreter(store, name)
        if mended is not None:
            notes += mended
            condition = health.venv_condition(store, name).status
    if condition == health.SCRIPTS_BROKEN:
        notes += venvcheck.mend_scripts(venv)
        condition = health.venv_condition(store, name).status
    if condition in (health.OK, health.MARKS_MISSING):
        notes += remark(store, project.path, name)
        python = python_now(store, registry, project, name) or done.python
        return done._replace(python=python, notes=(*done.notes, *notes))
    if condition == health.INTERPRETER_MISSING and not has_recipe(project.path, wants):
        version = venvs.python_version(venv) or "its Python"
        raise RelocatorError(
            f"the Python of {venv} ({version}) is gone and the project has "
            "no lock file or requirements to rebuild it from; install that Python again "
            "(uv python install, pyenv) and run relocate adopt again"
        )
    kept = tuple(n for n in (*done.notes, *notes) if n not in python_note(wants.python))
    if wants.python is None and condition in (health.PYTHON_MISMATCH, health.VENV_EMPTIED):
        # the Python the tool that made it anew chose (pdm use -f, virtualenv -p)
        wants = wants._replace(python=venvcheck.base_interpreter(venv))
    why = _WHY[condition]
    from relocator.moves import creation

    rebuilt = creation.create(
        store, registry, project, wants, again=True, replaces=name, why=f"rebuilt: it {why}"
    )
    note = f"{venv} {why}: rebuilt"
    return rebuilt._replace(notes=(*kept, note, *rebuilt.notes))


def remark(store: Store, root: str, name: str) -> Notes:
    """Mark the store venv ``name`` for backups to skip (CACHEDIR.TAG, Time Machine's
    exclusion) and the project's hop for sync clients not to upload. A mark the file
    system refuses is a note."""
    notes = marks(store, name)
    hop = os.path.join(root, link.HOP)
    try:
        platform.current.mark_sync_ignored(hop)
    except OSError as e:
        notes.append(f"could not mark {hop} for sync clients ({e.strerror})")
    return notes


def python_now(
    store: Store, registry: Registry, project: resolver.Resolved, name: str
) -> Optional[str]:
    """The Python version of the store venv ``name`` as its ``pyvenv.cfg`` says now (a tool
    may have made it anew with another Python), written into the registry row and the
    owner record when they said another."""
    version = venvs.python_version(store.venv_path(name))
    row = registry.get(project.key)
    if version and row is not None and row.venv == name and row.python != version:
        registry.put(row._replace(python=version))
        owner = store.read_owner(name)
        if owner is not None:
            with contextlib.suppress(OSError):  # the registry is what list and status read
                store.write_owner(name, {**owner, "python": version})
    return version


def has_recipe(root: str, wants: Wants) -> bool:
    from relocator.venv import recipes

    return wants.install and recipes.find(root) is not None


def python_note(python: Optional[str]) -> tuple[str, ...]:
    """What adopt says when ``--python`` was given for a venv it keeps."""
    return (
        ("--python applies only when creating a venv; the existing one is kept",) if python else ()
    )
