"""``relocate eject``: put a project's venv back into the project as a real ``.venv``."""

from __future__ import annotations

import os

from relocator.errors import NotFound, RelocatorError
from relocator.moves.recovery import Recovered, locked
from relocator.moves.relocation import (
    Outcome,
    finish_eject,
    notes_of,
    retire,
    undo_eject,
)
from relocator.paths import link, relinking, resolver
from relocator.paths.git import remove_git_exclude
from relocator.state import bundles, venvs
from relocator.state.journal import Intent, pending
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.venv import settling, transfer, trees

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def eject(path: str, store: Optional[Store] = None) -> Outcome:
    """Put the venv of the project at or above ``path`` back into the project.

    The project is marked ejected in the registry before anything moves, so that the
    service leaves it alone (even an eject killed half-way) until the user adopts it
    again; an eject that fails before it moved anything leaves the mark as it was.
    """
    store = store or Store()
    with locked(path, store) as (project, registry, recovered):
        marked = registry.ejected(project.key) is not None
        registry.mark_ejected(project.key, project.path)
        try:
            return _eject_locked(store, registry, project, recovered)
        except BaseException:
            if not marked and not pending(store, project.key):  # nothing moved
                registry.unmark_ejected(project.key)
            raise


def _eject_locked(
    store: Store, registry: Registry, project: resolver.Resolved, recovered: Recovered
) -> Outcome:
    """The work of :func:`eject` on the locked project."""
    state = link.inspect(project.path, store.venvs)
    name = _ejectable(store, registry, project, state)
    had_trees = bundles.of(store, project.key) is not None
    recovered.notes.extend(
        trees.eject(store, project, store.venv_path(name) if name is not None else None)
    )
    if name is not None:
        done = _eject(store, registry, project, name)
        return done._replace(notes=(*recovered.notes, *done.notes))
    dotvenv = os.path.join(project.path, link.LINK)
    row = registry.get(project.key)
    target = state.target or dotvenv
    if row is not None and state.kind == link.FOREIGN and not link.is_venv(target):
        # .venv.nosync replaced by a file, a sync conflict's folder...: the store venv
        # is still the project's only one, so it is neither let go nor moved.
        reason = link.problem(project.path, store.venvs)
        raise RelocatorError(
            reason
            or f"{dotvenv} leads to {target}, which is not a venv; move it away and run again"
        )
    if row is not None and state.kind in (link.IN_PROJECT, link.FOREIGN):
        done = _let_go(store, registry, project, row.venv, target)
        return done._replace(notes=(*recovered.notes, *done.notes))
    ejected = recovered.finished.get("eject")
    if ejected is not None:  # an interrupted eject, finished just now
        venv = os.path.join(project.path, ejected.get("alias") or link.LINK)
        python = venvs.python_version(venv)
        notes = tuple(recovered.notes)
        return Outcome(project.path, venv, "ejected", python, project.provider, notes)
    if had_trees:  # the venv was not relocator's (or is gone): its trees were
        notes = (*recovered.notes, f"its .venv is {state.kind}: left as it is")
        return Outcome(project.path, "", "ejected trees", None, project.provider, notes)
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
    alias = _alias(root)
    where = transfer.places(store, "eject", root, name, alias=alias)
    reason = link.problem(root, store.venvs, others=True)  # eject keeps what is not its
    if reason is None and os.path.lexists(where.staging):
        reason = f"{where.staging} is in the way (left by an earlier relocate?); move it away"
    if reason:
        raise RelocatorError(reason)
    cross = not venvs.same_volume(where.src, root)
    before = venvs.check_movable(where.src, root, cross_volume=cross)
    mode = "copy" if cross else "rename"
    intent = Intent.begin(
        store, op="eject", key=project.key, project=root, venv=name, mode=mode, alias=alias
    )

    def clear() -> Optional[str]:
        return link.remove(root, store.venvs, alias)

    settling.move(intent, where, store, before, clear, undo=lambda: undo_eject(store, intent))
    notes = finish_eject(store, registry, intent)
    python = venvs.python_version(where.dest)
    action = "ejected (copied)" if intent.get("mode") == "copy" else "ejected"
    return Outcome(root, where.dest, action, python, project.provider, tuple(notes))


def _alias(root: str) -> Optional[str]:
    """The name the venv goes back to instead of ``.venv``: the project's one alias
    (``venv -> .venv``, left by ``adopt --name venv``). With several, ``.venv``, which
    they all lead to."""
    found = link.aliases(root)
    return found[0] if len(found) == 1 else None


def _let_go(
    store: Store, registry: Registry, project: resolver.Resolved, name: str, venv: str
) -> Outcome:
    """A tool replaced the link with a venv of its own: keep that one, and let the
    store venv it replaced go (unregistered first: a kill leaves an orphan for gc)."""
    root = project.path
    registry.remove(project.key)
    notes = retire(store, name, project.key, root, f"ejected: the project's .venv leads to {venv}")
    notes += notes_of(relinking.remove_hop(root, link.LINK, link.ours(store.venvs)))
    notes += notes_of(remove_git_exclude(root))
    notes.insert(0, f"kept the project's own .venv (it leads to {venv})")
    python = venvs.python_version(venv)
    return Outcome(root, venv, "ejected", python, project.provider, tuple(notes))
