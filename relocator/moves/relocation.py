"""Moving a project's venv into the store and back: the steps both directions share.

Each operation checks every precondition first (the venv's layout, the two
link names, permissions, room on the other volume), then journals its intent
(:mod:`relocator.state.journal`) and moves the venv (:mod:`relocator.venv.transfer`).
Past the move nothing may fail on file content: rewriting is best effort,
with notes. This module holds what comes after a move (finishing, undoing), which
recovery (:mod:`relocator.moves.recovery`, whose :func:`~relocator.moves.recovery.locked`
settles what an interrupted run left before a command goes on) also runs: whatever is
whole and moved is finished forward, whatever never became usable is rolled back. The
commands are in :mod:`relocator.commands.adoption` and :mod:`relocator.commands.ejection`.
"""

from __future__ import annotations

import os
import time

from relocator.errors import NotOwner, RelocatorError, warn
from relocator.paths import link, resolver
from relocator.paths.git import add_git_exclude, remove_git_exclude
from relocator.paths.storeroot import CACHEDIR_TAG
from relocator.records import NamedTuple
from relocator.state import inventory, remembered, venvs
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system import faults, platform
from relocator.system.files import read_small
from relocator.venv import unrecorded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Callable, Optional

Notes = list[str]


class Outcome(NamedTuple):
    project: str
    venv: str  # where the venv is now
    action: str  # created, moved, copied, relinked, unchanged, ejected
    python: Optional[str]
    provider: Optional[str]
    notes: tuple[str, ...] = ()
    #: Distributions the venv it replaced had and it lacks, as ``name version`` (a rebuild
    #: that could not reinstall what was installed by hand); the old venv is in the trash.
    dropped: tuple[str, ...] = ()
    #: What the venv the system or a tool deleted held (the registry's record) and its
    #: rebuild lacks, in words (:func:`relocator.state.remembered.lost_note`).
    unrestored: tuple[str, ...] = ()


class Wants(NamedTuple):
    """What the user asked of a command that may create a venv."""

    python: Optional[str] = None  # --python: the interpreter of a new venv
    install: bool = True  # build a replacement venv from the project's recipe
    progress: Optional[Callable[[str], None]] = None  # each line of a long install
    name: str = link.LINK  # --name: the in-project venv to adopt, kept as an alias of .venv
    trees: Optional[bool] = None  # --trees / --no-trees; None: the project's or config's setting
    node_modules: bool = False  # --node-modules: node_modules is one of the trees
    by_service: bool = False  # the service's adopt: a project the user ejected is left alone


def new_row(project: resolver.Resolved, name: str, python: Optional[str]) -> Row:
    now = time.time()
    return Row(project.key, project.path, name, python, project.provider, now, now)


def register(store: Store, registry: Registry, project: resolver.Resolved, name: str) -> Row:
    row = new_row(project, name, venvs.python_version(store.venv_path(name)))
    store.write_owner(name, row.owner_record())
    registry.put(row)
    remembered.remember(registry, name, store.venv_path(name))
    return row


def marks(store: Store, name: str) -> Notes:
    """Mark a store venv as a cache for backups; a refused mark is a note, not a failure."""
    try:
        store.tag_venv(name)
    except OSError as e:
        return [f"could not mark {store.venv_path(name)} as a cache for backups ({e.strerror})"]
    return []


def unhide(venv: str) -> Notes:
    """Clear the hidden flag macOS puts on files in synced dot-folders from the venv's
    ``.pth`` files; a flag that will not clear is a note."""
    notes: Notes = []
    for path in venvs.pth_files(venv):
        try:
            platform.current.clear_hidden(path)
        except OSError as e:
            notes.append(f"could not clear the hidden flag of {path} ({e.strerror})")
    return notes


def shortfall(old: str, new: str, project: str) -> tuple[str, ...]:
    """Said before the venv ``new`` replaces the venv ``old`` (which then goes to the
    trash): what ``old`` has that ``new`` lacks, and the versions that differ, by
    :func:`relocator.state.inventory.differ` (the seed packages do not count; the project's own
    editable install is the same distribution whatever its version), each lacking one
    said installed by hand or an extra or group of ``project``'s recipe. Returns what
    ``new`` lacks, each as ``name version``."""
    difference = inventory.differ(old, new)
    if difference.lost or difference.changed:
        warn(shortfall_note(difference, _listed(project) if difference.lost else set()))
    return tuple(f"{d.name} {d.version}".rstrip() for d in difference.lost)


def _listed(project: str) -> set[str]:
    """The names ``project``'s recipe lists (empty when there is none to read)."""
    from relocator.venv import recipes

    recipe = recipes.find(project)
    return (unrecorded.names(project, recipe) or set()) if recipe is not None else set()


def shortfall_note(difference: inventory.Difference, listed: Collection[str] = ()) -> str:
    """``the new venv lacks a 1.0 ... and has other versions: b 1.0 (now 2.0) ...``; of
    what it lacks, the names in ``listed`` are said to be an extra or a group of the
    recipe, the others installed by hand."""
    said = []
    by_hand = [d for d in difference.lost if d.name not in listed]
    optional = [d for d in difference.lost if d.name in listed]
    if by_hand:
        said.append(
            f"lacks {inventory.spell(by_hand)} (installed by hand, not in the project's recipe)"
        )
    if optional:
        said.append(f"lacks {inventory.spell(optional)} ({unrecorded.OPTIONAL})")
    if difference.changed:
        said.append(f"has other versions: {inventory.versions(difference.changed)}")
    return (
        f"the new venv {' and '.join(said)}: the venv it replaces goes to the trash "
        "(relocate restore puts it back)"
    )


def notes_of(note: Optional[str]) -> Notes:
    return [note] if note else []


def retire(store: Store, name: str, key: str, project: str, why: str) -> Notes:
    """Move the store venv ``name`` a project let go of (an eject that keeps the project's
    own ``.venv``) to the trash; ``why`` says why. (A venv replaced under its name goes
    to the trash in :mod:`relocator.moves.replacing`.)

    A venv a live process uses stays where it is (``relocate gc`` takes it when it is
    free): renamed, it would break the process's paths.
    """
    from relocator.state import trash
    from relocator.system import processes

    venv = store.venv_path(name)
    if not os.path.lexists(venv):
        store.remove_owner(name)
        return []
    try:
        store.claim(name, key, project)
    except NotOwner as e:  # past the replacement: a note, never a failure
        return [f"left the replaced venv alone: {e}"]
    users = processes.users([venv]).get(venv)
    if users:
        who = f"pid {users[0].pid} ({users[0].name})"
        return [f"kept the replaced venv {venv}: {who} uses it (relocate gc moves it later)"]
    try:
        entry = trash.put(
            store,
            venv,
            kind=trash.VENV,
            key=key,
            project=project,
            name=name,
            why=why,
            owner=store.owner_path(name),
        )
    except RelocatorError as e:
        return [f"kept the replaced venv {venv}: {e}"]
    return [f"the replaced venv is in the trash: relocate restore --id {entry.id} puts it back"]


# -- finishing and undoing ----------------------------------------------------------


def finish_create(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    name, root = intent["venv"], intent["project"]
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    store.claim(name, project.key, root)
    notes = marks(store, name)
    link.create(root, store.venv_path(name), store.venvs)
    intent.advance("linked")
    row = register(store, registry, project, name)
    faults.point("create:registered")
    notes += notes_of(add_git_exclude(root))
    intent.done()
    return row, notes


def undo_create(store: Store, intent: Intent) -> None:
    """Drop a venv whose creation never finished: it was never linked, so never used."""
    name = intent["venv"]
    if os.path.lexists(store.venv_path(name)):
        store.claim(name, intent["key"], intent["project"])
        store.discard(store.venv_path(name))
    store.remove_owner(name)
    intent.done()


def finish_adopt(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    from relocator.venv import prompts, rewrite, transfer

    name, root = intent["venv"], intent["project"]
    where = transfer.places(store, "adopt", root, name, intent.get("src"))
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    store.claim(name, project.key, root)
    notes = unhide(where.dest)  # first: Python skips .pth files that carry the flag
    link.create(root, where.dest, store.venvs, moved_from=where.src)
    if os.path.dirname(where.src) == root and link.valid_alias(os.path.basename(where.src)):
        notes += notes_of(link.make_alias(root, os.path.basename(where.src)))  # venv -> .venv
    intent.advance("linked")
    row = register(store, registry, project, name)
    notes += rewrite.relocate_venv(where.dest, [os.path.join(root, link.LINK), where.src])
    notes += prompts.name_prompt(where.dest, os.path.basename(root), os.path.basename(where.src))
    notes += rewrite.respell_editables(where.dest, project)
    faults.point("adopt:rewritten")
    notes += marks(store, name)
    notes += notes_of(transfer.drop_aside(where, store))
    notes += notes_of(add_git_exclude(root))
    intent.done()
    return row, notes


def undo_adopt(store: Store, intent: Intent) -> None:
    """The venv is still whole in the project: forget the store name it was to take."""
    store.remove_owner(intent["venv"])
    intent.done()


def finish_eject(store: Store, registry: Registry, intent: Intent) -> Notes:
    from relocator.venv import prompts, rewrite, transfer

    name, root = intent["venv"], intent["project"]
    where = transfer.places(store, "eject", root, name, alias=intent.get("alias"))
    notes = rewrite.relocate_venv(where.dest, [where.src])
    notes += prompts.unname_prompt(where.dest)
    faults.point("eject:rewritten")
    tag = os.path.join(where.dest, "CACHEDIR.TAG")
    if read_small(tag) == CACHEDIR_TAG and not os.path.islink(tag):
        try:
            os.unlink(tag)
        except OSError as e:
            notes.append(f"could not remove {tag} ({e.strerror})")
    notes += notes_of(link.remove(root, store.venvs))  # what clearing .venv left (.venv.nosync)
    registry.remove(intent["key"])
    faults.point("eject:unregistered")
    store.remove_owner(name)
    notes += notes_of(transfer.drop_aside(where, store))
    notes += notes_of(remove_git_exclude(root))
    intent.done()
    return notes


def undo_eject(store: Store, intent: Intent) -> None:
    """The venv is still whole in the store: point the project at it again."""
    venv, root, alias = store.venv_path(intent["venv"]), intent["project"], intent.get("alias")
    if os.path.isdir(venv):
        link.create(root, venv, store.venvs, others=True)
        if alias is not None and link.valid_alias(alias):
            link.make_alias(root, alias)
    intent.done()
