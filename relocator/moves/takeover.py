"""Taking over a venv a tool put at a relocated project's ``.venv``.

``rm -rf .venv && uv sync``, ``poetry env use 3.12``, uv's centralized env: the
project's ``.venv`` is a new venv, and the project's store venv is left behind.
``relocate adopt`` moves the new venv into the store (adopt's own move, under a
name of its own, linked meanwhile), then swaps it in under the project's name
(:mod:`relocator.moves.replacing`, source ``store``): every path a tool recorded still
works, and the old venv goes to the trash.

A new venv that is empty while the old one has packages is filled from the
project's recipe first; when nothing fills it, no swap happens: the old venv is
linked again and the empty one goes to the trash. A venv with packages is never
replaced by an empty one.
"""

from __future__ import annotations

import os

from relocator.errors import RelocatorError
from relocator.moves import naming, replacing
from relocator.moves.relocation import Notes, Outcome, Wants, register, shortfall
from relocator.paths import link, resolver
from relocator.state import inventory, trash
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.venv import recipes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

WHY = "replaced: the project's .venv was a new venv a tool made"


def take_over(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    name: str,
    *,
    target: str,
    wants: Wants,
    move_in: Callable[[str], Outcome],
) -> Outcome:
    """The venv a tool put at ``.venv`` (``target``) becomes the project's venv ``name``;
    ``move_in(staged)`` is adopt's move of it into the store as ``staged``, linked."""
    old = store.venv_path(name)
    fill = not inventory.has_packages(target) and inventory.has_packages(old)
    staged = store.new_venv_name(project.path)
    intent = replacing.begin(
        store, project, name, source=replacing.STORE, staged=staged, why=WHY, fill=fill
    )
    try:
        moved = move_in(staged)
    except RelocatorError:
        intent.done()  # adopt's move changed nothing
        raise
    notes = list(moved.notes)
    lost: tuple[str, ...] = ()
    if fill:
        filled, said = _fill(project, store.venv_path(staged), wants)
        notes += said
        if not filled:
            row, kept = keep_old(store, registry, intent)
            notes += kept
            venv = store.venv_path(row.venv)
            return Outcome(project.path, venv, "relinked", row.python, row.provider, tuple(notes))
        lost = shortfall(old, store.venv_path(staged), project.path)
    try:
        row, swapped = replacing.finish(store, registry, intent)
    except replacing.NotSwapped as e:
        notes.append(f"{e}; the project's venv keeps the name {staged}")
        return moved._replace(notes=tuple(notes))
    notes += swapped
    venv = store.venv_path(row.venv)  # the old name, unless another project holds it now
    done = Outcome(project.path, venv, moved.action, row.python, row.provider, tuple(notes))
    return done._replace(dropped=lost)


def _fill(project: resolver.Resolved, venv: str, wants: Wants) -> tuple[bool, Notes]:
    recipe = recipes.find(project.path) if wants.install else None
    if recipe is None:
        return False, ["the new .venv is empty and there is nothing to install from"]
    try:
        notes = recipes.install(recipe, project.path, venv, on_line=wants.progress)
    except RelocatorError as e:
        return False, [f"installing into the new .venv failed ({e})"]
    return True, [*notes, f"the new .venv was empty: installed {recipes.describe(recipe)}"]


def _keep_new(
    store: Store, registry: Registry, intent: Intent, project: resolver.Resolved
) -> tuple[Row, Notes]:
    name, staged = intent["venv"], str(intent["staged"])
    venv = store.venv_path(staged)
    intent.done()
    whole = os.path.isdir(venv) and not os.path.islink(venv)
    if not whole or not naming.keeps(store, project, staged):
        raise RelocatorError(
            f"{store.venv_path(name)} is another project's venv now and the new .venv is gone "
            f"from {venv}: relocate adopt {project.path} makes a new one"
        )
    link.create(project.path, venv, store.venvs)
    row = register(store, registry, project, staged)
    whose = (store.read_owner(name) or {}).get("path") or "another project"
    return row, [
        f"{store.venv_path(name)} is {whose}'s venv now, so it is left alone: "
        f"this project's venv is the new one, {venv}"
    ]


def keep_old(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    """No swap: the project's venv with packages is linked again, and the empty one a tool
    made goes to the trash. When the project's name holds another project's venv now (a
    copy or a moved project took it along meanwhile), that one is left alone and the new
    one stays the project's venv, under the name adopt gave it."""
    name, staged, root = intent["venv"], str(intent["staged"]), intent["project"]
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    if not naming.keeps(store, project, name):
        return _keep_new(store, registry, intent, project)
    link.create(root, store.venv_path(name), store.venvs)
    row = register(store, registry, project, name)
    notes = [f"the project's venv {store.venv_path(name)} stays, with its packages"]
    venv = store.venv_path(staged)
    if os.path.isdir(venv) and not os.path.islink(venv):
        why = "a tool's new .venv, empty while the project's venv had packages"
        try:
            entry = trash.put(
                store,
                venv,
                kind=trash.VENV,
                key=project.key,
                project=root,
                name=staged,
                why=why,
                owner=store.owner_path(staged),
            )
        except RelocatorError as e:
            notes.append(f"the new one is left at {venv} ({e})")
        else:
            notes.append(
                f"the new one is in the trash: relocate restore --id {entry.id} puts it in place"
            )
    intent.done()
    return row, notes
