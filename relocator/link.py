"""The link: ``<project>/.venv`` leading into the store.

Shape: ``.venv -> .venv.nosync`` (relative: the same on every machine, and
the only part a sync engine uploads) and ``.venv.nosync -> <store venv>``
(absolute, machine-local; iCloud never uploads a ``.nosync`` name, and the
File Provider ignore mark covers the other clients). A second machine that
receives the project sees ``.venv`` dangling and can repair it by creating
its own ``.venv.nosync`` without changing anything that syncs.
"""

from __future__ import annotations

import contextlib
import os
from typing import NamedTuple, Optional

from relocator import platform

LINK = ".venv"
HOP = ".venv.nosync"

ABSENT = "absent"  # no .venv
RELOCATED = "relocated"  # resolves into the store, and the venv is there
DANGLING = "dangling"  # leads into the store (or to a missing .venv.nosync): nothing there
IN_PROJECT = "in-project"  # a real venv inside the project (.venv, or what .venv links to)
NOT_VENV = "not-a-venv"  # a real folder without pyvenv.cfg
FILE = "file"  # a regular file
FOREIGN = "foreign"  # a symlink to anywhere else


class LinkState(NamedTuple):
    kind: str
    target: Optional[str]  # the real path .venv leads to


def inspect(root: str, store_venvs: str) -> LinkState:
    link = os.path.join(root, LINK)
    if not os.path.lexists(link):
        return LinkState(ABSENT, None)
    if not os.path.islink(link):
        if os.path.isdir(link):
            is_venv = os.path.isfile(os.path.join(link, "pyvenv.cfg"))
            return LinkState(IN_PROJECT if is_venv else NOT_VENV, link)
        return LinkState(FILE, link)
    real = os.path.realpath(link)
    if real.startswith(os.path.realpath(store_venvs) + os.sep):
        return LinkState(RELOCATED if os.path.isdir(real) else DANGLING, real)
    if real == os.path.join(root, HOP) and not os.path.lexists(real):
        return LinkState(DANGLING, real)
    if real.startswith(root + os.sep) and os.path.isfile(os.path.join(real, "pyvenv.cfg")):
        return LinkState(IN_PROJECT, real)
    return LinkState(FOREIGN, real)


def create(root: str, venv: str) -> None:
    """Point ``root/.venv`` at ``venv`` through ``.venv.nosync``; each name replaced atomically."""
    for name in os.listdir(root):  # temporary links of a run that was killed
        if name.startswith((LINK + ".relocator-", HOP + ".relocator-")):
            path = os.path.join(root, name)
            if os.path.islink(path):
                os.unlink(path)
    hop = os.path.join(root, HOP)
    _symlink_replace(venv, hop)
    platform.current.mark_sync_ignored(hop)
    _symlink_replace(HOP, os.path.join(root, LINK))


def remove(root: str) -> None:
    """Remove ``.venv`` and ``.venv.nosync`` where they are symlinks (never a folder)."""
    for name in (LINK, HOP):
        path = os.path.join(root, name)
        if os.path.islink(path):
            os.unlink(path)


def _symlink_replace(target: str, path: str) -> None:
    tmp = f"{path}.relocator-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise
