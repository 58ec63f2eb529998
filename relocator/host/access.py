"""Sync roots this process may not read: macOS's privacy protection (TCC), or permissions.

On macOS a launchd agent running ``python3.x`` that lists ``~/Documents``, ``~/Desktop``
or a File Provider folder (``~/Library/Mobile Documents``, ``~/Library/CloudStorage``)
gets ``EPERM`` until the user grants that binary access in System Settings; the user's
own terminal may be allowed meanwhile. Elsewhere (and on macOS too) a root's owner or
mode refuses with ``EACCES``. :func:`denied` is the one check, used by the service
(:class:`Denials`, its memory of what it said), by ``relocate service status`` (which
reads what the service recorded) and by ``relocate doctor`` (which also checks as the
user). What to tell the user is the platform's: :meth:`Platform.denied_hint`.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys

from relocator.system import platform
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


def denied(root: str) -> Optional[str]:
    """Why this process may not list ``root`` (``EPERM``, ``EACCES``); None when it may,
    or when ``root`` is gone or no folder (that is no refusal: the poll skips it)."""
    try:
        os.stat(root)
        with os.scandir(root) as entries:
            next(entries, None)
    except PermissionError as e:
        return errno.errorcode.get(e.errno or errno.EACCES, "EACCES")
    except OSError:
        return None
    return None


def running_binary() -> str:
    """The file the system runs as this process, symlinks followed: what macOS's privacy
    settings attribute a launchd agent's reads to (for a framework or Homebrew Python,
    its ``Python.app``, which ``bin/python3.x`` starts again)."""
    import psutil  # type: ignore[import-untyped,unused-ignore]

    try:
        exe = str(psutil.Process().exe() or "")
    except (psutil.Error, OSError):  # it may not tell (a sandbox): the interpreter's word
        exe = ""
    return os.path.realpath(exe or sys.executable)


def interpreter_of(program: str) -> str:
    """The binary that running ``program`` (a service unit's first word) executes: the
    interpreter its ``#!`` line names when it is a script, symlinks followed, then what
    the platform runs in its place (:meth:`Platform.launched`)."""
    path = program
    try:
        with open(program, "rb") as f:
            head = f.readline(1024)
    except OSError:
        head = b""
    words = head[2:].split() if head.startswith(b"#!") else []
    if words:
        path = os.fsdecode(words[0])
        if os.path.basename(path) == "env" and len(words) > 1:
            path = shutil.which(os.fsdecode(words[1])) or path
    return platform.current.launched(os.path.realpath(path))


def hint(record: dict[str, Any]) -> str:
    """What to tell the user about a denial record ``{root, reason, binary}``."""
    return platform.current.denied_hint(record["root"], record["reason"], record["binary"])


def records(value: Any) -> list[dict[str, str]]:
    """The well-formed ``{root, reason, binary}`` records of ``value`` (read from a file:
    trusted for nothing)."""
    keys = ("root", "reason", "binary")
    if not isinstance(value, list):
        return []
    return [
        {k: item[k] for k in keys}
        for item in value
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in keys)
    ]


class Denials:
    """The service's view of its roots: which it may not read, said once per root and
    reason, and said again when one becomes readable (access can be granted while it
    runs: each pass checks the denied roots again)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.binary = running_binary()
        self.now: dict[str, str] = {}  # root -> reason, as last checked

    def readable(self, roots: list[str]) -> list[str]:
        """``roots`` this process may list now; each change is logged."""
        fine: list[str] = []
        for root in roots:
            reason, was = denied(root), self.now.get(root)
            if reason is None:
                fine.append(root)
                if was is not None:
                    del self.now[root]
                    self.log(f"readable again: {root} (it was denied: {was})")
            elif reason != was:
                self.now[root] = reason
                self.log(f"denied {root}: {hint(self.record(root))}")
        return fine

    def record(self, root: str) -> dict[str, str]:
        return {"root": root, "reason": self.now[root], "binary": self.binary}

    def report(self) -> list[dict[str, str]]:
        """What ``<store>/service.json`` keeps as ``denied``."""
        return [self.record(root) for root in sorted(self.now)]

    def granted(self) -> bool:
        """Check the denied roots again: whether one became readable (logged)."""
        return bool(self.now) and bool(self.readable(sorted(self.now)))

    def holds(self, path: str) -> bool:
        """Whether ``path`` is in a root this process may not read (as last checked)."""
        return any(is_under(path, root) for root in self.now)
