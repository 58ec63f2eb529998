"""The one error family, and the exit codes it maps to.

Core modules raise these; only :mod:`relocator.entry` turns them into an exit
code and a single line on stderr.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_BUSY = 75  # EX_TEMPFAIL from sysexits.h: try again later
EXIT_INTERRUPTED = 130


class RelocatorError(Exception):
    """A problem the user can act on; its message is one line saying what to do."""

    exit_code = EXIT_USER


class NotFound(RelocatorError):
    """The path is in no project, or the project has no relocated venv."""


class NotOwner(RelocatorError):
    """The store venv belongs to another project (or to no project relocate knows)."""


class UsageError(RelocatorError):
    """The command line does not make sense."""

    exit_code = EXIT_USAGE


class Busy(RelocatorError, TimeoutError):
    """Another relocate holds the lock for too long."""

    exit_code = EXIT_BUSY

    def __init__(self, message: str, lock_file: str) -> None:
        super().__init__(message)
        self.lock_file = lock_file


def say(message: str) -> None:
    """Write ``relocate: <message>`` to stderr as one line, whatever the message holds.

    Paths may hold line breaks, other control characters or undecodable bytes
    (surrogate escapes): all are written as backslash escapes. Never fails, even
    when stderr is closed.
    """
    text = "".join(_CONTROLS.get(ch, ch) for ch in f"relocate: {message}")
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


_CONTROLS = {
    chr(c): {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(chr(c), f"\\x{c:02x}")
    for c in [*range(32), 127]
}


def warn(message: str) -> None:
    """Say on stderr, in one line, that something was repaired and the command goes on."""
    say(f"warning: {message}")
