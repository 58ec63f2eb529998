"""``relocate python``: the editor lookup.

Standard library only, and no SQLite: editors call this often, and it must
cost little more than starting Python.
"""

from __future__ import annotations

import os
import sys

from relocator.errors import NotFound, UsageError
from relocator.paths import link, resolver
from relocator.paths.project import find_root, start_folder
from relocator.paths.storeroot import default_root
from relocator.state import venvs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

USAGE = "usage: relocate python [PATH] [--resolve] [--json]"


def find(path: str, store_root: Optional[str] = None, *, full: bool = True) -> dict[str, Any]:
    """Facts about the venv of the nearest relocated project at or above ``path``.

    Without ``full``, version and provider (which cost more look-ups) are None.
    """
    store_venvs = os.path.join(store_root or default_root(), "venvs")
    start = folder = start_folder(path, store_venvs)
    while True:
        if os.path.lexists(os.path.join(folder, link.LINK)):
            state = link.inspect(folder, store_venvs)
            if state.kind in (link.RELOCATED, link.DANGLING) or _anothers(state):
                return _describe(folder, state, full, store_venvs)
        parent = os.path.dirname(folder)
        if parent == folder:
            raise NotFound(_unrelocated(start, store_venvs))
        folder = parent


def _unrelocated(start: str, store_venvs: str) -> str:
    """Why ``start`` has no venv: its project is not relocated (which one, and the command),
    or it is in no project at all (:func:`find_root` says so)."""
    import shlex

    root = find_root(start, store_venvs)
    return f"{start} is in no relocated project (relocate adopt {shlex.quote(root)} relocates it)"


def _anothers(state: link.LinkState) -> bool:
    """Whether ``.venv`` is a link into another user's store this user can read."""
    return state.kind == link.FOREIGN and link.anothers(state.target or "") is not None


def _describe(project: str, state: link.LinkState, full: bool, store_venvs: str) -> dict[str, Any]:
    prefix = os.path.join(project, link.LINK)
    real = state.target or ""
    error = None
    if state.kind == link.DANGLING and link.is_store_venv(real, store_venvs):
        import shlex

        error = (
            f"{prefix} leads to {real}, a store venv that is gone (the system or a tool "
            f"deleted it): relocate adopt {shlex.quote(project)} builds it again "
            "(relocate status says what it held, when the registry recorded it)"
        )
    elif state.kind != link.RELOCATED:
        error = f"{prefix} leads to {real}, {link.anothers(real) or 'which does not exist'}"
    elif not os.path.exists(venvs.interpreter(real)):
        error = f"the base interpreter of {real} is gone"
    return {
        "project": project,
        "executable": venvs.interpreter(prefix),
        "prefix": prefix,
        "real_prefix": real,
        "version": venvs.python_version(real) if full else None,
        "provider": resolver.provider(project) if full else None,
        "valid": error is None,
        "error": error,
    }


def main(args: list[str]) -> int:
    paths = [a for a in args if not a.startswith("-")]
    flags = set(args) - set(paths)
    if flags - {"--resolve", "--json"} or len(paths) > 1:
        raise UsageError(USAGE)
    try:
        found = find(paths[0] if paths else ".", full="--json" in flags)
    except NotFound:
        if "--json" not in flags:
            raise
        found = {"valid": False, "error": str(sys.exc_info()[1])}
    if "--json" in flags:
        import json

        print(json.dumps(found, indent=2))
        return 0 if found["valid"] else 1
    if not found["valid"]:
        raise NotFound(str(found["error"]))
    print(venvs.interpreter(found["real_prefix"]) if "--resolve" in flags else found["executable"])
    return 0
