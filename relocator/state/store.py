"""The store: the one folder that holds all relocator state.

Layout::

    <root>/README                  what this folder is
    <root>/registry.db             the registry (SQLite, WAL)
    <root>/venvs/<slug>-<id>/      a store venv (with CACHEDIR.TAG)
    <root>/venvs/<slug>-<id>.json  its owner record, beside it: uv and Poetry
                                   recreate a venv's contents in place
    <root>/trees/<slug>-<id>/      a project's other rebuildable trees (``adopt --trees``):
                                   ``.mypy_cache``..., and ``bytecode/`` (pycache prefix)
    <root>/trees/<slug>-<id>.json  their owner record
    <root>/trash/<id>/, <id>.json  what relocator retired, restorable (:mod:`relocator.state.trash`)
    <root>/locks/, journal/, tmp/, logs/
    <root>/service.pid, service.json  the watcher's pid lock and its last report
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Iterator

from relocator.errors import Busy, NotOwner, RelocatorError
from relocator.paths.storeroot import (
    CACHEDIR_SIGNATURE,
    CACHEDIR_TAG,
    README,
    STORE_NAMES,
    default_root,
    slug,
)
from relocator.system.files import (
    is_under,
    read_record,
    read_regular,
    read_small,
    write_atomic,
    write_record,
)
from relocator.system.volumes import with_volume

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

DEFAULT_LOCK_TIMEOUT = 30.0
#: The store's folders that relocator moves or deletes in: each must be a real folder
#: directly in the store (never a symlink, which a rename or delete would go through).
OWN_FOLDERS = ("venvs", "trees", "trash", "tmp", "journal")
PROJECT_TEMP_PREFIX = ".venv.relocator-"  # relocator's own temporary names in a project


class Store:
    def __init__(self, root: Optional[str] = None) -> None:
        self.root = root or default_root()
        self.venvs = os.path.join(self.root, "venvs")
        self.trees = os.path.join(self.root, "trees")
        self.trash = os.path.join(self.root, "trash")
        self.registry_path = os.path.join(self.root, "registry.db")
        self.journal = os.path.join(self.root, "journal")
        self.tmp = os.path.join(self.root, "tmp")
        self.logs = os.path.join(self.root, "logs")
        self.locks = os.path.join(self.root, "locks")
        self.service_pid = os.path.join(self.root, "service.pid")  # the watcher's, while it runs
        self.service_state = os.path.join(self.root, "service.json")  # what it last reported

    def ensure(self) -> Store:
        """Create the store (mode 0700) or check that an existing one is private and ours.

        An existing folder is a store when it holds relocator's README, or nothing
        but what relocator puts there (empty, say). Anything else (``$HOME``, a
        project) is refused before anything in it changes, its mode included.
        """
        try:
            os.makedirs(os.path.dirname(self.root), exist_ok=True)
            try:
                os.mkdir(self.root, 0o700)
                created = True
            except FileExistsError:
                created = False
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
        readme = os.path.join(self.root, "README")
        signature = README.split("\n", 1)[0].encode()
        try:
            entries = set() if created else set(os.listdir(self.root))
        except OSError as e:
            raise RelocatorError(
                f"cannot read the store {self.root} ({e.strerror}); "
                "give it back to your user (chmod u+rwx) or set RELOCATOR_HOME"
            ) from None
        ours = False
        if "README" in entries:  # never read through a link, never wait on a pipe
            with contextlib.suppress(OSError):  # a folder, a link, a pipe: not ours
                fd = os.open(readme, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
                try:
                    ours = os.read(fd, len(signature)) == signature
                finally:
                    os.close(fd)
        leftovers = {n for n in entries if n.startswith("README.") and n.endswith(".tmp")}
        if not ours and not entries <= STORE_NAMES | leftovers:
            raise RelocatorError(
                f"{self.root} is not a relocator store (it holds other files); "
                "set RELOCATOR_HOME to a new or empty folder"
            )
        try:
            if stat.S_IMODE(st.st_mode) != 0o700:
                os.chmod(self.root, 0o700)
            if not ours:
                write_atomic(readme, README)
            for sub in (self.venvs, self.journal, self.tmp, self.logs, self.locks):
                os.makedirs(sub, exist_ok=True)
        except OSError as e:
            raise RelocatorError(
                f"cannot set up the store {self.root}: {e.filename} ({e.strerror}); "
                "move that away or set RELOCATOR_HOME"
            ) from None
        for name in OWN_FOLDERS:
            self.check_own(os.path.join(self.root, name))
        return self

    def check_own(self, folder: str) -> None:
        """Refuse a folder of the store's own (``venvs``, ``trees``, ``trash``...) that is
        not a real folder directly in the store: a symlink there would take every rename
        and delete relocator makes in it outside the store. A missing one is fine."""
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            return
        except OSError as e:
            raise RelocatorError(f"cannot look at {folder} ({e.strerror})") from None
        if not stat.S_ISDIR(st.st_mode):
            what = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a folder"
            raise RelocatorError(
                f"{folder} is {what}: relocator keeps what it moves and deletes only in real "
                "folders of its store; move it away and run again"
            )

    # -- store venvs --------------------------------------------------------

    def new_venv_name(self, project: str) -> str:
        return f"{slug(project)}-{os.urandom(4).hex()}"  # as secrets.token_hex(4) makes it

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
        """Mark a store venv as a cache: relocator's own CACHEDIR.TAG (written again over
        another tool's, so that :meth:`tagged` keeps telling when a tool made the venv
        anew), and Time Machine's exclusion."""
        from relocator.system import platform

        path = self.venv_path(name)
        if not self.tagged(name):  # absent, or another tool's (uv writes its own)
            write_atomic(os.path.join(path, "CACHEDIR.TAG"), CACHEDIR_TAG)
        platform.current.exclude_from_backup(path)

    def tagged(self, name: str) -> bool:
        """Whether the store venv carries relocator's own ``CACHEDIR.TAG``: a tool that
        recreates a venv in place (``uv venv --clear``) replaces or drops it, which is how
        :func:`relocator.venv.health.venv_condition` tells a venv a tool emptied."""
        return read_small(os.path.join(self.venv_path(name), "CACHEDIR.TAG")) == CACHEDIR_TAG

    def unmarked(self, name: str) -> Optional[str]:
        """What tells backups to skip the store venv and is missing (None: nothing). It
        must hold a valid ``CACHEDIR.TAG``, anyone's (its first line is the signature: uv
        and virtualenv write their own), and, where the system has Time Machine, carry its
        exclusion."""
        from relocator.system import platform

        path = self.venv_path(name)
        try:
            head = read_regular(os.path.join(path, "CACHEDIR.TAG"), 64, follow=False)
        except OSError:
            head = None
        if (head or b"").split(b"\n", 1)[0].rstrip(b"\r") != CACHEDIR_SIGNATURE.encode():
            return "it has no valid CACHEDIR.TAG"
        if not platform.current.is_excluded_from_backup(path):
            return "Time Machine's exclusion is not on it"
        return None

    # -- owner records ------------------------------------------------------

    def owner_path(self, name: str) -> str:
        return os.path.join(self.venvs, name + ".json")

    def write_owner(self, name: str, record: dict[str, Any]) -> None:
        """Write the owner record of store venv ``name``, with the volume its project is on
        (what ``gc`` needs to prove the project gone, :mod:`relocator.state.evidence`)."""
        write_record(self.owner_path(name), with_volume(record))

    def read_owner(self, name: str) -> Optional[dict[str, Any]]:
        return read_record(self.owner_path(name))

    def claim(self, name: str, key: str, project: str) -> dict[str, Any]:
        """The owner record of store venv ``name``, which must name the project ``key``.

        The ownership rule, in the one place every change to a store venv goes
        through: a venv belongs to the project its owner record names, and no
        command moves, deletes or relinks it for another.
        """
        record = self.read_owner(name)
        venv = self.venv_path(name)
        if record is None:
            raise NotOwner(
                f"{venv} has no owner record, so relocate cannot tell whose it is; "
                f"it leaves it alone (for {project})"
            )
        if record.get("key") != key:
            raise NotOwner(
                f"{venv} belongs to {record.get('path')}, not to {project} "
                "(a copied or moved project?); relocate changes a venv only for its owner"
            )
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

    # -- deleting -----------------------------------------------------------

    def discard(self, path: str) -> None:
        """Delete a tree of relocator's own, never following a symlink.

        The rule "relocator deletes only inside its store" lives here: ``path``
        must be inside the store, or one of relocator's temporary names in a
        project (a verified move's source set aside, or a partial copy).
        """
        import shutil

        parent = os.path.dirname(path)
        ours = is_under(os.path.realpath(parent), os.path.realpath(self.root))
        if not ours and not os.path.basename(path).startswith(PROJECT_TEMP_PREFIX):
            raise RelocatorError(f"refusing to delete {path}: it is outside relocator's store")
        if ours and not self._real_below_root(parent):
            raise RelocatorError(
                f"refusing to delete {path}: a folder on its way from the store {self.root} "
                "is a symlink (or not inside the store as spelled)"
            )
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            os.unlink(path)
        elif os.path.isdir(path):
            try:
                shutil.rmtree(path)
            except PermissionError:  # a folder made read-only inside our own tree
                _open_up(path)
                shutil.rmtree(path)

    def _real_below_root(self, folder: str) -> bool:
        """Whether ``folder`` is the store's root or below it through real folders alone
        (the root itself may be a symlink: its target is the store)."""
        root = self.root.rstrip("/")
        if folder == root:
            return True
        if not folder.startswith(root + "/"):
            return False
        here = root
        for part in folder[len(root) + 1 :].split("/"):
            if part in ("", ".", ".."):
                return False
            here = os.path.join(here, part)
            try:
                if not stat.S_ISDIR(os.lstat(here).st_mode):
                    return False
            except OSError:
                return False
        return True

    # -- locks --------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, key: str, what: str) -> Iterator[None]:
        """Hold the lock of one project (``key``) for the duration; ``what`` names it."""
        path = os.path.join(self.locks, _sha256(key.encode("utf-8", "surrogateescape"))[:16])
        path += ".lock"
        given = os.environ.get("RELOCATOR_LOCK_TIMEOUT", "")
        try:
            timeout = float(given) if given.strip() else DEFAULT_LOCK_TIMEOUT
        except ValueError:
            timeout = -1.0
        if not 0 <= timeout < float("inf"):  # also refuses nan
            raise RelocatorError(
                f"RELOCATOR_LOCK_TIMEOUT must be a number of seconds >= 0 (got {given!r}); "
                f"fix it, or unset it for the default of {DEFAULT_LOCK_TIMEOUT:g}"
            )
        from relocator.system import locks

        try:
            held = locks.acquire(path, timeout)
        except TimeoutError:
            raise Busy(
                f"another relocate is working on {what} (waited {timeout:g}s for {path}); "
                "try again when it is done",
                path,
            ) from None
        except OSError as e:  # the lock file is a folder, or the locks folder is not ours
            raise RelocatorError(
                f"cannot take the lock {path} for {what} ({e.strerror}); move it away and run again"
            ) from None
        try:
            yield
        finally:
            locks.release(held)

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
                if match and not alive(int(match.group(1))):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(folder, name))

    def log_path(self) -> str:
        return os.path.join(self.logs, time.strftime("error-%Y%m%d-%H%M%S.log"))


def _open_up(top: str) -> None:
    """Give the owner rwx on every folder below ``top`` (no symlink followed)."""
    os.chmod(top, 0o700)  # before the walk: os.walk descends after each step
    for folder, dirs, _files in os.walk(top):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (another user's counts); a number that cannot name one
    (0, negative, too big for a ``pid_t``) does not."""
    if not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    except PermissionError:  # another user's process
        pass
    return True


def _sha256(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex, from CPython's own implementation where it has one
    (as :mod:`random` does): importing :mod:`hashlib` loads OpenSSL, which costs more than
    a command with nothing to do may take."""
    try:
        builtin: Any = __import__("_sha2" if sys.version_info >= (3, 12) else "_sha256")
        return str(builtin.sha256(data).hexdigest())
    except ImportError:  # a build without it (FIPS): OpenSSL's, the same digest
        import hashlib

        return hashlib.sha256(data).hexdigest()
