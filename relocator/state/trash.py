"""The trash: what relocator retires stays restorable for a while.

A venv replaced by a rebuild or a repair, a venv or trees whose project is gone
(``relocate gc``), the venv a tool's own ``.venv`` took the place of: nothing of
these is deleted where it is. It is renamed into the store's trash, beside a
record that says what it was and why it went::

    <store>/trash/<id>/        the venv, the bundle of trees, or the one tree
    <store>/trash/<id>.json    its record: kind, project, key, name, tree, why, when,
                               bytes, files, python, packages

``relocate trash`` lists the entries; ``relocate restore`` puts one back
(:mod:`relocator.moves.restoring`); ``relocate gc`` deletes those past their age
(:func:`retention_days`, 14 by default) and ``gc --empty-trash`` all of them:
:func:`sweep` is the one place where relocator really deletes what a project used.

A move into the trash is one rename inside the store, journaled (``trash``) like
every other move: a kill before the rename leaves the folder where it was (the
command that retired it decides again next time), a kill after it leaves the
folder in the trash, and the next run that settles the project's journal writes
its record and drops the owner record it no longer needs.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time

from relocator.errors import Busy, RelocatorError
from relocator.paths import hops
from relocator.records import NamedTuple
from relocator.state import inventory, venvs
from relocator.state.journal import Intent
from relocator.state.store import Store
from relocator.system import faults
from relocator.system.files import read_record, write_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

VENV = "venv"  # a store venv
TREES = "trees"  # a project's bundle of trees (``adopt --trees``)
TREE = "tree"  # one tree of a bundle (a stale copy a tool's new folder replaced)
LEFTOVER = "leftover"  # what a killed gc of an older relocate had set aside in tmp/
KINDS = (VENV, TREES, TREE, LEFTOVER)
DEFAULT_DAYS = 14.0
_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
#: Where what goes to the trash may come from, relative to the store.
_SOURCES = re.compile(r"(venvs|trees|tmp)/[^/]+(/[^/]+)?")


class Entry(NamedTuple):
    id: str
    kind: str
    project: Optional[str]  # the project it belonged to (None: not known)
    key: Optional[str]
    name: str  # its name in the store (the venv's, the bundle's)
    tree: Optional[str]  # the tree's name, for TREE
    why: str
    when: float  # when it went to the trash
    bytes: int
    files: int
    python: Optional[str]
    packages: list[str]  # the distributions it held (a venv)

    def data(self) -> dict[str, Any]:
        return self._asdict()


def path(store: Store, entry_id: str) -> str:
    return os.path.join(store.trash, entry_id)


def _record_path(store: Store, entry_id: str) -> str:
    return os.path.join(store.trash, entry_id + ".json")


def retention_days() -> float:
    """How long the trash keeps an entry: ``$RELOCATOR_TRASH_DAYS``, else the config's
    ``trash_days``, else 14 days."""
    given = os.environ.get("RELOCATOR_TRASH_DAYS", "").strip()
    if not given:
        from relocator.state import settings

        return settings.trash_days()
    try:
        days = float(given)
    except ValueError:
        days = -1.0
    if not 0 <= days < float("inf"):
        raise RelocatorError(
            f"RELOCATOR_TRASH_DAYS must be a number of days >= 0 (got {given!r}); fix or unset it"
        )
    return days


# -- putting in -----------------------------------------------------------------------


def put(
    store: Store,
    src: str,
    *,
    kind: str,
    key: str,
    project: str,
    name: str,
    why: str,
    tree: Optional[str] = None,
    owner: Optional[str] = None,
) -> Entry:
    """Rename the store folder ``src`` into the trash, journaled; return its entry.

    ``owner`` is the owner record that named ``src`` (removed once it is in the trash:
    the trash record keeps what it said). Raises :class:`RelocatorError` with nothing
    moved when ``src`` is not a folder of the store or the trash cannot take it.
    """
    intent = begin(
        store, src, kind=kind, key=key, project=project, name=name, why=why, tree=tree, owner=owner
    )
    rename_in(intent, src)
    return finish(store, intent)


def begin(
    store: Store,
    src: str,
    *,
    kind: str,
    key: str,
    project: str,
    name: str,
    why: str,
    tree: Optional[str] = None,
    owner: Optional[str] = None,
) -> Intent:
    """Journal the move of the store folder ``src`` into the trash, its facts read first
    (a walk of it: done here, before anything moves). Then :func:`rename_in` and
    :func:`finish`; a swap (:mod:`relocator.moves.replacing`) puts its own rename between them."""
    rel = os.path.relpath(src, store.root)
    if not _SOURCES.fullmatch(rel) or os.path.islink(src) or not os.path.isdir(src):
        raise RelocatorError(f"{src} is not a folder of the store relocate can put in the trash")
    store.check_own(store.trash)
    os.makedirs(store.trash, mode=0o700, exist_ok=True)
    files, size = venvs.usage(src)
    entry_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"
    facts = {
        "kind": kind,
        "name": name,
        "tree": tree,
        "why": why,
        "bytes": size,
        "files": files,
        "python": venvs.python_version(src) if kind == VENV else None,
        "packages": sorted(inventory.names(src)) if kind == VENV else [],
    }
    owner_rel = os.path.relpath(owner, store.root) if owner else None
    return Intent.begin(
        store,
        op="trash",
        key=key,
        project=project,
        venv=entry_id,
        src=rel,
        owner=owner_rel,
        **facts,
    )


def rename_in(intent: Intent, src: str) -> None:
    """The one rename that puts ``src`` in the trash; raises :class:`RelocatorError` (the
    record dropped, nothing moved) when it fails."""
    try:
        os.rename(src, path(intent.store, intent["venv"]))
    except OSError as e:
        intent.done()
        raise RelocatorError(f"cannot move {src} to the trash ({e.strerror})") from None


def finish(store: Store, intent: Intent) -> Entry:
    """Once the folder is in the trash: its record written, the owner record dropped."""
    intent.advance("moved")
    return _finish(store, intent)


def _finish(store: Store, intent: Intent) -> Entry:
    """Write the trash record and drop the owner record the folder no longer needs."""
    record = {k: intent.get(k) for k in Entry._fields}
    record.update(id=intent["venv"], when=float(intent.get("started") or time.time()))
    write_record(_record_path(store, intent["venv"]), record)
    faults.point("trash:recorded")
    owner = intent.get("owner")
    if isinstance(owner, str) and _SOURCES.fullmatch(owner.removesuffix(".json")):
        owned = read_record(os.path.join(store.root, owner))
        if owned is None or owned.get("key") == intent["key"]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(store.root, owner))
    intent.done()
    return _entry(record)


def resume(store: Store, intent: Intent) -> tuple[bool, list[str]]:
    """Settle an interrupted move into the trash: finished when the folder got there,
    else forgotten (the folder is where it was, and whoever retired it decides again)."""
    entry_id = intent["venv"]
    if os.path.isdir(path(store, entry_id)) and not os.path.islink(path(store, entry_id)):
        entry = _finish(store, intent)
        return True, [f"finished moving {entry.name} to the trash ({entry_id})"]
    intent.done()
    return False, []


def follow(store: Store, old_key: str, key: str, project: str) -> list[str]:
    """A project that moved takes what the trash holds of it along: the records of its
    old key name the new place, so ``relocate restore`` there finds them."""
    moved = 0
    for entry in entries(store):
        record = read_record(_record_path(store, entry.id))
        if entry.key != old_key or record is None or record.get("id") != entry.id:
            continue
        write_record(_record_path(store, entry.id), {**record, "key": key, "project": project})
        moved += 1
    what = "1 entry" if moved == 1 else f"{moved} entries"
    return [f"what the trash holds of it follows it ({what})"] if moved else []


# -- reading ---------------------------------------------------------------------------


def entries(store: Store) -> list[Entry]:
    """What the trash holds, newest first. A folder whose record is missing (a kill, or
    a relocate that predates records) is listed with what its folder says."""
    try:
        names = os.listdir(store.trash)
    except OSError:
        return []
    found = []
    for name in names:
        folder = path(store, name)
        if name.endswith(".json") or os.path.islink(folder) or not os.path.isdir(folder):
            continue
        record = read_record(_record_path(store, name))
        found.append(_entry(record) if record and record.get("id") == name else _bare(folder))
    return sorted(found, key=lambda e: (e.when, e.id), reverse=True)


def _entry(record: dict[str, Any]) -> Entry:
    def text(field: str) -> Optional[str]:
        value = record.get(field)
        return value if isinstance(value, str) else None

    def number(field: str) -> float:
        value = record.get(field)
        good = isinstance(value, (int, float)) and math.isfinite(value)
        return float(value) if good else 0.0  # type: ignore[arg-type]

    packages = record.get("packages")
    kind = text("kind") if text("kind") in KINDS else LEFTOVER
    name, tree = text("name") or str(record.get("id")), text("tree")
    if not _plain(name) or (kind == TREE and tree not in hops.TREES):
        kind = LEFTOVER  # a record naming a place outside the store: nothing goes back there
    return Entry(
        id=str(record.get("id")),
        kind=str(kind),
        project=text("project"),
        key=text("key"),
        name=name,
        tree=tree,
        why=text("why") or "",
        when=number("when"),
        bytes=int(number("bytes")),
        files=int(number("files")),
        python=text("python"),
        packages=[p for p in packages if isinstance(p, str)] if isinstance(packages, list) else [],
    )


def _plain(name: str) -> bool:
    """Whether ``name`` can be a folder's name in the store's ``venvs/`` or ``trees/`` (a
    restore puts the entry back there under it): one name, no ``/``, not hidden."""
    return bool(name) and "/" not in name and "\0" not in name and not name.startswith(".")


def _bare(folder: str) -> Entry:
    """An entry without a record: its name, size and the time it was renamed there."""
    files, size = venvs.usage(folder)
    when = os.lstat(folder).st_ctime  # a rename changes the ctime
    why = "no record (relocate was interrupted as it moved this here)"
    name = os.path.basename(folder)
    return Entry(name, LEFTOVER, None, None, name, None, why, when, size, files, None, [])


def size(store: Store) -> tuple[int, int]:
    """(entries, bytes) in the trash, from the records (no walk)."""
    found = entries(store)
    return len(found), sum(e.bytes for e in found)


def find(store: Store, entry_id: str) -> Entry:
    """The entry ``entry_id`` (or the one entry whose id starts with it)."""
    found = [e for e in entries(store) if e.id == entry_id]
    found = found or [e for e in entries(store) if entry_id and e.id.startswith(entry_id)]
    if len(found) != 1:
        what = "no entry" if not found else f"{len(found)} entries"
        raise RelocatorError(
            f"the trash has {what} with the id {entry_id!r} (relocate trash lists them)"
        )
    return found[0]


def expires(entry: Entry, days: float) -> float:
    return entry.when + days * 86400


# -- emptying ----------------------------------------------------------------------------


def sweep(
    store: Store, *, everything: bool = False, dry_run: bool = False, now: Optional[float] = None
) -> list[Entry]:
    """Delete the entries past their age (all with ``everything``); return them.

    The folder goes first, its record last: a kill leaves an entry that the next sweep
    finishes. An entry a pending journal record still moves in or out is left alone.
    """
    days = retention_days()
    now = time.time() if now is None else now
    busy = _moving(store)
    gone = []
    for entry in entries(store):
        if entry.id in busy or not (everything or expires(entry, days) <= now):
            continue
        if not dry_run and not _delete(store, entry):
            continue
        gone.append(entry)
    if not dry_run:
        _drop_stale_records(store, busy)
    return gone


def _delete(store: Store, entry: Entry) -> bool:
    """Delete ``entry`` under its project's lock (a restore of that project moves entries
    out and its current venv in); False when it is busy or no longer there to delete."""
    held = store.lock(entry.key, entry.project or entry.key) if entry.key else None
    try:
        with held or contextlib.nullcontext():
            if entry.id in _moving(store) or not os.path.isdir(path(store, entry.id)):
                return False
            store.discard(path(store, entry.id))
            faults.point("trash:swept")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_record_path(store, entry.id))
    except Busy:
        return False  # the next gc deletes it
    return True


def _moving(store: Store) -> set[str]:
    """The entries a pending record moves in or out (a swap takes one out as a venv)."""
    from relocator.state.journal import pending

    busy = set()
    for intent in pending(store):
        if intent.op in ("trash", "restore"):
            busy.add(intent["venv"])
        elif intent.op == "swap" and intent.get("source") == "trash":
            busy.add(str(intent.get("staged")))
    return busy


def _drop_stale_records(store: Store, busy: set[str]) -> None:
    """Records whose folder is gone (a restore, or a sweep, killed before it removed
    them): they describe nothing."""
    try:
        names = os.listdir(store.trash)
    except OSError:
        return
    for name in names:
        entry_id = name.removesuffix(".json")
        stale = _ID.fullmatch(entry_id) and not os.path.lexists(path(store, entry_id))
        if name.endswith(".json") and stale and entry_id not in busy:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(store.trash, name))
