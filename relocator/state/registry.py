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
import math
import os
import shlex
import sqlite3
import stat
import time
from collections.abc import Iterator

from relocator.errors import Busy, RelocatorError, warn
from relocator.records import NamedTuple
from relocator.state import remembered
from relocator.state.store import Store
from relocator.system import platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Union

    SqlValue = Union[str, bytes, float, None]

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
_SIDE_FILES = ("-wal", "-shm", "")  # the main file last: a new one never meets an old WAL
_MAGIC = b"SQLite format 3\0"


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


class Ejected(NamedTuple):
    """A project the user ejected: the service leaves it alone until it is adopted again."""

    key: str
    path: str
    ejected: float

    def reason(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ejected))
        return (
            f"{self.path} was ejected by the user ({when}), so the service leaves it alone; "
            f"`relocate adopt {shlex.quote(self.path)}` relocates it again"
        )


class _Damaged(Exception):
    """The file is not a usable registry: set it aside and rebuild."""


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.registry_path
        #: How many rows were rebuilt from owner records on opening (None: none were).
        self.rebuilt: Optional[int] = None
        try:
            self.db = self._open()
        except _Damaged as e:
            self.db = self._repair(str(e))

    # -- opening, checking, repairing ---------------------------------------

    def _open(self) -> sqlite3.Connection:
        self._check_file()
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
                    raise _Damaged(f"integrity check: {verdict}")
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

    def _check_file(self) -> None:
        """Refuse what SQLite would choke on, block on, or write through."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        except OSError as e:
            raise RelocatorError(f"cannot open the registry {self.path} ({e.strerror})") from None
        if stat.S_ISDIR(st.st_mode):
            what = "a folder"
        elif stat.S_ISLNK(st.st_mode):  # SQLite would create or write what it leads to
            what = "a symlink"
        elif not stat.S_ISREG(st.st_mode):  # a pipe: SQLite would wait on it forever
            what = "not a regular file"
        else:
            what = ""
        if what:
            raise RelocatorError(
                f"the registry {self.path} is {what}, not relocator's database; "
                "move it out of the store and run again"
            )
        if not os.access(self.path, os.R_OK | os.W_OK):
            raise RelocatorError(
                f"cannot read and write the registry {self.path} (permission denied); "
                "give it back to your user (chmod u+rw) or move it away and run again"
            )
        # Not SQLite at all: set aside before SQLite opens it, which would delete a -wal
        # and -shm beside it on closing (the last record of what was in it).
        with open(self.path, "rb") as f:
            head = f.read(len(_MAGIC))
        if head and head != _MAGIC:
            raise _Damaged("file is not a database")

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
        """The schema version of a registry that is relocator's; raises :class:`_Damaged`
        for one that is not (tables missing or of other columns, rows relocate never
        writes)."""
        if "schema_version" not in self._tables():
            raise _Damaged("no schema_version table")
        versions = [v for (v,) in self.db.execute("SELECT version FROM schema_version")]
        if len(versions) != 1 or not isinstance(versions[0], int) or versions[0] < 1:
            raise _Damaged(f"schema_version holds {versions!r:.40}")
        if versions[0] > SCHEMA_VERSION:
            raise RelocatorError(
                f"the registry {self.path} was made by a newer relocator "
                f"(schema {versions[0]}); upgrade relocate"
            )
        columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(projects)"))
        if columns != Row._fields:
            raise _Damaged("the projects table is missing or has other columns")
        for values in self.db.execute("SELECT * FROM projects"):
            fields = dict(zip(Row._fields, _decoded(values)))
            if row_from_record(fields.pop("venv"), fields) is None:
                raise _Damaged(f"a row of projects is not one relocate writes: {values!r:.80}")
        if versions[0] >= 2:
            columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(ejected)"))
            if columns != Ejected._fields:
                raise _Damaged("the ejected table is missing or has other columns")
            for values in self.db.execute("SELECT * FROM ejected"):
                if _ejected(values) is None:
                    raise _Damaged(f"a row of ejected is not one relocate writes: {values!r:.80}")
        return versions[0]

    def _repair(self, reason: str) -> sqlite3.Connection:
        """Set the damaged registry aside and build a new one from the owner records."""
        os.makedirs(self.store.locks, exist_ok=True)
        with self.store.lock(_REPAIR_LOCK, "the registry"):
            try:  # another relocate may have repaired it while this one waited
                return self._open()
            except _Damaged as again:
                reason = str(again)
            aside = self._set_aside(reason)
            try:
                db = self._open()
            except _Damaged as e:  # a new file that is damaged: nothing more to try
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

    def _set_aside(self, reason: str) -> str:
        base = f"{self.path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
        aside, n = base, 1
        while any(os.path.lexists(aside + suffix) for suffix in _SIDE_FILES):
            n += 1
            aside = f"{base}-{n}"
        for suffix in _SIDE_FILES:
            try:
                os.rename(self.path + suffix, aside + suffix)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise RelocatorError(
                    f"the registry {self.path} is damaged ({reason}) and cannot be set aside "
                    f"({e.strerror}); move it out of the store and run again"
                ) from None
        return aside

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's errors as relocator's: busy, damaged, or a store relocate cannot use."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            if type(e) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # an integrity or programming error: relocator's own bug
            kind = _kind(e)
            if kind == "busy":
                raise Busy(
                    f"another relocate holds the registry {self.path} "
                    f"(waited {BUSY_TIMEOUT_S:g}s); try again when it is done",
                    self.path,
                ) from None
            if kind == "damaged":
                raise _Damaged(str(e)) from None
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
        except _Damaged as e:
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
            row = self.db.execute("SELECT * FROM projects WHERE key = ?", (_sql(key),)).fetchone()
        return _row(row) if row else None

    def by_venv(self, venv: str) -> Optional[Row]:
        with self._in_use():
            row = self.db.execute("SELECT * FROM projects WHERE venv = ?", (_sql(venv),)).fetchone()
        return _row(row) if row else None

    def all(self) -> list[Row]:
        with self._in_use():
            rows = self.db.execute("SELECT * FROM projects ORDER BY path").fetchall()
        return [_row(r) for r in rows]

    def put(self, row: Row) -> None:
        with self.transaction():
            self._put(row)

    def _put(self, row: Row) -> None:
        with self._in_use():
            self.db.execute(
                "DELETE FROM projects WHERE key = ? OR venv = ?", (_sql(row.key), _sql(row.venv))
            )
            self.db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(map(_sql, row))
            )

    def execute(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """One statement (committed on its own outside :meth:`transaction`), its rows."""
        with self._in_use():
            return [tuple(_decoded(r)) for r in self.db.execute(sql, tuple(map(_sql, params)))]

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
        return _ejected(rows[0]) if rows else None

    def all_ejected(self) -> dict[str, Ejected]:
        """Every mark, by key."""
        found = (_ejected(row) for row in self.execute("SELECT * FROM ejected"))
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


def row_from_record(name: object, record: object) -> Optional[Row]:
    """The row the owner record of store venv ``name`` (or a row read back) describes, or
    None when it is not a well-formed one."""
    if not isinstance(record, dict) or not _is_name(name):
        return None
    fields = {**record, "venv": name}
    if not set(Row._fields) <= set(fields) <= {*Row._fields, "volume"}:  # missing or unknown
        return None
    if not all(_is_path(fields[f]) for f in ("key", "path")):
        return None
    if not all(v is None or _is_text(v) for v in (fields["python"], fields["provider"])):
        return None
    created, last_seen = _seconds(fields["created"]), _seconds(fields["last_seen"])
    if created is None or last_seen is None:
        return None
    return Row(
        fields["key"],
        fields["path"],
        str(name),
        fields["python"],
        fields["provider"],
        created,
        last_seen,
    )


def _is_text(value: object) -> bool:
    if not isinstance(value, str) or not value or "\0" in value:
        return False
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no file name can hold
        return False
    return True


def _is_name(value: object) -> bool:
    """A store venv's name: one plain file name (never a way out of the store)."""
    return _is_text(value) and "/" not in str(value) and value not in (".", "..")


def _ejected(values: tuple[object, ...]) -> Optional[Ejected]:
    """A row of the ejected table, or None when it is not one relocate writes."""
    key, path, when = _decoded(values)
    seconds = _seconds(when)
    if not (_is_path(key) and _is_path(path)) or seconds is None:
        return None
    return Ejected(str(key), str(path), seconds)


def _is_path(value: object) -> bool:
    return _is_text(value) and os.path.isabs(str(value))


def _seconds(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def _sql(value: object) -> SqlValue:
    """A value as SQLite stores it: a name that is not valid UTF-8 (surrogate escapes
    from the file system) as the bytes it stands for, since SQLite text is UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape")
        return value
    if value is None or isinstance(value, (bytes, float)):
        return value
    if isinstance(value, int):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} in the registry")


def _decoded(values: tuple[object, ...]) -> list[object]:
    """What SQLite gave back, with the bytes of names that are not UTF-8 as text again."""
    return [v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v for v in values]


def _row(values: tuple[object, ...]) -> Row:
    return Row(*_decoded(values))  # type: ignore[arg-type]


def _kind(e: sqlite3.Error) -> str:
    """busy, damaged, unusable (permissions, space, I/O) or other."""
    name = getattr(e, "sqlite_errorname", "") or ""  # Python 3.11+
    text = str(e).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return "busy"
    damage = ("not a database", "malformed", "no such table", "no such column")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or any(m in text for m in damage):
        return "damaged"
    unusable = ("unable to open", "readonly", "disk i/o", "is full", "not authorized")
    codes = ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL")
    if name.startswith((*codes, "SQLITE_AUTH", "SQLITE_NOLFS")) or any(m in text for m in unusable):
        return "unusable"
    return "other"
