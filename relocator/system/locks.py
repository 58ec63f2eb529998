"""An exclusive lock on a file, across processes and threads: what :meth:`Store.lock
<relocator.state.store.Store.lock>` holds for one project.

``flock`` on POSIX, as filelock's UnixFileLock takes it, without importing filelock
(which loads logging, inspect and more on every command that takes a lock); filelock
elsewhere. Standard library only on POSIX.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def acquire(path: str, timeout: float) -> Any:
    """Take the exclusive lock on the file ``path`` within ``timeout`` seconds, else raise
    TimeoutError. Returns what :func:`release` takes."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        import filelock

        lock = filelock.FileLock(path, timeout=timeout)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise TimeoutError(path) from None
        return lock
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise TimeoutError(path) from None
            time.sleep(0.05)
            continue
        except BaseException:
            os.close(fd)
            raise
        if os.fstat(fd).st_nlink:  # not a file removed while we waited for it
            return fd
        os.close(fd)


def release(held: Any) -> None:
    if isinstance(held, int):
        os.close(held)  # closing the only descriptor releases the flock
    else:
        held.release()
