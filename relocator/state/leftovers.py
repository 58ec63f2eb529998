"""What killed relocate runs left in the store's ``tmp/`` with no journal record to settle
it, which ``relocate gc`` removes once the process that made it is gone:

- ``<venv>.gc-<pid>-<hex>``: a venv a gc of an older relocate had set aside (it had
  dropped its row and record already);
- ``verify-<slug>-<pid>-<hex>``: a ``relocate verify`` scratch venv whose record is gone
  (its run removed the record while a child it had started still wrote there, or the
  record was set aside as damaged). A scratch venv its record names is the journal's to
  settle (:func:`relocator.moves.scratch.resume`), not a leftover.

Only names of these two patterns directly in ``tmp/`` are taken, never through a symlink,
and only while the process whose id the name holds is not running.
"""

from __future__ import annotations

import os
import re

from relocator.records import NamedTuple
from relocator.state.store import Store, alive

_ASIDE = re.compile(r"(?P<venv>.+)\.gc-(?P<pid>\d+)-[0-9a-f]+")
_SCRATCH = re.compile(r"verify-(?P<venv>.*)-(?P<pid>\d+)-[0-9a-f]{8}")


class Leftover(NamedTuple):
    path: str
    venv: str  # the name it is shown by: the venv set aside, or the scratch folder's
    why: str


def find(store: Store) -> list[Leftover]:
    """The leftovers in ``store``'s ``tmp/`` whose process is gone, by name."""
    try:
        names = [] if os.path.islink(store.tmp) else sorted(os.listdir(store.tmp))
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(store.tmp, name)
        aside, scratch = _ASIDE.fullmatch(name), _SCRATCH.fullmatch(name)
        if aside is not None and not alive(int(aside.group("pid"))):
            why = "set aside by a relocate gc that was interrupted"
            found.append(Leftover(path, aside.group("venv"), why))
        elif (
            scratch is not None
            and not alive(int(scratch.group("pid")))
            and not _journaled(store, name)
        ):
            why = "the scratch venv of a relocate verify that was interrupted"
            found.append(Leftover(path, name, why))
    return found


def _journaled(store: Store, name: str) -> bool:
    """Whether a journal record names scratch venv ``name`` (its path is the name's)."""
    return os.path.lexists(os.path.join(store.journal, f"{name}.json"))
