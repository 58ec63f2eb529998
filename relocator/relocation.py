"""Adopt and eject: moving a project's venv into the store and back.

Each operation checks every precondition first (the venv's layout, the two
link names, permissions, room on the other volume), then journals its intent
(:mod:`relocator.journal`) and moves the venv (:mod:`relocator.transfer`).
Past the move nothing may fail on file content: rewriting is best effort,
with notes. An interrupted run is settled by the next one that takes the
project's lock: whatever is whole and moved is finished forward, whatever
never became usable is rolled back.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import NamedTuple, Optional

from relocator import faults, link, platform, resolver, rewrite, transfer, venvs
from relocator.errors import NotFound, RelocatorError
from relocator.git import add_git_exclude, remove_git_exclude
from relocator.journal import Intent, pending
from relocator.project import check_new, find_root
from relocator.registry import Registry, Row
from relocator.store import CACHEDIR_TAG, Store, read_small

Notes = list[str]


class Outcome(NamedTuple):
    project: str
    venv: str  # where the venv is now
    action: str  # created, moved, copied, relinked, unchanged, ejected
    python: Optional[str]
    provider: Optional[str]
    notes: tuple[str, ...] = ()


class Recovered(NamedTuple):
    """What the interrupted runs of a project came to: notes, and the operations finished."""

    notes: Notes
    finished: set[str]


@contextlib.contextmanager
def _project(path: str, store: Store) -> Iterator[tuple[resolver.Resolved, Registry, Recovered]]:
    """The project at or above ``path``, locked, with what earlier runs left settled."""
    store.ensure()
    project = resolver.resolve(find_root(path, store.venvs))
    with store.lock(project.key, project.path), Registry(store) as registry:
        store.sweep()
        recovered = Recovered([], set())
        for intent in pending(store, project.key):
            forward, notes = _resume(store, registry, intent)
            recovered.notes.extend(notes)
            if forward:
                recovered.finished.add(intent.op)
        yield project, registry, recovered


def _new_row(project: resolver.Resolved, name: str, python: Optional[str]) -> Row:
    now = time.time()
    return Row(project.key, project.path, name, python, project.provider, now, now)


def _register(store: Store, registry: Registry, project: resolver.Resolved, name: str) -> Row:
    row = _new_row(project, name, venvs.python_version(store.venv_path(name)))
    store.write_owner(name, row.owner_record())
    registry.put(row)
    return row


def _marks(store: Store, name: str) -> Notes:
    """Mark a store venv as a cache for backups; a refused mark is a note, not a failure."""
    try:
        store.tag_venv(name)
    except OSError as e:
        return [f"could not mark {store.venv_path(name)} as a cache for backups ({e.strerror})"]
    return []


def _note(note: Optional[str]) -> Notes:
    return [note] if note else []


# -- adopt ---------------------------------------------------------------------


def adopt(path: str, python: Optional[str] = None, store: Optional[Store] = None) -> Outcome:
    """Converge the project at or above ``path`` to relocated and registered."""
    store = store or Store()
    with _project(path, store) as (project, registry, recovered):
        done = _adopt(store, registry, project, python)
        return done._replace(notes=(*recovered.notes, *done.notes))


def _adopt(
    store: Store, registry: Registry, project: resolver.Resolved, python: Optional[str]
) -> Outcome:
    root = project.path
    state = link.inspect(root, store.venvs)
    dotvenv = os.path.join(root, link.LINK)
    if state.kind == link.RELOCATED:
        return _already(store, registry, project, state.target or "", python)
    check_new(root)
    if state.kind == link.FILE:
        raise RelocatorError(f"{dotvenv} is a file, not a venv; move it away and run again")
    if state.kind == link.NOT_VENV:
        raise RelocatorError(
            f"{dotvenv} is a folder without pyvenv.cfg, not a venv; move it away and run again"
        )
    if state.kind == link.FOREIGN:
        target = state.target or ""
        inside = target.startswith(os.path.realpath(store.venvs) + "/")
        where = "inside a store venv, not to its root" if inside else "outside relocator's store"
        raise RelocatorError(
            f"{dotvenv} is a symlink to {target}, {where}; "
            "remove the link (or undo it with the tool that made it) and run again"
        )
    if state.kind == link.IN_PROJECT:
        moved = _move_in(store, registry, project, state.target or dotvenv)
        return moved._replace(notes=(*_python_note(python), *moved.notes))
    return _relink_or_create(store, registry, project, python, dangling=state.kind == link.DANGLING)


def _relink_or_create(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    python: Optional[str],
    *,
    dangling: bool,
) -> Outcome:
    """No usable .venv: link this machine's registered venv, or create one.

    A dangling link is a project synced from another machine, a wiped store, or
    a removed ``.venv.nosync``; a missing one, a tool that deleted the link.
    """
    row = registry.get(project.key)
    if row is not None and os.path.isdir(store.venv_path(row.venv)):
        store.claim(row.venv, project.key, project.path)
        link.create(project.path, store.venv_path(row.venv), store.venvs)
        notes = _note(add_git_exclude(project.path))
        venv = store.venv_path(row.venv)
        return Outcome(project.path, venv, "relinked", row.python, row.provider, tuple(notes))
    if row is not None:  # its venv is gone: the row and owner record say nothing true
        registry.remove(project.key)
        store.remove_owner(row.venv)
    created = _create(store, registry, project, python)
    if not dangling:
        return created
    note = "the venv .venv led to was gone: this one is new, reinstall the project's packages"
    return created._replace(notes=(note, *created.notes))


def _already(
    store: Store, registry: Registry, project: resolver.Resolved, target: str, python: Optional[str]
) -> Outcome:
    name = os.path.basename(target)
    notes = list(_python_note(python))
    row = registry.get(project.key)
    if row is None or row.venv != name:
        owner = store.claim(name, project.key, project.path)
        try:
            row = Row(**{**owner, "venv": name})
        except TypeError:
            row = _new_row(project, name, venvs.python_version(target))
        registry.put(row)
        notes.append("registered again from the store's owner record")
    registry.touch(project.key)
    notes += _note(add_git_exclude(project.path))
    return Outcome(project.path, target, "unchanged", row.python, row.provider, tuple(notes))


def _python_note(python: Optional[str]) -> tuple[str, ...]:
    return (
        ("--python applies only when creating a venv; the existing one is kept",) if python else ()
    )


def _create(
    store: Store, registry: Registry, project: resolver.Resolved, python: Optional[str]
) -> Outcome:
    reason = link.problem(project.path, store.venvs)
    if reason:
        raise RelocatorError(reason)
    name = store.new_venv_name(project.path)
    dest = store.venv_path(name)
    intent = Intent.begin(store, op="create", key=project.key, project=project.path, venv=name)
    store.write_owner(name, _new_row(project, name, None).owner_record())
    try:
        venvs.create(dest, project.path, python)
    except BaseException:
        _undo_create(store, intent)
        raise
    intent.advance("created")
    row, notes = _finish_create(store, registry, intent)
    return Outcome(project.path, dest, "created", row.python, row.provider, tuple(notes))


def _finish_create(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    name, root = intent["venv"], intent["project"]
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    store.claim(name, project.key, root)
    notes = _marks(store, name)
    link.create(root, store.venv_path(name), store.venvs)
    intent.advance("linked")
    row = _register(store, registry, project, name)
    faults.point("create:registered")
    notes += _note(add_git_exclude(root))
    intent.done()
    return row, notes


def _undo_create(store: Store, intent: Intent) -> None:
    """Drop a venv whose creation never finished: it was never linked, so never used."""
    name = intent["venv"]
    if os.path.lexists(store.venv_path(name)):
        store.claim(name, intent["key"], intent["project"])
        store.discard(store.venv_path(name))
    store.remove_owner(name)
    intent.done()


def _move_in(store: Store, registry: Registry, project: resolver.Resolved, src: str) -> Outcome:
    root = project.path
    cross = not venvs.same_volume(src, store.venvs)
    before = venvs.check_movable(src, store.tmp, cross_volume=cross)
    reason = link.problem(root, store.venvs, moving_away=src)
    aside = os.path.join(root, transfer.ASIDE)
    if reason is None and os.path.lexists(aside):
        reason = f"{aside} is in the way (left by an earlier relocate?); move it away and run again"
    if reason:
        raise RelocatorError(reason)
    name = store.new_venv_name(root)
    where = transfer.places(store, "adopt", root, name, src)
    mode = "copy" if cross else "rename"
    intent = Intent.begin(
        store, op="adopt", key=project.key, project=root, venv=name, src=src, mode=mode
    )
    store.write_owner(name, _new_row(project, name, venvs.python_version(src)).owner_record())
    try:
        transfer.move(intent, where, store, before, clear_dest=lambda: None)
    except RelocatorError:
        if transfer.settle(intent, where, store, lambda: None) == transfer.BACK:
            store.remove_owner(name)
            intent.done()
            raise
    row, notes = _finish_adopt(store, registry, intent)
    action = "copied" if cross else "moved"
    return Outcome(root, where.dest, action, row.python, row.provider, tuple(notes))


def _finish_adopt(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    name, root = intent["venv"], intent["project"]
    where = transfer.places(store, "adopt", root, name, intent.get("src"))
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    store.claim(name, project.key, root)
    try:  # first: Python skips .pth files that carry the flag
        platform.current.clear_hidden(where.dest)
        notes: Notes = []
    except OSError as e:
        notes = [f"could not clear the hidden flag in {where.dest} ({e.strerror})"]
    link.create(root, where.dest, store.venvs)
    intent.advance("linked")
    row = _register(store, registry, project, name)
    notes += rewrite.relocate_venv(where.dest, [os.path.join(root, link.LINK), where.src])
    notes += rewrite.respell_editables(where.dest, project)
    faults.point("adopt:rewritten")
    notes += _marks(store, name)
    notes += _note(transfer.drop_aside(where, store))
    notes += _note(add_git_exclude(root))
    intent.done()
    return row, notes


# -- eject -----------------------------------------------------------------------


def eject(path: str, store: Optional[Store] = None) -> Outcome:
    """Put the venv of the project at or above ``path`` back into the project."""
    store = store or Store()
    with _project(path, store) as (project, registry, recovered):
        state = link.inspect(project.path, store.venvs)
        name = _ejectable(store, registry, project, state)
        if name is not None:
            done = _eject(store, registry, project, name)
            return done._replace(notes=(*recovered.notes, *done.notes))
        dotvenv = os.path.join(project.path, link.LINK)
        if state.kind == link.IN_PROJECT and "eject" in recovered.finished:
            python = venvs.python_version(dotvenv)
            notes = tuple(recovered.notes)
            return Outcome(project.path, dotvenv, "ejected", python, project.provider, notes)
        raise NotFound(f"{project.path} is not relocated (its .venv is {state.kind})")


def _ejectable(
    store: Store, registry: Registry, project: resolver.Resolved, state: link.LinkState
) -> Optional[str]:
    """The store venv to eject: the one .venv leads to, or, when the link is broken or
    gone, the one registered for the project; only ever one the project owns."""
    name = None
    if state.kind == link.RELOCATED:
        name = os.path.basename(state.target or "")
    elif state.kind in (link.DANGLING, link.ABSENT):
        row = registry.get(project.key)
        if row is not None and os.path.isdir(store.venv_path(row.venv)):
            name = row.venv
    if name is not None:
        store.claim(name, project.key, project.path)
    return name


def eject_all(store: Optional[Store] = None) -> list[tuple[str, Optional[Outcome], str]]:
    """Eject every registered project: (path, outcome or None, error message)."""
    store = store or Store()
    if not os.path.isdir(store.root):
        return []
    with Registry(store.ensure()) as registry:
        rows = registry.all()
    results: list[tuple[str, Optional[Outcome], str]] = []
    for row in rows:
        try:
            results.append((row.path, eject(row.path, store), ""))
        except RelocatorError as e:
            results.append((row.path, None, str(e)))
    return results


def _eject(store: Store, registry: Registry, project: resolver.Resolved, name: str) -> Outcome:
    root = project.path
    where = transfer.places(store, "eject", root, name)
    reason = link.problem(root, store.venvs)
    if reason is None and os.path.lexists(where.staging):
        reason = f"{where.staging} is in the way (left by an earlier relocate?); move it away"
    if reason:
        raise RelocatorError(reason)
    cross = not venvs.same_volume(where.src, root)
    before = venvs.check_movable(where.src, root, cross_volume=cross)
    mode = "copy" if cross else "rename"
    intent = Intent.begin(store, op="eject", key=project.key, project=root, venv=name, mode=mode)
    try:
        transfer.move(intent, where, store, before, clear_dest=lambda: link.remove(root))
    except RelocatorError:
        if transfer.settle(intent, where, store, lambda: link.remove(root)) == transfer.BACK:
            _undo_eject(store, intent)
            raise
    notes = _finish_eject(store, registry, intent)
    python = venvs.python_version(where.dest)
    action = "ejected (copied)" if cross else "ejected"
    return Outcome(root, where.dest, action, python, project.provider, tuple(notes))


def _finish_eject(store: Store, registry: Registry, intent: Intent) -> Notes:
    name, root = intent["venv"], intent["project"]
    where = transfer.places(store, "eject", root, name)
    notes = rewrite.relocate_venv(where.dest, [where.src])
    faults.point("eject:rewritten")
    tag = os.path.join(where.dest, "CACHEDIR.TAG")
    if read_small(tag) == CACHEDIR_TAG and not os.path.islink(tag):
        try:
            os.unlink(tag)
        except OSError as e:
            notes.append(f"could not remove {tag} ({e.strerror})")
    link.remove(root)  # a .venv.nosync left by a same-volume eject
    registry.remove(intent["key"])
    faults.point("eject:unregistered")
    store.remove_owner(name)
    notes += _note(transfer.drop_aside(where, store))
    notes += _note(remove_git_exclude(root))
    intent.done()
    return notes


def _undo_eject(store: Store, intent: Intent) -> None:
    """The venv is still whole in the store: point the project at it again."""
    venv = store.venv_path(intent["venv"])
    if os.path.isdir(venv):
        link.create(intent["project"], venv, store.venvs)
    intent.done()


# -- recovery ------------------------------------------------------------------------


def _resume(store: Store, registry: Registry, intent: Intent) -> tuple[bool, Notes]:
    """Settle what an interrupted run of the same project left.

    Returns whether it was finished forward (else rolled back), and notes saying so.
    """
    op, root, name = intent.op, intent["project"], intent["venv"]
    if op == "create":
        if intent.step == "begin":
            _undo_create(store, intent)
            return False, [f"removed the unfinished venv of an interrupted create ({name})"]
        return True, [*_finish_create(store, registry, intent)[1], "finished an interrupted create"]
    where = transfer.places(store, op, root, name, intent.get("src"))
    clear = (lambda: link.remove(root)) if op == "eject" else (lambda: None)
    if transfer.settle(intent, where, store, clear) == transfer.FORWARD:
        if op == "adopt":
            notes = _finish_adopt(store, registry, intent)[1]
        else:
            notes = _finish_eject(store, registry, intent)
        return True, [*notes, f"finished an interrupted {op}"]
    if op == "adopt":
        store.remove_owner(name)
        intent.done()
    else:
        _undo_eject(store, intent)
    return False, [f"rolled back an interrupted {op}: the venv is where it was"]
