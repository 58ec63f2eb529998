"""The shape of relocator's links: the venv's (:mod:`relocator.paths.link`) and each tree's.

::

    NAME                 -> NAME.nosync/NAME      relative: syncs, the same on every machine
    NAME.nosync/         a real folder            never uploaded (iCloud skips a .nosync
                                                  name; marked with the provider's ignore
                                                  xattr for the other clients)
    NAME.nosync/NAME     -> <store>/venvs/<venv>  absolute, machine-local (a tree's:
                                                  <store>/trees/<bundle>/NAME)

The machine-local link carries the tree's own name because build backends and
other walkers skip ``.venv``, ``.tox``, ``node_modules``... by the *name* of an
entry, at any depth, while they follow symlinks: hatchling walks with
``os.walk(followlinks=True)`` and prunes the names of its
``EXCLUDED_DIRECTORIES``, so the old shape's ``.venv.nosync -> <store venv>``
put the whole venv into an sdist. A user's ignore patterns (``.venv/``,
``node_modules/``) match the inner link the same way.

A second machine that receives the project sees ``NAME`` dangling (no
``NAME.nosync`` folder there) and repairs it by making its own folder and inner
link, without changing anything that syncs.

The *old shape* (relocator before this one) is ``NAME -> NAME.nosync`` with
``NAME.nosync`` itself the machine-local symlink. It is still read everywhere,
and :func:`update` converts it under the project's lock, keeping the link
working at every step: ``NAME.relocator-<pid>.nosync/NAME`` is made first and
``NAME`` pointed through it (the *halfway* shape), then the folder is made and
``NAME`` pointed into it, then the staging folder goes. A run killed at any step
leaves a shape the next one recognises and finishes.

What relocator may replace (:func:`in_the_way`): ``NAME`` of one of these
shapes (or a link into the store), and a ``NAME.nosync`` that is absent, a
machine-local link of relocator's (leading into the store, or dead with a
store's shape: an absolute ``.../trees/<bundle>/<tree>``, or ``.../venvs/<venv>`` with
the venv named as relocator names them or in a folder named ``relocator``; another
machine's store or a wiped one), or a real folder holding nothing but
such a link. A folder holding anything else, a file, a link to something that
exists elsewhere, and a dead link of any other shape are never replaced:
relocator did not make them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    #: Given the real path a link leads to, whether a link of relocator's may lead there.
    Ours = Callable[[str], bool]

NOSYNC = ".nosync"
#: The rebuildable trees beyond the venv that ``adopt --trees`` relocates behind the shape
#: (:mod:`relocator.venv.trees`); ``node_modules`` only when asked for.
TREES = (".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox", "node_modules")
#: How relocator names a store venv (:meth:`relocator.state.store.Store.new_venv_name`).
_VENV_NAME = re.compile(r"[a-z0-9-]{1,40}-[0-9a-f]{8}")
TEMP = ".relocator-"  # relocator's temporary names: NAME.relocator-<pid>[.nosync]

# What ``NAME`` reads, when it is relocator's (:func:`shape`).
NEW = "new"  # NAME -> NAME.nosync/NAME
OLD = "old"  # NAME -> NAME.nosync, the hop a symlink (relocator before this shape)
HALFWAY = "halfway"  # NAME -> NAME.relocator-<pid>.nosync/NAME: a conversion under way


def inner(name: str) -> str:
    """What ``name`` reads in the shape: ``name.nosync/name``."""
    return f"{name}{NOSYNC}/{name}"


def shape(root: str, name: str) -> Optional[str]:
    """NEW, OLD or HALFWAY when ``root/name`` reads as relocator's link does, else None."""
    reading = reads(os.path.join(root, name))
    if reading == inner(name):
        return NEW
    if reading == name + NOSYNC:
        return OLD
    if reading is not None and staging_of(reading, name) is not None:
        return HALFWAY
    return None


def staging_of(entry: str, name: str) -> Optional[str]:
    """The folder ``name.relocator-<pid>.nosync`` that ``entry`` names (the folder itself,
    or ``folder/name``), else None."""
    folder, _, rest = entry.partition("/")
    pid = folder[len(name + TEMP) : -len(NOSYNC)]
    ours = folder.startswith(name + TEMP) and folder.endswith(NOSYNC) and pid.isdigit()
    return folder if ours and rest in ("", name) else None


def local_link(root: str, name: str) -> Optional[str]:
    """The machine-local link that ``root/name`` leads through, by its shape."""
    found = shape(root, name)
    if found == OLD:
        return os.path.join(root, name + NOSYNC)
    if found is None:
        return None
    return os.path.join(root, os.path.dirname(reads(os.path.join(root, name)) or ""), name)


def local_ours(path: str, name: str, ours: Ours) -> bool:
    """Whether ``path`` is a machine-local link of relocator's: one to what ``ours`` says is
    relocator's (given the real path), or a dead one to an absolute path of a store's shape:
    ``.../venvs/<slug>-<8 hex>`` (or any venv of this store, or of a store folder named
    ``relocator``) for ``.venv``, ``.../trees/<bundle>/<tree>`` for a tree."""
    target = reads(path)
    if target is None:
        return False
    if os.path.exists(path):
        return ours(os.path.realpath(path))
    if not os.path.isabs(target):
        return False
    parent = os.path.dirname(os.path.normpath(target))
    if name in TREES:
        return os.path.basename(os.path.dirname(parent)) == "trees"
    if os.path.basename(parent) != "venvs":
        return False
    # A store's venv: this store's, one in a folder named relocator (the default store's
    # name), or one named as relocator names them; not a user's /Volumes/X/venvs/x.
    venv = os.path.basename(os.path.normpath(target))
    in_relocator = os.path.basename(os.path.dirname(parent)) == "relocator"
    named = _VENV_NAME.fullmatch(venv) is not None
    return named or in_relocator or ours(os.path.realpath(target))


def temp_link(entry: str, name: str) -> bool:
    """Whether ``entry`` is a temporary link :func:`symlink_replace` makes for ``name``."""
    for base in (name, name + NOSYNC):
        if entry.startswith(base + TEMP) and entry[len(base + TEMP) :].isdigit():
            return True
    return False


def _what(path: str) -> str:
    if os.path.islink(path):
        return f"a symlink to {os.path.realpath(path)}"
    return "a folder" if os.path.isdir(path) else "a file"


def _refused(path: str, what: str) -> str:
    return f"{path} is {what}, not relocator's link; move it away and run again"


def _folder_problem(folder: str, name: str, ours: Ours, others: bool = False) -> Optional[str]:
    """Why the real folder ``folder`` (a ``name.nosync``) is not relocator's: it must hold
    nothing but the machine-local link ``name`` and temporary links (or nothing); with
    ``others``, what else it holds is let be (an eject keeps it)."""
    try:
        entries = sorted(os.listdir(folder))
    except OSError as e:
        return f"{folder} cannot be read ({e.strerror}); move it away and run again"
    for entry in entries:
        path = os.path.join(folder, entry)
        if entry == name:
            if not local_ours(path, name, ours):
                return _refused(path, _what(path))
        elif not others and not (temp_link(entry, name) and os.path.islink(path)):
            shown = entry if entry.isprintable() else repr(entry)
            return _refused(folder, f"a folder that holds {shown}")
    return None


def _hop_problem(root: str, name: str, ours: Ours, others: bool = False) -> Optional[str]:
    """Why ``root/name.nosync`` is not relocator's (None: absent, or relocator's)."""
    path = os.path.join(root, name + NOSYNC)
    if not os.path.lexists(path):
        return None
    if os.path.islink(path):
        return None if local_ours(path, name, ours) else _refused(path, _what(path))
    if os.path.isdir(path):
        return _folder_problem(path, name, ours, others)
    return _refused(path, "a file")


def in_the_way(
    root: str,
    name: str,
    ours: Ours,
    *,
    moving_away: Optional[str] = None,
    others: bool = False,
) -> Optional[str]:
    """Why the link ``root/name`` may not be made (None when it may): ``name`` and
    ``name.nosync`` must each be absent or relocator's (``ours`` says, given a real path,
    what a link of relocator's may lead to); ``moving_away`` is the real path of a folder
    about to leave one of those names. With ``others``, a ``name.nosync`` folder may hold
    more than relocator's link: an eject, which takes only its link out, keeps the rest."""
    path = os.path.join(root, name)
    taken = os.path.lexists(path) and os.path.realpath(path) != moving_away
    if taken and shape(root, name) is None and not leads_to_ours(path, ours):
        return _refused(path, _what(path))
    hop = os.path.join(root, name + NOSYNC)
    if os.path.lexists(hop) and os.path.realpath(hop) == moving_away:
        return None
    return _hop_problem(root, name, ours, others)


def leads_to_ours(path: str, ours: Ours) -> bool:
    return os.path.islink(path) and os.path.exists(path) and ours(os.path.realpath(path))


def owns(root: str, name: str, ours: Ours, others: bool = False) -> bool:
    """Whether ``root/name`` reads as relocator's link and its hop is absent or relocator's.
    The old shape's hop is a symlink: ``NAME -> NAME.nosync`` with ``NAME.nosync`` a real
    folder is the hand-made trick (``mkdir node_modules.nosync; ln -s ...``), the user's,
    unless the folder holds relocator's inner link (a conversion killed halfway)."""
    found = shape(root, name)
    if found is None:
        return False
    hop = os.path.join(root, name + NOSYNC)
    folder = os.path.isdir(hop) and not os.path.islink(hop)
    if found == OLD and folder and not os.path.islink(os.path.join(hop, name)):
        return False
    return _hop_problem(root, name, ours, others) is None


def is_ours(root: str, name: str, ours: Ours) -> bool:
    """Whether ``root/name`` is relocator's link, in any of its shapes, with a hop that is
    absent or relocator's (it may lead nowhere: a second machine, a wiped store)."""
    if not owns(root, name, ours):
        return False
    found = shape(root, name)
    if found != HALFWAY:
        return True
    staging = os.path.dirname(local_link(root, name) or "")
    return not os.path.lexists(staging) or (
        os.path.isdir(staging)
        and not os.path.islink(staging)
        and _folder_problem(staging, name, ours) is None
    )


def tree_links(root: str) -> list[str]:
    """The trees of ``root`` that are relocator's links (any shape), found without a store
    (:func:`tree_ours`), so a second machine (which has no hop yet) sees them too; a
    user's ``node_modules -> node_modules.nosync`` folder is not one."""
    return [n for n in TREES if is_ours(root, n, tree_ours(n))]


def tree_ours(name: str) -> Ours:
    """Where a machine-local link of tree ``name`` leads, by its shape alone (any store):
    an absolute ``.../trees/<bundle>/<name>``."""

    def ours(real: str) -> bool:
        path = os.path.normpath(real)
        bundles = os.path.dirname(os.path.dirname(path))
        return (
            os.path.isabs(path)
            and os.path.basename(path) == name
            and (os.path.basename(bundles) == "trees")
        )

    return ours


def outdated(root: str, names: Iterable[str]) -> list[str]:
    """Those of the links ``names`` in ``root`` that do not have the shape yet: the old
    one, or a conversion that was killed (``NAME`` halfway, or its staging folder left)."""
    try:
        entries = os.listdir(root)
    except OSError:
        return []
    found = []
    for name in names:
        kind = shape(root, name)
        if kind in (OLD, HALFWAY) or (
            kind == NEW and any(staging_of(e, name) == e for e in entries)
        ):
            found.append(name)
    return found


def entries(root: str, name: str) -> list[str]:
    """The symlinks the link ``root/name`` is made of, as far as they are there."""
    hop = os.path.join(root, name + NOSYNC)
    found = [os.path.join(root, name), hop]
    if not os.path.islink(hop):  # never through the old shape's hop, into the store
        found.append(os.path.join(hop, name))
    return [p for p in found if os.path.islink(p)]


def local_paths(name: str) -> tuple[str, ...]:
    """Where, relative to a project, the machine-local link of ``name`` may be (the old
    shape's hop, the shape's inner link)."""
    return (name + NOSYNC, inner(name))


def reads(path: str) -> Optional[str]:
    try:
        return os.readlink(path)
    except OSError:
        return None
