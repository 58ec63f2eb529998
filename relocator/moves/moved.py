"""A project that was moved or renamed takes its venv along.

``mv ~/Documents/app ~/Documents/tool`` keeps ``.venv -> .venv.nosync/.venv ->
<store venv>`` working, but the registry and the venv's owner record still name
the old path, and whatever the venv wrote about the project does too: scripts
pip installed through the link (``#!/old/app/.venv/bin/python``) and editable
installs (``.pth`` lines, ``direct_url.json``, setuptools' finders).

A venv follows only a project that is gone from its old place, or whose old
place no longer links to it; a copy whose original still uses the venv is
refused by the ownership rule instead.
"""

from __future__ import annotations

import os
import time

from relocator.moves.relocation import Notes, notes_of
from relocator.paths import link, resolver
from relocator.paths.git import add_git_exclude
from relocator.state import bundles, evidence, journal, trash, venvs
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.venv import prompts, rewrite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def moved_away(store: Store, name: str, owner: dict[str, Any]) -> bool:
    """Whether the project the owner record of ``name`` names has let go of it: it is
    gone from its old place (on proof: an unmounted volume does not count, so a copy on
    another volume gets a venv of its own instead), or that place no longer links to it.
    Never while that project has unfinished work in the journal: a takeover killed (or
    still filling) leaves its ``.venv`` leading elsewhere while the name stays its own."""
    old = str(owner.get("path") or "")
    if journal.pending(store, str(owner.get("key"))):
        return False
    if not old.startswith("/"):
        return True
    presence, _why = evidence.presence(old, owner.get("volume"))
    if presence != evidence.THERE:
        return presence == evidence.GONE
    state = link.inspect(old, store.venvs)
    return not (state.kind == link.RELOCATED and os.path.basename(state.target or "") == name)


def follow(
    store: Store, registry: Registry, project: resolver.Resolved, name: str, owner: dict[str, Any]
) -> tuple[Row, Notes]:
    """Make store venv ``name`` the venv of ``project``, which it moved to."""
    venv = store.venv_path(name)
    old_path = str(owner.get("path"))
    created = owner.get("created")
    row = Row(
        project.key,
        project.path,
        name,
        venvs.python_version(venv),
        project.provider,
        float(created) if isinstance(created, (int, float)) else time.time(),
        time.time(),
    )
    # The owner record first: from here on the venv is the new project's, and a
    # kill before the registry catches up is mended by the next adopt.
    store.write_owner(name, row.owner_record())
    registry.put(row)  # also drops the old path's row, which named the same venv
    old = resolver.Resolved(old_path, str(owner.get("key")), None)
    notes = [f"moved from {old_path}: the venv follows the project"]
    notes += rewrite.relocate_venv(venv, [os.path.join(old_path, link.LINK)])
    notes += prompts.name_prompt(venv, os.path.basename(project.path))
    notes += rewrite.respell_editables(venv, project, moved_from=old)
    notes += _bundle_along(store, old, project)
    notes += trash.follow(store, old.key, project.key, project.path)
    notes += notes_of(add_git_exclude(project.path))
    return row, notes


def _bundle_along(store: Store, old: resolver.Resolved, project: resolver.Resolved) -> Notes:
    """The old project's trees (``adopt --trees``) follow it too: its bundle's owner record
    names the new place, so ``.tox`` and ``node_modules`` keep what they held."""
    bundle = bundles.of(store, old.key)
    if bundle is None or bundles.of(store, project.key) is not None:
        return []
    bundles.write_owner(store, bundle, project)
    return [f"its trees follow it ({bundles.path(store, bundle)})"]
