"""What the registry remembers of each store venv: the distributions it held.

A store venv can vanish without relocate: the store's default place is a cache folder
(``~/Library/Caches`` on macOS, which the system may empty under storage pressure), and
tools delete through the link (``hatch env remove``). A venv rebuilt from the project's
recipe gets what the recipe gives; what was installed by hand is gone with the old one.
So the registry (schema 3, table ``packages``) keeps, per store venv, when it was read
and ``{name: version}`` (:func:`relocator.state.inventory.to_pairs`): ``status`` and ``doctor``
name what a deleted venv held, and the rebuild names what the recipe did not give back.

The record is written wherever a venv is registered (:func:`relocation.register`) and
read again when ``doctor`` (or an hourly no-op adopt) finds the venv's site-packages
folder changed since (its mtime, one ``stat`` per folder: an install or uninstall adds
or removes a metadata folder there). ``status``, ``list`` and the shell hook never write
it. A registry rebuilt after damage, or a store deleted whole, has no record: what the
venv held is then not known, and nothing is made up.
"""

from __future__ import annotations

import os
import time

from relocator.records import NamedTuple
from relocator.state import inventory, venvs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from relocator.state.inventory import Distribution
    from relocator.state.registry import Registry
    from relocator.state.store import Store

TABLE = "packages"
FIELDS = ("venv", "recorded", "packages")
SCHEMA = """
CREATE TABLE IF NOT EXISTS packages (
    venv      TEXT PRIMARY KEY,   -- a store venv's name
    recorded  REAL NOT NULL,      -- when it was read (against site-packages' mtime)
    packages  TEXT NOT NULL       -- {name: version} as JSON (inventory.to_pairs)
)
"""
#: The check of each row on opening: the columns by type, the JSON left for reading.
CHECK = "SELECT typeof(venv), typeof(recorded), typeof(packages) FROM packages"
_GOOD = {("text", "real", "text"), ("blob", "real", "text"), ("text", "integer", "text")}


class Record(NamedTuple):
    """What the store venv ``venv`` held when it was last read."""

    venv: str
    recorded: float  # when (seconds since the epoch)
    packages: dict[str, Distribution]

    def described(self) -> str:
        """``3 packages (a 1.0, b 2.0, c 0.1)``, seed packages left out."""
        held = [d for n, d in sorted(self.packages.items()) if n not in inventory.SEED_PACKAGES]
        if not held:
            return "no packages beyond pip"
        count = f"{len(held)} package{'' if len(held) == 1 else 's'}"
        return f"{count} ({inventory.spell(held)})"


def damage(types: list[tuple[object, ...]]) -> Optional[str]:
    """What is wrong with the rows of the table (their column types, :data:`CHECK`)."""
    for row in types:
        if tuple(row) not in _GOOD:
            return f"a row of {TABLE} is not one relocate writes: {row!r:.80}"
    return None


def remember(registry: Registry, name: str, venv: str) -> None:
    """Record what the store venv ``name`` (at ``venv``) holds now; the records of venvs
    that no project's row names any more go."""
    import json

    pairs = json.dumps(inventory.to_pairs(inventory.held(venv)), sort_keys=True)
    with registry.transaction():
        registry.execute(
            "INSERT OR REPLACE INTO packages VALUES (?, ?, ?)", name, time.time(), pairs
        )
        registry.execute("DELETE FROM packages WHERE venv NOT IN (SELECT venv FROM projects)")


def recall(registry: Registry, name: str) -> Optional[Record]:
    """What the store venv ``name`` held when it was last read; None when that is not
    known (no record, or one that does not read as one)."""
    rows = registry.execute("SELECT recorded, packages FROM packages WHERE venv = ?", name)
    if not rows:
        return None
    import json

    recorded, text = rows[0]
    try:
        pairs = json.loads(str(text))
    except ValueError:
        return None
    if not isinstance(pairs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in pairs.items()
    ):
        return None
    return Record(name, float(recorded), inventory.from_pairs(pairs))  # type: ignore[arg-type]


def changed_since(venv: str, when: float) -> bool:
    """Whether a site-packages folder of ``venv`` changed after ``when`` (an install or an
    uninstall adds or removes a metadata folder there)."""
    for folder in venvs.site_packages(venv):
        try:
            if os.stat(folder).st_mtime > when:
                return True
        except OSError:
            continue
    return False


def refresh(registry: Registry, name: str, venv: str) -> bool:
    """Record the healthy store venv ``name`` again when it changed since its record (or
    has none); return whether it did."""
    rows = registry.execute("SELECT recorded FROM packages WHERE venv = ?", name)
    if rows and not changed_since(venv, float(rows[0][0])):  # type: ignore[arg-type]
        return False
    remember(registry, name, venv)
    return True


def gone(store: Store, venv: str, record: Optional[Record]) -> str:
    """What ``status`` and ``doctor`` say of a store venv that is gone: that it is, who
    may have deleted it, and what it held (or that this is not known)."""
    from relocator.system import platform

    why = platform.current.purgeable(store.root)
    said = f"{venv} was deleted, by the system or a tool" + (f" ({why})" if why else "")
    if record is None:
        return f"{said}; what it held is not known: the registry has no record of it"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.recorded))
    return f"{said}; it held {record.described()}, as recorded {when}"


def lost_note(before: Record, venv: str, source: str) -> list[str]:
    """What a venv rebuilt at ``venv`` from ``source`` (``uv.lock``...) lacks of what the
    deleted one held (``before``): named, with the versions that differ."""
    diff = inventory.compare(before.packages, inventory.read(venv))
    notes = []
    if diff.lost:
        notes.append(
            f"the venv that was deleted also had {inventory.spell(diff.lost)}, which "
            f"{source} does not give: install them again"
        )
    if diff.changed:
        notes.append(
            f"the venv that was deleted had other versions: {inventory.versions(diff.changed)}"
        )
    return notes
