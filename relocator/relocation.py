"""Adopt and eject: moving a project's venv into the store and back.

Every move is journaled (:mod:`relocator.journal`) before its first step, and
the steps are ordered so that an interruption anywhere leaves the venv whole
in one place: a rename is atomic; a copy is verified before its source goes.
The next adopt or eject of the project finishes or rolls back what was left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from typing import NamedTuple, Optional

from relocator import link, platform, resolver, rewrite, venvs
from relocator.errors import NotFound, RelocatorError
from relocator.git import add_git_exclude, remove_git_exclude
from relocator.journal import Intent, pending
from relocator.project import find_root
from relocator.registry import Registry, Row
from relocator.store import CACHEDIR_TAG, Store

PARTIAL = ".venv.relocator-partial"  # an eject's copy on its way into the project


class Outcome(NamedTuple):
    project: str
    venv: str  # where the venv is now
    action: str  # created, moved, copied, relinked, unchanged, ejected
    python: Optional[str]
    provider: Optional[str]
    notes: tuple[str, ...] = ()


@contextlib.contextmanager
def _project(path: str, store: Store) -> Iterator[tuple[resolver.Resolved, Registry, set[str]]]:
    """The project at or above ``path``, locked, with leftovers of earlier runs finished.

    Also yields the operations (adopt, eject, create) that were found interrupted.
    """
    project = resolver.resolve(find_root(path))
    store.ensure()
    with store.lock(project.key, project.path), Registry(store) as registry:
        store.sweep()
        recovered = set()
        for intent in pending(store, project.key):
            _recover(store, registry, intent)
            recovered.add(intent["op"])
        yield project, registry, recovered


# -- adopt ---------------------------------------------------------------------


def adopt(path: str, python: Optional[str] = None, store: Optional[Store] = None) -> Outcome:
    """Converge the project at or above ``path`` to relocated and registered."""
    store = store or Store()
    with _project(path, store) as (project, registry, _):
        return _adopt(store, registry, project, python)


def _adopt(
    store: Store, registry: Registry, project: resolver.Resolved, python: Optional[str]
) -> Outcome:
    root = project.path
    state = link.inspect(root, store.venvs)
    dotvenv = os.path.join(root, link.LINK)
    if state.kind == link.RELOCATED:
        return _already(store, registry, project, state.target or "", python)
    if state.kind == link.DANGLING:
        return _repair(store, registry, project, python)
    if state.kind == link.FILE:
        raise RelocatorError(f"{dotvenv} is a file, not a venv; move it away and run again")
    if state.kind == link.NOT_VENV:
        raise RelocatorError(
            f"{dotvenv} is a folder without pyvenv.cfg, not a venv; move it away and run again"
        )
    if state.kind == link.FOREIGN:
        raise RelocatorError(
            f"{dotvenv} is a symlink to {state.target}, outside relocator's store; "
            "remove the link (or undo it with the tool that made it) and run again"
        )
    if state.kind == link.IN_PROJECT:
        moved = _move_in(store, registry, project, state.target or dotvenv)
        return moved._replace(notes=_python_note(python))
    return _create(store, registry, project, python)


def _repair(
    store: Store, registry: Registry, project: resolver.Resolved, python: Optional[str]
) -> Outcome:
    """A .venv leading nowhere: a wiped store, or a project synced from another machine."""
    row = registry.get(project.key)
    if row is not None and os.path.isdir(store.venv_path(row.venv)):
        link.create(project.path, store.venv_path(row.venv))  # this machine's venv is still here
        return Outcome(
            project.path, store.venv_path(row.venv), "relinked", row.python, row.provider
        )
    if row is not None:
        registry.remove(project.key)
        store.remove_owner(row.venv)
    created = _create(store, registry, project, python)
    note = "the venv .venv led to was gone: this one is new, reinstall the project's packages"
    return created._replace(notes=(note,))


def _already(
    store: Store, registry: Registry, project: resolver.Resolved, target: str, python: Optional[str]
) -> Outcome:
    name = store.venv_name(target) or ""
    notes = _python_note(python)
    row = registry.get(project.key)
    if row is None or row.venv != name:
        owner = store.read_owner(name)
        if owner is None or owner.get("key") != project.key:
            where = owner.get("path") if owner else "no project"
            raise RelocatorError(
                f"{project.path}/.venv leads to a store venv registered for {where}: the "
                "project was moved or copied; relocate cannot re-key it yet"
            )
        row = Row(**{**owner, "venv": name})
        registry.put(row)
        notes += ("registered again from the store's owner record",)
    registry.touch(project.key)
    add_git_exclude(project.path)
    return Outcome(
        project.path, store.venv_path(name), "unchanged", row.python, row.provider, notes
    )


def _python_note(python: Optional[str]) -> tuple[str, ...]:
    return (
        ("--python applies only when creating a venv; the existing one is kept",) if python else ()
    )


def _new_row(project: resolver.Resolved, name: str, python: Optional[str]) -> Row:
    now = time.time()
    return Row(project.key, project.path, name, python, project.provider, now, now)


def _create(
    store: Store, registry: Registry, project: resolver.Resolved, python: Optional[str]
) -> Outcome:
    name = store.new_venv_name(project.path)
    dest = store.venv_path(name)
    intent = Intent.begin(store, op="create", key=project.key, project=project.path, venv=name)
    store.write_owner(name, _new_row(project, name, None).owner_record())
    venvs.create(dest, project.path, python)
    row = _new_row(project, name, venvs.python_version(dest))
    store.write_owner(name, row.owner_record())
    store.tag_venv(name)
    link.create(project.path, dest)
    registry.put(row)
    add_git_exclude(project.path)
    intent.done()
    return Outcome(project.path, dest, "created", row.python, row.provider)


def _move_in(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    src: str,
) -> Outcome:
    name = store.new_venv_name(project.path)
    dest = store.venv_path(name)
    intent = Intent.begin(
        store, op="adopt", key=project.key, project=project.path, venv=name, src=src
    )
    store.write_owner(name, _new_row(project, name, venvs.python_version(src)).owner_record())
    if venvs.same_volume(src, store.venvs):
        os.rename(src, dest)
        action = "moved"
    else:
        staging = os.path.join(store.tmp, name)
        venvs.copy_verified(src, staging)
        os.rename(staging, dest)
        intent.advance("copied")
        shutil.rmtree(src)  # the verified source of a move: whole at dest now
        action = "copied"
    intent.advance("moved")
    row = _finish_adopt(store, registry, intent)
    return Outcome(project.path, dest, action, row.python, row.provider)


def _finish_adopt(store: Store, registry: Registry, intent: Intent) -> Row:
    name, root = intent["venv"], intent["project"]
    dest = store.venv_path(name)
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    platform.current.clear_hidden(dest)
    rewrite.relocate_venv(dest, [os.path.join(root, link.LINK), intent["src"]])
    rewrite.respell_editables(dest, project)
    store.tag_venv(name)
    row = _new_row(project, name, venvs.python_version(dest))
    store.write_owner(name, row.owner_record())
    link.create(root, dest)
    registry.put(row)
    add_git_exclude(root)
    intent.done()
    return row


# -- eject -----------------------------------------------------------------------


def eject(path: str, store: Optional[Store] = None) -> Outcome:
    """Put the venv of the project at or above ``path`` back into the project."""
    store = store or Store()
    with _project(path, store) as (project, registry, recovered):
        state = link.inspect(project.path, store.venvs)
        name = store.venv_name(state.target or "") if state.kind == link.RELOCATED else None
        if name is None and state.kind == link.IN_PROJECT and "eject" in recovered:
            dotvenv = os.path.join(project.path, link.LINK)
            python = venvs.python_version(dotvenv)
            return Outcome(project.path, dotvenv, "ejected", python, project.provider)
        if name is None:
            raise NotFound(f"{project.path} is not relocated (its .venv is {state.kind})")
        return _eject(store, registry, project, name)


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
    src, dest = store.venv_path(name), os.path.join(root, link.LINK)
    intent = Intent.begin(store, op="eject", key=project.key, project=root, venv=name, src=src)
    if venvs.same_volume(src, root):
        link.remove(root)
        os.rename(src, dest)
        action = "ejected"
    else:
        venvs.copy_verified(src, os.path.join(root, PARTIAL))
        intent.advance("copied")
        link.remove(root)
        os.rename(os.path.join(root, PARTIAL), dest)
        action = "ejected (copied)"
    intent.advance("moved")
    python = _finish_eject(store, registry, intent)
    return Outcome(root, dest, action, python, project.provider)


def _finish_eject(store: Store, registry: Registry, intent: Intent) -> Optional[str]:
    name, root = intent["venv"], intent["project"]
    src, dest = store.venv_path(name), os.path.join(root, link.LINK)
    if os.path.isdir(src) and venvs.is_leftover(src, dest):
        shutil.rmtree(src)
    rewrite.relocate_venv(dest, [src])
    tag = os.path.join(dest, "CACHEDIR.TAG")
    with contextlib.suppress(OSError), open(tag, encoding="utf-8") as f:
        ours = f.read() == CACHEDIR_TAG
    if ours:
        os.unlink(tag)
    link.remove(root)  # a .venv.nosync left by a same-volume eject
    registry.remove(intent["key"])
    store.remove_owner(name)
    remove_git_exclude(root)
    intent.done()
    return venvs.python_version(dest)


# -- recovery ------------------------------------------------------------------------


def _recover(store: Store, registry: Registry, intent: Intent) -> None:
    """Finish or roll back what an interrupted run of the same project left."""
    name, root = intent["venv"], intent["project"]
    store_venv = store.venv_path(name)
    if intent["op"] == "create":  # nothing of the user's is at stake: start over
        if os.path.realpath(os.path.join(root, link.LINK)) == os.path.realpath(store_venv):
            link.remove(root)
        if os.path.isdir(store_venv):
            shutil.rmtree(store_venv)
        registry.remove(intent["key"])
        store.remove_owner(name)
        intent.done()
    elif intent["op"] == "adopt":
        src = intent["src"]
        if os.path.isdir(store_venv):  # the move happened: finish it
            if os.path.isdir(src) and not os.path.islink(src):
                if not venvs.is_leftover(src, store_venv):
                    raise RelocatorError(
                        f"an interrupted adopt left {src} and {store_venv} differing; "
                        "check which one to keep"
                    )
                shutil.rmtree(src)
            _finish_adopt(store, registry, intent)
        else:  # the move did not happen: the source is whole
            staging = os.path.join(store.tmp, name)
            if os.path.isdir(staging):
                shutil.rmtree(staging)
            store.remove_owner(name)
            intent.done()
    elif intent["op"] == "eject":
        dest = os.path.join(root, link.LINK)
        if os.path.isdir(dest) and not os.path.islink(dest):
            _finish_eject(store, registry, intent)
        else:  # still whole in the store: put the link back
            partial = os.path.join(root, PARTIAL)
            if os.path.isdir(partial) and not os.path.islink(partial):
                shutil.rmtree(partial)
            link.create(root, store_venv)
            intent.done()
