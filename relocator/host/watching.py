"""Where the service learns that a project may need it: filesystem events, or a bounded poll.

Events. A synced folder is big (a real iCloud Drive holds hundreds of thousands of
files), so rescanning it every few seconds does not scale; the platforms say what
changed instead. The events come from ``watchdog``: FSEvents on macOS (one stream
per root, nothing per folder, coalesced by the kernel), inotify on Linux. Chosen
over ``watchfiles`` (a Rust extension plus ``anyio``, and no better on either
platform: it wraps the same two APIs), over ``inotify_simple``/``pyinotify`` and
``MacFSEvents`` (one platform each: two code paths), and over ctypes of our own
(FSEvents needs a CFRunLoop thread; watchdog's C extension has it). watchdog has no
dependencies of its own and is imported here only, so nothing else pays for it.
Its kqueue and polling observers are refused (kqueue holds one descriptor per file;
its poller rescans everything): without a native observer the service polls, below.
On Linux watchdog adds one inotify watch per folder (it walks the tree once at
start); past ``fs.inotify.max_user_watches`` it fails and the service polls.
Measured idle over a 100,000-file root (6,300 folders; Linux, 2 s interval): events
0.05% of a core (0.6 s of CPU to start), poll 0.4%.

Poll. Venvs live at project roots, a few levels down: the poll looks for
``<folder>/.venv/pyvenv.cfg`` at most :data:`MAX_DEPTH` levels below each root,
never following a symlink nor entering a dot folder (``.git``, ``.Trash``, a venv),
``node_modules`` or ``__pycache__``. Its cost is the folders at the top three
levels, not the files below them. Events obey the same bounds, so both modes see
the same projects.

Quiet. A venv is left alone while it changes (``pip install`` running). The check
that runs on every candidate looks at what installers touch on every install,
not at every file: the venv folder, ``pyvenv.cfg``, ``bin/``, ``lib/``,
``lib/pythonX.Y/``, ``site-packages/`` and each entry at its top level (a new
package folder, ``.dist-info`` or ``.pth`` changes those mtimes; a file written
into a package's folder changes that folder's). On a 10,600-file venv it takes
0.4 ms against 55 ms for a walk of every file (Linux, warm cache; APFS stats are
slower), so it can run on every pass. It misses a write deep inside a package that
adds no name near the top; in events mode every write is an event and restarts
the window, and in both modes the service walks the whole venv once
(``deep=True``) before it moves anything.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import warnings

from relocator.paths import hops, link
from relocator.records import NamedTuple
from relocator.state.settings import IGNORE_FILE
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

MAX_DEPTH = 3  # a project folder at most this many levels below a root
_UNWALKED = frozenset({"node_modules", "__pycache__"})
_VENV_NAMES = frozenset(link.NAMES)


class Unavailable(Exception):
    """No usable event source here (the reason is the message): poll instead."""


class Changes(NamedTuple):
    """What events said since the last look."""

    projects: dict[str, float]  #: project folder -> time of its latest event
    folders: dict[str, float]  #: new folders (or whose ignore file changed) to look into, when


def walkable(name: str) -> bool:
    """Whether a folder of this name may hold projects (not a dot folder, not a cache)."""
    return not name.startswith(".") and name not in _UNWALKED


def depth_below(path: str, roots: list[str]) -> Optional[int]:
    """How many folders below the nearest root holding it ``path`` is (None: under no root,
    or only through a folder the poll never enters)."""
    best: Optional[int] = None
    for root in roots:
        if is_under(path, root):
            rest = path[len(root) :].strip("/")
            parts = rest.split("/") if rest else []
            if all(walkable(p) for p in parts) and (best is None or len(parts) < best):
                best = len(parts)
    return best


def project_of(path: str, roots: list[str]) -> Optional[str]:
    """The project an event at ``path`` concerns: the folder holding the first ``.venv``
    (or ``.venv.nosync``) on the path, when it lies within the poll's bounds."""
    parts = path.split("/")
    for i, name in enumerate(parts):
        if name in _VENV_NAMES:
            project = "/".join(parts[:i]) or "/"
            depth = depth_below(project, roots)
            return project if depth is not None and depth <= MAX_DEPTH else None
    return None


#: A listed folder: (mtime, inode), its walkable subfolders, whether it holds a ``.venv``.
Listing = tuple[tuple[int, int], list[str], bool]
_RACY = 2.0  # a folder changed this recently is listed again (coarse mtimes: HFS+ has 1 s)


class Listings:
    """What the last poll listed, by folder: a folder whose mtime and inode did not change
    lost or gained no entry, so the next poll reuses its listing after one ``stat``."""

    def __init__(self) -> None:
        self.last: dict[str, Listing] = {}
        self.current: dict[str, Listing] = {}

    def get(self, folder: str, key: tuple[int, int]) -> Optional[Listing]:
        listing = self.last.get(folder)
        if listing is None or listing[0] != key:
            return None
        self.current[folder] = listing
        return listing

    def put(self, folder: str, listing: Listing) -> None:
        self.current[folder] = listing

    def turn(self) -> None:
        """End a poll: what it listed is what the next one reuses (gone folders drop out)."""
        self.last, self.current = self.current, {}


def find_venvs(
    root: str,
    depth: int = MAX_DEPTH,
    skip: frozenset[str] = frozenset(),
    cache: Optional[Listings] = None,
) -> list[str]:
    """Project folders at most ``depth`` levels below ``root`` (``root`` included) whose
    ``.venv`` is a real folder holding ``pyvenv.cfg``.

    No symlink is followed, no dot folder, ``node_modules`` or ``__pycache__`` entered,
    nor any folder in ``skip`` (the other roots, each polled on its own; the store).
    Folders at the last level are probed with one ``lstat`` of their ``.venv``; the
    others are listed, or, with a ``cache`` from the last poll, only ``stat``-ed when
    their mtime says nothing was added, removed or renamed in them since. Either way a
    poll costs one system call per folder above the last level, whatever the files.
    """
    found: list[str] = []
    stack = [(root, 0)]
    now = time.time()
    while stack:
        folder, level = stack.pop()
        listing = _listing(folder, cache, now)
        if listing is None:  # gone, or not ours to read: nothing to find there
            continue
        _, children, has_dotvenv = listing
        if has_dotvenv and os.path.isfile(os.path.join(folder, link.LINK, "pyvenv.cfg")):
            found.append(folder)
        for child in children:
            path = os.path.join(folder, child)
            if path in skip:
                continue
            if level + 1 < depth:
                stack.append((path, level + 1))
            elif level + 1 == depth and _has_venv(path):
                found.append(path)
    return sorted(found)


def _listing(folder: str, cache: Optional[Listings], now: float) -> Optional[Listing]:
    try:
        st = os.lstat(folder)
        key = (st.st_mtime_ns, st.st_ino)
        known = cache.get(folder, key) if cache is not None else None
        if known is not None:
            return known
        with os.scandir(folder) as entries:
            dirs = [e.name for e in entries if _is_real_dir(e)]
    except OSError:
        return None
    listing = (key, sorted(n for n in dirs if walkable(n)), link.LINK in dirs)
    if cache is not None and now - st.st_mtime > _RACY:
        cache.put(folder, listing)
    return listing


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _has_venv(folder: str) -> bool:
    dotvenv = os.path.join(folder, link.LINK)
    try:
        if not stat.S_ISDIR(os.lstat(dotvenv).st_mode):
            return False
    except OSError:
        return False
    return os.path.isfile(os.path.join(dotvenv, "pyvenv.cfg"))


def newest_change(venv: str, *, deep: bool = False) -> float:
    """The newest mtime of what installers touch in ``venv`` (see the module docstring);
    with ``deep``, of everything in it. Nothing is followed through a symlink."""
    if deep:
        return _newest_below(venv)
    paths = [venv, *(os.path.join(venv, n) for n in ("pyvenv.cfg", "bin", "lib"))]
    newest = max(_mtime(p) for p in paths)
    lib = os.path.join(venv, "lib")
    try:
        versions = [e.path for e in os.scandir(lib) if _is_real_dir(e)]
    except OSError:
        versions = []
    for version in versions:
        site = os.path.join(version, "site-packages")
        newest = max(newest, _mtime(version), _mtime(site))
        try:
            with os.scandir(site) as entries:
                for entry in entries:
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
        except OSError:  # no site-packages, or an entry vanished while it was read
            continue
    return newest


def is_quiet(venv: str, window: float, now: float, *, deep: bool = False) -> bool:
    """Whether nothing in ``venv`` (by :func:`newest_change`) changed in the last ``window``
    seconds before ``now``."""
    return now - newest_change(venv, deep=deep) >= window


def _mtime(path: str) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _newest_below(top: str) -> float:
    newest = _mtime(top)
    stack = [top]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                except OSError:  # vanished meanwhile
                    continue
    return newest


class Events:
    """Filesystem events below the roots, reduced to what the service acts on.

    watchdog's observer thread calls :meth:`dispatch`; the service takes what
    gathered with :meth:`take` on its own timer. An event only marks a project
    (or a folder to look into): every decision is the service's.
    """

    mode = "events"

    def __init__(self, roots: list[str], tell: Optional[Callable[[str], None]] = None) -> None:
        self.roots = roots
        self._lock = threading.Lock()
        self._projects: dict[str, float] = {}
        self._folders: dict[str, float] = {}
        self._logs = _Forward(tell)
        self._observer = _start_observer(self, _outermost(roots), self._logs)

    def dispatch(self, event: Any) -> None:
        """One event from watchdog (any thread); cheap, and never raises for a path."""
        now = time.time()
        paths = [event.src_path, getattr(event, "dest_path", "")]
        for raw in paths:
            if not raw:
                continue
            path = os.fsdecode(raw)
            project = project_of(path, self.roots)
            if project is not None:
                if not _moved_away(path, project):
                    with self._lock:
                        self._projects[project] = now
                continue
            if os.path.basename(path) == IGNORE_FILE:
                path = os.path.dirname(path)
            elif not (event.is_directory and event.event_type in ("created", "moved")):
                continue
            depth = depth_below(path, self.roots)
            if depth is not None and depth <= MAX_DEPTH:
                with self._lock:
                    self._folders[path] = now

    def take(self) -> Changes:
        """What gathered since the last call."""
        with self._lock:
            changes = Changes(self._projects, self._folders)
            self._projects, self._folders = {}, {}
        return changes

    def alive(self) -> bool:
        return bool(self._observer.is_alive())

    def stop(self) -> None:
        self._logs.tell = None  # what its threads say while they stop is no news
        self._observer.stop()
        self._observer.join(timeout=2.0)  # its threads are daemons: never wait longer
        logging.getLogger("watchdog").removeHandler(self._logs)


class _Forward(logging.Handler):
    """watchdog's warnings and errors (a queue overflow, watches it could not rebuild),
    told to the service's log instead of stderr."""

    def __init__(self, tell: Optional[Callable[[str], None]]) -> None:
        super().__init__(logging.WARNING)
        self.tell = tell

    def emit(self, record: logging.LogRecord) -> None:
        if self.tell is not None:
            self.tell(f"watchdog: {record.getMessage()}")


def _moved_away(path: str, project: str) -> bool:
    """Whether an event inside ``project/.venv`` comes from a venv moved out since: the
    name is a symlink now, whose target is not watched. (Linux: watchdog keeps the
    inotify watches of a folder moved out of the tree, under the old path, until the
    folder is deleted; an adopted venv is such a folder.)"""
    name, _, rest = path[len(project) :].lstrip("/").partition("/")
    return bool(rest) and os.path.islink(os.path.join(project, name))


def _outermost(roots: list[str]) -> list[str]:
    """The roots not inside another (a watch is recursive)."""
    return [r for r in roots if not any(o != r and is_under(r, o) for o in roots)]


def _start_observer(events: Events, roots: list[str], logs: logging.Handler) -> Any:
    """watchdog's native observer over ``roots``, started; :class:`Unavailable` when there
    is none (no watchdog, a kqueue or polling fallback, the inotify limits reached)."""
    try:
        from watchdog import events as kinds
        from watchdog.observers import Observer
    except ImportError as e:
        raise Unavailable(f"watchdog is not installed ({e})") from None
    logger = logging.getLogger("watchdog")
    logger.propagate = False  # never to stderr: the service runs under launchd or systemd
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())  # not even when no service listens
    logger.addHandler(logs)
    # A folder made while watchdog adds watches below its parent: harmless, said on stderr.
    warnings.filterwarnings("ignore", "Callback with id", RuntimeWarning, r"watchdog\.")
    observer = Observer()
    name = type(observer).__name__
    if name not in ("InotifyObserver", "FSEventsObserver"):
        raise Unavailable(f"no native filesystem events here (watchdog offers {name})")
    wanted = [
        kinds.FileCreatedEvent,
        kinds.DirCreatedEvent,
        kinds.FileDeletedEvent,
        kinds.DirDeletedEvent,
        kinds.FileModifiedEvent,
        kinds.FileMovedEvent,
        kinds.DirMovedEvent,
    ]  # not opened/closed-unwritten: a venv in use is read all the time
    observer.daemon = True
    try:
        for root in roots:
            observer.schedule(events, root, recursive=True, event_filter=wanted)  # type: ignore[arg-type]
        observer.start()
    except OSError as e:
        observer.stop()
        raise Unavailable(f"cannot watch the roots ({e.strerror or e})") from None
    return observer


def signature(project: str) -> object:
    """What ``.venv``, ``.venv.nosync`` and the link in it are now, to tell whether one
    changed."""
    names = (*link.NAMES, hops.inner(link.LINK))
    return tuple(stat_key(os.path.join(project, name)) for name in names)


def stat_key(path: str) -> object:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns)
