"""The registry's file, below SQLite: what is refused before SQLite opens it (a folder, a
symlink, a pipe, no permission, bytes that are no SQLite database), a damaged file set
aside with its -wal and -shm, and SQLite's errors sorted into busy, damaged and unusable.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time

from relocator.errors import RelocatorError

SIDE_FILES = ("-wal", "-shm", "")  # the main file last: a new one never meets an old WAL
MAGIC = b"SQLite format 3\0"


class Damaged(Exception):
    """The file is not a usable registry: set it aside and rebuild."""


def check_file(path: str) -> None:
    """Refuse what SQLite would choke on, block on, or write through."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise RelocatorError(f"cannot open the registry {path} ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        what = "a folder"
    elif stat.S_ISLNK(st.st_mode):  # SQLite would create or write what it leads to
        what = "a symlink"
    elif not stat.S_ISREG(st.st_mode):  # a pipe: SQLite would wait on it forever
        what = "not a regular file"
    else:
        what = ""
    if what:
        raise RelocatorError(
            f"the registry {path} is {what}, not relocator's database; "
            "move it out of the store and run again"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise RelocatorError(
            f"cannot read and write the registry {path} (permission denied); "
            "give it back to your user (chmod u+rw) or move it away and run again"
        )
    # Not SQLite at all: set aside before SQLite opens it, which would delete a -wal
    # and -shm beside it on closing (the last record of what was in it).
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if head and head != MAGIC:
        raise Damaged("file is not a database")


def set_aside(path: str, reason: str) -> str:
    """Rename the registry and its -wal and -shm files to ``<path>.damaged-<time>``."""
    base = f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    aside, n = base, 1
    while any(os.path.lexists(aside + suffix) for suffix in SIDE_FILES):
        n += 1
        aside = f"{base}-{n}"
    for suffix in SIDE_FILES:
        try:
            os.rename(path + suffix, aside + suffix)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise RelocatorError(
                f"the registry {path} is damaged ({reason}) and cannot be set aside "
                f"({e.strerror}); move it out of the store and run again"
            ) from None
    return aside


def kind(e: sqlite3.Error) -> str:
    """busy, damaged, unusable (permissions, space, I/O) or other."""
    name = getattr(e, "sqlite_errorname", "") or ""  # Python 3.11+
    text = str(e).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return "busy"
    damage = ("not a database", "malformed", "no such table", "no such column")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or any(m in text for m in damage):
        return "damaged"
    unusable = ("unable to open", "readonly", "disk i/o", "is full", "not authorized")
    codes = ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL")
    if name.startswith((*codes, "SQLITE_AUTH", "SQLITE_NOLFS")) or any(m in text for m in unusable):
        return "unusable"
    return "other"
