"""``relocate gc``: remove the store venvs no project uses any more, and the records of
venvs that are gone.

What goes, and what is spared and why, is decided in :mod:`relocator.commands.unused`.
Also spared, and reported with why: whatever belongs to a project with a pending journal
intent (an interrupted adopt or eject that recovery finishes), a venv a live process uses
(:mod:`relocator.system.processes`) unless ``force``, and a project whose lock another
relocate holds. Each candidate is decided again under its project's lock just before it
goes, so gc never races an adopt or an eject. The processes are looked at once, in one pass
for all candidates, before the first one goes: a process that starts from a venv later in
the run is not seen.

A venv goes in this order, so that a kill at any instant leaves at worst an orphan that
the next gc takes:

1. its registry row, when the row names it: no command takes it for the project any
   more (killed here: the venv and its owner record remain, a candidate as before);
2. a rename into the store's trash (:mod:`relocator.state.trash`), journaled, its owner record
   dropped once the trash's record says what it was (killed here: the next settling of
   the journal finishes it).

Nothing a project used is deleted here: it stays in the trash, restorable, for
:func:`relocator.state.trash.retention_days`; then a later gc deletes it (the trash's sweep,
or all of it with ``empty_trash``). Records and rows of venvs that are not there hold
nothing to keep and are deleted.
"""

from __future__ import annotations

import contextlib
import os

from relocator.commands import unused
from relocator.commands.unused import LEFTOVER, TREES, VENV, Candidate
from relocator.errors import Busy, RelocatorError
from relocator.state import bundles, venvs
from relocator.state.journal import pending
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system import faults

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from relocator.system.processes import ProcessInfo

_SHOWN_USERS = 3


class _Report:
    def __init__(self) -> None:
        self.removed: list[dict[str, Any]] = []
        self.spared: list[dict[str, Any]] = []
        self.swept: list[dict[str, Any]] = []

    def remove(self, what: Candidate, size: int, trash_id: Optional[str] = None) -> None:
        self.removed.append({**self._entry(what), "bytes": size, "trash_id": trash_id})

    def spare(self, what: Candidate, reason: str) -> None:
        self.spared.append(self._entry(what._replace(reason=reason)))

    @staticmethod
    def _entry(what: Candidate) -> dict[str, Any]:
        project = what.project or None
        return {"kind": what.kind, "venv": what.venv, "project": project, "reason": what.reason}

    def data(self) -> dict[str, Any]:
        def order(entry: dict[str, Any]) -> tuple[str, str]:
            return (entry["project"] or "", entry["venv"] or "")

        leftovers = sum(int(e["bytes"]) for e in self.removed if e["kind"] == LEFTOVER)
        return {
            "removed": sorted(self.removed, key=order),
            "spared": sorted(self.spared, key=order),
            "swept": self.swept,
            "bytes_freed": leftovers + sum(int(entry["bytes"]) for entry in self.swept),
        }


def collect(
    store: Optional[Store] = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    empty_trash: bool = False,
) -> dict[str, Any]:
    """Retire what no project uses; return ``{removed, spared, swept, bytes_freed}``.

    ``removed`` and ``spared`` hold ``{kind, venv, project, reason}`` (``removed`` also
    ``bytes`` and ``trash_id``: where in the trash it went, None for a row or a record);
    ``kind`` is ``venv``, ``trees``, ``row``, ``record`` or ``leftover`` (whose project is
    None). ``swept`` holds the trash entries deleted for good (past their age; all with
    ``empty_trash``), and ``bytes_freed`` what that freed. ``dry_run`` decides exactly as a
    run would (locks, processes and all) and changes nothing: the result then says what a
    run would do. ``force`` retires venvs that live processes use (still only inside the
    store).
    """
    from relocator.state import trash

    store = store or Store()
    report = _Report()
    if not os.path.isdir(store.root):
        return report.data()
    store.ensure()
    if not dry_run:
        store.sweep()
        _settle_trash_moves(store, report)
    _leftovers(store, report, dry_run=dry_run)
    with Registry(store) as registry:
        candidates = unused.plan(store, registry, report.spare)
        users = {} if force else unused.users(store, candidates)
        for candidate in candidates:
            used = users.get(candidate.venv, [])
            _settle(store, registry, candidate, used, report, dry_run=dry_run)
    swept = trash.sweep(store, everything=empty_trash, dry_run=dry_run)
    report.swept = [{k: e.data()[k] for k in _SWEPT} for e in swept]
    return report.data()


_SWEPT = ("id", "kind", "project", "name", "why", "when", "bytes")


def _settle_trash_moves(store: Store, report: _Report) -> None:
    """Finish (or forget) moves into the trash that a killed relocate left: gc's own, and
    any other's, before gc decides what else goes; and remove the scratch venvs of killed
    ``relocate verify`` runs (reported as leftovers)."""
    from relocator.moves.recovery import finish_pending

    for intent in pending(store):
        if intent.op not in ("trash", "verify"):
            continue
        scratch = os.path.join(store.tmp, intent["venv"])
        size = venvs.usage(scratch)[1] if intent.op == "verify" and unused.is_there(scratch) else 0
        with contextlib.suppress(Busy):  # its project's relocate settles it
            notes = finish_pending(store, intent)
            if intent.op == "verify" and notes:
                why = "the scratch venv of a relocate verify that was killed"
                report.remove(Candidate(LEFTOVER, intent["venv"], "", "", why), size)


# -- removing ------------------------------------------------------------------------------


def _settle(
    store: Store,
    registry: Registry,
    candidate: Candidate,
    users: list[ProcessInfo],
    report: _Report,
    *,
    dry_run: bool,
) -> None:
    """Under the project's lock: decide again, then remove (or report why not)."""
    try:
        with store.lock(candidate.key, candidate.project):
            fresh = unused.recheck(store, registry, candidate)
            if fresh is None:
                return
            if not fresh.goes:
                report.spare(candidate, fresh.reason)
            elif _pending(store, candidate):
                why = "an interrupted relocate of its project is pending (relocate doctor --fix)"
                report.spare(candidate, why)
            elif users:
                report.spare(candidate, _in_use(users))
            else:
                _remove(store, registry, candidate, report, dry_run=dry_run)
    except Busy as e:
        report.spare(candidate, str(e))


def _pending(store: Store, candidate: Candidate) -> bool:
    return any(i["key"] == candidate.key or i["venv"] == candidate.venv for i in pending(store))


def _in_use(users: list[ProcessInfo]) -> str:
    shown = "; ".join(f"pid {p.pid} ({p.name}) {p.why}" for p in users[:_SHOWN_USERS])
    more = f"; and {len(users) - _SHOWN_USERS} more" if len(users) > _SHOWN_USERS else ""
    return f"in use: {shown}{more}; relocate gc --force removes it anyway"


def _remove(
    store: Store, registry: Registry, candidate: Candidate, report: _Report, *, dry_run: bool
) -> None:
    venv = store.venv_path(candidate.venv)
    if candidate.kind == TREES:
        venv = bundles.path(store, candidate.venv)
    size = venvs.usage(venv)[1] if candidate.kind in (VENV, TREES) else 0
    if dry_run:
        report.remove(candidate, size)
        return
    try:
        entry = _delete(store, registry, candidate)
    except (OSError, RelocatorError) as e:
        what = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.filename else str(e)
        report.spare(candidate, f"could not remove it ({what}); the next relocate gc tries again")
        return
    report.remove(candidate, size, entry)


def _delete(store: Store, registry: Registry, candidate: Candidate) -> Optional[str]:
    """Row, then the venv (or bundle) into the trash with its owner record; a row or a
    record of a venv that is not there is just dropped. Returns the trash entry's id."""
    from relocator.state import trash

    name, key = candidate.venv, candidate.key
    if candidate.kind == TREES:
        entry = trash.put(
            store,
            bundles.path(store, name),
            kind=trash.TREES,
            key=key,
            project=candidate.project,
            name=name,
            why=f"relocate gc: {candidate.reason}",
            owner=os.path.join(store.trees, name + ".json"),
        )
        return entry.id
    row = registry.get(key)
    if row is not None and row.venv == name:
        registry.remove(key)
    faults.point("gc:unregistered")
    if candidate.kind == VENV:
        entry = trash.put(
            store,
            store.venv_path(name),
            kind=trash.VENV,
            key=key,
            project=candidate.project,
            name=name,
            why=f"relocate gc: {candidate.reason}",
            owner=store.owner_path(name),
        )
        return entry.id
    record = store.read_owner(name)
    if record is None or record.get("key") == key:
        store.remove_owner(name)
    faults.point("gc:unowned")
    return None


def _leftovers(store: Store, report: _Report, *, dry_run: bool) -> None:
    """Remove what killed relocate runs left in the store's tmp folder with no record
    (:mod:`relocator.state.leftovers`)."""
    from relocator.state import leftovers

    for found in leftovers.find(store):
        leftover = Candidate(LEFTOVER, found.venv, "", "", found.why)
        size = 0 if os.path.islink(found.path) else venvs.usage(found.path)[1]
        if not dry_run:
            try:
                store.discard(found.path)
            except (OSError, RelocatorError) as e:
                report.spare(leftover, f"could not remove {found.path} ({e})")
                continue
        report.remove(leftover, size)
