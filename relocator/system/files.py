"""Reading and writing files without surprises.

Every write is an atomic replace that keeps the file's mode and owner and
never follows a link planted at its temporary name; every read of a file that
anyone else may have made takes only regular files (a pipe is never waited
on); files of the user's are edited as bytes split only on newlines, so every
byte outside relocator's own lines stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat

from relocator.system import platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


def write_atomic(path: str, data: str | bytes, *, sync: bool = True) -> None:
    """Replace ``path`` by ``data`` in one rename, keeping its mode and owner; the folder is
    made if missing.

    Text is UTF-8 (undecodable names kept as they were read). The data, then the
    rename, are flushed to stable storage (:meth:`relocator.system.platform.Platform.full_sync`:
    F_FULLFSYNC on macOS); ``sync=False`` skips both, for files a recovery rewrites again
    anyway.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    tmp = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a leftover of a dead process with our pid, or a planted link
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            if sync:
                f.flush()
                platform.current.full_sync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            old = os.stat(path)
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
            if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(tmp, old.st_uid, old.st_gid)  # root editing a user's file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # out of space, say: leave nothing half-written behind
        raise
    if sync:
        sync_folder(os.path.dirname(path))


def sync_folder(folder: str) -> None:
    """Flush ``folder``'s entries to stable storage: a rename into it survives power loss.

    A folder that cannot be opened, or a file system that cannot sync a folder (EINVAL on
    some network ones), leaves the rename as durable as that system makes it; an I/O error
    is raised."""
    import errno

    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        platform.current.full_sync(fd)
    except OSError as e:
        if e.errno == errno.EIO:
            raise
    finally:
        os.close(fd)


def read_regular(path: str, limit: int = -1, *, follow: bool = True) -> Optional[bytes]:
    """The bytes of a regular file (at most ``limit``), None for anything else.

    A pipe is never waited on, a terminal never becomes ours; with ``follow=False``
    a symlink is not read through. Errors opening the file are raised.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with open(fd, "rb", closefd=False) as f:
            return f.read(limit)
    finally:
        os.close(fd)


def read_small(path: str, limit: int = 1 << 16) -> Optional[str]:
    """The text of a small regular file, None when it is absent, unreadable or not one."""
    try:
        data = read_regular(path, limit)
    except OSError:
        return None
    return None if data is None else data.decode("utf-8", "replace")


def split_lines(data: bytes) -> list[bytes]:
    """Lines split on ``\\n`` only, each keeping its end: ``b"".join`` gives ``data`` back.

    For the user's files relocator edits (rc files, ``.git/info/exclude``): every
    byte outside relocator's own lines stays as it was.
    """
    parts = data.split(b"\n")
    found = [part + b"\n" for part in parts[:-1]]
    return [*found, parts[-1]] if parts[-1] else found


def bare_line(line: bytes) -> bytes:
    """A line without its ``\\n`` or ``\\r\\n`` end."""
    line = line[:-1] if line.endswith(b"\n") else line
    return line[:-1] if line.endswith(b"\r") else line


def is_under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both spelled alike, no trailing slash)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def read_record(path: str) -> Optional[dict[str, Any]]:
    """The JSON object in the small regular file ``path`` (an owner record, a journal
    record); None when it is missing, unreadable, not JSON or not an object (JSON nested
    deeper than the parser goes, ``[[[...]]]``, is none that relocate wrote)."""
    import json

    text = read_small(path)
    try:
        record = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def write_record(path: str, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` as JSON, atomically (see :func:`write_atomic`)."""
    import json

    write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
