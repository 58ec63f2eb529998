"""Health of registered projects: what ``relocate list`` and ``relocate status`` report."""

from __future__ import annotations

import os
from typing import Any, Optional

from relocator import link, resolver, venvs
from relocator.errors import NotFound
from relocator.project import start_folder
from relocator.registry import Registry, Row
from relocator.store import Store

OK = "ok"
PROJECT_MISSING = "project-missing"
LINK_MISSING = "link-missing"
LINK_REPLACED = "link-replaced"  # a real .venv came back, e.g. after `poetry env use`
VENV_MISSING = "venv-missing"
INTERPRETER_MISSING = "interpreter-missing"
STATUSES = (OK, PROJECT_MISSING, LINK_MISSING, LINK_REPLACED, VENV_MISSING, INTERPRETER_MISSING)


#: What to do, for the states a command repairs.
HINTS = {
    LINK_MISSING: "relocate adopt PROJECT links the venv again",
    VENV_MISSING: "relocate adopt PROJECT creates a new venv (then reinstall the packages)",
}


def status_of(store: Store, row: Row) -> str:
    venv = store.venv_path(row.venv)
    if not os.path.isdir(row.path):
        return PROJECT_MISSING
    state = link.inspect(row.path, store.venvs)
    if state.kind in (link.ABSENT, link.DANGLING):  # the link, or its .venv.nosync hop, is gone
        return LINK_MISSING if os.path.isdir(venv) else VENV_MISSING
    if state.kind != link.RELOCATED or os.path.basename(state.target or "") != row.venv:
        return LINK_REPLACED
    if not os.path.exists(venvs.interpreter(venv)):
        return INTERPRETER_MISSING
    return OK


def report(store: Store, row: Row) -> dict[str, Any]:
    venv = store.venv_path(row.venv)
    files, size = venvs.usage(venv)
    status = status_of(store, row)
    hint = HINTS.get(status)
    return {
        "project": row.path,
        "venv": venv,
        "python": row.python,
        "provider": row.provider,
        "status": status,
        "hint": hint.replace("PROJECT", row.path) if hint else None,
        "files": files,
        "bytes": size,
    }


def list_all(store: Optional[Store] = None) -> list[dict[str, Any]]:
    store = store or Store()
    if not os.path.isdir(store.root):
        return []
    with Registry(store.ensure()) as registry:
        return [report(store, row) for row in registry.all()]


def status(path: str, store: Optional[Store] = None) -> dict[str, Any]:
    """The report of the registered project at or above ``path`` (which may be gone)."""
    store = store or Store()
    try:
        start = start_folder(path, store.venvs)
    except NotFound:
        start = resolver.spelling(path)  # a project that is gone has a status too
    if os.path.isdir(store.root):
        with Registry(store.ensure()) as registry:
            folder = start
            while True:
                row = registry.get(resolver.key(folder))
                if row is not None:
                    return report(store, row)
                _refuse_anothers(store, folder)
                if folder == os.path.dirname(folder):
                    break
                folder = os.path.dirname(folder)
    raise NotFound(f"{start} is in no relocated project (relocate list shows them)")


def _refuse_anothers(store: Store, folder: str) -> None:
    """An unregistered folder whose .venv leads to another project's venv: say whose."""
    if not os.path.islink(os.path.join(folder, link.LINK)):
        return
    state = link.inspect(folder, store.venvs)
    owner = store.read_owner(os.path.basename(state.target or ""))
    if state.kind == link.RELOCATED and owner and owner.get("key") != resolver.key(folder):
        raise NotFound(
            f"{folder}/.venv leads to the venv of {owner.get('path')} (a copied or moved "
            "project?); it is not registered for this folder"
        )
