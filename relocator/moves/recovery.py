"""Recovery: what interrupted runs left in the journal, settled before a command goes on.

:func:`locked` takes a project's lock and settles each of its pending records
(:func:`relocator.state.journal.pending`) with :func:`resume`, which hands each record to
the module that knows its operation: an adopt, eject or create to
:mod:`relocator.moves.relocation` (whatever is whole and moved is finished forward,
whatever never became usable is rolled back), a swap to :mod:`relocator.moves.replacing`
(a takeover killed while its venv was filled to :mod:`relocator.moves.takeover`, which
keeps the old venv), a restore to :mod:`relocator.moves.restored`, a
verify's scratch venv to :mod:`relocator.moves.scratch`, a tree's move to
:mod:`relocator.venv.trees`, a trash move to :mod:`relocator.state.trash`.
:func:`finish_pending` settles one record (``doctor --fix``, ``gc``).
"""

from __future__ import annotations

import contextlib

from relocator.errors import NotOwner
from relocator.moves import relocation
from relocator.moves.relocation import Notes
from relocator.paths import link, resolver
from relocator.paths.project import find_root
from relocator.records import NamedTuple
from relocator.state.journal import Intent, pending
from relocator.state.registry import Registry
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Optional


class Recovered(NamedTuple):
    """What the interrupted runs of a project came to: notes, and the operations finished."""

    notes: Notes
    finished: dict[str, Intent]  # each operation finished forward: its record


@contextlib.contextmanager
def locked(
    path: str, store: Store, marker: Optional[str] = None
) -> Iterator[tuple[resolver.Resolved, Registry, Recovered]]:
    """The project at or above ``path`` (the nearest folder holding ``marker``, if
    that comes first), locked, with what earlier runs left settled."""
    store.ensure()
    project = resolver.resolve(find_root(path, store.venvs, marker))
    with store.lock(project.key, project.path), Registry(store) as registry:
        store.sweep()
        recovered = Recovered([], {})
        for intent in pending(store, project.key):
            try:
                forward, notes = resume(store, registry, intent)
            except NotOwner as e:  # a record about another project's venv: never act on it
                intent.set_aside(str(e))
                continue
            recovered.notes.extend(notes)
            if forward:
                recovered.finished[intent.op] = intent
        yield project, registry, recovered


def finish_pending(store: Store, intent: Intent) -> Notes:
    """Settle one pending journal record under its project's lock (the project need not be
    registered, nor there): what ``doctor --fix`` does for interrupted work."""
    with store.lock(intent["key"], intent["project"]), Registry(store) as registry:
        if not any(i.path == intent.path for i in pending(store, intent["key"])):
            return []  # settled meanwhile
        try:
            return resume(store, registry, intent)[1]
        except NotOwner as e:
            intent.set_aside(str(e))
            return [f"set the record aside: {e}"]


def resume(store: Store, registry: Registry, intent: Intent) -> tuple[bool, Notes]:
    """Settle what an interrupted run of the same project left.

    Returns whether it was finished forward (else rolled back), and notes saying so.
    """
    from relocator.venv import settling, transfer

    op, root, name = intent.op, intent["project"], intent["venv"]
    if op.endswith("-tree"):
        from relocator.venv import trees

        return trees.resume(store, intent)
    if op == "trash":
        from relocator.state import trash

        return trash.resume(store, intent)
    if op == "restore":
        from relocator.moves import restored

        return restored.resume(store, registry, intent)
    if op == "swap":
        from relocator.moves import replacing, takeover

        if intent.get("fill") and replacing.adopted(store, intent):  # killed while filled
            notes = takeover.keep_old(store, registry, intent)[1]  # the old venv stays
            return True, [*notes, "settled an interrupted takeover"]
        return replacing.resume(store, registry, intent)
    if op == "verify":
        from relocator.moves import scratch

        return scratch.resume(store, intent)
    if op == "create":
        if intent.step == "begin":
            relocation.undo_create(store, intent)
            return False, [f"removed the unfinished venv of an interrupted create ({name})"]
        return True, [
            *relocation.finish_create(store, registry, intent)[1],
            "finished an interrupted create",
        ]
    alias = intent.get("alias")
    where = transfer.places(store, op, root, name, intent.get("src"), alias=alias)
    clear = (lambda: link.remove(root, store.venvs, alias)) if op == "eject" else (lambda: None)
    if settling.settle(intent, where, store, clear) == settling.FORWARD:
        if op == "adopt":
            notes = relocation.finish_adopt(store, registry, intent)[1]
        else:
            notes = relocation.finish_eject(store, registry, intent)
        return True, [*notes, f"finished an interrupted {op}"]
    (relocation.undo_adopt if op == "adopt" else relocation.undo_eject)(store, intent)
    return False, [f"rolled back an interrupted {op}: the venv is where it was"]
