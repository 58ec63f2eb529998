"""Deterministic fault injection, for the crash tests only.

``RELOCATOR_FAULT=NAME`` makes relocate kill itself with SIGKILL when it
reaches the point ``NAME`` (``adopt:moved``, ``copy:5000``...);
``RELOCATOR_FAULT_LOG=FILE`` appends the name of every point reached, so a
test can list the points of a run and then kill it at each one. Without
them (always, outside the tests), a point costs one test of a constant.
"""

from __future__ import annotations

import os

_KILL = os.environ.get("RELOCATOR_FAULT", "")
_LOG = os.environ.get("RELOCATOR_FAULT_LOG", "")
ACTIVE = bool(_KILL or _LOG)


def point(name: str) -> None:
    """A place where a kill must leave nothing lost."""
    if not ACTIVE:
        return
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(name + "\n")
    if name == _KILL:
        _kill()


def copied(count: int) -> None:
    """Called after each file a copy wrote: ``RELOCATOR_FAULT=copy:N`` kills after the Nth."""
    if ACTIVE and f"copy:{count}" == _KILL:
        _kill()


def _kill() -> None:
    import signal  # here: every relocate imports this module, few ever kill themselves

    os.kill(os.getpid(), signal.SIGKILL)
