"""Making a project's store venv: new and empty, built from the project's recipe, in
place of one that broke, or mended in place when only its interpreter went away.

A new project's venv gets a new name; it is made, then linked and registered, and a
failure (or a kill) before it is linked drops it. A venv that replaces the project's
venv takes that venv's name, which tools have recorded: it is made whole under a
staging name, then swapped in, the old one going to the trash
(:mod:`relocator.moves.replacing`).
"""

from __future__ import annotations

import os

from relocator.errors import RelocatorError, ToolFailed
from relocator.moves import naming, replacing
from relocator.moves.recovery import locked
from relocator.moves.relocation import (
    Notes,
    Outcome,
    Wants,
    finish_create,
    new_row,
    undo_create,
)
from relocator.paths import link, resolver
from relocator.paths.project import python_request
from relocator.state import inventory, venvs
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.venv import prompts, recipes, rewrite, trees

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


def create(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    wants: Wants,
    *,
    again: bool,
    replaces: Optional[str] = None,
    why: Optional[str] = None,
) -> Outcome:
    """A new store venv for ``project``, linked and registered, installed from the
    project's recipe unless the user said ``--no-install`` (the service always does).

    ``again``: a venv that existed is being made again (a second machine, a wiped
    store, a venv a tool emptied), so one left empty is said to need its packages.
    ``replaces`` names the project's store venv (there or gone): the new one takes its
    name, and the old one goes to the trash (``why`` says why, for the trash's record);
    what it had that the new one lacks is named.
    """
    root = project.path
    recipe = recipes.find(root) if wants.install else None
    old = None if replaces is None else store.venv_path(replaces)
    if recipe is None and old is not None and inventory.has_packages(old):
        why = "--no-install" if not wants.install else "no lock file or requirements"
        raise RelocatorError(
            f"{old} has packages and {why}: a new venv would be "
            "empty, so relocate keeps the one there"
        )

    def fill(dest: str) -> Notes:
        return build(
            root, dest, recipe, wants, failed="; --no-install makes the venv without installing"
        )

    action = f"built from {recipes.describe(recipe)}" if recipe else "created"
    lost: tuple[str, ...] = ()
    if replaces is not None and naming.keeps(store, project, replaces):
        reason = link.problem(root, store.venvs)
        if reason:
            raise RelocatorError(reason)
        why = why or f"replaced: {action}"
        row, notes, lost = replacing.made(store, registry, project, replaces, fill, why=why)
        dest = store.venv_path(row.venv)  # replaces, unless another project holds it now
    else:  # a new project (or a name another project's record holds: left alone)
        dest, row, notes = _made(store, registry, project, fill)
    if again and recipe is None:
        why = "--no-install" if not wants.install else "no lock file or requirements found"
        notes.append(f"the venv is new and empty ({why}): reinstall the project's packages")
    elif recipe is None and not wants.install and not wants.by_service:
        skipped = recipes.find(root)
        if skipped is not None:
            notes.append(f"the venv is empty: --no-install skipped {recipes.describe(skipped)}")
    return Outcome(root, dest, action, row.python, row.provider, tuple(notes), lost)


def build(
    root: str, dest: str, recipe: Optional[recipes.Recipe], wants: Wants, *, failed: str = ""
) -> Notes:
    """Make a venv at ``dest`` (outside the project ``root``) and install ``recipe`` into
    it: what a rebuild, a second machine's repair and ``relocate verify`` all run.
    ``failed`` is added to the message of an install that fails."""
    if recipe is None or recipe.kind != "uv" or wants.python is not None:
        if wants.progress is not None:
            wants.progress(f"creating a venv for {os.path.basename(root)}")
        requested = None if wants.python else python_request(root)
        venvs.create(
            dest, root, wants.python, requested=requested, pip=not recipes.managed_by_uv(root)
        )
    # uv sync makes the venv itself when there is none: it picks the project's Python,
    # and knows it at once (a venv made first is a new interpreter path to query)
    if recipe is None:
        return []
    try:
        return recipes.install(recipe, root, dest, on_line=wants.progress)
    except ToolFailed as e:
        e.args = (f"{e}{failed}",)
        raise


def copy_for(
    store: Store, registry: Registry, project: resolver.Resolved, source: str, original: str
) -> Outcome:
    """A venv of its own for ``project``, a copy of the project ``original`` whose store
    venv ``source`` it still links to (``cp -a app app2``): a copy of that venv, made
    independent of both places before it is linked."""
    root = project.path
    src = store.venv_path(source)
    venvs.check_movable(src, store.venvs, cross_volume=True)  # readable, no pipes, room

    def fill(dest: str) -> Notes:
        venvs.copy_tree(src, dest)
        notes = rewrite.relocate_venv(dest, [src, os.path.join(original, link.LINK)])
        notes += prompts.name_prompt(dest, os.path.basename(root))
        old = resolver.Resolved(original, resolver.key(original), None)
        return notes + rewrite.respell_editables(dest, project, moved_from=old)

    dest, row, notes = _made(store, registry, project, fill)
    notes.insert(0, f"a copy of {original}: it gets a copy of that venv")
    return Outcome(root, dest, "copied", row.python, row.provider, tuple(notes))


def _made(
    store: Store, registry: Registry, project: resolver.Resolved, fill: Callable[[str], Notes]
) -> tuple[str, Row, Notes]:
    """A new store venv for ``project``, made by ``fill(path)``, then linked and registered.

    Journaled as a create: a venv whose filling never finished was never linked, so
    the next run drops it (and so does a failure here).
    """
    reason = link.problem(project.path, store.venvs)
    if reason:
        raise RelocatorError(reason)
    name = store.new_venv_name(project.path)
    dest = store.venv_path(name)
    intent = Intent.begin(store, op="create", key=project.key, project=project.path, venv=name)
    store.write_owner(name, new_row(project, name, None).owner_record())
    try:
        notes = fill(dest)
    except BaseException:
        undo_create(store, intent)
        raise
    intent.advance("created")
    row, linked = finish_create(store, registry, intent)
    return dest, row, notes + linked


def mend_interpreter(store: Store, name: str) -> Optional[Notes]:
    """Point the store venv ``name`` at a Python of the same minor version, keeping
    everything installed in it; None when no such Python is found here."""
    venv = store.venv_path(name)
    version = venvs.python_version(venv)
    minor = ".".join(version.split(".")[:2]) if version else None
    python = find_minor(minor) if minor else None
    if python is None:
        return None
    bindir = os.path.join(venv, "bin")
    for entry in os.listdir(bindir):  # links to the Python that went away: venv keeps them
        path = os.path.join(bindir, entry)
        if os.path.islink(path) and not os.path.exists(path):
            os.unlink(path)
    import subprocess

    cmd = [python, "-I", "-m", "venv", "--upgrade", "--without-pip", venv]
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if result.returncode != 0 or not os.path.exists(venvs.interpreter(venv)):
        summary = f"could not point {venv} at {python}"
        raise ToolFailed.of(summary, result.stdout, result.stderr, silent="no interpreter")
    return [f"its Python was gone: the venv now runs {python} (Python {minor}), packages kept"]


def find_minor(minor: str) -> Optional[str]:
    """An interpreter of Python ``minor`` (3.12): uv's, else one on PATH."""
    import shutil
    import subprocess

    found: list[str] = []
    uv = shutil.which("uv")
    if uv:
        result = subprocess.run(
            [uv, "python", "find", "--system", "--no-config", "--no-project", minor],
            capture_output=True,
            text=True,
            check=False,
        )
        found += result.stdout.split()[:1] if result.returncode == 0 else []
    found += [p for p in (shutil.which(f"python{minor}"), shutil.which("python3")) if p]
    for python in found:
        check = subprocess.run(
            [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode == 0 and check.stdout.strip() == minor:
            return python
    return None


def rebuild(path: str, store: Optional[Store] = None, wants: Optional[Wants] = None) -> Outcome:
    """Make the project's venv again from its recipe, under its name; the old one goes to
    the trash.

    What ``python -m venv --clear .venv``, ``virtualenv --clear``, ``pdm venv
    remove`` or ``pipenv --rm`` would do for a project that is not relocated
    (those refuse, or break, on the link).
    """
    store = store or Store()
    with locked(path, store) as (project, registry, recovered):
        state = link.inspect(project.path, store.venvs)
        row = registry.get(project.key)
        old = row.venv if row is not None else None
        if state.kind == link.RELOCATED:
            old = os.path.basename(state.target or "")
            store.claim(old, project.key, project.path)
        done = create(
            store,
            registry,
            project,
            wants or Wants(),
            again=True,
            replaces=old,
            why="replaced by relocate rebuild",
        )
        kept = trees.keep_bytecode(store, project, done.venv)
        return done._replace(notes=(*recovered.notes, *done.notes, *kept))
