"""The service's own files in the store: its log, and the pid lock that lets one run.

``<store>/service.pid`` holds ``{"pid", "started"}`` while a service runs; the
flock on ``<store>/locks/service.lock`` is what makes it true (a pid file whose
lock can be taken is stale; a second service finding it held raises :class:`AlreadyRunning`).
``<store>/logs/service.log`` has one line per event
worth telling (a service run on a terminal shows the same lines there too); past
:data:`LOG_LIMIT` it is kept as ``service.log.1`` when a service starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from relocator.errors import RelocatorError
from relocator.state.store import Store
from relocator.system.files import read_small, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, TextIO

LOG_NAME = "service.log"
LOG_LIMIT = 1 << 20


class Log:
    """``<store>/logs/service.log``: one line per event, opened for each (rotation-safe);
    each line is also written to ``echo`` when given (a service run on a terminal)."""

    def __init__(self, store: Store, echo: Optional[TextIO] = None) -> None:
        self.path = os.path.join(store.logs, LOG_NAME)
        self.echo = echo
        with contextlib.suppress(OSError):
            if os.path.getsize(self.path) > LOG_LIMIT:
                os.replace(self.path, self.path + ".1")

    def __call__(self, message: str) -> None:
        text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in message)
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n"
        try:
            with open(self.path, "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(line)
        except OSError:  # a full disk must not stop the watcher
            pass
        if self.echo is not None:
            try:
                self.echo.write(line)
                self.echo.flush()
            except (OSError, ValueError):  # the terminal went away: the log goes on
                self.echo = None


class AlreadyRunning(RelocatorError):
    """Another service holds this store's pid lock."""


class PidLock:
    """``<store>/service.pid`` and the flock that makes it true: one service per store."""

    def __init__(self, store: Store, started: float) -> None:
        self.path = store.service_pid
        self.lock_path = os.path.join(store.locks, "service.lock")
        self.started = started
        self.stale: Optional[dict[str, Any]] = None
        self._fd = -1

    def __enter__(self) -> PidLock:
        import fcntl

        self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            record = read_pid(self.path) or {}
            since = record.get("started")
            when = ""
            if isinstance(since, float):
                when = time.strftime(", since %Y-%m-%d %H:%M:%S", time.localtime(since))
            who = f" (pid {record.get('pid')}{when})"
            raise AlreadyRunning(
                f"the relocator service is already running{who if record else ''} for the "
                f"store {os.path.dirname(self.path)}; stop it first"
            ) from None
        self.stale = read_pid(self.path)  # the lock was free: whatever is there is stale
        record = {"pid": os.getpid(), "started": self.started}
        write_atomic(self.path, json.dumps(record) + "\n")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            if (read_pid(self.path) or {}).get("pid") == os.getpid():
                os.unlink(self.path)
        os.close(self._fd)  # releases the flock


def held(store: Store) -> bool:
    """Whether a service holds this store's pid lock now (it runs)."""
    import fcntl

    try:
        fd = os.open(os.path.join(store.locks, "service.lock"), os.O_RDWR | os.O_CLOEXEC)
    except OSError:  # none yet: no service ever ran here
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock if this took it
    return False


def read_pid(path: str) -> Optional[dict[str, Any]]:
    """The record of a pid file, None when absent or not one."""
    try:
        record = json.loads(read_small(path) or "null")
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None
