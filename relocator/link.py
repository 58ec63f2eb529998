"""The link: ``<project>/.venv`` leading into the store.

Shape: ``.venv -> .venv.nosync`` (relative: the same on every machine, and
the only part a sync engine uploads) and ``.venv.nosync -> <store venv>``
(absolute, machine-local; iCloud never uploads a ``.nosync`` name, and the
File Provider ignore mark covers the other clients). A second machine that
receives the project sees ``.venv`` dangling and can repair it by creating
its own ``.venv.nosync`` without changing anything that syncs.

The rule that protects what sits at these two names lives here: relocator
replaces only a symlink of its own: one leading into the store, or one of
relocator's shape that leads nowhere (``.venv -> .venv.nosync``, or a hop to
an absolute ``.../venvs/<name>``: another machine's store, a wiped one). A
folder, a file, a link to something that exists elsewhere, and a dead link of
any other shape (a loop, a link the user made to a folder since removed) are
never replaced: relocator did not make them, so it does not act on them.

A project whose venv was a folder of another name (``venv``, ``env``: ``relocate
adopt --name venv``) keeps that name as an *alias*, ``venv -> .venv``: relative,
so it syncs like ``.venv``, and every script or editor setting that names
``venv/bin/python`` still works. An alias is found by its shape alone (a symlink
in the project whose target is exactly ``.venv``), so every machine sees it.
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable, NamedTuple, Optional

from relocator import faults, platform
from relocator.errors import RelocatorError

LINK = ".venv"
HOP = ".venv.nosync"
NAMES = (LINK, HOP)
NOSYNC = ".nosync"  # the hop of every link: ``NAME -> NAME.nosync -> <store>``
#: The rebuildable trees beyond the venv that ``adopt --trees`` relocates behind the same
#: two-hop shape (:mod:`relocator.trees`); ``node_modules`` only when asked for.
TREES = (".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox", "node_modules")
UV_ENVIRONMENTS = "environments-v2"  # uv's cache folder of centralized project envs

ABSENT = "absent"  # no .venv
RELOCATED = "relocated"  # resolves to the root of a store venv that is there
DANGLING = "dangling"  # relocator's shape, leading nowhere: a missing hop, another
# machine's store, a wiped store
BROKEN = "broken"  # a link that leads nowhere (or round in a loop) and is not relocator's
IN_PROJECT = "in-project"  # a real venv inside the project (.venv, or what .venv links to)
NOT_VENV = "not-a-venv"  # a real folder without pyvenv.cfg
FILE = "file"  # a regular file (or a pipe, a socket...)
FOREIGN = "foreign"  # a symlink to something that exists elsewhere (or in the store, not a venv)


class LinkState(NamedTuple):
    kind: str
    target: Optional[str]  # the real path .venv leads to


def inspect(root: str, store_venvs: str) -> LinkState:
    link = os.path.join(root, LINK)
    if not os.path.lexists(link):
        return LinkState(ABSENT, None)
    if not os.path.islink(link):
        if os.path.isdir(link):
            return LinkState(IN_PROJECT if is_venv(link) else NOT_VENV, link)
        return LinkState(FILE, link)
    real = os.path.realpath(link)
    if is_store_venv(real, store_venvs):
        return LinkState(RELOCATED if os.path.isdir(real) else DANGLING, real)
    if not os.path.exists(link):  # leads nowhere, or round in a loop
        return LinkState(DANGLING if dead_ours(root, LINK) else BROKEN, real)
    inside = real.startswith(root.rstrip("/") + "/")
    if inside and is_venv(real):
        return LinkState(IN_PROJECT, real)
    return LinkState(FOREIGN, real)


def is_venv(path: str) -> bool:
    """Whether ``path`` is a venv's root: it holds ``pyvenv.cfg``."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def is_store_venv(real: str, store_venvs: str) -> bool:
    """Whether the real path ``real`` names the root of a store venv (there or not)."""
    folder, name = os.path.split(real)
    return (
        folder == os.path.realpath(store_venvs)
        and not name.endswith(".json")
        and (os.path.isdir(real) or not os.path.lexists(real))
    )


def uv_central(real: str) -> bool:
    """Whether ``real`` is an environment in uv's cache (``<cache>/environments-v2/<name>``),
    where uv's ``centralized-project-envs`` preview keeps a project's venv."""
    return os.path.basename(os.path.dirname(real)) == UV_ENVIRONMENTS and is_venv(real)


def valid_alias(name: str) -> bool:
    """Whether ``name`` can be an alias: one plain entry name that is none of the
    link's own names nor one of relocator's temporary names."""
    return (
        name not in ("", ".", "..", *NAMES)
        and "/" not in name
        and "\0" not in name
        and not name.startswith(LINK + ".relocator-")
    )


def aliases(root: str) -> list[str]:
    """The aliases in ``root``: symlinks whose target is exactly ``.venv``."""
    try:
        with os.scandir(root) as entries:
            links = [e.name for e in entries if e.is_symlink() and valid_alias(e.name)]
    except OSError:
        return []
    return sorted(n for n in links if _reads(os.path.join(root, n)) == LINK)


def is_alias(root: str, name: str) -> bool:
    return valid_alias(name) and _reads(os.path.join(root, name)) == LINK


def _reads(path: str) -> Optional[str]:
    try:
        return os.readlink(path)
    except OSError:
        return None


def tree_links(root: str) -> list[str]:
    """The trees of ``root`` that are relocator's links, ``NAME -> NAME.nosync``: found by
    shape alone, like an alias, so a second machine (which has no hop yet) sees them too."""
    return [n for n in TREES if _reads(os.path.join(root, n)) == n + NOSYNC]


def make_alias(root: str, name: str) -> Optional[str]:
    """Make ``root/name -> .venv`` unless it is there; None, or a note saying why not."""
    path = os.path.join(root, name)
    if is_alias(root, name):
        return None
    if os.path.lexists(path):
        return f"{path} is in the way, so the venv is reachable only as .venv"
    try:
        os.symlink(LINK, path)
    except OSError as e:
        return f"could not link {path} to .venv ({e.strerror}); the venv is reachable as .venv"
    return None


def problem(root: str, store_venvs: str, *, moving_away: Optional[str] = None) -> Optional[str]:
    """Why relocator may not link ``root`` (None when it may).

    ``.venv`` and ``.venv.nosync`` must each be absent, relocator's own link, or a dead
    link; ``moving_away`` is the real path of a venv about to leave one of those names.
    The project folder must be writable.
    """
    for name in (LINK, HOP):
        path = os.path.join(root, name)
        if not os.path.lexists(path) or os.path.realpath(path) == moving_away:
            continue
        if not _replaceable(path, root, store_venvs):
            if os.path.islink(path):
                what = f"a symlink to {os.path.realpath(path)}"
            else:
                what = "a folder" if os.path.isdir(path) else "a file"
            return f"{path} is {what}, not relocator's link; move it away and run again"
    if not os.access(root, os.W_OK):
        return f"cannot write in {root} (permission denied): the .venv link goes there"
    return None


def _replaceable(path: str, root: str, store_venvs: str) -> bool:
    return replaceable(path, root, LINK, lambda real: is_store_venv(real, store_venvs))


def replaceable(path: str, root: str, name: str, ours: Callable[[str], bool]) -> bool:
    """Whether ``path``, the link ``root/name`` or its hop, may be replaced: a symlink to
    what ``ours`` says is relocator's (given the real path), ``name -> name.nosync``, or a
    hop of relocator's shape that leads nowhere (:func:`dead_ours`)."""
    if not os.path.islink(path):
        return False
    hop = path.endswith(NOSYNC)
    if not hop and _reads(path) == name + NOSYNC:  # the shape itself; its hop is judged alone
        return True
    if os.path.exists(path):
        return ours(os.path.realpath(path))
    return dead_ours(root, name, hop=hop)


def dead_ours(root: str, name: str, *, hop: bool = False) -> bool:
    """Whether the dead link ``root/name`` (``hop``: ``root/name.nosync``) has relocator's
    shape: ``name -> name.nosync`` whose hop is absent or itself of that shape; a hop to an
    absolute path in a store's ``venvs/`` (a venv) or ``trees/<bundle>/`` (a tree)."""
    if hop:
        target = _reads(os.path.join(root, name + NOSYNC))
        if target is None or not os.path.isabs(target) or os.path.exists(target):
            return False
        parent = os.path.dirname(os.path.normpath(target))
        return (
            os.path.basename(parent) == "venvs"
            if name == LINK
            else os.path.basename(os.path.dirname(parent)) == "trees"
        )
    if _reads(os.path.join(root, name)) != name + NOSYNC:
        return False
    hop_path = os.path.join(root, name + NOSYNC)
    return not os.path.lexists(hop_path) or dead_ours(root, name, hop=True)


def create(root: str, venv: str, store_venvs: str, *, moved_from: Optional[str] = None) -> None:
    """Point ``root/.venv`` at ``venv`` through ``.venv.nosync``; each name replaced atomically.

    Raises :class:`RelocatorError` (changing nothing) when either name holds something
    that is not relocator's own link or a dead one of its shape; ``moved_from`` is where
    the venv was before it moved into the store (a ``.venv -> venv`` that led there is
    replaced too).
    """
    reason = problem(root, store_venvs, moving_away=moved_from)
    if reason:
        raise RelocatorError(reason)
    for name in os.listdir(root):  # temporary links of a run that was killed
        if name.startswith((LINK + ".relocator-", HOP + ".relocator-")):
            path = os.path.join(root, name)
            if os.path.islink(path):
                os.unlink(path)
    two_hop(root, LINK, venv, faults_as="link")


def two_hop(root: str, name: str, target: str, *, faults_as: Optional[str] = None) -> None:
    """``root/name -> name.nosync -> target``: the hop first (marked as not to sync), so
    that ``name`` never leads to a hop that is not there; each replaced atomically.
    ``faults_as`` names the fault points after each step (``link:hop``, ``link:done``)."""
    hop = os.path.join(root, name + NOSYNC)
    symlink_replace(target, hop)
    if faults_as:
        faults.point(f"{faults_as}:hop")
    with contextlib.suppress(OSError):  # a mark the file system refuses is no reason to stop
        platform.current.mark_sync_ignored(hop)
    symlink_replace(name + NOSYNC, os.path.join(root, name))
    if faults_as:
        faults.point(f"{faults_as}:done")


def remove_two_hop(root: str, name: str) -> None:
    """Remove ``root/name`` and ``root/name.nosync`` where they are symlinks (never a folder)."""
    for entry in (name, name + NOSYNC):
        path = os.path.join(root, entry)
        if os.path.islink(path):
            os.unlink(path)


def remove(root: str, alias: Optional[str] = None) -> None:
    """Remove ``.venv`` and ``.venv.nosync`` where they are symlinks (never a folder), and
    the alias ``alias`` where it is one."""
    remove_two_hop(root, LINK)
    if alias is not None and is_alias(root, alias):
        os.unlink(os.path.join(root, alias))


def symlink_replace(target: str, path: str) -> None:
    tmp = f"{path}.relocator-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise
