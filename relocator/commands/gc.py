"""``relocate gc``: remove the store venvs no project uses any more, and the records of
venvs that are gone.

Candidates, each of one project (the one its owner record names, else its registry row):

- a store venv whose project is gone: the project's path is not there, while the folder
  that held it is there and can be listed. A parent that is missing or cannot be read (an
  unmounted volume, a sync root that is not present) never makes a project gone;
- a store venv its project no longer links to: the project's ``.venv`` leads to another
  folder that exists (a real venv the user made, another store venv). A ``.venv`` that is
  missing or leads nowhere still wants the venv (``relocate adopt`` links it again);
- a registry row, or an owner record, whose venv is not in the store;
- a project's bundle of trees (``adopt --trees``) whose project is gone, by the same rule.

Spared, and reported with why: a venv with neither owner record nor row (``relocate
doctor`` reports those), whatever belongs to a project with a pending journal intent (an
interrupted adopt or eject that recovery finishes), a venv a live process uses
(:mod:`relocator.system.processes`) unless ``force``, and a project whose lock another relocate
holds. Healthy projects are neither touched nor reported. Each candidate is decided again
under its project's lock just before it goes, so gc never races an adopt or an eject. The
processes are looked at once, in one pass for all candidates, before the first one goes: a
process that starts from a venv later in the run is not seen.

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

from relocator.errors import Busy, RelocatorError
from relocator.paths import hops, link
from relocator.records import NamedTuple
from relocator.state import bundles, evidence, venvs
from relocator.state.journal import pending
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system import faults
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from relocator.system.processes import ProcessInfo

VENV = "venv"  # a store venv
ROW = "row"  # a registry row whose venv is not in the store
RECORD = "record"  # an owner record whose venv is not in the store (and no row)
LEFTOVER = "leftover"  # what a killed relocate left in tmp/ (relocator.state.leftovers)
TREES = "trees"  # a project's bundle of trees (``adopt --trees``) whose project is gone
_SHOWN_USERS = 3


class Candidate(NamedTuple):
    kind: str
    venv: str
    key: str
    project: str
    reason: str  # why it goes
    aliases: tuple[str, ...] = ()  # names a process may still use for a gone project's venv


class Verdict(NamedTuple):
    goes: bool
    reason: str  # why it goes, or why it stays ("" for a healthy venv: not reported)
    gone: bool = False  # its project is gone


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
        candidates = _plan(store, registry, report)
        users = {} if force else _users(store, candidates)
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
        size = venvs.usage(scratch)[1] if intent.op == "verify" and _there(scratch) else 0
        with contextlib.suppress(Busy):  # its project's relocate settles it
            notes = finish_pending(store, intent)
            if intent.op == "verify" and notes:
                why = "the scratch venv of a relocate verify that was killed"
                report.remove(Candidate(LEFTOVER, intent["venv"], "", "", why), size)


# -- deciding ------------------------------------------------------------------------------


def _plan(store: Store, registry: Registry, report: _Report) -> list[Candidate]:
    """Every candidate, decided without locks (each is decided again under its lock);
    venvs kept for a reason worth saying are reported as spared here."""
    rows = registry.all()
    by_venv = {row.venv: row for row in rows}
    records = [name for name, _record in store.owners()]
    found: list[Candidate] = []
    for name in store.venv_names():
        owner = _owner(store, name, by_venv.get(name))
        if owner is None:
            why = "no owner record (none, or none it can read): relocate cannot tell whose it is"
            report.spare(Candidate(VENV, name, "", "", ""), why)
            continue
        verdict = _verdict(store, name, owner)
        candidate = _venv_candidate(name, owner, verdict)
        if verdict.goes:
            found.append(candidate)
        elif verdict.reason:
            report.spare(candidate, verdict.reason)
    for row in rows:
        if _there(store.venv_path(row.venv)) is False:
            found.append(_row_candidate(store, row))
    for name in records:
        owner = _owner(store, name, None)
        if owner and name not in by_venv and _there(store.venv_path(name)) is False:
            found.append(_record_candidate(store, name, owner))
    for bundle, record in bundles.owners(store):
        key, path = record.get("key"), record.get("path")
        if isinstance(key, str) and isinstance(path, str) and os.path.isabs(path):
            verdict = _bundle_verdict(store, bundle, path, record.get("volume"))
            candidate = Candidate(TREES, bundle, key, path, verdict.reason)
            if verdict.goes:
                found.append(candidate)
            elif verdict.reason:
                report.spare(candidate, verdict.reason)
    return found


def _bundle_verdict(store: Store, bundle: str, project: str, volume: object) -> Verdict:
    """A project's trees go with the project (by the rule of venvs); never while
    the project is there, even if it no longer links to them (eject takes them back)."""
    there = _there(project)
    if there is None:
        return Verdict(False, f"cannot tell whether its project {project} is there")
    if there:
        return Verdict(False, "")
    local = tuple(p for t in hops.TREES for p in hops.local_paths(t))
    return _gone(project, bundles.path(store, bundle), volume, local)


def _venv_candidate(name: str, owner: Owner, verdict: Verdict) -> Candidate:
    project = owner.path
    names = (*link.NAMES, hops.inner(link.LINK))
    aliases = tuple(os.path.join(project, n) for n in names) if verdict.gone else ()
    return Candidate(VENV, name, owner.key, project, verdict.reason, aliases)


def _row_candidate(store: Store, row: Row) -> Candidate:
    why = f"its venv {store.venv_path(row.venv)} is not in the store"
    return Candidate(ROW, row.venv, row.key, row.path, why)


def _record_candidate(store: Store, name: str, owner: Owner) -> Candidate:
    why = f"an owner record whose venv {store.venv_path(name)} is not in the store"
    return Candidate(RECORD, name, owner.key, owner.path, why)


class Owner(NamedTuple):
    key: str
    path: str
    volume: object  # what :func:`relocator.state.evidence.volume` recorded at adopt (or None)


def _owner(store: Store, name: str, row: Optional[Row]) -> Optional[Owner]:
    """The project store venv ``name`` belongs to: its owner record's, else its registry
    row's; None when neither says (or the record is not well-formed)."""
    if os.path.lexists(store.owner_path(name)):
        record = store.read_owner(name) or {}
        key, path = record.get("key"), record.get("path")
        if isinstance(key, str) and isinstance(path, str) and os.path.isabs(path):
            return Owner(key, path, record.get("volume"))
        return None
    return Owner(row.key, row.path, None) if row is not None else None


def _verdict(store: Store, name: str, owner: Owner) -> Verdict:
    """Whether store venv ``name`` of ``owner``'s project goes, and why (or why not)."""
    venv, project = store.venv_path(name), owner.path
    if os.path.islink(venv):
        return Verdict(False, f"{venv} is a symlink, not a venv relocate made; it is left alone")
    there = _there(project)
    if there is None:
        return Verdict(False, f"cannot tell whether its project {project} is there")
    if there:
        return _linked(store, venv, project)
    return _gone(project, venv, owner.volume, hops.local_paths(link.LINK))


def _gone(project: str, target: str, volume: object, local: tuple[str, ...]) -> Verdict:
    """A project that is not there is gone only on proof (:func:`evidence.presence`: its
    volume is here, the folder that held it can be read), and when no folder beside it
    reaches ``target`` through one of the machine-local links ``local`` (a project renamed
    in place, not adopted at its new name yet, still uses its venv and its trees)."""
    state, why = evidence.presence(project, volume)
    if state != evidence.GONE:
        return Verdict(False, why)
    parent = os.path.dirname(project)
    real = os.path.realpath(target)
    with os.scandir(parent) as entries:
        siblings = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    for sibling in siblings:
        if any(is_under(os.path.realpath(os.path.join(sibling, h)), real) for h in local):
            return Verdict(
                False, f"its project moved to {sibling}? relocate adopt {sibling} takes it along"
            )
    return Verdict(True, why, gone=True)


def _linked(store: Store, venv: str, project: str) -> Verdict:
    """A project that is there keeps its venv unless ``.venv`` leads to another folder."""
    if not os.path.isdir(project):
        return Verdict(False, f"its project {project} is not a folder")
    dotvenv = os.path.join(project, link.LINK)
    if not os.path.exists(dotvenv):  # missing, or a link that leads nowhere (yet)
        return Verdict(
            False,
            f"{dotvenv} is missing or leads nowhere: the project still wants this venv "
            f"(relocate adopt {project} links it again)",
        )
    target = os.path.realpath(dotvenv)
    if target == os.path.realpath(venv):
        return Verdict(False, "")
    if os.path.isdir(target):
        return Verdict(True, f"{dotvenv} now leads to {target}, not to this venv")
    return Verdict(False, f"{dotvenv} is neither this venv nor another folder")


def _there(path: str) -> Optional[bool]:
    """Whether ``path`` is there (a link counts); None when that cannot be told."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:  # no permission to look, a file where a folder should be...
        return None
    return True


def _users(store: Store, candidates: list[Candidate]) -> dict[str, list[ProcessInfo]]:
    """Venv name -> the live processes that use it, in one pass over the processes.

    A gone project's ``.venv`` is looked for too: a process started as
    ``.venv/bin/python`` in a project deleted since names the venv only that way.
    """
    folders: dict[str, list[str]] = {}
    for c in candidates:
        if c.kind == VENV:
            for folder in (os.path.realpath(store.venv_path(c.venv)), *c.aliases):
                folders.setdefault(folder, []).append(c.venv)
        elif c.kind == TREES:  # a tox or nox env's Python runs from there
            bundle = os.path.realpath(bundles.path(store, c.venv))
            folders.setdefault(bundle, []).append(c.venv)
    if not folders:
        return {}
    from relocator.system import processes

    users: dict[str, list[ProcessInfo]] = {}
    for folder, found in processes.users(folders).items():
        for name in folders[folder]:
            have = users.setdefault(name, [])
            pids = {p.pid for p in have}
            have += [p for p in found if p.pid not in pids]
    return users


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
            fresh = _recheck(store, registry, candidate)
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


def _recheck(store: Store, registry: Registry, candidate: Candidate) -> Optional[Verdict]:
    """The candidate decided again (under its lock); None when it is no longer one and
    there is nothing to say (a venv that is healthy again, a row already gone)."""
    name, key = candidate.venv, candidate.key
    if candidate.kind == TREES:
        record = bundles.read_owner(store, name)
        if record is None or record.get("key") != key:
            return None
        verdict = _bundle_verdict(store, name, candidate.project, record.get("volume"))
        return verdict if verdict.goes or verdict.reason else None
    absent = _there(store.venv_path(name)) is False
    if candidate.kind == VENV:
        if absent:  # removed meanwhile (by another gc)
            return None
        owner = _owner(store, name, registry.by_venv(name))
        if owner is None or owner.key != key:
            return Verdict(False, "its owner changed while gc ran; the next gc decides again")
        verdict = _verdict(store, name, owner)
        return verdict if verdict.goes or verdict.reason else None
    if candidate.kind == ROW:
        row = registry.get(key)
        still = row is not None and row.venv == name and absent
    else:
        owner = _owner(store, name, None)
        still = owner is not None and owner.key == key and absent and not registry.by_venv(name)
    return Verdict(True, candidate.reason) if still else None


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
