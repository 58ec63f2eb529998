"""What a live venv holds that its project's recipe does not list: the cheap check.

``relocate verify`` builds the recipe to know for sure; this reads it instead, in
milliseconds, for ``doctor``: the names a lock file lists (``[[package]]`` ``name`` in
uv.lock, poetry.lock and pdm.lock; the keys of Pipfile.lock's ``default`` and
``develop``; the requirement lines of requirements*.txt, with what the packages they
name require in the venv, since such a file need not list every dependency) against
the distributions the venv holds (:func:`relocator.inventory.read`). A recipe that is
only a pyproject.toml lists no versions and not every dependency: not checked. The
project's own distribution and the seed packages never count.
"""

from __future__ import annotations

import os
import re

from relocator import inventory, recipes
from relocator.files import read_small
from relocator.project import read_pyproject, table
from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_PACKAGE = re.compile(r'^\[\[package\]\]\s*\n\s*name\s*=\s*"([^"]+)"', re.MULTILINE)
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LOCK_LIMIT = 1 << 26  # a lock file larger than 64 MB is not read
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
    listed = names(project, recipe)
    if listed is None:
        return None
    live = inventory.read(venv)
    unlisted = set(live) - listed - inventory.SEED_PACKAGES
    own = _own_name(project) if unlisted else None  # (pyproject.toml read only now)
    unlisted.discard(own or "")
    if not unlisted:
        return None  # the common case, without reading what each distribution requires
    requires = inventory.requires(venv)
    if recipe.kind == "requirements":  # it need not list the dependencies
        unlisted -= inventory.reached(listed, requires)
    unlisted -= inventory.seeded(requires)
    missing = [live[n] for n in sorted(unlisted)]
    return of(recipe, tuple(missing), venv, requires) if missing else None


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
    if recipe.kind in ("uv", "poetry", "pdm"):
        text = read_small(os.path.join(project, recipe.files[0]), _LOCK_LIMIT)
        return None if text is None else {inventory.normalize(n) for n in _PACKAGE.findall(text)}
    if recipe.kind == "pipenv":
        return _pipfile_lock(os.path.join(project, recipe.files[0]))
    found: set[str] = set()
    for name in recipe.files:
        if not _requirements(project, os.path.join(project, name), found, set()):
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


def _requirements(project: str, path: str, found: set[str], seen: set[str]) -> bool:
    """Add the names a requirements file lists (and those it includes with ``-r``, inside
    the project) to ``found``; False when it cannot be read."""
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
                _requirements(project, target, found, seen)
            continue
        named = re.search(r"#egg=([A-Za-z0-9._-]+)", line)  # a URL or path with #egg=
        if not named and (not line or line.startswith(("#", "-"))):
            continue
        match = named or (None if "://" in line else _REQUIREMENT.match(line))
        if match:
            found.add(inventory.normalize(match.group(1)))
    return True


def _own_name(project: str) -> Optional[str]:
    data = read_pyproject(project)
    for found in (table(data, "project"), table(data, "tool", "poetry")):
        name = (found or {}).get("name")
        if isinstance(name, str):
            return inventory.normalize(name)
    return None
