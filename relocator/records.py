"""``NamedTuple`` without importing :mod:`typing` at run time.

Importing ``typing`` costs about as much as starting Python does, and a command with
nothing to do must answer in little more than that (benchmarks/bench_start.py). So
modules write ``class Found(NamedTuple)`` with this ``NamedTuple``: for mypy it is
``typing.NamedTuple``; at run time it makes the class the same way ``typing`` does (a
:func:`collections.namedtuple` with the annotated fields, their defaults, and the
methods and docstring of the class body), from the standard library's cheapest parts.
Everything else from ``typing`` is for annotations only, under ``if TYPE_CHECKING:``
with ``TYPE_CHECKING = False`` (a name mypy treats as true).
"""

from __future__ import annotations

__all__ = ["NamedTuple"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    import collections

    #: what a class body may not set (typing refuses the same)
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _Maker(type):
        def __new__(cls, name: str, bases: tuple[type, ...], ns: dict[str, object]) -> type:
            if not bases:  # NamedTuple itself, below
                return super().__new__(cls, name, bases, ns)
            if bases != (NamedTuple,):
                raise TypeError("a NamedTuple subclasses NamedTuple alone")
            if "__annotations__" not in ns:  # Python 3.14 defers them, but for this import
                raise TypeError(f"{name}: its module needs `from __future__ import annotations`")
            annotations = dict(ns["__annotations__"])
            fields = list(annotations)
            defaults = [field for field in fields if field in ns]
            if defaults != fields[len(fields) - len(defaults) :]:
                raise TypeError(f"{name}: a field without a default follows one with a default")
            made = collections.namedtuple(
                name, fields, defaults=[ns[f] for f in defaults], module=str(ns["__module__"])
            )
            made.__annotations__ = annotations
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(made, key, value)
            return made

    class NamedTuple(metaclass=_Maker):
        """Subclass it as ``typing.NamedTuple``."""
