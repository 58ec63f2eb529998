"""Bundles: the folder of the store that holds a project's trees (``adopt --trees``).

``<store>/trees/<slug>-<id>/`` holds the project's relocated trees
(``.mypy_cache``, ``.tox``...) and ``bytecode/``, the pycache prefix of its venv;
its owner record ``<slug>-<id>.json`` beside it names the project (key and
spelling). It is the ownership rule of store venvs, applied to trees: a bundle
is changed only for the project its record names (:func:`claim`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from relocator.errors import NotOwner
from relocator.paths import resolver
from relocator.paths.storeroot import CACHEDIR_TAG
from relocator.state.store import Store
from relocator.system import platform
from relocator.system.files import read_record, write_atomic, write_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


def path(store: Store, bundle: str) -> str:
    return os.path.join(store.trees, bundle)


def _owner_path(store: Store, bundle: str) -> str:
    return os.path.join(store.trees, bundle + ".json")


def read_owner(store: Store, bundle: str) -> Optional[dict[str, Any]]:
    return read_record(_owner_path(store, bundle))


def owners(store: Store) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every bundle's owner record, with the bundle's name."""
    try:
        entries = sorted(os.listdir(store.trees))
    except OSError:
        return
    for entry in entries:
        if entry.endswith(".json"):
            record = read_owner(store, entry[: -len(".json")])
            if record is not None:
                yield entry[: -len(".json")], record


def index(store: Store) -> dict[str, str]:
    """Project key -> its bundle, from one reading of the owner records (for commands
    that look at every project)."""
    found: dict[str, str] = {}
    for name, record in owners(store):
        key = record.get("key")
        if isinstance(key, str):
            found.setdefault(key, name)
    return found


def of(store: Store, key: str) -> Optional[str]:
    """The project's bundle (by its key), if it has one."""
    return next((name for name, record in owners(store) if record.get("key") == key), None)


def claim(store: Store, bundle: str, key: str, project: str) -> None:
    """Refuse (:class:`NotOwner`) to act on a bundle whose owner record names another project."""
    record = read_owner(store, bundle)
    if record is None or record.get("key") != key:
        whose = "no owner record" if record is None else f"the trees of {record.get('path')}"
        raise NotOwner(f"{path(store, bundle)} holds {whose}: left alone (for {project})")


def write_owner(store: Store, bundle: str, project: resolver.Resolved) -> None:
    """Make ``project`` the owner of ``bundle`` (a new bundle, or one that follows its
    project to a new place), keeping when the bundle was made."""
    created = (read_owner(store, bundle) or {}).get("created")
    record = {
        "key": project.key,
        "path": project.path,
        "created": created if isinstance(created, (int, float)) else time.time(),
    }
    os.makedirs(store.trees, mode=0o700, exist_ok=True)
    from relocator.system.volumes import with_volume  # only a command that moves trees

    write_record(_owner_path(store, bundle), with_volume(record))


def new(store: Store, project: resolver.Resolved) -> str:
    bundle = store.new_venv_name(project.path)
    write_owner(store, bundle, project)
    folder = path(store, bundle)
    os.makedirs(folder, exist_ok=True)
    write_atomic(os.path.join(folder, "CACHEDIR.TAG"), CACHEDIR_TAG)
    with contextlib.suppress(OSError):  # a refused mark is no reason to stop: the tag is there
        platform.current.exclude_from_backup(folder)
    return bundle


def discard(store: Store, bundle: str) -> None:
    """Remove a bundle and its owner record (the record last: a kill leaves a bundle
    that still says whose it is)."""
    store.discard(path(store, bundle))
    store.discard(_owner_path(store, bundle))
