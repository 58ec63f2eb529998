"""``relocate status PATH``: the project at or above a folder, registered or not, and its
health; an unregistered project whose ``.venv`` leads to a venv of this store that is gone;
and a folder in another user's store refused with what to do.
"""

from __future__ import annotations

import os
import shlex

from relocator.errors import NotFound
from relocator.paths import link, resolver
from relocator.paths.project import missing, start_folder
from relocator.state.journal import pending
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system.files import is_under
from relocator.venv.health import (
    VENV_MISSING,
    by_project,
    held,
    hint,
    recorded,
    report,
    unfinished,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from relocator.state.rows import Row


def gone_here(store: Store, start: str) -> Optional[dict[str, Any]]:
    """The report of the unregistered project at or above ``start`` whose ``.venv`` leads
    to a venv of this store that is gone (a store deleted with its registry), or None."""
    folder = start
    while not os.path.lexists(os.path.join(folder, link.LINK)):
        if folder == os.path.dirname(folder):
            return None
        folder = os.path.dirname(folder)
    state = link.inspect(folder, store.venvs)
    venv = state.target or ""
    if state.kind != link.DANGLING or not link.is_store_venv(venv, store.venvs):
        return None
    from relocator.state import remembered

    name = os.path.basename(venv)
    return {
        "project": folder,
        "venv": venv,
        "python": None,
        "provider": resolver.provider(folder),
        "status": VENV_MISSING,
        "cause": None,
        "detail": remembered.gone(store, venv, recorded(store, name)),
        "hint": hint(VENV_MISSING, None, folder),
        "files": 0,
        "bytes": 0,
        "trees": [],
        "bytecode": None,
        "held": held(store, name),
    }


def registered_at_or_above(store: Store, registry: Registry, start: str) -> Optional[Row]:
    """The registered project at or above ``start`` (refusing another project's link)."""
    folder = start
    while True:
        row = registry.get(resolver.key(folder))
        if row is not None:
            return row
        _refuse_anothers(store, folder)
        if folder == os.path.dirname(folder):
            return None
        folder = os.path.dirname(folder)


def status(path: str, store: Optional[Store] = None) -> dict[str, Any]:
    """The report of the registered project at or above ``path`` (which may be gone)."""
    store = store or Store()
    try:
        start = start_folder(path, store.venvs)
    except NotFound:
        start = resolver.spelling(path)  # a project that is gone has a status too
    if os.path.isdir(store.root):
        with Registry(store.ensure()) as registry:
            row = registered_at_or_above(store, registry, start)
            if row is not None:
                return _shipped(report(store, row))
        for intent in by_project(pending(store)):
            if is_under(start, intent["project"]):
                return unfinished(intent)
    if not os.path.lexists(start):
        raise missing(path)
    found = gone_here(store, start)
    if found is None:
        raise NotFound(_unregistered(store, start))
    return found


def _shipped(found: dict[str, Any]) -> dict[str, Any]:
    """``status`` also says when git tracks ``.venv`` files: a branch that tracks them
    replaces the link when it is checked out (the hook activates only through the store,
    but tools that read ``.venv`` would run the branch's files)."""
    from relocator.paths import git

    tracked = git.tracked(found["project"], [link.LINK, link.HOP]) or []
    found["tracked"] = tracked
    if tracked:
        more = f" and {len(tracked) - 1} more" if len(tracked) > 1 else ""
        found["warning"] = (
            f"git tracks {tracked[0]}{more}: checking out what tracks it replaces the link; "
            f"git rm -r --cached {link.LINK} on that branch stops it"
        )
    return found


_LEADS_OUT = (link.DANGLING, link.FOREIGN)  # where another user's store venv shows


def _unregistered(store: Store, start: str) -> str:
    """Why ``start`` has no status, and what to run when its project needs a venv here."""
    folder = start
    while not os.path.lexists(os.path.join(folder, link.LINK)):
        if folder == os.path.dirname(folder):
            return f"{start} is in no relocated project (relocate list shows them)"
        folder = os.path.dirname(folder)
    state = link.inspect(folder, store.venvs)
    theirs = link.anothers(state.target or "") if state.kind in _LEADS_OUT else None
    if theirs:
        return f"{folder}/.venv leads to {state.target}, {theirs}"
    if state.kind != link.DANGLING:
        return f"{start} is in no relocated project (relocate list shows them)"
    return (
        f"{folder}/.venv leads to no venv on this machine (a project synced from another "
        f"one, or a wiped store): relocate adopt {shlex.quote(folder)} builds it from the "
        "project's lock file"
    )


def _refuse_anothers(store: Store, folder: str) -> None:
    """An unregistered folder whose .venv leads to another project's venv: say whose."""
    if not os.path.islink(os.path.join(folder, link.LINK)):
        return
    state = link.inspect(folder, store.venvs)
    owner = store.read_owner(os.path.basename(state.target or ""))
    if state.kind == link.RELOCATED and owner and owner.get("key") != resolver.key(folder):
        gone = not os.path.lexists(str(owner.get("path")))
        raise NotFound(
            f"{folder}/.venv leads to the venv of {owner.get('path')}"
            + (
                ", which is gone: moved here? relocate adopt takes the venv along"
                if gone
                else " (a copied project?); relocate adopt gives it a venv of its own"
            )
        )
