"""``relocate adopt``: converge a project to relocated, registered, working."""

from __future__ import annotations

import os
from typing import Optional

from relocator import link, resolver, transfer, venvs
from relocator.errors import RelocatorError
from relocator.files import is_under
from relocator.git import add_git_exclude
from relocator.journal import Intent
from relocator.project import check_new
from relocator.registry import Registry, Row
from relocator.relocation import (
    Outcome,
    finish_adopt,
    finish_create,
    locked,
    new_row,
    notes_of,
    undo_adopt,
    undo_create,
)
from relocator.store import Store


def adopt(path: str, python: Optional[str] = None, store: Optional[Store] = None) -> Outcome:
    """Converge the project at or above ``path`` to relocated and registered."""
    store = store or Store()
    with locked(path, store) as (project, registry, recovered):
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
        if is_under(target, os.path.realpath(store.root)):
            where = "into relocator's store, but not to the root of a venv there"
        else:
            where = "outside relocator's store"
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
        notes = notes_of(add_git_exclude(project.path))
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
            row = new_row(project, name, venvs.python_version(target))
        registry.put(row)
        notes.append("registered again from the store's owner record")
    registry.touch(project.key)
    notes += notes_of(add_git_exclude(project.path))
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
    store.write_owner(name, new_row(project, name, None).owner_record())
    try:
        venvs.create(dest, project.path, python)
    except BaseException:
        undo_create(store, intent)
        raise
    intent.advance("created")
    row, notes = finish_create(store, registry, intent)
    return Outcome(project.path, dest, "created", row.python, row.provider, tuple(notes))


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
    store.write_owner(name, new_row(project, name, venvs.python_version(src)).owner_record())
    try:
        transfer.move(intent, where, store, before, clear_dest=lambda: None)
    except RelocatorError:
        if transfer.settle(intent, where, store, lambda: None) == transfer.BACK:
            undo_adopt(store, intent)
            raise
    row, notes = finish_adopt(store, registry, intent)
    action = "copied" if cross else "moved"
    return Outcome(root, where.dest, action, row.python, row.provider, tuple(notes))
