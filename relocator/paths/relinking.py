"""Making, converting and removing relocator's links, in the shape :mod:`relocator.paths.hops`
reads (``NAME -> NAME.nosync/NAME -> <store>``): each name replaced atomically, a link that
works kept working at every step, only relocator's own links ever removed, and what a killed
run left cleaned up by the next.
"""

from __future__ import annotations

import contextlib
import os

from relocator.errors import RelocatorError
from relocator.paths.hops import (
    NOSYNC,
    OLD,
    TEMP,
    in_the_way,
    inner,
    leads_to_ours,
    local_link,
    local_ours,
    outdated,
    owns,
    reads,
    shape,
    staging_of,
    temp_link,
)
from relocator.system import faults, platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from relocator.paths.hops import Ours


def two_hop(root: str, name: str, target: str, *, faults_as: Optional[str] = None) -> None:
    """``root/name -> name.nosync/name -> target``, from whatever of relocator's is there
    (nothing, a dead link, a link to another store venv, the old shape, a conversion
    killed halfway). A link that works keeps working at every step; each name is replaced
    atomically. ``faults_as`` names the fault points (``link:hop``, ``link:done``...)."""
    path, hop = os.path.join(root, name), os.path.join(root, name + NOSYNC)

    def step(what: str) -> None:
        if faults_as:
            faults.point(f"{faults_as}:{what}")

    if shape(root, name) == OLD and os.path.islink(hop) and os.path.exists(path):
        # The hop is about to become a folder: lead through a staging folder meanwhile.
        staging = f"{name}{TEMP}{os.getpid()}{NOSYNC}"
        _clear_staging(os.path.join(root, staging), name)
        os.mkdir(os.path.join(root, staging))
        _mark(os.path.join(root, staging))
        os.symlink(target, os.path.join(root, staging, name))
        step("staged")
        symlink_replace(f"{staging}/{name}", path)
        step("through-staging")
    if os.path.islink(hop):
        os.unlink(hop)
    if not os.path.lexists(hop):
        os.mkdir(hop)
    _mark(hop)
    symlink_replace(target, os.path.join(hop, name))
    step("hop")
    if reads(path) != inner(name):  # a second machine's link stays as it synced
        symlink_replace(inner(name), path)
    step("done")
    _clean(root, name)


def update(root: str, name: str, ours: Ours, *, faults_as: Optional[str] = None) -> bool:
    """Bring the working link ``root/name`` from the old shape (or a conversion killed
    halfway) to the shape, leading where it leads now; whether there was anything to do.
    Call it under the project's lock. Raises :class:`RelocatorError` (changing nothing)
    when ``name.nosync`` is something of someone else's (:func:`in_the_way`)."""
    if name not in outdated(root, [name]):
        return False
    reason = in_the_way(root, name, ours)
    if reason:
        raise RelocatorError(reason)
    local = local_link(root, name)
    target = reads(local) if local else None
    if local is None or target is None or not os.path.exists(local):
        return False  # leads nowhere: not a conversion's to mend, a repair's
    if not os.path.isabs(target):
        target = os.path.realpath(local)
    two_hop(root, name, target, faults_as=faults_as)
    return True


def _mark(path: str) -> None:
    with contextlib.suppress(OSError):  # a mark the file system refuses is no reason to stop
        platform.current.mark_sync_ignored(path)


def _clear_staging(folder: str, name: str) -> None:
    """Remove the staging folder ``folder`` of ``name`` when it holds only links of
    relocator's (never anything else; never while ``name`` leads through it)."""
    if not os.path.isdir(folder) or os.path.islink(folder):
        return
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if not os.path.islink(path) or not (entry == name or temp_link(entry, name)):
            return
    for entry in os.listdir(folder):
        os.unlink(os.path.join(folder, entry))
    os.rmdir(folder)


def _clean(root: str, name: str) -> None:
    """Remove what a killed run left for ``name`` in ``root``: temporary links, and
    staging folders ``name`` no longer leads through."""
    reading = reads(os.path.join(root, name)) or ""
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        if temp_link(entry, name) and os.path.islink(path):
            os.unlink(path)
        elif staging_of(entry, name) == entry and staging_of(reading, name) != entry:
            _clear_staging(path, name)
    hop = os.path.join(root, name + NOSYNC)
    if os.path.isdir(hop) and not os.path.islink(hop):
        for entry in os.listdir(hop):
            if temp_link(entry, name) and os.path.islink(os.path.join(hop, entry)):
                os.unlink(os.path.join(hop, entry))


def remove_hop(root: str, name: str, ours: Ours) -> Optional[str]:
    """Remove the machine-local part of ``root/name``: the old shape's hop link, or the
    inner link and then the ``name.nosync`` folder when nothing else is in it (a note
    says what stayed). Only links of relocator's (``ours``, :func:`local_ours`): never
    anything of someone else's, never through a symlink."""
    hop = os.path.join(root, name + NOSYNC)
    if os.path.islink(hop):
        if not local_ours(hop, name, ours):
            return f"kept {hop}: it leads to {os.path.realpath(hop)}, not into the store"
        os.unlink(hop)
    elif os.path.isdir(hop):
        for entry in os.listdir(hop):
            path = os.path.join(hop, entry)
            mine = local_ours(path, name, ours) if entry == name else temp_link(entry, name)
            if os.path.islink(path) and mine:
                os.unlink(path)
        left = sorted(os.listdir(hop))
        if left:
            shown = ", ".join(e if e.isprintable() else repr(e) for e in left)
            return f"kept {hop}: it holds {shown}, which relocator did not put there"
        os.rmdir(hop)
    _clean(root, name)
    return None


def remove_two_hop(root: str, name: str, ours: Ours) -> Optional[str]:
    """Remove ``root/name`` where it is relocator's link (never a folder, never a user's
    ``NAME -> NAME.nosync`` folder), then its machine-local part (:func:`remove_hop`);
    None, or a note saying what stayed."""
    path = os.path.join(root, name)
    if not os.path.islink(path):
        return remove_hop(root, name, ours)
    if not (owns(root, name, ours, others=True) or leads_to_ours(path, ours)):
        return None  # someone else's link: it and what it leads through stay
    os.unlink(path)
    return remove_hop(root, name, ours)


def symlink_replace(target: str, path: str) -> None:
    tmp = f"{path}{TEMP}{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise
