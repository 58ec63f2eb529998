"""The store: the one folder that holds all relocator state.

Layout::

    <root>/README                  what this folder is
    <root>/registry.db             the registry (SQLite, WAL)
    <root>/venvs/<slug>-<id>/      a store venv (with CACHEDIR.TAG)
    <root>/venvs/<slug>-<id>.json  its owner record, beside it: uv and Poetry
                                   recreate a venv's contents in place
    <root>/locks/, journal/, tmp/, logs/

``relocate python`` imports this module for :func:`default_root`, so what
only writers need (filelock, hashlib, secrets) is imported where it is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from typing import Any, Optional

from relocator.errors import Busy, RelocatorError

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
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
DEFAULT_LOCK_TIMEOUT = 30.0


def default_root() -> str:
    """``$RELOCATOR_HOME``, else the user cache dir of platformdirs, plus ``relocator``.

    Computed with the standard library so that the fast commands need not
    import platformdirs; the tests check it against platformdirs.
    """
    override = os.environ.get("RELOCATOR_HOME")
    if override:
        return os.path.abspath(os.path.expanduser(override))
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


class Store:
    def __init__(self, root: Optional[str] = None) -> None:
        self.root = root or default_root()
        self.venvs = os.path.join(self.root, "venvs")
        self.registry_path = os.path.join(self.root, "registry.db")
        self.journal = os.path.join(self.root, "journal")
        self.tmp = os.path.join(self.root, "tmp")
        self.logs = os.path.join(self.root, "logs")
        self.locks = os.path.join(self.root, "locks")

    def ensure(self) -> Store:
        """Create the store (mode 0700) or check that an existing one is private and ours."""
        try:
            os.makedirs(os.path.dirname(self.root), exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.root, 0o700)
            st = os.stat(self.root)  # a symlinked root is fine: its target is checked
        except OSError as e:
            raise RelocatorError(
                f"cannot create the store {self.root} ({e.strerror}); set RELOCATOR_HOME"
            ) from None
        if not stat.S_ISDIR(st.st_mode):
            raise RelocatorError(f"store {self.root} is not a directory; set RELOCATOR_HOME")
        if st.st_uid != os.getuid():
            raise RelocatorError(
                f"store {self.root} belongs to another user; "
                "set RELOCATOR_HOME to a folder of yours"
            )
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(self.root, 0o700)
        for sub in (self.venvs, self.journal, self.tmp, self.logs, self.locks):
            os.makedirs(sub, exist_ok=True)
        readme = os.path.join(self.root, "README")
        if not os.path.exists(readme):
            write_atomic(readme, README)
        return self

    # -- store venvs --------------------------------------------------------

    def new_venv_name(self, project: str) -> str:
        import secrets

        return f"{slug(project)}-{secrets.token_hex(4)}"

    def venv_path(self, name: str) -> str:
        return os.path.join(self.venvs, name)

    def venv_name(self, path: str) -> Optional[str]:
        """The store venv ``path`` (a real path) is or is inside, if any."""
        venvs = os.path.realpath(self.venvs)
        if not path.startswith(venvs + "/"):
            return None
        return path[len(venvs) + 1 :].split("/", 1)[0]

    def venv_names(self) -> list[str]:
        try:
            entries = os.listdir(self.venvs)
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if os.path.isdir(os.path.join(self.venvs, e)))

    def tag_venv(self, name: str) -> None:
        """Mark a store venv as a cache: CACHEDIR.TAG, and Time Machine's exclusion."""
        from relocator import platform

        path = self.venv_path(name)
        tag = os.path.join(path, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            write_atomic(tag, CACHEDIR_TAG)
        platform.current.exclude_from_backup(path)

    # -- owner records ------------------------------------------------------

    def owner_path(self, name: str) -> str:
        return os.path.join(self.venvs, name + ".json")

    def write_owner(self, name: str, record: dict[str, Any]) -> None:
        write_atomic(self.owner_path(name), json.dumps(record, indent=2, sort_keys=True) + "\n")

    def read_owner(self, name: str) -> Optional[dict[str, Any]]:
        try:
            with open(self.owner_path(name), encoding="utf-8") as f:
                record: dict[str, Any] = json.load(f)
        except (OSError, ValueError):
            return None
        return record

    def remove_owner(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.owner_path(name))

    def owners(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every owner record in the store, with the name of its venv."""
        try:
            entries = sorted(os.listdir(self.venvs))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.endswith(".json"):
                record = self.read_owner(entry[: -len(".json")])
                if record is not None:
                    yield entry[: -len(".json")], record

    # -- locks --------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, key: str, what: str) -> Iterator[None]:
        """Hold the lock of one project (``key``) for the duration; ``what`` names it."""
        import hashlib

        import filelock

        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        path = os.path.join(self.locks, digest + ".lock")
        timeout = float(os.environ.get("RELOCATOR_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
        try:
            with filelock.FileLock(path, timeout=timeout):
                yield
        except filelock.Timeout:
            raise Busy(
                f"another relocate is working on {what} (waited {timeout:g}s for {path}); "
                "try again when it is done",
                path,
            ) from None

    def sweep(self) -> None:
        """Remove temporary files (``name.<pid>.tmp``) that killed processes left behind."""
        import re

        for folder in (self.root, self.venvs, self.journal):
            try:
                entries = os.listdir(folder)
            except FileNotFoundError:
                continue
            for name in entries:
                match = re.fullmatch(r".+\.(\d+)\.tmp", name)
                if match and not _alive(int(match.group(1))):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(folder, name))

    def log_path(self) -> str:
        return os.path.join(self.logs, time.strftime("error-%Y%m%d-%H%M%S.log"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def write_atomic(path: str, data: str | bytes, *, sync: bool = True) -> None:
    """Replace ``path`` by ``data`` in one rename, keeping its mode; the folder is made if missing.

    Text is UTF-8 (undecodable names kept as they were read). ``sync=False`` skips the
    fsync, for files a recovery rewrites again anyway.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(raw)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    with contextlib.suppress(FileNotFoundError):
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    os.replace(tmp, path)
