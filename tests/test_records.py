"""relocator.records.NamedTuple makes the class typing.NamedTuple makes, without typing."""

from __future__ import annotations

import pickle
import subprocess
import sys
import typing

import pytest

from relocator import records


class Mine(records.NamedTuple):
    """A record."""

    name: str
    size: int = 0
    note: typing.Optional[str] = None

    def doubled(self) -> int:
        return self.size * 2

    @property
    def label(self) -> str:
        return f"{self.name}:{self.size}"


class Theirs(typing.NamedTuple):
    """A record."""

    name: str
    size: int = 0
    note: typing.Optional[str] = None

    def doubled(self) -> int:
        return self.size * 2

    @property
    def label(self) -> str:
        return f"{self.name}:{self.size}"


def test_the_same_class_as_typing_makes() -> None:
    mine, theirs = Mine("a", 2), Theirs("a", 2)
    assert mine == theirs == ("a", 2, None)
    assert repr(mine) == "Mine(name='a', size=2, note=None)"
    assert Mine._fields == Theirs._fields == ("name", "size", "note")
    assert Mine._field_defaults == Theirs._field_defaults == {"size": 0, "note": None}
    assert Mine.__doc__ == Theirs.__doc__ == "A record."
    assert Mine.__module__ == Theirs.__module__ == __name__
    assert Mine.__qualname__ == "Mine"
    assert Mine.__mro__ == (Mine, tuple, object)
    assert mine._replace(note="n") == ("a", 2, "n")
    assert mine._asdict() == theirs._asdict() == {"name": "a", "size": 2, "note": None}
    assert (mine.doubled(), mine.label) == (theirs.doubled(), theirs.label) == (4, "a:2")
    assert list(Mine.__annotations__) == ["name", "size", "note"]
    assert pickle.loads(pickle.dumps(mine)) == mine  # noqa: S301 (our own bytes)
    with pytest.raises(TypeError):
        Mine()  # type: ignore[call-arg]


def test_refuses_what_typing_refuses() -> None:
    with pytest.raises(TypeError, match="follows one with a default"):

        class Bad(records.NamedTuple):
            first: int = 0
            second: int  # type: ignore[misc]

    with pytest.raises(AttributeError, match="_asdict"):

        class Overwrites(records.NamedTuple):
            name: str

            def _asdict(self) -> dict[str, str]:  # type: ignore[override]
                return {}


def test_the_core_imports_no_typing() -> None:
    """Every module but the typer CLI's, imported with typing made unimportable."""
    code = (
        "import importlib, pkgutil, sys; import relocator\n"
        "names = [m.name for m in pkgutil.walk_packages(relocator.__path__, 'relocator.')]\n"
        "sys.modules['typing'] = None\n"
        "for name in sorted(names):\n"
        "    if not name.startswith(('relocator.cli.cli', 'relocator.__')):\n"
        "        importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-800:]
