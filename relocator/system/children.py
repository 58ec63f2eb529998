"""The processes relocate starts and waits for: a build tool, ``verify --run``'s command.

Each runs in a session of its own, so that the whole tree it starts (uv, then a build
backend's Python, a shell's commands) is one process group, ended as one: when relocate
is interrupted while it waits (Ctrl-C, or SIGTERM or SIGHUP, which meanwhile interrupt
it rather than kill it outright), the group gets SIGTERM, then SIGKILL after
:data:`GRACE` seconds, and only then does the interrupt go on, so that what the child was
writing is removed after it stopped, never before. In a session of its own the child
does not get the terminal's Ctrl-C itself: relocate passes it on so.
"""

from __future__ import annotations

import contextlib
import os
import signal

from relocator.errors import RelocatorError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from subprocess import Popen

#: Seconds an interrupted child's group gets between SIGTERM and SIGKILL.
GRACE = 5.0
#: Signals that would end relocate at once, leaving its child running.
_ENDING = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`KeyboardInterrupt` in the block, as Ctrl-C does,
    so that it ends through its ``finally`` clauses; where one already has a handler
    (the service's) or this is not the main thread, it is left as it is."""
    import threading

    changed = {}
    if threading.current_thread() is threading.main_thread():
        for number in _ENDING:
            if signal.getsignal(number) is signal.SIG_DFL:
                changed[number] = signal.signal(number, _interrupt)
    try:
        yield
    finally:
        for number, was in changed.items():
            signal.signal(number, was)


@contextlib.contextmanager
def started(shown: str, cmd: list[str], *, cwd: str, env: dict[str, str]) -> Iterator[Popen[bytes]]:
    """Start ``cmd`` in a session of its own, its output (stdout and stderr) on one pipe;
    the block reads it, then the child is waited for. When the block raises (an interrupt
    too), the child's group is ended first. A command that cannot start raises
    :class:`RelocatorError` naming it as ``shown``."""
    from subprocess import DEVNULL, PIPE, STDOUT, Popen

    with interruptible():
        try:
            proc = Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=DEVNULL,
                stdout=PIPE,
                stderr=STDOUT,
                start_new_session=True,
            )
        except OSError as e:
            raise RelocatorError(f"{shown}: {cmd[0]} could not start ({e.strerror})") from None
        try:
            yield proc
            proc.wait()
        except BaseException:
            stop(proc)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


def stop(proc: Popen[bytes]) -> None:
    """End ``proc``'s process group: SIGTERM, then SIGKILL to whatever is left after
    :data:`GRACE` seconds (or once the child itself ended: what it started goes too)."""
    from subprocess import TimeoutExpired

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutExpired):
        proc.wait(timeout=GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
