"""Intent records: what a move set out to do, and how far it got.

Written into the store before the first step and advanced after each, so that
an interrupted adopt, eject, create, move into the trash, restore or swap can
be finished (or, where nothing became usable, rolled back) by the next relocate
that takes the project's lock. A ``verify`` record names the scratch venv a
``relocate verify`` builds in the store's ``tmp/`` and the process that builds it:
while that process lives the record is not pending; once it is gone (killed), the
scratch venv is removed by the next relocate that settles the project, or by ``gc``.
"""

from __future__ import annotations

import contextlib
import os
import time

from relocator.errors import warn
from relocator.paths.hops import TREES
from relocator.state.store import Store, alive
from relocator.system import faults
from relocator.system.files import read_record, write_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

OPS = ("adopt", "eject", "create", "adopt-tree", "eject-tree", "trash", "restore", "swap", "verify")
#: Where the venv a swap puts in place of a project's venv comes from
#: (:mod:`relocator.moves.replacing`).
SWAP_SOURCES = ("new", "store", "trash")
#: Fields every record carries, all strings: the rest depends on the operation.
REQUIRED = ("op", "key", "project", "venv", "step")


class Intent:
    def __init__(self, store: Store, record: dict[str, Any], path: Optional[str] = None) -> None:
        self.store = store
        self.record = record
        tree = f"@{record['tree']}" if "tree" in record else ""  # a project's trees move in turn
        self.path = path or os.path.join(store.journal, f"{record['venv']}{tree}.json")

    @classmethod
    def begin(cls, store: Store, **record: Any) -> Intent:
        intent = cls(store, {**record, "step": "begin", "started": time.time()})
        intent._save()
        faults.point(f"{intent.op}:begin")
        return intent

    @property
    def op(self) -> str:
        return str(self.record["op"])

    @property
    def step(self) -> str:
        return str(self.record["step"])

    def __getitem__(self, name: str) -> Any:
        return self.record[name]

    def get(self, name: str) -> Any:
        return self.record.get(name)

    def advance(self, step: str) -> None:
        self.record["step"] = step
        self._save()
        faults.point(f"{self.op}:{step}")

    def done(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        faults.point(f"{self.op}:done")

    def set_aside(self, why: str) -> None:
        """Keep the record as ``<name>.damaged``, out of the way, and say so."""
        with contextlib.suppress(OSError):
            os.replace(self.path, self.path + ".damaged")
        warn(f"set aside the journal record {self.path} ({why})")

    def _save(self) -> None:
        write_record(self.path, self.record)


def pending(store: Store, key: Optional[str] = None) -> list[Intent]:
    """Unfinished intents (of one project, when ``key`` is given), oldest first, swaps
    last: a swap that takes over a venv an adopt moved in is settled once that adopt is.
    A verify whose process is alive is not unfinished: it is running.

    A record that is not one of ours (not JSON, not an object, a field missing)
    is set aside as ``<name>.damaged`` with a warning: it cannot be acted on.
    """
    found = []
    try:
        names = sorted(os.listdir(store.journal))
    except FileNotFoundError:
        return []
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(store.journal, name)
        record = _load(path)
        if record is None:
            Intent(store, {}, path).set_aside("not a record relocate can act on")
            continue
        if record["op"] == "verify" and alive(int(record["pid"])):
            continue  # a verify still running: its own process removes what it builds
        if key is None or record["key"] == key:
            found.append(Intent(store, record, path))
    return sorted(found, key=lambda i: (i.op == "swap", float(i.record.get("started", 0))))


def _load(path: str) -> Optional[dict[str, Any]]:
    record = read_record(path)
    if record is None or record.get("op") not in OPS:
        return None
    if not all(isinstance(record.get(f), str) for f in REQUIRED):
        return None
    if not isinstance(record.get("started", 0), (int, float)):
        return None
    if record["op"].endswith("-tree") and record.get("tree") not in TREES:
        return None
    name, project = record["venv"], record["project"]
    if not _plain(name) or not os.path.isabs(project):
        return None  # every path recovery touches is derived from these two
    if record["op"] == "verify" and not _pid(record.get("pid")):
        return None
    if record["op"] == "swap":  # and from the names of where the new venv comes from
        source, staged, was = record.get("source"), record.get("staged"), record.get("was")
        if source not in SWAP_SOURCES or (source != "new" and not _plain(staged)):
            return None
        if any(v is not None and not _plain(v) for v in (was, record.get("into"))):
            return None
    return record


def _pid(pid: object) -> bool:
    """Whether ``pid`` can name a process (another number would read as alive forever, as
    0 and -1 do for ``kill``, or not fit a ``pid_t``)."""
    return isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid < 2**31


def _plain(name: object) -> bool:
    """Whether ``name`` is one entry's name in a folder of the store: no ``/``, not hidden."""
    return isinstance(name, str) and bool(name) and "/" not in name and not name.startswith(".")
