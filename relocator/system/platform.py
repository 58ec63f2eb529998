"""What only macOS (and, for one mark, Linux) can do, behind one small interface.

Everything here is a no-op on other systems, but for the legacy Dropbox client's
ignore mark on Linux; and what to tell the user of a folder it may not read (macOS's
privacy settings, or an owner and mode), and which binary the system runs for an
interpreter (a framework Python's ``Python.app``). Tests replace :data:`current`
with a recording fake to check that callers ask for the right things; the
real macOS calls cannot run on Linux.
"""

from __future__ import annotations

import functools
import os
import shlex
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

#: Time Machine's sticky exclusion, the value `tmutil addexclusion` writes: a binary plist string.
BACKUP_EXCLUDE_XATTR = "com.apple.metadata:com_apple_backup_excludeItem"
BACKUP_EXCLUDE_VALUE = (
    b"bplist00_\x10\x11com.apple.backupd"
    b"\x08\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x01"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1c"
)
#: Honoured by File Provider sync clients (iCloud Drive, Dropbox, OneDrive...).
SYNC_IGNORE_XATTR = "com.apple.fileprovider.ignore#P"
#: Honoured by the legacy Dropbox client (the one syncing ~/Dropbox, not File Provider);
#: on Linux in the user namespace.
DROPBOX_IGNORE_XATTR = "com.dropbox.ignored"
LINUX_DROPBOX_IGNORE_XATTR = "user." + DROPBOX_IGNORE_XATTR
#: From XNU's sys/fcntl.h, for Pythons whose modules lack the names: ``os.O_SYMLINK``
#: exists from 3.10 only (Apple's Command Line Tools ship 3.9).
O_SYMLINK = 0x00200000
F_GETPATH = 50
F_FULLFSYNC = 51
UF_HIDDEN = getattr(stat, "UF_HIDDEN", 0x8000)
_XATTR_NOFOLLOW = 0x0001


class Platform:
    """The portable behaviour: nothing to do."""

    #: Whether ``/proc/<pid>/maps`` and ``/proc/<pid>/status`` tell a process's mapped
    #: files and capabilities (Linux). macOS has no ``/proc``, and psutil no
    #: ``memory_maps`` there.
    procfs = sys.platform.startswith("linux")

    def exclude_from_backup(self, path: str) -> None:
        """Keep Time Machine away from ``path`` (and everything below it)."""

    def is_excluded_from_backup(self, path: str) -> bool:
        """Whether Time Machine's exclusion is on ``path`` (where there is no Time Machine,
        there is nothing to be excluded from: True)."""
        return True

    def mark_sync_ignored(self, path: str) -> None:
        """Ask sync clients not to upload ``path`` (a symlink is marked itself)."""

    def full_sync(self, fd: int) -> None:
        """Flush ``fd`` to stable storage, so that what was written survives a power loss."""
        os.fsync(fd)

    def sqlite_pragmas(self) -> tuple[str, ...]:
        """What a SQLite connection needs for its commits to survive a power loss too."""
        return ()

    def is_hidden(self, path: str) -> bool:
        """Whether ``path`` carries ``UF_HIDDEN`` (macOS sets it on files in synced dot-folders)."""
        return False

    def clear_hidden(self, path: str) -> bool:
        """Clear ``UF_HIDDEN`` on ``path`` (not below it); return whether it had it."""
        return False

    def on_disk_path(self, path: str) -> Optional[str]:
        """The path of an existing file as the volume spells it, if the system can tell."""
        return None

    def denied_hint(self, root: str, reason: str, binary: str) -> str:
        """What to tell the user when ``binary`` may not list ``root`` (``reason``: the
        errno's name, ``EACCES`` or ``EPERM``): here, the folder's owner or mode."""
        return (
            f"{binary} may not read {root} ({reason}): its owner or mode keeps this user "
            f"out; see ls -ld {shlex.quote(root)}, then chmod u+rx or chown it back"
        )

    def launched(self, path: str) -> str:
        """The binary the system runs when ``path`` (a real interpreter) is started."""
        return path

    def purgeable(self, folder: str) -> Optional[str]:
        """Why the system itself may delete what is in ``folder`` (a store), when it may."""
        return None


class Darwin(Platform):
    procfs = False

    def purgeable(self, folder: str) -> Optional[str]:
        caches = os.path.join(os.path.expanduser("~"), "Library", "Caches")
        if not (folder + "/").startswith(caches + "/"):
            return None
        return (
            "macOS may empty ~/Library/Caches when the disk runs short of space; "
            "RELOCATOR_HOME puts the store where it does not"
        )

    def exclude_from_backup(self, path: str) -> None:
        _setxattr(path, BACKUP_EXCLUDE_XATTR, BACKUP_EXCLUDE_VALUE, follow=True)

    def is_excluded_from_backup(self, path: str) -> bool:
        return _has_xattr(path, BACKUP_EXCLUDE_XATTR)

    def mark_sync_ignored(self, path: str) -> None:
        _setxattr(path, SYNC_IGNORE_XATTR, b"1", follow=False)
        _setxattr(path, DROPBOX_IGNORE_XATTR, b"1", follow=False)

    def full_sync(self, fd: int) -> None:
        # fsync(2) on macOS leaves the data in the drive's cache; F_FULLFSYNC flushes it.
        # A file system without it (some network or FUSE ones) refuses: fsync is all there is.
        import fcntl

        try:
            fcntl.fcntl(fd, getattr(fcntl, "F_FULLFSYNC", F_FULLFSYNC))
        except OSError:
            os.fsync(fd)

    def sqlite_pragmas(self) -> tuple[str, ...]:
        # SQLite's own F_FULLFSYNC switches, off by default: on for commits and checkpoints.
        return ("PRAGMA fullfsync = ON", "PRAGMA checkpoint_fullfsync = ON")

    def is_hidden(self, path: str) -> bool:
        return bool(getattr(os.lstat(path), "st_flags", 0) & UF_HIDDEN)

    def clear_hidden(self, path: str) -> bool:
        st = os.lstat(path)
        flags = getattr(st, "st_flags", 0)
        if not flags & UF_HIDDEN:
            return False
        os.lchflags(path, flags & ~UF_HIDDEN)  # type: ignore[attr-defined,unused-ignore]
        return True

    def on_disk_path(self, path: str) -> Optional[str]:
        import fcntl

        f_getpath = getattr(fcntl, "F_GETPATH", F_GETPATH)
        try:  # O_SYMLINK: the link itself, never what it leads to
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_SYMLINK", O_SYMLINK))
        except OSError:
            return None
        try:
            buf = fcntl.fcntl(fd, f_getpath, bytes(1024))
        except OSError:
            return None
        finally:
            os.close(fd)
        return os.fsdecode(buf.split(b"\0", 1)[0])

    def denied_hint(self, root: str, reason: str, binary: str) -> str:
        # EPERM is the privacy protection (TCC); EACCES, the folder's mode, as elsewhere.
        if reason != "EPERM":
            return super().denied_hint(root, reason, binary)
        return (
            f"macOS keeps {binary} out of {root} ({reason}) until you allow it: System "
            "Settings > Privacy & Security > Full Disk Access (or Files and Folders) > "
            f"add {binary}"
        )

    def launched(self, path: str) -> str:
        # A framework build's bin/python3.x starts Resources/Python.app again: that app's
        # binary is the process the system sees (python.org's and Homebrew's Pythons).
        head, sep, _ = path.rpartition("/bin/")
        app = f"{head}/Resources/Python.app/Contents/MacOS/Python"
        framework = "/Python.framework/Versions/" in head
        return app if sep and framework and os.path.isfile(app) else path


class Linux(Platform):
    def mark_sync_ignored(self, path: str) -> None:
        # Linux keeps user.* attributes off symlinks (xattr(7)): only a folder is marked.
        # A file system without user attributes holds no Dropbox folder either.
        import errno

        if os.path.islink(path):
            return
        try:
            os.setxattr(path, LINUX_DROPBOX_IGNORE_XATTR, b"1", follow_symlinks=False)
        except OSError as e:
            if e.errno != errno.ENOTSUP:
                raise


@functools.cache
def _libc() -> Any:
    """The C library, loaded once (``list`` asks about every store venv)."""
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _has_xattr(path: str, name: str) -> bool:
    """Whether ``path`` (followed) carries the extended attribute ``name``: macOS's
    getxattr(path, name, value, size, position, options) answers its size, or -1."""
    import ctypes

    size = _libc().getxattr(os.fsencode(path), name.encode(), None, ctypes.c_size_t(0), 0, 0)
    return bool(size >= 0)


def _setxattr(path: str, name: str, value: bytes, *, follow: bool) -> None:
    # os.setxattr does not exist on macOS; libc's setxattr takes a position and options.
    import ctypes

    libc = _libc()
    options = 0 if follow else _XATTR_NOFOLLOW
    rc = libc.setxattr(
        os.fsencode(path), name.encode(), value, ctypes.c_size_t(len(value)), 0, options
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)


current: Platform = (
    Darwin()
    if sys.platform == "darwin"
    else Linux()
    if sys.platform.startswith("linux")
    else Platform()
)
