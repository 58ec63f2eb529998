"""The registry: project -> store venv, in SQLite (WAL mode, schema-versioned).

It is the one table ``list``, ``gc`` and ``doctor`` read, but never the only
record: every row can be rebuilt from the owner records beside the venvs. So a
registry that is not one (random bytes, a truncated or zeroed file, someone
else's database, our tables garbled) is set aside as
``registry.db.damaged-<time>`` with a warning, rebuilt, and the command goes on.
A row that relocate could not have written (a key, path or venv that is NULL, not
text, not absolute, or a venv name that is no plain name; times that are not numbers)
is damage of the same kind: the rows are checked on opening, before any command reads
one, so no command meets such a row.
What relocate cannot repair by itself (a folder in its place, no permission, a
newer schema) is a :class:`RelocatorError` saying what to do.

Schema 2 adds ``ejected``: the projects the user ejected, which the service leaves
alone until the user adopts them again; schema 3, ``packages``: what each store venv
held (:mod:`relocator.state.remembered`). An older registry is migrated on opening (its rows
kept). These are what owner records cannot give back: a registry rebuilt has neither.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator

from relocator.errors import Busy, RelocatorError, warn
from relocator.state import remembered
from relocator.state.registryfile import Damaged, check_file, set_aside
from relocator.state.registryfile import kind as sqlite_kind
from relocator.state.rows import (
    Ejected,
    Row,
    decoded,
    ejected_row,
    row_from_record,
    row_of,
    sql_value,
)
from relocator.state.store import Store
from relocator.system import platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

SCHEMA_VERSION = 3
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
_EJECTED = """
CREATE TABLE IF NOT EXISTS ejected (
    key       TEXT PRIMARY KEY,   -- resolver key of a project the user ejected
    path      TEXT NOT NULL,      -- its spelling then
    ejected   REAL NOT NULL       -- when
)
"""
_SCHEMA += _EJECTED + ";" + remembered.SCHEMA
#: Each older schema's step to the next one, run inside the opening transaction.
_MIGRATIONS = {1: _EJECTED, 2: remembered.SCHEMA}
#: Held while a damaged registry is set aside and rebuilt (not a path: no project's key).
_REPAIR_LOCK = "registry"


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.registry_path
        #: How many rows were rebuilt from owner records on opening (None: none were).
        self.rebuilt: Optional[int] = None
        try:
            self.db = self._open()
        except Damaged as e:
            self.db = self._repair(str(e))

    # -- opening, checking, repairing ---------------------------------------

    def _open(self) -> sqlite3.Connection:
        check_file(self.path)
        with self._errors():
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self.db = db
        try:
            with self._errors():
                for pragma in platform.current.sqlite_pragmas():  # a commit survives power loss
                    db.execute(pragma)
                # Read-only first: a file that is not ours is not changed, not even to WAL.
                (verdict,) = db.execute("PRAGMA quick_check(1)").fetchone()
                if verdict != "ok":
                    raise Damaged(f"integrity check: {verdict}")
                if self._tables():
                    self._check_schema()
                self._enter_wal()
                db.execute("BEGIN IMMEDIATE")
                try:
                    self._set_up()
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

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

    def _tables(self) -> set[str]:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {name for (name,) in self.db.execute(query)}

    def _set_up(self) -> None:
        """Inside the opening transaction: fill a new registry, or check (and migrate) an
        existing one."""
        if self._tables():  # (again: another relocate may have just made it)
            version = self._check_schema()
            why = self._packages_damage() if version >= 3 else None
            if why:  # a record of what venvs held, kept for messages: cleared, not fatal
                self.db.execute(f"DROP TABLE IF EXISTS {remembered.TABLE}")
                self.db.execute(remembered.SCHEMA)
                warn(
                    f"the registry's record of what each venv held was damaged ({why}); "
                    "cleared: each is written again as relocate next reads that venv"
                )
            while version < SCHEMA_VERSION:
                self.db.execute(_MIGRATIONS[version])
                version += 1
                self.db.execute("UPDATE schema_version SET version = ?", (version,))
            return
        for statement in _SCHEMA.split(";"):  # a new (or empty) file: nothing to lose
            if statement.strip():
                self.db.execute(statement)
        self.db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        self.rebuilt = self._rebuild()

    def _packages_damage(self) -> Optional[str]:
        """What is wrong with the table of what venvs held (:mod:`relocator.state.remembered`)."""
        columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(packages)"))
        if columns != remembered.FIELDS:
            return "the packages table is missing or has other columns"
        return remembered.damage(self.db.execute(remembered.CHECK).fetchall())

    def _check_schema(self) -> int:
        """The schema version of a registry that is relocator's; raises :class:`Damaged`
        for one that is not (tables missing or of other columns, rows relocate never
        writes)."""
        if "schema_version" not in self._tables():
            raise Damaged("no schema_version table")
        versions = [v for (v,) in self.db.execute("SELECT version FROM schema_version")]
        if len(versions) != 1 or not isinstance(versions[0], int) or versions[0] < 1:
            raise Damaged(f"schema_version holds {versions!r:.40}")
        if versions[0] > SCHEMA_VERSION:
            raise RelocatorError(
                f"the registry {self.path} was made by a newer relocator "
                f"(schema {versions[0]}); upgrade relocate"
            )
        columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(projects)"))
        if columns != Row._fields:
            raise Damaged("the projects table is missing or has other columns")
        for values in self.db.execute("SELECT * FROM projects"):
            fields = dict(zip(Row._fields, decoded(values)))
            if row_from_record(fields.pop("venv"), fields) is None:
                raise Damaged(f"a row of projects is not one relocate writes: {values!r:.80}")
        if versions[0] >= 2:
            columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(ejected)"))
            if columns != Ejected._fields:
                raise Damaged("the ejected table is missing or has other columns")
            for values in self.db.execute("SELECT * FROM ejected"):
                if ejected_row(values) is None:
                    raise Damaged(f"a row of ejected is not one relocate writes: {values!r:.80}")
        return versions[0]

    def _repair(self, reason: str) -> sqlite3.Connection:
        """Set the damaged registry aside and build a new one from the owner records."""
        os.makedirs(self.store.locks, exist_ok=True)
        with self.store.lock(_REPAIR_LOCK, "the registry"):
            try:  # another relocate may have repaired it while this one waited
                return self._open()
            except Damaged as again:
                reason = str(again)
            aside = set_aside(self.path, reason)
            try:
                db = self._open()
            except Damaged as e:  # a new file that is damaged: nothing more to try
                raise RelocatorError(
                    f"the registry {self.path} cannot be rebuilt ({e}); "
                    "check the disk and the store folder"
                ) from None
        with self._in_use():  # (another relocate may have filled the new one first)
            (count,) = db.execute("SELECT count(*) FROM projects").fetchone()
        warn(
            f"the registry {self.path} was damaged ({reason}); set it aside as "
            f"{os.path.basename(aside)} and rebuilt it from the owner records "
            f"({count} project{'' if count == 1 else 's'})"
        )
        return db

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's errors as relocator's: busy, damaged, or a store relocate cannot use."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            if type(e) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # an integrity or programming error: relocator's own bug
            kind = sqlite_kind(e)
            if kind == "busy":
                raise Busy(
                    f"another relocate holds the registry {self.path} "
                    f"(waited {BUSY_TIMEOUT_S:g}s); try again when it is done",
                    self.path,
                ) from None
            if kind == "damaged":
                raise Damaged(str(e)) from None
            if kind == "unusable":
                raise RelocatorError(
                    f"cannot use the registry {self.path} ({e}); "
                    "check the store's permissions and free space"
                ) from None
            raise

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        """Around each use after opening: damage found now means run again."""
        try:
            with self._errors():
                yield
        except Damaged as e:
            raise RelocatorError(
                f"the registry {self.path} is damaged ({e}); run the command again: "
                "relocate sets it aside and rebuilds it from the owner records"
            ) from None

    # -- using it -------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._in_use():
            self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # the error that got here matters
                self.db.execute("ROLLBACK")
            raise
        with self._in_use():
            self.db.execute("COMMIT")

    def get(self, key: str) -> Optional[Row]:
        with self._in_use():
            row = self.db.execute(
                "SELECT * FROM projects WHERE key = ?", (sql_value(key),)
            ).fetchone()
        return row_of(row) if row else None

    def by_venv(self, venv: str) -> Optional[Row]:
        with self._in_use():
            row = self.db.execute(
                "SELECT * FROM projects WHERE venv = ?", (sql_value(venv),)
            ).fetchone()
        return row_of(row) if row else None

    def all(self) -> list[Row]:
        with self._in_use():
            rows = self.db.execute("SELECT * FROM projects ORDER BY path").fetchall()
        return [row_of(r) for r in rows]

    def put(self, row: Row) -> None:
        with self.transaction():
            self._put(row)

    def _put(self, row: Row) -> None:
        with self._in_use():
            self.db.execute(
                "DELETE FROM projects WHERE key = ? OR venv = ?",
                (sql_value(row.key), sql_value(row.venv)),
            )
            self.db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(map(sql_value, row))
            )

    def execute(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """One statement (committed on its own outside :meth:`transaction`), its rows."""
        with self._in_use():
            return [tuple(decoded(r)) for r in self.db.execute(sql, tuple(map(sql_value, params)))]

    def remove(self, key: str) -> None:
        self.execute("DELETE FROM projects WHERE key = ?", key)

    def touch(self, key: str) -> None:
        self.execute("UPDATE projects SET last_seen = ? WHERE key = ?", time.time(), key)

    # -- the projects the user ejected ---------------------------------------------

    def mark_ejected(self, key: str, path: str) -> None:
        """Record that the user ejected the project ``key``, now."""
        self.execute("INSERT OR REPLACE INTO ejected VALUES (?, ?, ?)", key, path, time.time())

    def ejected(self, key: str) -> Optional[Ejected]:
        """The mark of the project ``key``, if the user ejected it."""
        rows = self.execute("SELECT * FROM ejected WHERE key = ?", key)
        return ejected_row(rows[0]) if rows else None

    def all_ejected(self) -> dict[str, Ejected]:
        """Every mark, by key."""
        found = (ejected_row(row) for row in self.execute("SELECT * FROM ejected"))
        return {mark.key: mark for mark in found if mark is not None}

    def unmark_ejected(self, key: str) -> None:
        """Forget that the user ejected the project ``key``."""
        self.execute("DELETE FROM ejected WHERE key = ?", key)

    def rebuild(self) -> int:
        """Replace every row by what the owner records say; return the row count."""
        with self.transaction():
            with self._in_use():
                self.db.execute("DELETE FROM projects")
            return self._rebuild()

    def _rebuild(self) -> int:
        rows = []
        for name in self.store.venv_names():
            row = row_from_record(name, self.store.read_owner(name))
            if row is not None:
                rows.append(row)
        # Oldest first: where two records claim one project, the newest wins.
        rows.sort(key=lambda r: r.created)
        for row in rows:
            self._put(row)
        return len(rows)
