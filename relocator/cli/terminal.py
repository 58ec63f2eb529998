"""The CLI on a terminal: asking before acting (never without one: a usage error says
``--yes``), and progress on stderr as one line rewritten in place, only when stderr is a
terminal (the CLI decides), cleared when the work ends.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from relocator.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Least time between two rewrites of a copy's progress line, in seconds.
_TICK = 0.1


def must_ask(yes: bool, refusal: str) -> bool:
    """Whether to ask before acting: not with ``--yes``; on a terminal (stdin and
    stderr), yes; without one, a usage error saying ``refusal``."""
    if yes:
        return False
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(refusal)
    return True


def ask(question: str) -> bool:
    """Ask ``question`` on stderr and read the answer from stdin: True only for y or yes
    (Enter, anything else, or the end of input is no)."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


class Progress:
    """One line on stderr, rewritten as long work goes on; cleared by :meth:`close`."""

    def __init__(self) -> None:
        import shutil

        self.width = max(20, shutil.get_terminal_size().columns - 1)
        self.shown = False
        self.last = 0.0

    def show(self, text: str) -> None:
        text = " ".join(text.split())[: self.width]
        if text:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()
            self.shown = True

    __call__ = show  # a long install's lines

    def files(self, count: int) -> None:
        """A scan's files counted so far."""
        self.show(f"{count:,} files counted")

    def copied(self, count: int, total: int) -> None:
        """A copy to another volume: ``count`` of its ``total`` files written so far
        (shown at most every tenth of a second, and at the end)."""
        now = time.monotonic()
        if count < total and now - self.last < _TICK:
            return
        self.last = now
        self.show(f"copying {count:,} of {total:,} files")

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


@contextlib.contextmanager
def showing(shown: bool) -> Iterator[Optional[Progress]]:
    """A :class:`Progress` while the block runs when ``shown`` (else None), which copies
    across volumes report to too; cleared when the block ends."""
    if not shown:  # copies report nowhere, as they do by default
        yield None
        return
    from relocator.venv import transfer

    progress = Progress()
    try:
        with transfer.copying_shown(progress.copied):
            yield progress
    finally:
        progress.close()
