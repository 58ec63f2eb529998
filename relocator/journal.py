"""Intent records: what a move set out to do, and how far it got.

Written into the store before the first step and advanced after each, so that
an interrupted adopt or eject can be finished or rolled back by the next
relocate that takes the project's lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any, Optional

from relocator.store import Store, write_atomic


class Intent:
    def __init__(self, store: Store, record: dict[str, Any]) -> None:
        self.store = store
        self.record = record
        self.path = os.path.join(store.journal, f"{record['venv']}.json")

    @classmethod
    def begin(cls, store: Store, **record: Any) -> Intent:
        intent = cls(store, {**record, "step": "begin", "started": time.time()})
        intent._save()
        return intent

    @property
    def step(self) -> str:
        return str(self.record["step"])

    def __getitem__(self, name: str) -> Any:
        return self.record[name]

    def advance(self, step: str) -> None:
        self.record["step"] = step
        self._save()

    def done(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self.record, indent=2, sort_keys=True) + "\n")


def pending(store: Store, key: Optional[str] = None) -> list[Intent]:
    """Unfinished intents (of one project, when ``key`` is given), oldest first."""
    found = []
    try:
        names = sorted(os.listdir(store.journal))
    except FileNotFoundError:
        return []
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(store.journal, name), encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        if key is None or record.get("key") == key:
            found.append(Intent(store, record))
    return sorted(found, key=lambda i: float(i.record.get("started", 0)))
