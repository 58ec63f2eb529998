"""What a row of the registry may be: the records (:class:`Row`, :class:`Ejected`), the row
an owner record describes, and the checks that keep out a row relocate could not have
written (a key, path or venv that is NULL, not text, not absolute, or a venv name that is
no plain name; times that are not numbers); names that are not UTF-8 as SQLite keeps them.
"""

from __future__ import annotations

import math
import os
import shlex
import time

from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Union

    SqlValue = Union[str, bytes, float, None]


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


def row_from_record(name: object, record: object) -> Optional[Row]:
    """The row the owner record of store venv ``name`` (or a row read back) describes, or
    None when it is not a well-formed one."""
    if not isinstance(record, dict) or not is_name(name):
        return None
    fields = {**record, "venv": name}
    if not set(Row._fields) <= set(fields) <= {*Row._fields, "volume"}:  # missing or unknown
        return None
    if not all(is_path(fields[f]) for f in ("key", "path")):
        return None
    if not all(v is None or is_text(v) for v in (fields["python"], fields["provider"])):
        return None
    created, last_seen = as_seconds(fields["created"]), as_seconds(fields["last_seen"])
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


def is_text(value: object) -> bool:
    if not isinstance(value, str) or not value or "\0" in value:
        return False
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no file name can hold
        return False
    return True


def is_name(value: object) -> bool:
    """A store venv's name: one plain file name (never a way out of the store)."""
    return is_text(value) and "/" not in str(value) and value not in (".", "..")


def ejected_row(values: tuple[object, ...]) -> Optional[Ejected]:
    """A row of the ejected table, or None when it is not one relocate writes."""
    key, path, when = decoded(values)
    seconds = as_seconds(when)
    if not (is_path(key) and is_path(path)) or seconds is None:
        return None
    return Ejected(str(key), str(path), seconds)


def is_path(value: object) -> bool:
    return is_text(value) and os.path.isabs(str(value))


def as_seconds(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def sql_value(value: object) -> SqlValue:
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


def decoded(values: tuple[object, ...]) -> list[object]:
    """What SQLite gave back, with the bytes of names that are not UTF-8 as text again."""
    return [v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v for v in values]


def row_of(values: tuple[object, ...]) -> Row:
    return Row(*decoded(values))  # type: ignore[arg-type]
