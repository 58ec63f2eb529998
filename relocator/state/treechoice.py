"""Which trees ``relocate adopt`` relocates, and why one not there yet is linked ahead.

The trees come from ``--trees`` / ``--no-trees``, else the project's
``[tool.relocator] trees``, else the config's ``trees``; with none of these, a
project that has trees in the store (a bundle, or tree links) keeps asking for
them. Of the trees asked for, one that is not there yet is linked ahead, so that
its tool creates it in the store, when the project configures the tool
(``[tool.mypy]``, ``tox.ini``, ``noxfile.py``...) or when the tool is installed
in the venv: a ``*.dist-info`` of ``pytest``, ``mypy``, ``ruff``, ``tox`` or
``nox`` in its site-packages (read, never imported).
"""

from __future__ import annotations

import contextlib
import os

from relocator.errors import RelocatorError
from relocator.paths import hops, resolver
from relocator.paths.project import pyproject_table, read_pyproject, table
from relocator.state import bundles, inventory
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

NODE_MODULES = "node_modules"
DEFAULT = tuple(t for t in hops.TREES if t != NODE_MODULES)

#: What says a project configures the tool of a tree: files in the project, and tables
#: of its pyproject.toml (``[tool.NAME]``).
_CONFIGURED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ".mypy_cache": (("mypy.ini", ".mypy.ini"), ("mypy",)),
    ".ruff_cache": (("ruff.toml", ".ruff.toml"), ("ruff",)),
    ".pytest_cache": (("pytest.ini", "conftest.py", "tests/conftest.py"), ("pytest",)),
    ".tox": (("tox.ini", "tox.toml"), ("tox",)),
    ".nox": (("noxfile.py",), ()),
    NODE_MODULES: (("package.json",), ()),
}

#: The distribution whose tool makes each tree (PEP 503 names, as inventory.names).
_TOOL = {
    ".mypy_cache": "mypy",
    ".ruff_cache": "ruff",
    ".pytest_cache": "pytest",
    ".tox": "tox",
    ".nox": "nox",
}


def wanted(
    store: Store,
    project: resolver.Resolved,
    asked: Optional[bool],
    node_modules: bool,
    setting: object,
) -> tuple[str, ...]:
    """The trees to relocate in ``project``.

    ``asked`` is ``--trees`` (True) or ``--no-trees`` (False); None defers to the
    project's ``[tool.relocator] trees`` and then to the config's ``trees``
    (``setting``). ``node_modules`` (``--node-modules``) adds that tree. When nothing
    says, a project that has trees in the store keeps them converged and asked for (a
    second machine, a replaced venv, a tool that replaced a link with a folder, a tool
    installed since).
    """
    if asked is False:
        return ()
    root = project.path
    if asked:
        names = DEFAULT
    else:
        mine = pyproject_table(root, "tool", "relocator") or {}
        if "trees" in mine:
            names = parse(mine["trees"], os.path.join(root, "pyproject.toml"))
        else:
            names = parse(setting, "the config file") if setting is not None else ()
    if node_modules:
        names = (*names, NODE_MODULES)
    if not names:
        names = _kept(store, root, bundles.of(store, project.key))
    return tuple(t for t in hops.TREES if t in names)


def _kept(store: Store, root: str, bundle: Optional[str]) -> tuple[str, ...]:
    """What a project with trees keeps asking for: the default trees and any other it
    has in the store (``node_modules``); nothing for a project without."""
    names = set(hops.tree_links(root))
    if bundle is not None:
        with contextlib.suppress(OSError):
            names |= {n for n in os.listdir(bundles.path(store, bundle)) if n in hops.TREES}
    return (*DEFAULT, *sorted(names - set(DEFAULT))) if bundle or names else ()


def parse(value: object, where: str) -> tuple[str, ...]:
    """A ``trees`` setting: true (the default trees), false, or a list of tree names."""
    if value is True:
        return DEFAULT
    if value is False:
        return ()
    if isinstance(value, list) and all(v in hops.TREES for v in value):
        return tuple(value)
    raise RelocatorError(
        f"trees in {where} must be true, false or a list of {', '.join(hops.TREES)} (got {value!r})"
    )


def installed(venv: Optional[str]) -> frozenset[str]:
    """The tools of trees installed in the store venv ``venv`` (by their metadata)."""
    if venv is None or not os.path.isdir(venv):
        return frozenset()
    return frozenset(inventory.names(venv) & set(_TOOL.values()))


def ahead(root: str, name: str, tools: frozenset[str]) -> Optional[str]:
    """Why the absent tree ``name`` of the project at ``root`` is linked ahead
    (``configured: mypy.ini``, ``pytest is installed``), or None when nothing says its
    tool will run there. ``tools`` is :func:`installed`."""
    files, tables = _CONFIGURED[name]
    for found in files:
        if os.path.isfile(os.path.join(root, found)):
            return f"configured: {found}"
    configured = table(read_pyproject(root), "tool") or {}
    for tool in tables:
        if tool in configured:
            return f"configured: [tool.{tool}] in pyproject.toml"
    maker = _TOOL.get(name)
    if maker is not None and maker in tools:
        return f"{maker} is installed in the venv"
    return None
