"""``relocate scan``: what in the synced folders a sync engine tracks for nothing.

A scan walks each root (by default the sync roots under ``$HOME``) and reports
every rebuildable tree in it, with what it costs the sync engine: its file
count (each file is one item to track) and bytes.

- **Kinds.** A venv is a folder holding ``pyvenv.cfg``; ``node_modules``,
  ``__pycache__``, ``.tox``, ``.nox``, ``.mypy_cache``, ``.ruff_cache``,
  ``.pytest_cache`` and ``*.egg-info`` go by their name alone. ``build`` and
  ``dist`` count only beside a project marker (``pyproject.toml``, ``setup.py``,
  ``setup.cfg``): a folder named ``build`` is as often a user's own (a site's
  output, a typeset document) as a setuptools leftover, and a scan must not
  call that rebuildable.
- **What counts.** Every entry below a tree that is not a folder (files and
  symlinks alike: the sync engine tracks both) is a file; bytes are the sum of
  their ``lstat`` sizes. Folders themselves are not counted.
- **One row per tree.** A scan never descends into a tree it found: a venv's
  ``__pycache__`` folders are part of the venv's count, a ``.tox`` is one row
  however many venvs it holds, a nested ``node_modules`` is part of the outer.
- **Relocated venvs.** A project's ``.venv`` that leads into the store (or is
  relocator's link with its hop missing or dead: another machine's project, a
  wiped store) keeps only the link in the synced tree: its row counts the links
  (``.venv``, ``.venv.nosync/.venv``, and the same of each relocated tree; in the
  old shape ``.venv.nosync``) as far as they exist, with ``relocated`` set; a
  link's ``NAME.nosync`` folder is not walked. A ``.venv`` that links elsewhere
  has no row: what it leads to is not in the tree.
- **Safety.** Symlinks are never followed: a folder is opened with ``O_NOFOLLOW``
  and a symlink to a folder counts as one file. A folder that cannot be read
  counts as empty; an entry that vanishes during the walk is not counted.

Speed: one ``scandir`` pass per folder, through a descriptor that stays open
while its entries are looked at, so each size is an ``fstatat`` on that folder
rather than a walk of the whole path again; an explicit stack, no recursion;
outside the trees no entry is ``stat``-ed at all (``scandir`` tells a folder
from the rest). ``benchmarks/bench_scan.py`` measures it against ``find``.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Collection

from relocator.errors import NotFound, RelocatorError
from relocator.paths import hops, link, resolver
from relocator.paths.project import missing
from relocator.records import NamedTuple
from relocator.state.store import Store
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    Progress = Callable[[int], None]
    from relocator.moves.relocation import Outcome

VENV = "venv"
NODE_MODULES = "node_modules"
PYCACHE = "pycache"
TOX = "tox"
NOX = "nox"
MYPY_CACHE = "mypy_cache"
RUFF_CACHE = "ruff_cache"
PYTEST_CACHE = "pytest_cache"
BUILD = "build"
DIST = "dist"
EGG_INFO = "egg-info"
KINDS = (
    VENV,
    NODE_MODULES,
    PYCACHE,
    TOX,
    NOX,
    MYPY_CACHE,
    RUFF_CACHE,
    PYTEST_CACHE,
    BUILD,
    DIST,
    EGG_INFO,
)

VENV_MARKER = "pyvenv.cfg"
#: Folders that are a rebuildable tree by their name alone.
BY_NAME = {
    "node_modules": NODE_MODULES,
    "__pycache__": PYCACHE,
    ".tox": TOX,
    ".nox": NOX,
    ".mypy_cache": MYPY_CACHE,
    ".ruff_cache": RUFF_CACHE,
    ".pytest_cache": PYTEST_CACHE,
}
EGG_INFO_SUFFIX = ".egg-info"
#: Folders that are a rebuildable tree only beside one of :data:`PROJECT_MARKERS`.
BESIDE_MARKER = {"build": BUILD, "dist": DIST}
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
#: Venv folder names that ``scan --adopt`` adopts (all but ``.venv`` with ``adopt --name``).
ADOPTABLE = (link.LINK, "venv", "env")
#: Least time between two progress calls, in seconds.
PROGRESS_INTERVAL = 0.1

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Tree(NamedTuple):
    path: str  # the tree's folder (for a relocated venv, the project's .venv link)
    kind: str  # one of KINDS
    files: int  # entries below it that are not folders: what the sync engine tracks
    bytes: int  # their lstat sizes, summed
    relocated: bool  # a venv in the store: only its link is in the synced tree


def scan(
    roots: Optional[list[str]] = None,
    *,
    store: Optional[Store] = None,
    progress: Optional[Progress] = None,
) -> list[Tree]:
    """Every rebuildable tree under ``roots`` (default: the sync roots under ``$HOME``).

    Sorted by file count, most first. ``progress`` is called with the number of
    files looked at so far (inside trees and out), at most every
    :data:`PROGRESS_INTERVAL` seconds. A root that is missing or not a folder
    raises :class:`NotFound`. The store is never walked, even inside a root:
    its venvs are the relocated ones.
    """
    walk = _Walk(store or Store(), progress)
    for root in scan_roots(roots):
        walk.root(root)
    return sorted(walk.found, key=lambda t: (-t.files, t.path))


def scan_roots(roots: Optional[list[str]] = None) -> list[str]:
    """The folders a scan walks, each spelled as on disk.

    ``roots`` as given (each must be a folder), or when None or empty the sync
    roots present under ``$HOME`` (those that are not folders, an unmounted
    volume say, are left out). A root inside another, or one folder reached by
    two spellings (``~/Documents`` and its iCloud twin), is walked once.
    """
    if roots:
        found = [_checked(root) for root in roots]
    else:
        home = os.path.realpath(os.path.expanduser("~"))
        spelled = (resolver.spelling(path) for _, path in resolver.provider_roots(home))
        found = [path for path in spelled if os.path.isdir(path)]
    return _outermost(found)


def _checked(root: str) -> str:
    spelled = resolver.spelling(root)
    if not os.path.exists(spelled):
        raise missing(root)
    if not os.path.isdir(spelled):
        raise NotFound(f"{root} is not a folder; pass a folder to scan")
    return spelled


def _outermost(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(is_under(path, outer) for outer in kept):
            kept.append(path)
    return kept


def fix_command(tree: Tree) -> Optional[str]:
    """The command that takes the tree out of the synced folder, or None when there is none.

    A cache of :data:`relocator.paths.hops.TREES` beside a ``.venv`` has ``relocate adopt
    <project> --trees`` (``--node-modules``). An unrelocated venv has
    ``relocate adopt <project>`` for a ``.venv``,
    ``relocate adopt <project> --name venv`` for a ``venv`` or ``env`` in a folder
    without a ``.venv`` (a project has one venv; adopt refuses a second). A venv of
    any other name, or in a ``.tox`` or ``.nox``, has none (deleting it is the
    user's call); a relocated venv needs nothing.
    """
    folder, name = os.path.split(tree.path)
    if name in hops.TREES and os.path.lexists(os.path.join(folder, link.LINK)):
        flag = "--node-modules" if name == "node_modules" else "--trees"
        return f"relocate adopt {shlex.quote(folder)} {flag}"
    if not _adoptable(tree):
        return None
    named = "" if name == link.LINK else f" --name {shlex.quote(name)}"
    return f"relocate adopt {shlex.quote(folder)}{named}"


def _adoptable(tree: Tree) -> bool:
    folder, name = os.path.split(tree.path)
    if tree.kind != VENV or tree.relocated or name not in ADOPTABLE:
        return False
    return name == link.LINK or not os.path.lexists(os.path.join(folder, link.LINK))


def adopt_found(
    trees: list[Tree], store: Optional[Store] = None
) -> list[tuple[str, Optional[Outcome], str]]:
    """Adopt the project of every unrelocated venv among ``trees`` that has a fix command.

    Returns (project, outcome, "") for each adopted project and (project, None,
    the error's message) for each that adopt refused; one refusal does not stop
    the others. The venvs of a ``.tox`` or ``.nox`` are never adopted
    (:func:`fix_command`).
    """
    from relocator.commands import adoption
    from relocator.moves.relocation import Wants

    done: list[tuple[str, Optional[Outcome], str]] = []
    for tree in trees:
        if not _adoptable(tree):
            continue
        project, name = os.path.split(tree.path)
        try:
            done.append((project, adoption.adopt(project, store=store, wants=Wants(name=name)), ""))
        except RelocatorError as e:
            done.append((project, None, str(e)))
    return done


class _Walk:
    """One scan: the trees found so far, and the count of files looked at."""

    def __init__(self, store: Store, progress: Optional[Progress]) -> None:
        self.store_venvs = store.venvs
        self.store_root = os.path.realpath(store.root)  # never walked: its venvs are relocated
        self.progress = progress
        self.found: list[Tree] = []
        self.seen = 0  # files looked at, in trees and out
        self.shown = 0  # the count last passed to progress
        self.last = time.monotonic()

    def root(self, root: str) -> None:
        """Walk ``root``, which may itself be a tree (a ``node_modules`` given as ROOT)."""
        parent, name = os.path.split(root)
        markers = [m for m in PROJECT_MARKERS if os.path.lexists(os.path.join(parent, m))]
        kind = _kind(name, markers)
        if kind is not None:
            self._add(root, kind)
            return
        stack = [root]
        while stack:
            self._visit(stack.pop(), stack)

    def _visit(self, folder: str, stack: list[str]) -> None:
        """Look at one folder outside any tree: it is a venv, or its sub-folders are trees
        or wait on ``stack``."""
        dirs, others = _names(folder)
        if VENV_MARKER in others:
            self._add(folder, VENV)
            return
        self.seen += len(others)
        if link.LINK in others:
            self._linked(folder)
        base = folder.rstrip("/") + "/"
        for name in dirs:
            kind = _kind(name, others)
            if kind is not None:
                self._add(base + name, kind)
            elif _hop_folder(base, name, others):
                continue  # a link's machine-local part: counted in the link's row
            elif base + name != self.store_root:
                stack.append(base + name)
        self._tick(self.seen)

    def _add(self, top: str, kind: str) -> None:
        files, size = self._count(top)
        self.seen += files
        self.found.append(Tree(top, kind, files, size, False))

    def _count(self, top: str) -> tuple[int, int]:
        """Files and bytes below ``top``: the hot loop of a scan."""
        files = size = 0
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                fd = os.open(folder, _DIR_FLAGS)
            except OSError:
                continue  # unreadable, vanished, or a symlink swapped in: counts as empty
            base = folder.rstrip("/") + "/"
            try:
                with os.scandir(fd) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(base + entry.name)
                            continue
                        try:
                            size += entry.stat(follow_symlinks=False).st_size
                        except OSError:
                            continue  # gone since the listing
                        files += 1
            except OSError:
                pass  # the listing broke off: what was read so far counts
            finally:
                os.close(fd)
            self._tick(self.seen + files)
        return files, size

    def _linked(self, folder: str) -> None:
        """A row for the project's ``.venv`` link when it is relocator's, counting only the
        link entries that stay in the synced tree (an alias such as ``venv`` too)."""
        if not _relocated(folder, self.store_venvs):
            return
        files = size = 0
        links = [p for t in (link.LINK, *hops.tree_links(folder)) for p in hops.entries(folder, t)]
        for path in (*links, *(os.path.join(folder, a) for a in link.aliases(folder))):
            try:
                size += os.lstat(path).st_size
            except OSError:
                continue
            files += 1
        self.found.append(Tree(os.path.join(folder, link.LINK), VENV, files, size, True))

    def _tick(self, count: int) -> None:
        if self.progress is None or count <= self.shown:
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL:
            self.last, self.shown = now, count
            self.progress(count)


def _names(folder: str) -> tuple[list[str], list[str]]:
    """Names of the sub-folders and of the other entries of ``folder`` (a symlink is never
    a folder here); both empty when it cannot be read."""
    dirs: list[str] = []
    others: list[str] = []
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        return dirs, others
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                (dirs if entry.is_dir(follow_symlinks=False) else others).append(entry.name)
    except OSError:
        pass
    finally:
        os.close(fd)
    return dirs, others


def _kind(name: str, siblings: Collection[str]) -> Optional[str]:
    """The kind of the folder ``name`` from its name and the names of the non-folders beside
    it (None: not a tree by its name; it may still be a venv)."""
    kind = BY_NAME.get(name)
    if kind is not None:
        return kind
    if name.endswith(EGG_INFO_SUFFIX):
        return EGG_INFO
    if name in BESIDE_MARKER and any(m in siblings for m in PROJECT_MARKERS):
        return BESIDE_MARKER[name]
    return None


def _hop_folder(base: str, name: str, others: Collection[str]) -> bool:
    """Whether the folder ``name`` is relocator's ``NAME.nosync`` of a link ``NAME`` beside
    it: it holds the link ``NAME``. A hand-made ``.venv.nosync`` holding the venv itself is
    walked like any folder, so the venv in it is found (Dropbox and OneDrive sync it)."""
    if not name.endswith(hops.NOSYNC):
        return False
    linked = name[: -len(hops.NOSYNC)]
    return linked in others and os.path.islink(base + name + "/" + linked)


def _relocated(folder: str, store_venvs: str) -> bool:
    """Whether ``folder/.venv`` leads into the store, or is relocator's link whose hop is
    missing or dead (the project as another machine left it)."""
    return link.inspect(folder, store_venvs).kind in (link.RELOCATED, link.DANGLING)
