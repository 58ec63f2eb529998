"""Moving a venv between its project and the store, so that a kill at any instant loses nothing.

On one volume a move is one rename. Across volumes (or across two mounts of one
file system, a bind mount, where the rename fails with ``EXDEV``: the journal
record then says ``copy`` before the copy starts):

1. copy the source into a staging folder beside the destination, and verify
   the copy against the manifest read before it began;
2. check again, as late as can be, that the source did not change (its
   manifest with times) and that no live process uses it; then rename the
   source aside (beside itself), so nothing can write into it by its name
   any more;
3. check that the source set aside did not change, and that nothing was made
   at its name since (an installer that looks its path up anew makes a stub
   there: pip's ``makedirs``); if either, put the source back (the stub is
   kept under a name of relocator's, never deleted) and stop: nothing moved;
4. rename the staging folder into place.

Until step 4 the source is the venv; after it, the destination is. The source
set aside is removed only once the link is made. :func:`relocator.venv.settling.settle` reads which
of these states a killed run left, completes step 4 when the copy is whole
and the source set aside still matches it, and says whether to finish
forward or roll back. Whatever a process made meanwhile at a name where the
venv is not (the source's name once it is set aside, the destination's
once it is cleared) is kept under a name of relocator's and reported, never
deleted and never in the way of the next run.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from contextvars import ContextVar

from relocator.errors import RelocatorError, warn
from relocator.paths.hops import TREES
from relocator.paths.link import LINK, UV_ENVIRONMENTS, valid_alias
from relocator.records import NamedTuple
from relocator.state import venvs
from relocator.state.journal import Intent
from relocator.state.store import PROJECT_TEMP_PREFIX, Store
from relocator.system import faults
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    #: Frees the destination name just before the venv takes it (what it returns, a note that
    #: something stayed beside the name, is not the move's concern).
    Clear = Callable[[], object]
    #: Called as a copy across volumes goes on, with the files copied so far and the total.
    Copying = Callable[[int, int], None]

ASIDE = PROJECT_TEMP_PREFIX + "old"  # an adopted venv's source, set aside in the project
PARTIAL = PROJECT_TEMP_PREFIX + "partial"  # an eject's copy on its way into the project



_copying: ContextVar[Optional[Copying]] = ContextVar("relocator_copying", default=None)


@contextlib.contextmanager
def copying_shown(progress: Optional[Copying]) -> Iterator[None]:
    """While the block runs, every copy across volumes reports to ``progress``."""
    token = _copying.set(progress)
    try:
        yield
    finally:
        _copying.reset(token)


class Places(NamedTuple):
    src: str
    dest: str
    staging: str  # beside dest: where a copy is made and verified
    aside: str  # beside src: where the source waits until the link is made


def places(
    store: Store,
    op: str,
    project: str,
    venv: str,
    src: Optional[str] = None,
    *,
    alias: Optional[str] = None,
    tree: Optional[str] = None,
) -> Places:
    """Where an adopt or an eject of store venv ``venv`` moves things; all derived, none trusted.

    An eject puts the venv at the project's ``.venv``, or at its alias ``alias``
    (the name it had before ``adopt --name``). With ``tree`` (one of
    :data:`relocator.paths.hops.TREES`), ``venv`` is the project's folder of trees in the
    store and the move is of that tree (``adopt-tree``, ``eject-tree``)."""
    if tree is not None:
        return _tree_places(store, op, project, venv, tree)
    if op == "adopt":
        source = src or os.path.join(project, LINK)
        if is_under(os.path.dirname(source), project):
            aside = os.path.join(project, ASIDE)
        elif os.path.basename(os.path.dirname(source)) == UV_ENVIRONMENTS:  # uv's central env
            aside = os.path.join(os.path.dirname(source), f"{ASIDE}-{venv}")
        else:
            raise RelocatorError(f"an adopt's source {source} is outside its project {project}")
        return Places(source, store.venv_path(venv), os.path.join(store.tmp, venv), aside)
    if alias is not None and not valid_alias(alias):
        raise RelocatorError(f"an eject's destination {alias!r} is not a name in {project}")
    return Places(
        store.venv_path(venv),
        os.path.join(project, alias or LINK),
        os.path.join(project, PARTIAL),
        os.path.join(store.tmp, venv + ".old"),
    )


def _tree_places(store: Store, op: str, project: str, bundle: str, tree: str) -> Places:
    if tree not in TREES:
        raise RelocatorError(f"{tree!r} is not a tree relocate moves")
    in_project = os.path.join(project, tree)
    in_store = os.path.join(store.trees, bundle, tree)
    if op.startswith("adopt"):
        staging = os.path.join(store.tmp, f"{bundle}@{tree}")
        return Places(in_project, in_store, staging, os.path.join(project, f"{ASIDE}@{tree}"))
    staging = os.path.join(project, f"{PARTIAL}@{tree}")
    return Places(in_store, in_project, staging, os.path.join(store.tmp, f"{bundle}@{tree}.old"))


def move(
    intent: Intent,
    where: Places,
    store: Store,
    before: Optional[venvs.Manifest],
    clear_dest: Clear,
) -> None:
    """Move ``where.src`` to ``where.dest``: renamed when ``before`` is None, else copied.

    ``before`` is the source's manifest with times, read by the checks that came
    first. ``clear_dest`` frees the destination name just before the venv takes it.
    A rename that fails with ``EXDEV`` (a bind mount: one device number, two mounts)
    becomes a copy, journaled as one before it starts. Raises :class:`RelocatorError`
    with nothing moved while the source is still the venv.
    """
    kept: list[str] = []
    if before is None:
        try:
            kept = take_dest(where.src, where, store, clear_dest)
        except _CrossDevice:
            before = venvs.check_copyable(where.src, os.path.dirname(where.staging))
            intent.record["mode"] = "copy"
            intent.advance("copying")
    if before is not None:
        kept = _copy_across(intent, where, store, before, clear_dest)
    intent.advance("moved")
    say_kept([*kept, *stub_at_src(intent, where, store)], "while it was moved")


def _copy_across(
    intent: Intent,
    where: Places,
    store: Store,
    before: venvs.Manifest,
    clear_dest: Clear,
) -> list[str]:
    _copy(where, store, before)
    intent.advance("copied")
    try:  # the last look before the point of no return: keep it short
        if venvs.manifest(where.src, times=True) != before:
            raise _in_use(where.src)
        _unused(where.src)
    except RelocatorError:
        store.discard(where.staging)
        raise
    faults.point(f"{intent.op}:checked")
    _rename(where.src, where.aside)
    faults.point(f"{intent.op}:aside")
    changed = venvs.manifest(where.aside, times=True) != before
    if changed or os.path.lexists(where.src):
        kept = put_back(intent, where, store)
        store.discard(where.staging)
        if kept:
            raise RelocatorError(
                f"a process wrote to {where.src} while relocate moved it; nothing moved: "
                f"{where.src} is as it was, and what was written is kept in "
                f"{', '.join(kept)} (install it again when the venv is idle, then remove that)"
            )
        raise _in_use(where.src)
    return take_dest(where.staging, where, store, clear_dest)


def _unused(src: str) -> None:
    """Raise when a live process uses ``src``: an installer that runs could write into it
    by name once it is set aside. A weak tie does not count (:attr:`ProcessInfo.weak`: an
    activated shell, whose ``.venv`` path keeps working through the link; a process that
    could not be read, which under load is one starting or exiting). Costs one pass over
    the processes (about 0.1 s with a hundred of them, and psutil's import the first
    time)."""
    from relocator.system import processes

    users = [user for user in processes.users([src])[src] if not user.weak]
    if users:
        first, more = users[0], f" and {len(users) - 1} more" if len(users) > 1 else ""
        raise RelocatorError(
            f"pid {first.pid} ({first.name}) uses {src} ({first.why}){more}; "
            "nothing moved: try again when it is idle"
        )


def _copy(where: Places, store: Store, before: venvs.Manifest) -> None:
    progress = _copying.get()
    total = sum(1 for kind, _, _ in before.values() if kind == "file")
    try:
        venvs.copy_tree(
            where.src, where.staging, (lambda n: progress(n, total)) if progress else None
        )
    except BaseException as e:
        store.discard(where.staging)
        if isinstance(e, OSError):
            reason = "not enough space" if e.errno == errno.ENOSPC else e.strerror
            raise RelocatorError(
                f"copying {where.src} to {os.path.dirname(where.staging)} failed ({reason}); "
                "nothing moved"
            ) from None
        raise
    if venvs.shapes(venvs.manifest(where.staging)) != venvs.shapes(before):
        store.discard(where.staging)
        if venvs.manifest(where.src, times=True) != before:
            raise _in_use(where.src)
        raise RelocatorError(f"the copy of {where.src} did not verify; nothing moved")


def _in_use(src: str) -> RelocatorError:
    return RelocatorError(
        f"{src} changed while it was copied (is a process using it?); "
        "nothing moved: try again when it is idle"
    )


def _rename(src: str, dest: str) -> None:
    try:
        os.rename(src, dest)
    except OSError as e:
        raise RelocatorError(f"cannot move {src} to {dest} ({e.strerror})") from None


class _CrossDevice(Exception):
    """A rename between two mounts of one file system (``EXDEV``): nothing moved."""


#: What a rename onto a name that something holds fails with.
_TAKEN = frozenset({errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR})
_TRIES = 5  # a process that makes the name again each time it is freed is still writing


def take_dest(src: str, where: Places, store: Store, clear_dest: Clear) -> list[str]:
    """Rename ``src`` (the source, or its verified copy) to ``where.dest``; return where
    what a process made at ``dest`` meanwhile is kept.

    The first try leaves ``dest`` as it is (an eject's link stays while a bind mount's
    ``EXDEV`` sends the move to a copy: a rename onto a link fails, on one mount, with
    ENOTDIR); then ``dest`` is cleared, and whatever is still there is kept aside.
    """
    kept: list[str] = []
    for attempt in range(_TRIES):
        if attempt:
            clear_dest()
            if os.path.lexists(where.dest):
                kept.append(keep_stub(where.dest, store))
        try:
            os.rename(src, where.dest)
            return kept
        except OSError as e:
            if e.errno == errno.EXDEV and src == where.src:
                raise _CrossDevice from None
            if e.errno not in _TAKEN:
                raise RelocatorError(f"cannot move {src} to {where.dest} ({e.strerror})") from None
    raise RelocatorError(
        f"{where.dest} is made again each time relocate frees it (a process is writing to it); "
        f"nothing is lost: the venv is whole at {src}; stop that process and run relocate again"
    )


def put_back(intent: Intent, where: Places, store: Store) -> list[str]:
    """Rename the source set aside back to its name; return where what a process made at
    that name meanwhile is kept."""
    kept: list[str] = []
    for _ in range(_TRIES):
        if os.path.lexists(where.src):
            kept.append(keep_stub(where.src, store))
            faults.point(f"{intent.op}:stub")
        try:
            os.rename(where.aside, where.src)
            faults.point(f"{intent.op}:back")
            return kept
        except OSError as e:
            if e.errno not in _TAKEN:
                raise RelocatorError(
                    f"cannot move {where.aside} back to {where.src} ({e.strerror}); "
                    f"nothing is lost: the venv is whole at {where.aside}"
                ) from None
    raise RelocatorError(
        f"{where.src} is made again each time relocate frees it (a process is writing to it); "
        f"nothing is lost: the venv is whole at {where.aside}; stop that process and run "
        "relocate again"
    )


STUB = PROJECT_TEMP_PREFIX + "stub"  # what a process made at a name the venv had left


def keep_stub(path: str, store: Store) -> str:
    """Rename what a process made at ``path``, where the venv is not, to a free name of
    relocator's beside it (in the store: in its tmp folder); return that name. It is
    kept, never deleted: it holds what an installer wrote."""
    folder, name = os.path.split(path)
    if is_under(os.path.realpath(folder), os.path.realpath(store.root)):
        base = os.path.join(store.tmp, f"{name}.stub")
    else:
        base = os.path.join(folder, STUB if name == LINK else f"{STUB}@{name}")
    n = 1
    while os.path.lexists(f"{base}-{n}"):
        n += 1
    kept = f"{base}-{n}"
    try:
        os.rename(path, kept)
    except OSError as e:
        raise RelocatorError(
            f"{path} was made by another process while relocate moved it, and cannot be "
            f"moved out of the way ({e.strerror}); move it away and run relocate again"
        ) from None
    return kept


def stub_at_src(intent: Intent, where: Places, store: Store) -> list[str]:
    """Once the venv is at ``dest``, keep aside what a process made at the source's name
    where it would stand in the way of the link (a folder or file, never a link: the
    links are relocator's, or :mod:`relocator.paths.link` judges them)."""
    in_the_way = not intent.op.startswith("adopt") or (
        os.path.dirname(where.src) == intent["project"]
    )
    if not in_the_way or os.path.islink(where.src) or not os.path.lexists(where.src):
        return []
    return [keep_stub(where.src, store)]


def say_kept(kept: list[str], when: str) -> None:
    for path in kept:
        warn(
            f"kept in {path} what a process wrote at the venv's name {when} (the venv did "
            "not get it: if it was an install, run it again; then remove that folder)"
        )


def real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def drop_aside(where: Places, store: Store) -> Optional[str]:
    """Remove the source set aside once the venv is whole and linked at ``dest``.

    It was verified against the copy before the copy took its place (in
    :func:`move`, or in :func:`relocator.venv.settling.settle`), and nothing has written into it by
    name since. Returns a note when it cannot be removed.
    """
    if not os.path.lexists(where.aside):
        return None
    try:
        store.discard(where.aside)
    except OSError as e:
        return f"could not remove the old copy {where.aside} ({e.strerror}); remove it by hand"
    return None
