"""What a live venv holds that its project's recipe does not list: the cheap check.

``relocate verify`` builds the recipe to know for sure; this reads it instead, in
milliseconds, for ``doctor``: the names a lock file lists (``[[package]]`` ``name`` in
uv.lock, poetry.lock and pdm.lock; the keys of Pipfile.lock's ``default`` and
``develop``; the requirement lines of requirements*.txt, with what the packages they
name require in the venv, since such a file need not list every dependency) against
the distributions the venv holds (:func:`relocator.state.inventory.read`). A requirement
that is a path (``-e .``, ``./libs/foo``) names the distribution the venv installed
from that path (:func:`relocator.state.inventory.sources`). A recipe that is only a
pyproject.toml lists no versions and not every dependency: not checked. The project's
own distribution, anything installed in place from a folder inside the project, and the
seed packages never count.
"""

from __future__ import annotations

import os
import re

from relocator.paths.project import read_pyproject, table
from relocator.records import NamedTuple
from relocator.state import inventory
from relocator.system.files import read_small
from relocator.venv import recipes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_PACKAGE = re.compile(r'^\[\[package\]\]\s*\n\s*name\s*=\s*"([^"]+)"', re.MULTILINE)
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DIRECT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@")  # name @ URL
_EGG = re.compile(r"#egg=([A-Za-z0-9._-]+)")
_EDITABLE = re.compile(r"^(-e|--editable)(\s+|=|(?=[.~/]))")  # -e ., --editable=., -e./x
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tar.bz2", ".tgz")
_LOCK_LIMIT = 1 << 26  # a lock file larger than 64 MB is not read
#: What is said of distributions the recipe lists that its build does not install.
OPTIONAL = "in the recipe as an extra or a group the rebuild does not install"
#: How each tool adds a package to its recipe.
_ADD = {"uv": "uv add", "poetry": "poetry add", "pdm": "pdm add", "pipenv": "pipenv install"}


class Unrecorded(NamedTuple):
    recipe: recipes.Recipe
    missing: tuple[inventory.Distribution, ...]  # in the venv, not in the recipe
    roots: tuple[inventory.Distribution, ...]  # of those, the ones no other one requires

    def add(self) -> str:
        """The command (or, for requirements, the lines) that puts them in the recipe."""
        if self.recipe.kind in _ADD:
            return f"{_ADD[self.recipe.kind]} {' '.join(d.name for d in self.roots)}"
        lines = ", ".join(f"{d.name}=={d.version}" for d in self.roots)
        return f"add {lines} to {self.recipe.files[0]}"


def check(project: str, venv: str) -> Optional[Unrecorded]:
    """What ``venv`` holds that ``project``'s recipe does not list; None when it lists
    everything, or when there is no recipe this can read."""
    recipe = _recipe(project)
    if recipe is None:
        return None
    paths: set[str] = set()
    listed = _names(project, recipe, paths)
    if listed is None:
        return None
    live = inventory.read(venv)
    unlisted = set(live) - listed - inventory.SEED_PACKAGES
    if not unlisted:
        return None  # the common case, without reading what each distribution requires
    own = _own(project, venv, paths)
    unlisted -= own
    if not unlisted:
        return None
    requires = inventory.requires(venv)
    if recipe.kind == "requirements":  # it need not list the dependencies
        unlisted -= inventory.reached(listed | own, requires)
    unlisted -= inventory.seeded(requires)
    missing = [live[n] for n in sorted(unlisted)]
    return of(recipe, tuple(missing), venv, requires) if missing else None


def _own(project: str, venv: str, paths: set[str]) -> set[str]:
    """The project's own distribution (by pyproject.toml's name), every distribution
    installed in place from a folder inside the project (``pip install -e .`` of a
    setup.py-only project, ``-e libs/foo``), and those installed from a path the
    requirements name (``paths``, absolute): none is a package installed by hand."""
    found = {_own_name(project) or ""} - {""}
    inside = os.path.join(os.path.realpath(project), "")
    paths = {os.path.realpath(p) for p in paths}
    for name, (source, editable) in inventory.sources(venv).items():
        path = os.path.realpath(source)
        if path in paths or (editable and os.path.join(path, "").startswith(inside)):
            found.add(name)
    return found


def of(
    recipe: recipes.Recipe,
    missing: tuple[inventory.Distribution, ...],
    venv: str,
    requires: Optional[dict[str, set[str]]] = None,
) -> Unrecorded:
    """``missing`` (distributions of ``venv``), with the ones no other of them requires."""
    requires = requires or inventory.requires(venv)
    needed = {r for d in missing for r in requires.get(d.name, ())}
    roots = [d for d in missing if d.name not in needed] or list(missing)  # a cycle: all
    return Unrecorded(recipe, missing, tuple(roots))


def _recipe(project: str) -> Optional[recipes.Recipe]:
    """The project's recipe when it is a lock file or requirements (looked for first by
    name alone: most projects doctor sees have neither)."""
    try:
        entries = os.listdir(project)
    except OSError:
        return None
    locks = {lock for lock, *_ in recipes.LOCKED.values()}
    if not any(
        e in locks or (e.startswith("requirements") and e.endswith(".txt")) for e in entries
    ):
        return None
    recipe = recipes.find(project)
    return None if recipe is None or recipe.kind == "project" else recipe


def names(project: str, recipe: recipes.Recipe) -> Optional[set[str]]:
    """The normalized names ``recipe`` lists; None when its files cannot be read."""
    return _names(project, recipe, set())


def _names(project: str, recipe: recipes.Recipe, paths: set[str]) -> Optional[set[str]]:
    """:func:`names`, adding to ``paths`` the local paths requirements name instead."""
    if recipe.kind in ("uv", "poetry", "pdm"):
        text = read_small(os.path.join(project, recipe.files[0]), _LOCK_LIMIT)
        return None if text is None else {inventory.normalize(n) for n in _PACKAGE.findall(text)}
    if recipe.kind == "pipenv":
        return _pipfile_lock(os.path.join(project, recipe.files[0]))
    found: set[str] = set()
    for name in recipe.files:
        if not _requirements(project, os.path.join(project, name), (found, paths), set()):
            return None
    return found


def _pipfile_lock(path: str) -> Optional[set[str]]:
    import json

    text = read_small(path, _LOCK_LIMIT)
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    sections = [data.get("default"), data.get("develop")]
    return {inventory.normalize(n) for s in sections if isinstance(s, dict) for n in s}


def _requirements(project: str, path: str, into: tuple[set[str], set[str]], seen: set[str]) -> bool:
    """Add the names a requirements file lists (and those it includes with ``-r``, inside
    the project) to ``into[0]``, and the local paths it names without a name (``-e .``,
    ``./libs/foo``, as pip reads them from the project's folder or the file's) to
    ``into[1]``; False when it cannot be read."""
    if path in seen:
        return True
    seen.add(path)
    text = read_small(path, _LOCK_LIMIT)
    if text is None:
        return False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ", "-r", "--requirement=")):
            included = re.sub(r"^(-r|--requirement)[ =]?", "", line).strip()
            target = os.path.normpath(os.path.join(os.path.dirname(path), included))
            if target.startswith(project + os.sep):
                _requirements(project, target, into, seen)
            continue
        line = _EDITABLE.sub("", line)
        named = _EGG.search(line) or _DIRECT.match(line)  # name @ URL, a URL with #egg=
        if named:
            into[0].add(inventory.normalize(named.group(1)))
        elif line and not line.startswith(("#", "-")):
            _requirement(line, (project, os.path.dirname(path)), into)
    return True


def _requirement(line: str, folders: tuple[str, str], into: tuple[set[str], set[str]]) -> None:
    """A line that is a local path, a ``file:`` URL, another URL (no name), or a name."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    target = (line.split(";", 1)[0].split(maxsplit=1) or [""])[0]
    if not target:
        return
    if target.startswith("file:"):
        into[1].add(os.path.normpath(url2pathname(urlsplit(target).path)))
    elif "://" in target:
        return
    elif target.startswith((".", "/", "~")) or "/" in target or target.endswith(_ARCHIVES):
        target = os.path.expanduser(target)
        into[1].update(os.path.normpath(os.path.join(f, target)) for f in folders)
    else:
        match = _REQUIREMENT.match(line)
        if match:
            into[0].add(inventory.normalize(match.group(1)))


def _own_name(project: str) -> Optional[str]:
    data = read_pyproject(project)
    for found in (table(data, "project"), table(data, "tool", "poetry")):
        name = (found or {}).get("name")
        if isinstance(name, str):
            return inventory.normalize(name)
    return None
