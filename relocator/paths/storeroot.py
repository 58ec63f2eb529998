"""Where the store is and how a folder is known for one: :func:`default_root`
(``$RELOCATOR_HOME``, else the user cache folder), the README and ``CACHEDIR.TAG`` it
writes, the names a folder may hold and still become a store, and the readable part of a
store venv's name (:func:`slug`).

Standard library only: ``relocate python`` and the link's checks import it, not the store.
"""

from __future__ import annotations

import os
import sys

from relocator.errors import RelocatorError

#: The first line of every valid ``CACHEDIR.TAG`` (https://bford.info/cachedir/).
CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
CACHEDIR_TAG = (
    CACHEDIR_SIGNATURE + "\n"
    "# This file is a cache directory tag created by relocator.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
README = """\
This folder is relocator's store: Python virtual environments moved out of
cloud-synced project folders, and the registry that maps projects to them.
Each project keeps a `.venv` symlink pointing here.

Do not edit by hand. `relocate list` shows what is here; `relocate eject --all`
puts every venv back into its project; `relocate gc` removes venvs whose
project is gone.
"""
#: Names an existing folder may hold and still become (or be) a store without our README:
#: what an ensure() cut short leaves behind, and what Finder adds to a folder it shows.
STORE_NAMES = frozenset(
    {"venvs", "journal", "tmp", "logs", "locks", "registry.db", "registry.db-wal"}
    | {"registry.db-shm", ".DS_Store", "service.pid", "service.json", "hooks", "trees", "trash"}
)


def default_root() -> str:
    """``$RELOCATOR_HOME``, else the user cache dir of platformdirs, plus ``relocator``.

    Computed with the standard library so that the fast commands need not
    import platformdirs; the tests check it against platformdirs.
    """
    override = os.environ.get("RELOCATOR_HOME")
    if override:
        expanded = os.path.expanduser(override)
        if not os.path.isabs(expanded):  # relative to what? never to the current folder
            raise RelocatorError(f"RELOCATOR_HOME must be an absolute path (got {override!r})")
        return os.path.abspath(expanded)
    if os.name != "posix":
        from platformdirs import user_cache_dir

        return user_cache_dir("relocator", appauthor=False)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        base = xdg
    else:
        home = os.environ.get("HOME", "")
        if not os.path.isabs(home):
            import pwd

            home = pwd.getpwuid(os.getuid()).pw_dir
        base = os.path.join(home, "Library/Caches" if sys.platform == "darwin" else ".cache")
    return os.path.join(base, "relocator")


def slug(project: str) -> str:
    """A short, safe, readable name for a project folder."""
    import re
    import unicodedata

    name = unicodedata.normalize("NFKD", os.path.basename(project.rstrip("/")))
    text = re.sub(r"[^a-z0-9]+", "-", name.encode("ascii", "ignore").decode().lower())
    return text.strip("-")[:40] or "project"
