"""Deterministic fault injection, for the crash tests only.

``RELOCATOR_FAULT=NAME`` makes relocate kill itself with SIGKILL when it
reaches the point ``NAME`` (``adopt:moved``, ``copy:5000``...);
``RELOCATOR_FAULT_LOG=FILE`` appends the name of every point reached, so a
test can list the points of a run and then kill it at each one.
``RELOCATOR_FAULT_PAUSE=NAME`` with ``RELOCATOR_FAULT_GATE=FILE`` makes it
pause there instead, once: it creates ``FILE.paused``, then waits until
``FILE`` exists, so that a test can act on the files at that instant (run an
installer into the venv a copy is reading). Without them (always, outside the
tests), a point costs one test of a constant.
"""

from __future__ import annotations

import os

_KILL = os.environ.get("RELOCATOR_FAULT", "")
_LOG = os.environ.get("RELOCATOR_FAULT_LOG", "")
_PAUSE = os.environ.get("RELOCATOR_FAULT_PAUSE", "")
_GATE = os.environ.get("RELOCATOR_FAULT_GATE", "")
ACTIVE = bool(_KILL or _LOG or _PAUSE)
_WAIT = 300.0  # seconds a pause lasts at most: a test that died must not leave relocate hanging
_paused: list[bool] = []  # once a pause happened


def point(name: str) -> None:
    """A place where a kill must leave nothing lost."""
    if not ACTIVE:
        return
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(name + "\n")
    if name == _KILL:
        _kill()
    if name == _PAUSE:
        _pause()


def copied(count: int) -> None:
    """Called after each file a copy wrote: ``RELOCATOR_FAULT=copy:N`` kills after the Nth
    (``RELOCATOR_FAULT_PAUSE=copy:N`` pauses there)."""
    if ACTIVE:
        name = f"copy:{count}"
        if name == _KILL:
            _kill()
        if name == _PAUSE:
            _pause()


def _pause() -> None:
    if _paused or not _GATE:
        return
    _paused.append(True)
    import time

    with open(_GATE + ".paused", "w", encoding="utf-8"):
        pass
    deadline = time.monotonic() + _WAIT
    while not os.path.exists(_GATE) and time.monotonic() < deadline:
        time.sleep(0.005)


def _kill() -> None:
    import signal  # here: every relocate imports this module, few ever kill themselves

    os.kill(os.getpid(), signal.SIGKILL)
