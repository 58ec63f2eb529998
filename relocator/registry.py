"""The registry: project -> store venv, in SQLite (WAL mode, schema-versioned).

It is the one table ``list``, ``gc`` and ``doctor`` read, but never the only
record: every row can be rebuilt from the owner records beside the venvs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import NamedTuple, Optional

from relocator.store import Store

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    key       TEXT PRIMARY KEY,   -- resolver key: identity only
    path      TEXT NOT NULL,      -- resolver spelling: what is printed and written
    venv      TEXT NOT NULL UNIQUE,
    python    TEXT,
    provider  TEXT,
    created   REAL NOT NULL,
    last_seen REAL NOT NULL
);
"""


class Row(NamedTuple):
    key: str
    path: str
    venv: str
    python: Optional[str]
    provider: Optional[str]
    created: float
    last_seen: float

    def owner_record(self) -> dict[str, object]:
        return self._asdict()


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        fresh = not os.path.exists(store.registry_path)
        self.db = sqlite3.connect(store.registry_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._enter_wal()
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            (count,) = self.db.execute("SELECT count(*) FROM schema_version").fetchone()
            if count == 0:
                self.db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            if fresh:
                self._rebuild()

    def _enter_wal(self) -> None:
        # Switching a new file to WAL skips SQLite's busy handler: wait here instead.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def get(self, key: str) -> Optional[Row]:
        row = self.db.execute("SELECT * FROM projects WHERE key = ?", (key,)).fetchone()
        return Row(*row) if row else None

    def by_venv(self, venv: str) -> Optional[Row]:
        row = self.db.execute("SELECT * FROM projects WHERE venv = ?", (venv,)).fetchone()
        return Row(*row) if row else None

    def all(self) -> list[Row]:
        return [Row(*r) for r in self.db.execute("SELECT * FROM projects ORDER BY path")]

    def put(self, row: Row) -> None:
        with self.transaction():
            self._put(row)

    def _put(self, row: Row) -> None:
        self.db.execute("DELETE FROM projects WHERE key = ? OR venv = ?", (row.key, row.venv))
        self.db.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row))

    def remove(self, key: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM projects WHERE key = ?", (key,))

    def touch(self, key: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE projects SET last_seen = ? WHERE key = ?", (time.time(), key))

    def rebuild(self) -> int:
        """Replace every row by what the owner records say; return the row count."""
        with self.transaction():
            self.db.execute("DELETE FROM projects")
            return self._rebuild()

    def _rebuild(self) -> int:
        count = 0
        # Oldest first: where two records claim one project, the newest wins.
        records = sorted(self.store.owners(), key=lambda nr: float(nr[1].get("created", 0)))
        for name, record in records:
            if not os.path.isdir(self.store.venv_path(name)):
                continue
            try:
                row = Row(**{**record, "venv": name})
            except TypeError:
                continue
            self._put(row)
            count += 1
        return count
