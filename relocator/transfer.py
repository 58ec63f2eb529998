"""Moving a venv between its project and the store, so that a kill at any instant loses nothing.

On one volume a move is one rename. Across volumes:

1. copy the source into a staging folder beside the destination, and verify
   the copy against the manifest read before it began;
2. rename the source aside (beside itself), so nothing can write into it by
   its name any more, and check that it did not change while it was copied
   (if it did, rename it back: nothing moved);
3. rename the staging folder into place.

Until step 3 the source is the venv; after it, the destination is. The source
set aside is removed only once the link is made. :func:`settle` reads which
of these states a killed run left, completes step 3 when the copy is whole,
and says whether to finish forward or roll back.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Callable, NamedTuple, Optional

from relocator import faults, venvs
from relocator.errors import RelocatorError
from relocator.files import is_under
from relocator.journal import Intent
from relocator.link import LINK, TREES, UV_ENVIRONMENTS, valid_alias
from relocator.store import PROJECT_TEMP_PREFIX, Store

ASIDE = PROJECT_TEMP_PREFIX + "old"  # an adopted venv's source, set aside in the project
PARTIAL = PROJECT_TEMP_PREFIX + "partial"  # an eject's copy on its way into the project

FORWARD = "forward"  # the venv is whole at its destination: finish the job
BACK = "back"  # the venv is whole at its source: undo what was begun


#: Called as a copy across volumes goes on, with the files copied so far and the total.
Copying = Callable[[int, int], None]
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
    :data:`relocator.link.TREES`), ``venv`` is the project's folder of trees in the
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
    clear_dest: Callable[[], None],
) -> None:
    """Move ``where.src`` to ``where.dest``: renamed when ``before`` is None, else copied.

    ``before`` is the source's manifest with times, read by the checks that came
    first. ``clear_dest`` frees the destination name just before the venv takes it.
    Raises :class:`RelocatorError` with nothing moved while the source is still the venv.
    """
    if before is None:
        clear_dest()
        _rename(where.src, where.dest)
    else:
        _copy(where, store, before)
        intent.advance("copied")
        _rename(where.src, where.aside)
        faults.point(f"{intent.op}:aside")
        if venvs.manifest(where.aside, times=True) != before:
            _rename(where.aside, where.src)
            store.discard(where.staging)
            raise _in_use(where.src)
        clear_dest()
        _rename(where.staging, where.dest)
    intent.advance("moved")


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


def _real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def settle(intent: Intent, where: Places, store: Store, clear_dest: Callable[[], None]) -> str:
    """Bring what a killed move left to one whole venv; say where it is (FORWARD or BACK).

    A rename either happened or not. A copy whose source was set aside and whose
    staging folder matches it is completed; a copy that never got that far is
    dropped, and a source set aside goes back to its name.
    """
    copying = intent.get("mode") == "copy"
    if copying and _real_dir(where.staging):
        if _real_dir(where.aside):
            copied = venvs.shapes(venvs.manifest(where.staging))
            if copied == venvs.shapes(venvs.manifest(where.aside)):
                clear_dest()
                _rename(where.staging, where.dest)
                intent.advance("moved")
                return FORWARD
            _rename(where.aside, where.src)
        store.discard(where.staging)
        return BACK
    if _moved(intent, where):
        return FORWARD
    if copying and _real_dir(where.aside) and not os.path.lexists(where.src):
        _rename(where.aside, where.src)
    return BACK


def _moved(intent: Intent, where: Places) -> bool:
    """Whether the venv reached ``dest``: a store venv's name is new, so its presence says
    so; a project's ``.venv`` may be a new one a tool made, so there the source must be gone.
    """
    if not _real_dir(where.dest):
        return False
    return intent.op.startswith("adopt") or not _real_dir(where.src)


def drop_aside(where: Places, store: Store) -> Optional[str]:
    """Remove the source set aside once the venv is whole and linked at ``dest``.

    It was verified against the copy before the copy took its place (in
    :func:`move`, or in :func:`settle`), and nothing has written into it by
    name since. Returns a note when it cannot be removed.
    """
    if not os.path.lexists(where.aside):
        return None
    try:
        store.discard(where.aside)
    except OSError as e:
        return f"could not remove the old copy {where.aside} ({e.strerror}); remove it by hand"
    return None
