"""``relocate restore``: put what the trash holds back as a project's venv or trees.

The entry must be the project's (its record names the project's key). What it
replaces, the project's current store venv, bundle or tree, goes to the trash in
turn, so a restore is undone by restoring again.

A venv comes back under the project's current name (every path a tool recorded
names it), swapped in as a rebuilt venv is (:mod:`relocator.moves.replacing`, source
``trash``): the paths it wrote about the name it had are rewritten. A project with
no current name gets the entry's own name back when it is free, else a new one.

Trees are journaled as ``restore`` (:mod:`relocator.moves.restored`): the owner record
of the destination is written, the folder renamed out of the trash (``restore:moved``),
then linked. A kill before the rename leaves the entry in the trash; after it, the next
run that settles the project finishes the job.
"""

from __future__ import annotations

import os

from relocator.errors import NotOwner, RelocatorError
from relocator.moves import naming, replacing, restored
from relocator.moves.recovery import locked
from relocator.moves.relocation import Outcome
from relocator.paths import link, resolver
from relocator.state import bundles, trash
from relocator.state.registry import Registry
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

Notes = list[str]


def restore(path: str, entry_id: Optional[str] = None, store: Optional[Store] = None) -> Outcome:
    """Put the trash entry ``entry_id`` (default: the project's newest venv there) back."""
    store = store or Store()
    with locked(path, store) as (project, registry, recovered):
        entry = _choose(store, project, entry_id)
        if entry.kind == trash.VENV:
            done = _venv(store, registry, project, entry)
        elif entry.kind in (trash.TREES, trash.TREE):
            done = _trees(store, project, entry)
        else:
            raise RelocatorError(
                f"{trash.path(store, entry.id)} is not known to be any project's; "
                "it is left in the trash for you to look at"
            )
        return done._replace(notes=(*recovered.notes, *done.notes))


def _choose(store: Store, project: resolver.Resolved, entry_id: Optional[str]) -> trash.Entry:
    if entry_id is not None:
        entry = trash.find(store, entry_id)
        if entry.key != project.key:
            raise NotOwner(
                f"trash entry {entry.id} belongs to {entry.project or 'no known project'}, not "
                f"to {project.path}; run relocate restore in that project"
            )
        return entry
    mine = [e for e in trash.entries(store) if e.key == project.key and e.kind == trash.VENV]
    if not mine:
        raise RelocatorError(
            f"the trash holds no venv of {project.path} (relocate trash lists what it holds)"
        )
    return mine[0]


def _venv(
    store: Store, registry: Registry, project: resolver.Resolved, entry: trash.Entry
) -> Outcome:
    root = project.path
    state = link.inspect(root, store.venvs)
    if state.kind not in (link.RELOCATED, link.DANGLING, link.ABSENT):
        raise RelocatorError(
            f"{os.path.join(root, link.LINK)} is {state.kind}, not relocator's link: run "
            "relocate adopt first (it moves a venv of the project's own into the store), "
            "then restore again"
        )
    reason = link.problem(root, store.venvs)
    if reason:
        raise RelocatorError(reason)
    name = _name(store, registry, project, state, entry)
    why = f"replaced by the restore of trash entry {entry.id}"
    intent = replacing.begin(
        store, project, name, source=replacing.TRASH, why=why, staged=entry.id, was=entry.name
    )
    row, notes = replacing.finish(store, registry, intent)
    notes.insert(0, f"restored trash entry {entry.id} ({entry.why})")
    venv = store.venv_path(row.venv)  # name, unless another project holds it now
    return Outcome(root, venv, "restored", row.python, project.provider, tuple(notes))


def _name(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    state: link.LinkState,
    entry: trash.Entry,
) -> str:
    """The name the restored venv takes: the project's, else the entry's own when no other
    project holds it, else a new one."""
    name = naming.current_name(store, registry, project, state)
    if name is None and naming.keeps(store, project, entry.name):
        name = entry.name
    return name or store.new_venv_name(project.path)


def _trees(store: Store, project: resolver.Resolved, entry: trash.Entry) -> Outcome:
    """A bundle back as the project's bundle, or one tree back into the project's bundle;
    what it replaces goes to the trash."""
    root, notes = project.path, Notes()
    current = bundles.of(store, project.key)
    why = f"replaced by the restore of trash entry {entry.id}"
    if entry.kind == trash.TREES:
        if current is not None:
            folder = bundles.path(store, current)
            notes += _retire(store, project, folder, trash.TREES, name=current, why=why)
        taken = os.path.lexists(bundles.path(store, entry.name))
        dest = bundles.path(store, store.new_venv_name(root) if taken else entry.name)
    else:
        bundle = current or bundles.new(store, project)
        dest = os.path.join(bundles.path(store, bundle), str(entry.tree))
        if os.path.isdir(dest) and not os.path.islink(dest):
            notes += _retire(
                store, project, dest, trash.TREE, name=bundle, why=why, tree=entry.tree
            )
    intent = restored.begin(store, project, entry, dest)
    if entry.kind == trash.TREES:  # the bundle's owner record, before it is one again
        bundles.write_owner(store, os.path.basename(dest), project)
    restored.rename_out(store, intent)
    notes += restored.finish_trees(store, intent)
    notes.insert(0, f"restored trash entry {entry.id} ({entry.why})")
    return Outcome(root, dest, "restored", None, project.provider, tuple(notes))


def _retire(
    store: Store,
    project: resolver.Resolved,
    folder: str,
    kind: str,
    *,
    name: str,
    why: str,
    tree: Optional[str] = None,
) -> Notes:
    owner = folder + ".json" if kind == trash.TREES else None
    entry = trash.put(
        store,
        folder,
        kind=kind,
        key=project.key,
        project=project.path,
        name=name,
        why=why,
        tree=tree,
        owner=owner,
    )
    return [f"what it replaces is in the trash: relocate restore --id {entry.id} puts it back"]
