"""A trash entry on its way back, journaled as ``restore`` (:mod:`relocator.moves.restoring`
runs ``relocate restore``): the record written (:func:`begin`), the folder renamed out of
the trash (:func:`rename_out`, ``restore:moved``), then linked (:func:`finish_trees`);
recovery (:func:`resume`) finishes what left the trash and undoes the rest. A venv comes
back by a swap (:mod:`relocator.moves.replacing`); a ``restore`` record of a venv is an
older relocate's, finished as it would have.
"""

from __future__ import annotations

import os

from relocator.errors import NotOwner, RelocatorError
from relocator.moves.relocation import Notes, marks, notes_of, register, unhide
from relocator.paths import hops, link, resolver
from relocator.paths.git import add_git_exclude
from relocator.state import bundles, trash
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system.files import read_record
from relocator.venv import rewrite, trees


def begin(store: Store, project: resolver.Resolved, entry: trash.Entry, dest: str) -> Intent:
    """Journal the way of trash entry ``entry`` back to ``dest`` (a store folder)."""
    return Intent.begin(
        store,
        op="restore",
        key=project.key,
        project=project.path,
        venv=entry.id,
        kind=entry.kind,
        dest=os.path.relpath(dest, store.root),
        name=entry.name,
    )


def rename_out(store: Store, intent: Intent) -> None:
    src, dest = trash.path(store, intent["venv"]), os.path.join(store.root, intent["dest"])
    try:
        os.rename(src, dest)
    except OSError as e:
        _undo(store, intent)
        raise RelocatorError(f"cannot move {src} back to {dest} ({e.strerror})") from None
    intent.advance("moved")


def _finish_venv(store: Store, registry: Registry, intent: Intent) -> Notes:
    """A venv's restore journaled as ``restore`` by an older relocate (venvs now come back
    by a swap): linked and registered where it was put."""
    root, dest = intent["project"], os.path.join(store.root, intent["dest"])
    name = os.path.basename(dest)
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    store.claim(name, project.key, root)
    notes = unhide(dest)
    if name != intent.get("name"):  # under a new name: what it wrote about its old place
        notes += rewrite.relocate_venv(dest, [store.venv_path(str(intent.get("name")))])
    link.create(root, dest, store.venvs)
    register(store, registry, project, name)
    notes += marks(store, name)
    notes += notes_of(add_git_exclude(root))
    _drop_record(store, intent)
    return notes


def finish_trees(store: Store, intent: Intent) -> Notes:
    root = intent["project"]
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    dest = os.path.join(store.root, intent["dest"])
    bundle = os.path.relpath(dest, store.trees).split("/", 1)[0]
    bundles.claim(store, bundle, project.key, root)
    names = tuple(
        n for n in hops.TREES if os.path.isdir(os.path.join(bundles.path(store, bundle), n))
    )
    notes = trees.converge(store, project, names, None)
    notes += notes_of(add_git_exclude(root))
    _drop_record(store, intent)
    return notes


def _drop_record(store: Store, intent: Intent) -> None:
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        os.unlink(trash.path(store, intent["venv"]) + ".json")
    intent.done()


def _undo(store: Store, intent: Intent) -> None:
    """The entry is still in the trash: drop the owner record written for its way back."""
    dest = os.path.join(store.root, intent["dest"])
    if intent.get("kind") in (trash.VENV, trash.TREES) and not os.path.lexists(dest):
        record = read_record(dest + ".json")
        if record is not None and record.get("key") == intent["key"]:
            os.unlink(dest + ".json")
    intent.done()


def resume(store: Store, registry: Registry, intent: Intent) -> tuple[bool, Notes]:
    """Settle an interrupted restore: finished when the folder left the trash, else undone."""
    dest = os.path.join(store.root, str(intent.get("dest")))
    rel = os.path.relpath(dest, store.root)
    if rel.startswith("..") or not rel.startswith(("venvs/", "trees/")):
        raise NotOwner(f"a restore record names {dest}, outside the store's venvs and trees")
    if os.path.isdir(dest) and not os.path.lexists(trash.path(store, intent["venv"])):
        if intent.get("kind") == trash.VENV:
            notes = _finish_venv(store, registry, intent)
        else:
            notes = finish_trees(store, intent)
        return True, [*notes, f"finished an interrupted restore of {intent['venv']}"]
    _undo(store, intent)
    return False, [f"rolled back an interrupted restore: {intent['venv']} is still in the trash"]
