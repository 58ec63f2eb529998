"""The one error family, and the exit codes it maps to.

Core modules raise these; only :mod:`relocator.cli.entry` turns them into an exit
code and a single line on stderr (followed, for a :class:`ToolFailed`, by what
the tool printed, indented).
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, TextIO

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_BUSY = 75  # EX_TEMPFAIL from sysexits.h: try again later
EXIT_INTERRUPTED = 130


class RelocatorError(Exception):
    """A problem the user can act on; its message is one line saying what to do.

    ``hint``, when given, is the command (or the step) that helps, also said in the
    message; ``--json`` reports it apart, as ``"hint"``.
    """

    exit_code = EXIT_USER
    hint: Optional[str] = None

    def __init__(self, *args: object, hint: Optional[str] = None) -> None:
        super().__init__(*args)
        if hint is not None:
            self.hint = hint


class NotFound(RelocatorError):
    """The path is in no project, or the project has no relocated venv."""


class NotOwner(RelocatorError):
    """The store venv belongs to another project (or to no project relocate knows)."""


class UsageError(RelocatorError):
    """The command line does not make sense."""

    exit_code = EXIT_USAGE


class ToolFailed(RelocatorError):
    """A tool relocate ran (uv, pip, poetry, python -m venv...) failed; ``output`` holds
    everything it printed, shown under the message and kept in a log."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output

    @classmethod
    def of(cls, summary: str, *streams: str, silent: str = "no output") -> ToolFailed:
        """``<summary>: <the tool's most telling line>`` (:func:`telling`), with everything
        it printed on ``streams`` (stdout, stderr) as the output."""
        output = "\n".join(text.strip() for text in streams if text and text.strip())
        return cls(f"{summary}: {telling(output.splitlines()) or silent}", output)


_ERROR = re.compile(r"(?:error|fatal):\s*(.*)", re.IGNORECASE)
_CAUSE = re.compile(r"(?:cause|caused by):\s*(.*)", re.IGNORECASE)
#: Lines that advise or chat rather than say what failed.
_CHATTER = ("hint:", "help:", "note:", "warning:", "[notice]")


def telling(lines: list[str]) -> str:
    """The line of a failed tool's output that says what failed, or "" when none does.

    The last ``error:`` line (uv, pip's ``ERROR:``, ``Error:`` of ``python -m venv``)
    with the deepest ``cause:`` under it (uv's chain: ``error: No solution found ...``,
    ``cause: Because six==9 ...``); without one, the last line that says something: not
    blank, not a marker (``^``), not a hint or a notice (uv ends with ``hint:`` lines).
    """
    clean = [raw.strip().lstrip("\u00d7\u2570\u251c\u2500\u25b6\u2502 ").strip() for raw in lines]
    errors = [i for i, line in enumerate(clean) if _ERROR.match(line)]
    if errors:
        first = errors[-1]
        found = _ERROR.match(clean[first])
        said = found[1].rstrip(":") if found else ""
        causes = []
        for line in clean[first + 1 :]:
            cause = _CAUSE.match(line)
            if cause is None:
                break
            causes.append(cause[1])
        said = f"{said}: {causes[-1]}" if said and causes else said or "".join(causes[-1:])
        if said:
            return said[:300]
    saying = [line for line in clean if any(ch.isalnum() for ch in line)]
    plain = [line for line in saying if not line.lower().startswith(_CHATTER)]
    return (plain or saying or [""])[-1][:300]


class Busy(RelocatorError, TimeoutError):
    """Another relocate holds the lock for too long."""

    exit_code = EXIT_BUSY

    def __init__(self, message: str, lock_file: str) -> None:
        super().__init__(message)
        self.lock_file = lock_file


#: ``-q``: warnings (repairs the command made on its way) are not said; errors still are.
quiet = False
#: ``-v``: say more (the details of what was checked or done, a crash's traceback).
verbose = False
#: ``--color``: True (always), False (never) or None (auto: see :func:`coloured`).
colour: Optional[bool] = None


def say(message: str) -> None:
    """Write ``relocate: <message>`` to stderr as one line, whatever the message holds.

    Paths may hold line breaks, other control characters or undecodable bytes
    (surrogate escapes): all are written as backslash escapes. Never fails, even
    when stderr is closed. The prefix is red on a terminal (unless ``NO_COLOR``).
    """
    prefix = "\033[1;31mrelocate:\033[0m" if coloured(sys.stderr) else "relocate:"
    _write(sys.stderr, f"{prefix} {escape(message)}")


def say_output(output: str, indent: str = "    ") -> None:
    """Write what a failed tool printed to stderr, each line indented and escaped as
    :func:`say` escapes a message."""
    for line in output.splitlines():
        if line.strip():
            _write(sys.stderr, f"{indent}{escape(line.rstrip())}")


def escape(text: str) -> str:
    """``text`` with every control character written as a backslash escape."""
    return "".join(_CONTROLS.get(ch, ch) for ch in text)


def coloured(stream: Optional[TextIO]) -> bool:
    """Whether to colour what goes to ``stream``: as ``--color`` says, else (auto) a
    terminal, and no ``NO_COLOR`` (https://no-color.org: set and not empty) or ``TERM=dumb``."""
    if colour is not None:
        return colour
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):  # closed
        return False


def _write(stream: Optional[TextIO], text: str) -> None:
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
    """Say on stderr, in one line, that something was repaired and the command goes on
    (not under ``-q``)."""
    if not quiet:
        say(f"warning: {message}")
