"""What ``relocate gc`` takes, and why: the store venvs no project uses any more, the records
of venvs that are gone, and what is kept and why. Removing them is :mod:`relocator.commands.gc`.

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
doctor`` reports those). Healthy projects are neither touched nor reported. Each candidate
is decided again (:func:`recheck`) under its project's lock just before it goes. The
processes that use the candidates (:func:`users`) are looked at once, in one pass for all.
"""

from __future__ import annotations

import os

from relocator.paths import hops, link
from relocator.records import NamedTuple
from relocator.state import bundles, evidence
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    from relocator.state.registry import Registry
    from relocator.state.rows import Row
    from relocator.state.store import Store
    from relocator.system.processes import ProcessInfo

VENV = "venv"  # a store venv
ROW = "row"  # a registry row whose venv is not in the store
RECORD = "record"  # an owner record whose venv is not in the store (and no row)
LEFTOVER = "leftover"  # what a killed relocate left in tmp/ (relocator.state.leftovers)
TREES = "trees"  # a project's bundle of trees (``adopt --trees``) whose project is gone


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


def plan(
    store: Store, registry: Registry, spare: Callable[[Candidate, str], None]
) -> list[Candidate]:
    """Every candidate, decided without locks (each is decided again under its lock);
    venvs kept for a reason worth saying are handed to ``spare`` with why."""
    rows = registry.all()
    by_venv = {row.venv: row for row in rows}
    records = [name for name, _record in store.owners()]
    found: list[Candidate] = []
    for name in store.venv_names():
        owner = _owner(store, name, by_venv.get(name))
        if owner is None:
            why = "no owner record (none, or none it can read): relocate cannot tell whose it is"
            spare(Candidate(VENV, name, "", "", ""), why)
            continue
        verdict = _verdict(store, name, owner)
        candidate = _venv_candidate(name, owner, verdict)
        if verdict.goes:
            found.append(candidate)
        elif verdict.reason:
            spare(candidate, verdict.reason)
    for row in rows:
        if is_there(store.venv_path(row.venv)) is False:
            found.append(_row_candidate(store, row))
    for name in records:
        owner = _owner(store, name, None)
        if owner and name not in by_venv and is_there(store.venv_path(name)) is False:
            found.append(_record_candidate(store, name, owner))
    for bundle, record in bundles.owners(store):
        key, path = record.get("key"), record.get("path")
        if isinstance(key, str) and isinstance(path, str) and os.path.isabs(path):
            verdict = _bundle_verdict(store, bundle, path, record.get("volume"))
            candidate = Candidate(TREES, bundle, key, path, verdict.reason)
            if verdict.goes:
                found.append(candidate)
            elif verdict.reason:
                spare(candidate, verdict.reason)
    return found


def _bundle_verdict(store: Store, bundle: str, project: str, volume: object) -> Verdict:
    """A project's trees go with the project (by the rule of venvs); never while
    the project is there, even if it no longer links to them (eject takes them back)."""
    there = is_there(project)
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
    volume: object  # what :func:`relocator.system.volumes.volume` recorded at adopt (or None)


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
    there = is_there(project)
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


def is_there(path: str) -> Optional[bool]:
    """Whether ``path`` is there (a link counts); None when that cannot be told."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:  # no permission to look, a file where a folder should be...
        return None
    return True


def users(store: Store, candidates: list[Candidate]) -> dict[str, list[ProcessInfo]]:
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


def recheck(store: Store, registry: Registry, candidate: Candidate) -> Optional[Verdict]:
    """The candidate decided again (under its lock); None when it is no longer one and
    there is nothing to say (a venv that is healthy again, a row already gone)."""
    name, key = candidate.venv, candidate.key
    if candidate.kind == TREES:
        record = bundles.read_owner(store, name)
        if record is None or record.get("key") != key:
            return None
        verdict = _bundle_verdict(store, name, candidate.project, record.get("volume"))
        return verdict if verdict.goes or verdict.reason else None
    absent = is_there(store.venv_path(name)) is False
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
