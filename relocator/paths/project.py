"""Projects: finding the root from any folder inside, the checks a new one passes, its Python
request."""

from __future__ import annotations

import os
import sys

from relocator.errors import NotFound, RelocatorError
from relocator.paths import link, resolver
from relocator.system.files import is_under, read_small

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

#: A version request as ``.python-version`` or ``--python`` spell one: 3.12, cpython@3.12.1, 3.13t.
_VERSION = r"(?:(?:cpython|pypy|graalpy|python|cp|pp)[@-]?)?\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?t?"
#: A version specifier set as ``requires-python`` spells one: >=3.10, ~=3.11.0, >=3.9,<4.
_SPECIFIERS = r"\s*(?:[<>=!~]=?=?\s*\d+(?:\.(?:\d+|\*))*\s*(?:,\s*|$))+"

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", ".venv")


def is_project(folder: str, marker: Optional[str] = None) -> bool:
    markers = MARKERS if marker is None else (*MARKERS, marker)
    if any(os.path.lexists(os.path.join(folder, m)) for m in markers):
        return True
    import glob  # here: `relocate python` imports this module for start_folder alone

    return bool(glob.glob(os.path.join(glob.escape(folder), "requirements*.txt")))


def find_root(path: str, store_venvs: str, marker: Optional[str] = None) -> str:
    """The spelling of the project root at or above ``path``.

    The nearest folder with a project marker (or holding ``marker``: the venv
    ``adopt --name`` names); for a uv workspace member, the workspace root (uv
    keeps one ``.venv`` there).
    """
    start = start_folder(path, store_venvs)
    folder = start
    while not is_project(folder, marker):
        parent = os.path.dirname(folder)
        if parent == folder:
            raise NotFound(
                f"{start} is in no Python project (looked for pyproject.toml, setup.py, "
                "setup.cfg, Pipfile, requirements*.txt or .venv up to /); pass the project folder"
            )
        folder = parent
    return workspace_root(folder) or folder


def start_folder(path: str, store_venvs: str) -> str:
    """The spelling of the folder to look for a project from.

    A path through a project's link (``P/.venv``, ``P/.venv/bin/python``, or an alias
    ``P/venv/bin/python``) resolves into the store or beyond, but it names the project
    ``P``: the look-up starts at the folder holding the link, never inside the store
    (whose parents are no project of the user's). A path through ``P/.venv.nosync`` (the
    folder of the link's machine-local part) names ``P`` too.
    """
    try:
        lexical = os.path.abspath(os.path.expanduser(path))
    except FileNotFoundError:  # os.getcwd() of a deleted folder
        raise NotFound(
            "the current folder no longer exists; cd to an existing folder and run again"
        ) from None
    parts = lexical.split("/")
    if link.HOP in parts[1:]:
        parts = parts[: parts.index(link.HOP, 1)]
        lexical = "/".join(parts) or "/"
    for i in range(len(parts) - 1, 0, -1):
        named = parts[i] in link.NAMES or link.is_alias("/".join(parts[:i]) or "/", parts[i])
        if named and _inside(os.path.realpath("/".join(parts[: i + 1])), store_venvs):
            folder = resolver.spelling("/".join(parts[:i]) or "/")
            if not _inside(folder, store_venvs):
                return folder
    start = resolver.spelling(lexical)
    if not os.path.exists(start):
        raise missing(path)
    if _inside(start, store_venvs):
        raise NotFound(f"{path} is inside relocator's store; pass the project folder")
    return start if os.path.isdir(start) else os.path.dirname(start)


def missing(path: str) -> NotFound:
    """What every command says of a path the user gave that is not there (``path`` as
    typed)."""
    return NotFound(f"{path} does not exist")


def _inside(spelled: str, store_venvs: str) -> bool:
    return is_under(spelled, os.path.realpath(store_venvs))


def check_new(root: str) -> None:
    """Refuse a project folder that a venv of relocator's could not serve safely.

    A ``:`` would split the venv's ``bin`` into two ``PATH`` entries (CPython's
    venv refuses it too); a name that is not UTF-8 cannot exist on macOS volumes,
    nor be stored, printed or activated faithfully.
    """
    if ":" in root:
        raise RelocatorError(
            f"{root} holds a ':', so its .venv/bin cannot be a PATH entry; "
            "rename the folder to relocate it"
        )
    try:
        root.encode("utf-8")
    except UnicodeEncodeError:
        shown = root.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise RelocatorError(
            f"{shown} is not a valid UTF-8 name; rename the folder to relocate it"
        ) from None


def check_store(venvs: str) -> None:
    """Refuse to make or move a venv into a store whose real path holds a ``:``: the
    shell hook activates a venv by that path, and never one that would split PATH."""
    real = os.path.realpath(venvs)
    if ":" in real:
        raise RelocatorError(
            f"the store {real} holds a ':', so no venv in it can be a PATH entry; "
            "set RELOCATOR_HOME to a folder without one"
        )


def python_request(project: str) -> Optional[str]:
    """The project's Python request: ``.python-version``, else ``requires-python``.

    Only a version or a specifier set counts; anything else (a path a repository
    could ship, a name to look up on PATH) is ignored.
    """
    import re

    text = read_small(os.path.join(project, ".python-version"))
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return line if re.fullmatch(_VERSION, line) else None
    spec = (table(read_pyproject(project), "project") or {}).get("requires-python")
    if isinstance(spec, str) and re.fullmatch(_SPECIFIERS, spec):
        return spec.strip()
    return None


def workspace_root(member: str) -> Optional[str]:
    """The uv workspace root that lists ``member`` as a member, if any."""
    folder = os.path.dirname(member)
    while folder != os.path.dirname(folder):
        workspace = _uv_workspace(os.path.join(folder, "pyproject.toml"))
        if workspace is not None:
            if _matches(folder, member, workspace.get("members", [])) and not _matches(
                folder, member, workspace.get("exclude", [])
            ):
                return folder
            return None
        folder = os.path.dirname(folder)
    return None


def _uv_workspace(pyproject: str) -> Optional[dict[str, Any]]:
    return _table_in(pyproject, ("tool", "uv", "workspace"))


def read_pyproject(folder: str) -> dict[str, Any]:
    """The project's ``pyproject.toml`` as data; empty when absent or not valid TOML
    (nested deeper than the parser goes, too: a project's tools report that file)."""
    return _read_toml(os.path.join(folder, "pyproject.toml"))


def pyproject_table(folder: str, *names: str) -> Optional[dict[str, Any]]:
    """The table ``names`` (``"tool", "relocator"``) of the project's ``pyproject.toml``,
    as :func:`table` finds it in :func:`read_pyproject`."""
    return _table_in(os.path.join(folder, "pyproject.toml"), names)


def _table_in(path: str, names: tuple[str, ...]) -> Optional[dict[str, Any]]:
    text = read_small(path, limit=1 << 20)
    # A key is spelled as it is, or with an escape: a file that holds neither the last
    # name nor a backslash has no such table, and is not parsed (the TOML parser costs
    # more than a command with nothing to do may take).
    if text is None or (names[-1] not in text and "\\" not in text):
        return None
    return table(_parsed(text), *names)


def table(data: dict[str, Any], *names: str) -> Optional[dict[str, Any]]:
    """``data[names[0]][names[1]]...`` when each level is a table, else None."""
    for name in names:
        value = data.get(name)
        if not isinstance(value, dict):
            return None
        data = value
    return data


def _read_toml(path: str) -> dict[str, Any]:
    text = read_small(path, limit=1 << 20)
    return {} if text is None else _parsed(text)


def _parsed(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # novermin (3.11+ only: the branch above)
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError):
        return {}


def _matches(root: str, member: str, patterns: Any) -> bool:
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        import glob

        for hit in glob.glob(os.path.join(glob.escape(root), pattern)):
            if os.path.realpath(hit) == member:
                return True
    return False
