"""The name of a project's store venv, which tools record and every venv that replaces it
takes (:mod:`relocator.moves.replacing`): the one the project has, there or gone
(:func:`current_name`), and whether a new venv may take a name (:func:`keeps`): never one
another project's owner record holds.
"""

from __future__ import annotations

import os

from relocator.paths import link, resolver
from relocator.state.registry import Registry
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def keeps(store: Store, project: resolver.Resolved, name: str) -> bool:
    """Whether a new venv of ``project`` may take the name ``name``: its owner record names
    the project, or there is neither record nor venv (a store venv without a record may
    be another project's: relocate leaves it alone)."""
    return owned_by(store, name, project.key)


def owned_by(store: Store, name: str, key: str) -> bool:
    """Whether the name ``name`` is the project ``key``'s: its owner record names it, or
    there is neither record nor venv."""
    record = store.read_owner(name)
    if record is None:
        return not os.path.lexists(store.venv_path(name))
    return record.get("key") == key


def current_name(
    store: Store, registry: Registry, project: resolver.Resolved, state: link.LinkState
) -> Optional[str]:
    """The name of the project's store venv, there or gone: the venv ``.venv`` leads to,
    else the registry's, else the one a dangling hop names in this store (a row gc
    dropped, a lost registry); None for a project that is new here. A name whose owner
    record is another project's is never the project's."""
    if state.kind == link.RELOCATED:
        name = os.path.basename(state.target or "")
        store.claim(name, project.key, project.path)
        return name
    row = registry.get(project.key)
    hop = os.path.basename(state.target or "")
    if state.kind != link.DANGLING or not link.is_store_venv(state.target or "", store.venvs):
        hop = ""
    for name in (row.venv if row is not None else "", hop):
        if name and keeps(store, project, name):
            return name
    return None
