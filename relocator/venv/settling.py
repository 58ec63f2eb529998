"""What a killed move of a venv left, brought back to one whole venv: a rename happened or
not; a copy that still matches its source set aside is completed, one that never got that far
is dropped and the source goes back; what a process made at a name the venv had left is kept
under a name of relocator's, never deleted. The move itself is :mod:`relocator.venv.transfer`.
"""

from __future__ import annotations

import os

from relocator.errors import RelocatorError
from relocator.state import venvs
from relocator.venv import transfer
from relocator.venv.transfer import (
    Places,
    keep_stub,
    put_back,
    real_dir,
    say_kept,
    stub_at_src,
    take_dest,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    from relocator.state.journal import Intent
    from relocator.state.store import Store
    from relocator.venv.transfer import Clear

FORWARD = "forward"  # the venv is whole at its destination: finish the job
BACK = "back"  # the venv is whole at its source: undo what was begun

#: The steps of a move before its last rename: from "moved" on, the venv is at ``dest``.
_BEFORE_MOVED = frozenset({"begin", "copying", "copied"})


def move(
    intent: Intent,
    where: Places,
    store: Store,
    before: Optional[venvs.Manifest],
    clear_dest: Clear,
    undo: Callable[[], object],
) -> None:
    """:func:`transfer.move`; when it fails, what it left is settled: a venv whole at its
    source undoes the begun work (``undo``) and the failure is raised, one whole at its
    destination returns for the caller to finish."""
    try:
        transfer.move(intent, where, store, before, clear_dest=clear_dest)
    except RelocatorError:
        if settle(intent, where, store, clear_dest) == BACK:
            undo()
            raise


def settle(intent: Intent, where: Places, store: Store, clear_dest: Clear) -> str:
    """Bring what a killed move left to one whole venv; say where it is (FORWARD or BACK).

    A rename either happened or not. A copy whose source was set aside and whose
    staging folder still matches it (names, types, sizes and times) is completed; a
    copy that never got that far is dropped, and a source set aside goes back to its
    name. What a process made at a name the venv had left (an installer's stub) is
    kept under a name of relocator's, with a warning, never deleted.
    """
    copying = intent.get("mode") == "copy"
    aside = copying and real_dir(where.aside)
    kept: list[str] = []
    if copying and real_dir(where.staging):
        if aside and _same(where.staging, where.aside):
            if os.path.lexists(where.src):  # a stub: the source is the one set aside
                kept.append(keep_stub(where.src, store))
            kept += take_dest(where.staging, where, store, clear_dest)
            intent.advance("moved")
            say_kept(kept, "during a move that was interrupted")
            return FORWARD
        if aside:
            kept += put_back(intent, where, store)
        store.discard(where.staging)
    elif _moved(intent, where, aside):
        say_kept(stub_at_src(intent, where, store), "during a move that was interrupted")
        return FORWARD
    elif aside:
        kept += put_back(intent, where, store)
    # An eject's destination holds the link again or nothing: anything else there is not
    # the venv (that is at src), and would stand in the way of the link put back.
    dest = where.dest
    if not intent.op.startswith("adopt") and os.path.lexists(dest) and not os.path.islink(dest):
        kept.append(keep_stub(dest, store))
    say_kept(kept, "during a move that was interrupted")
    return BACK


def _same(copy: str, source: str) -> bool:
    """Whether a copy still matches its source: the copy keeps each file's time, so a
    file rewritten in place at the same size shows."""
    return venvs.manifest(copy, times=True) == venvs.manifest(source, times=True)


def _moved(intent: Intent, where: Places, aside: bool) -> bool:
    """Whether the venv reached ``dest``. The journal says so from "moved" on; before
    that (a kill right after the last rename), a store venv's name is new, so its
    presence says so; a project's ``.venv`` may be a new one a tool made, so there the
    source must be gone, or set aside with no copy left to rename (a copy is dropped
    only once the source is back).
    """
    if not real_dir(where.dest):
        return False
    if intent.step not in _BEFORE_MOVED or intent.op.startswith("adopt"):
        return True
    return not real_dir(where.src) or aside
