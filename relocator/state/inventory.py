"""What a venv holds: its distributions, by name and version, and how two venvs differ.

Everything is read from the metadata folders in the venv's site-packages (the
``*.dist-info`` and ``*.egg-info`` folders pip, uv and the installers they stand for
write); nothing in the venv is imported or run. Names are normalized as PEP 503 says
(``Foo_Bar`` is ``foo-bar``), so the name a lock file spells and the name a
metadata folder spells compare equal.

This is what a replacement checks before it retires a venv (the packages the new one
lacks), what the registry remembers of a venv (so that a venv the system deleted is
named by what it held), and what ``relocate verify`` compares.
"""

from __future__ import annotations

import os
import re

from relocator.records import NamedTuple
from relocator.state.venvs import site_packages
from relocator.system.files import read_small

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Optional, Union

#: What a venv holds before anything is installed in it.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel", "distribute"})
_METADATA = ("dist-info", "egg-info")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class Distribution(NamedTuple):
    name: str  # PEP 503 normalized
    version: str  # as its metadata spells it; "" when it has none
    editable: bool = False  # installed from a folder in place (PEP 660, or an egg-info one)


class Difference(NamedTuple):
    """How the venv ``new`` differs from the venv ``old``, seed packages left out."""

    lost: tuple[Distribution, ...]  # in old, not in new: a replacement would lose them
    gained: tuple[Distribution, ...]  # in new, not in old
    changed: tuple[tuple[Distribution, Distribution], ...]  # (old, new): another version

    def __bool__(self) -> bool:
        return bool(self.lost or self.gained or self.changed)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(venv: str) -> set[str]:
    """The names of the distributions installed in ``venv``, from the folders' names alone."""
    found: set[str] = set()
    for sp in site_packages(venv):
        found |= installed(sp)
    return found


def installed(site: str) -> set[str]:
    """The names of the distributions in the site-packages folder ``site``."""
    return {
        re.sub(r"[-_.]+", "-", stem.split("-", 1)[0]).lower() for stem, _ in _metadata_folders(site)
    }


def has_packages(venv: str) -> bool:
    """Whether anything beyond the seed packages (pip, setuptools, wheel) is installed."""
    return bool(names(venv) - SEED_PACKAGES)


def read(venv: str) -> dict[str, Distribution]:
    """Every distribution installed in ``venv``, by normalized name."""
    return {dist.name: dist for dist, _, _ in _each(venv)}


def compare(old: Mapping[str, Distribution], new: Mapping[str, Distribution]) -> Difference:
    """How ``new`` differs from ``old``. An editable install is the same distribution
    whatever version its metadata gives (the project's own code, built in place)."""
    lost, gained, changed = [], [], []
    for name in sorted(set(old) | set(new)):
        if name in SEED_PACKAGES:
            continue
        before, after = old.get(name), new.get(name)
        if after is None and before is not None:
            lost.append(before)
        elif before is None and after is not None:
            gained.append(after)
        elif before is not None and after is not None and before.version != after.version:
            editable = before.editable or after.editable  # the project's own code, in place
            changed += [] if editable else [(before, after)]
    return Difference(tuple(lost), tuple(gained), tuple(changed))


def differ(old: str, new: str) -> Difference:
    """How the venv ``new`` differs from the venv ``old`` (:func:`compare`), leaving out
    too what each has only for its seed packages (:func:`seeded`): two venvs made by
    different tools are seeded differently."""
    difference = compare(read(old), read(new))
    here, there = seeded(requires(old)), seeded(requires(new))
    return difference._replace(
        lost=tuple(d for d in difference.lost if d.name not in here),
        gained=tuple(d for d in difference.gained if d.name not in there),
    )


def held(venv: str) -> dict[str, Distribution]:
    """What ``venv`` holds beyond its seed packages and what only they need
    (:func:`seeded`): what a rebuild is to give back."""
    extra = SEED_PACKAGES | seeded(requires(venv))
    return {name: dist for name, dist in read(venv).items() if name not in extra}


def versions(changed: tuple[tuple[Distribution, Distribution], ...]) -> str:
    """``b 1.0 (now 2.0), c 3 (now 4)`` for a message."""
    return ", ".join(f"{o.name} {o.version} (now {n.version})" for o, n in changed)


def spell(dists: Union[tuple[Distribution, ...], list[Distribution]]) -> str:
    """``a 1.0, b 2.1`` for a message."""
    return ", ".join(f"{d.name} {d.version}".rstrip() for d in dists)


def to_pairs(dists: Mapping[str, Distribution]) -> dict[str, str]:
    """``{name: version}``; an editable install's version is ``editable``."""
    return {n: ("editable" if d.editable else d.version) for n, d in sorted(dists.items())}


def from_pairs(pairs: Mapping[str, str]) -> dict[str, Distribution]:
    """The inverse of :func:`to_pairs`."""
    return {
        n: Distribution(n, "" if v == "editable" else v, v == "editable") for n, v in pairs.items()
    }


def requires(venv: str) -> dict[str, set[str]]:
    """The names each distribution of ``venv`` requires (``Requires-Dist``, or an
    egg-info's ``requires.txt``), whatever the markers and extras say."""
    found: dict[str, set[str]] = {}
    for dist, folder, kind in _each(venv):
        if kind == "dist-info":
            lines = _header_lines(os.path.join(folder, "METADATA"), "requires-dist")
        else:
            text = read_small(os.path.join(folder, "requires.txt")) or ""
            lines = [x for x in text.splitlines() if x.strip() and not x.startswith("[")]
        matches = [_NAME.match(x) for x in lines]
        found[dist.name] = {normalize(m[0]) for m in matches if m is not None}
    return found


def reached(starts: set[str], requires: Mapping[str, set[str]]) -> set[str]:
    """``starts`` and every name they require, and those require, and so on."""
    found, todo = set(starts), list(starts)
    while todo:
        for name in requires.get(todo.pop(), ()):
            if name not in found:
                found.add(name)
                todo.append(name)
    return found


def seeded(requires: Mapping[str, set[str]]) -> set[str]:
    """The distributions of a venv (``requires``: :func:`requires` of it) there only for
    the seed packages: ``packaging``, which ``wheel`` requires, in a venv ``uv venv
    --seed`` made. They count no more than the seed packages do."""
    for_seeds = reached(set(SEED_PACKAGES & set(requires)), requires)
    others = reached(set(requires) - for_seeds, requires)  # what the rest needs
    return for_seeds - SEED_PACKAGES - others


def _header_lines(path: str, key: str) -> list[str]:
    found = []
    for line in (read_small(path, 1 << 20) or "").splitlines():
        if not line.strip():
            break  # the body starts
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == key:
            found.append(value.strip())
    return found


def modules(venv: str, wanted: Optional[set[str]] = None) -> dict[str, list[str]]:
    """The top-level modules each distribution of ``venv`` (those named in ``wanted``, by
    normalized name; None: all but the seed packages) installs: from its
    ``top_level.txt``, else from the paths its ``RECORD`` lists. A distribution that names
    none (an editable install that only adds a ``.pth``) maps to an empty list."""
    found: dict[str, list[str]] = {}
    for dist, folder, _ in _each(venv):
        if dist.name not in SEED_PACKAGES if wanted is None else dist.name in wanted:
            found[dist.name] = sorted(_top_level(folder))
    return found


def _top_level(folder: str) -> set[str]:
    listed = read_small(os.path.join(folder, "top_level.txt"))
    if listed is not None:
        names = {line.strip().replace("/", ".") for line in listed.splitlines()}
        return {n for n in names if _importable(n)}
    found: set[str] = set()
    for row in (read_small(os.path.join(folder, "RECORD"), 1 << 22) or "").splitlines():
        path = row.split(",", 1)[0].strip('"')
        first, sep, _rest = path.partition("/")
        if not sep:  # a module at the top: demo.py, _speedups.cpython-312-x86_64-linux-gnu.so
            stem, dot, ext = first.partition(".")
            first = stem if dot and ext.rsplit(".", 1)[-1] in ("py", "so", "pyd") else ""
        if first.endswith((".dist-info", ".data", ".egg-info")):
            continue
        if _importable(first):
            found.add(first)
    return found


def _importable(name: str) -> bool:
    """A name ``import`` takes, that is not an installer's helper (``__editable__...``)."""
    return name.isidentifier() and not name.startswith("__") and name != "__pycache__"


def _each(venv: str) -> Iterator[tuple[Distribution, str, str]]:
    """(distribution, its metadata folder, ``dist-info`` or ``egg-info``) for each
    distribution of ``venv``, the first of a name only (as Python's import finds it)."""
    seen: set[str] = set()
    for sp in site_packages(venv):
        for stem, kind in _metadata_folders(sp):
            folder = os.path.join(sp, f"{stem}.{kind}")
            dist = _distribution(folder, stem, kind)
            if dist is not None and dist.name not in seen:
                seen.add(dist.name)
                yield dist, folder, kind


def _metadata_folders(site: str) -> list[tuple[str, str]]:
    try:
        entries = os.listdir(site)
    except OSError:
        return []
    found = []
    for entry in sorted(entries):
        stem, dot, kind = entry.rpartition(".")
        if dot and stem and kind in _METADATA:
            found.append((stem, kind))
    return found


def _distribution(folder: str, stem: str, kind: str) -> Optional[Distribution]:
    name, _, version = stem.partition("-")
    version = version.split("-", 1)[0]  # an egg-info's name-1.0-py3.12
    editable = kind == "egg-info" and not version  # a `setup.py develop` in place
    if not version or not name:
        meta = _headers(os.path.join(folder, "METADATA" if kind == "dist-info" else "PKG-INFO"))
        name = meta.get("name", name)
        version = meta.get("version", version)
    if not name:
        return None
    if kind == "dist-info":
        editable = (_direct_url(folder) or ("", False))[1]
    return Distribution(normalize(name), version, editable)


def _headers(path: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in (read_small(path, 1 << 13) or "").splitlines():
        if not line.strip():
            break  # the body starts
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version"):
            headers.setdefault(key.lower(), value.strip())
    return headers


def sources(venv: str) -> dict[str, tuple[str, bool]]:
    """Each distribution of ``venv`` installed from a local folder or file (its
    ``direct_url.json`` gives a ``file:`` URL: ``pip install -e .``, ``pip install
    ./libs/foo``), by normalized name: (that path, whether it is installed in place)."""
    found: dict[str, tuple[str, bool]] = {}
    for dist, folder, kind in _each(venv):
        source = _direct_url(folder) if kind == "dist-info" else None
        if source is not None and source[0]:
            found[dist.name] = source
    return found


def _direct_url(folder: str) -> Optional[tuple[str, bool]]:
    """(the local path of its ``file:`` URL, else "", whether it is editable) from a
    dist-info's ``direct_url.json``; None without one."""
    import json
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    try:
        data = json.loads(read_small(os.path.join(folder, "direct_url.json")) or "null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    url, info = urlsplit(str(data.get("url", ""))), data.get("dir_info")
    path = os.path.normpath(url2pathname(url.path)) if url.scheme == "file" and url.path else ""
    return path, isinstance(info, dict) and info.get("editable") is True
