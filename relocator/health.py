"""Health of registered projects: what ``relocate list`` and ``relocate status`` report."""

from __future__ import annotations

import os
from typing import Any, Optional

from relocator import link, resolver, venvs
from relocator.errors import NotFound
from relocator.registry import Registry, Row
from relocator.store import Store

OK = "ok"
PROJECT_MISSING = "project-missing"
LINK_MISSING = "link-missing"
LINK_REPLACED = "link-replaced"  # a real .venv came back, e.g. after `poetry env use`
VENV_MISSING = "venv-missing"
INTERPRETER_MISSING = "interpreter-missing"
STATUSES = (OK, PROJECT_MISSING, LINK_MISSING, LINK_REPLACED, VENV_MISSING, INTERPRETER_MISSING)


def status_of(store: Store, row: Row) -> str:
    venv = store.venv_path(row.venv)
    if not os.path.isdir(row.path):
        return PROJECT_MISSING
    if not os.path.isdir(venv):
        return VENV_MISSING
    state = link.inspect(row.path, store.venvs)
    if state.kind == link.ABSENT:
        return LINK_MISSING
    if state.kind == link.DANGLING:
        return VENV_MISSING
    if state.kind != link.RELOCATED or store.venv_name(state.target or "") != row.venv:
        return LINK_REPLACED
    if not os.path.exists(venvs.interpreter(venv)):
        return INTERPRETER_MISSING
    return OK


def report(store: Store, row: Row) -> dict[str, Any]:
    venv = store.venv_path(row.venv)
    files, size = venvs.usage(venv)
    return {
        "project": row.path,
        "venv": venv,
        "python": row.python,
        "provider": row.provider,
        "status": status_of(store, row),
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
    spelled = resolver.spelling(path)
    if os.path.isdir(store.root):
        with Registry(store.ensure()) as registry:
            folder = spelled
            while True:
                row = registry.get(resolver.key(folder))
                if row is not None:
                    return report(store, row)
                if folder == os.path.dirname(folder):
                    break
                folder = os.path.dirname(folder)
    raise NotFound(f"{spelled} is in no relocated project (relocate list shows them)")
