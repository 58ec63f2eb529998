"""Which live processes use something under given folders: what keeps ``gc`` off a
venv.

A process uses a folder when its executable, an argument of its command line that is
a path (a relative one taken against its working folder), its working folder, its
``VIRTUAL_ENV``, a file it has open or (Linux) a file it has mapped is in that
folder. The executable alone would miss most: a venv's ``bin/python`` is usually a
symlink to the base interpreter, so a Python started as ``.venv/bin/python`` runs
the base interpreter's file, and only its command line (or ``VIRTUAL_ENV``) still
names the venv. So a path a process names is compared resolved twice: wholly
(``realpath``), and all but its last name (``bin/python`` then stays in the venv).
The paths the kernel reports (executable, working folder, open and mapped files) are
real paths already.

The store is private (mode 0700), so only processes running as this user or as root
can reach a venv in it; the kernel checks the effective uid. A process is this user's
when its effective uid is: its command line not being readable then counts it as a
user of every folder asked about, since it might be one. A process of another
identity that may reach the store, root's or a setuid program's run by this user
(the parent ``login`` that Terminal starts each tab through keeps uids
user, root, root while it waits), is read as far as the kernel allows: macOS refuses
the command line, working folder and open files of a process whose effective uid
differs (``sysctl_procargsx``, ``proc_security_policy``), yet tells its executable
(``proc_pidpath`` needs no same user); counting it as a user of everything would keep
``gc`` from every venv while a terminal is open. Other users' processes are not looked
at. A non-dumpable process of this user (``ssh-agent`` and ``gpg-agent`` make
themselves so) hides its executable, working folder and environment even from its
owner, but not its command line: it is judged by what can be read, or no desktop with
an agent running could ever collect a venv. So is one holding capabilities relocate
lacks (Linux), which the kernel keeps even a process of the same user, root included,
from reading. An environment that reads empty (macOS hides a restricted process's) is
noted as unread, not taken for one without ``VIRTUAL_ENV``. A zombie that has exited
holds no files and is skipped; a zombie thread group leader whose other threads still
run is not dead, and counts like any process that cannot be read.

Imported only by the commands that look at processes: psutil is not light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import psutil  # type: ignore[import-untyped,unused-ignore]

from relocator.records import NamedTuple
from relocator.system import platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

MINE = "mine"  # runs as this user (as root, when relocate does): unreadable means in use
OTHER = "other"  # root's, or a setuid program's of this user: read as far as allowed
_ARG_MAX = 4096  # an argument longer than PATH_MAX is no path


class ProcessInfo(NamedTuple):
    pid: int
    name: str
    why: str  # what ties the process to the folder: "runs /x/bin/python", ...

    @property
    def weak(self) -> bool:
        """Whether nothing it does is seen to touch the folder: only its ``VIRTUAL_ENV``
        names it (an activated shell: what it starts, pip, names the venv on its command
        line and is a user of its own), or it could not be read at all (one starting or
        exiting as it was looked at). Enough to keep ``gc`` from deleting; not to stop a
        move, whose own checks see any write."""
        return self.why.startswith((_NAMED, _UNREAD))


_NAMED = "has VIRTUAL_ENV="
_UNREAD = "could not be inspected"


class _Exited(Exception):
    """The process ended (or is a zombie that holds nothing) while it was read."""


def users(folders: Iterable[str]) -> dict[str, list[ProcessInfo]]:
    """For each folder (absolute; compared as its real path), the live processes that use
    something under it, keyed as given; one pass over the processes for all of them. This
    process is never counted.
    """
    given = list(folders)
    wanted: dict[str, list[ProcessInfo]] = {os.path.realpath(folder): [] for folder in given}
    if wanted:
        _scan(wanted)
    return {folder: wanted[os.path.realpath(folder)] for folder in given}


def _scan(wanted: dict[str, list[ProcessInfo]]) -> None:
    """Add to ``wanted`` (real folder -> users) every process that uses one of them."""
    me, uid = os.getpid(), os.getuid()
    bases = _bases(wanted)
    for proc in psutil.process_iter(["uids", "name"]):
        whose = _whose(proc.info.get("uids"), uid)
        if proc.pid == me or whose is None:
            continue
        name = str(proc.info.get("name") or "")
        try:
            ties = _ties(proc, wanted, strict=whose == MINE, bases=bases)
        except (_Exited, psutil.NoSuchProcess):
            continue
        for folder, why in ties.items():
            wanted[folder].append(ProcessInfo(proc.pid, name, why))


def _whose(uids: Any, me: int) -> Optional[str]:
    """MINE, OTHER, or None for a process relocate need not look at (another user's),
    from its (real, effective, saved) uids."""
    if uids is None:  # an owner that cannot be read may be this user
        return MINE
    ids = tuple(uids)
    if ids[1] == me:
        return MINE
    return OTHER if me in ids or 0 in ids else None


def _ties(
    proc: Any,
    wanted: dict[str, list[ProcessInfo]],
    *,
    strict: bool,
    bases: Optional[dict[str, list[str]]] = None,
) -> dict[str, str]:
    """Folder -> why, for each wanted folder the process uses; with ``strict``, every
    folder when part of the process could not be read. ``bases``: :func:`_bases`."""
    uses, unread = _uses(proc, bases or {})
    ties: dict[str, str] = {}
    for path, why in uses:
        for folder in _folders_of(path, wanted):
            ties.setdefault(folder, why)
    if strict and "cmdline" in unread and not _privileged(proc.pid):
        why = f"{_UNREAD} (its {', '.join(unread)} cannot be read)"
        for folder in wanted:
            ties.setdefault(folder, why)
    return ties


def _uses(proc: Any, bases: dict[str, list[str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(real path, why) for everything the process uses, and what could not be read. A
    process running the interpreter a venv is built on, whose command line cannot be
    read, might be running that venv (``sudo .venv/bin/python`` on macOS)."""
    unread: list[str] = []
    with proc.oneshot():
        cwd = _read(proc, "cwd", unread)
        exe = _read(proc, "exe", unread)
        cmdline = _read(proc, "cmdline", unread)
        environ = _read(proc, "environ", unread)
        files = _read(proc, "open_files", unread)
    if environ == {}:  # macOS reads a restricted process's environment as empty
        unread.append("environ (empty)")
    uses: list[tuple[str, str]] = []
    if exe:
        uses.append((str(exe), f"runs {exe}"))
    if exe and cmdline is None:
        why = f"{_UNREAD} (it runs {exe}, the venv's interpreter; its command line cannot be read)"
        uses += [(folder, why) for folder in bases.get(str(exe), ())]
    if cwd:
        uses.append((str(cwd), f"works in {cwd}"))
    for arg in cmdline or ():
        uses += [(p, f"its command line names {arg}") for p in _arg_paths(str(arg), cwd)]
    virtual_env = (environ or {}).get("VIRTUAL_ENV")
    if virtual_env:
        uses += [(p, f"{_NAMED}{virtual_env}") for p in _spellings(virtual_env, cwd)]
    uses += [(str(f.path), f"has {f.path} open") for f in files or ()]
    uses += [(path, f"has {path} mapped") for path in _mapped(proc.pid, unread)]
    return uses, unread


def _bases(wanted: dict[str, list[ProcessInfo]]) -> dict[str, list[str]]:
    """The executable each wanted venv's Python runs -> those venvs: its ``bin/python``
    resolved (the base interpreter), and for a macOS framework build also the
    ``Resources/Python.app`` that the framework's ``bin`` stub starts."""
    bases: dict[str, list[str]] = {}
    for folder in wanted:
        python = os.path.realpath(os.path.join(folder, "bin", "python"))
        if not os.path.isfile(python):
            continue  # no venv: a bundle of trees, a folder gone
        version = os.path.dirname(os.path.dirname(python))
        found = [python]
        if ".framework/Versions/" in version:
            found.append(os.path.join(version, "Resources/Python.app/Contents/MacOS/Python"))
        for exe in found:
            bases.setdefault(exe, []).append(folder)
    return bases


def _read(proc: Any, attr: str, unread: list[str]) -> Any:
    """``proc.<attr>()``, or None (noted in ``unread``) when it may not be read."""
    try:
        return getattr(proc, attr)()
    except psutil.ZombieProcess:
        if _exited(proc):
            raise _Exited from None
        unread.append(attr)
    except psutil.AccessDenied:
        unread.append(attr)
    return None


def _exited(proc: Any) -> bool:
    """A zombie with one thread has exited; a thread group leader that exited while its
    other threads run shows as a zombie too, but is alive."""
    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE and proc.num_threads() <= 1)
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def _privileged(pid: int) -> bool:
    """Whether the process holds capabilities this one lacks (Linux): the kernel then keeps
    it from being read even by a process of the same user (by root without them too), as
    root's processes are kept from a user's; it is read as far as it can be, like those.
    Where there are no capabilities to read (macOS), none is."""
    if not platform.current.procfs:
        return False
    theirs, ours = _capabilities(str(pid)), _capabilities("self")
    return theirs is not None and ours is not None and bool(theirs & ~ours)


def _capabilities(pid: str) -> Optional[int]:
    """The permitted capability set of a process (Linux), None where there is none to read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("CapPrm:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _mapped(pid: int, unread: list[str]) -> set[str]:
    """The files a process has mapped (its shared libraries, extension modules): Linux
    only, where ``/proc/<pid>/maps`` is cheap to read (psutil's reads smaps: slow). macOS
    has no ``/proc`` and psutil no ``memory_maps`` there: its open files are all it tells."""
    if not platform.current.procfs:
        return set()
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except PermissionError:
        unread.append("memory maps")
        return set()
    except (FileNotFoundError, ProcessLookupError):
        raise _Exited from None
    paths = set()
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            path = fields[5]
            paths.add(path[: -len(" (deleted)")] if path.endswith(" (deleted)") else path)
    return paths


def _arg_paths(arg: str, cwd: Optional[str]) -> set[str]:
    """The spellings of what a command line argument names, when it looks like a path:
    the argument itself, or the value of an ``--option=value``."""
    if "/" not in arg or len(arg) > _ARG_MAX:
        return set()
    found = _spellings(arg, cwd)
    if arg.startswith("-") and "=" in arg:
        found |= _spellings(arg.split("=", 1)[1], cwd)
    return found


def _spellings(path: str, cwd: Optional[str]) -> set[str]:
    """``path`` (relative to ``cwd``) resolved wholly, and resolved but for its last name:
    ``venv/bin/python`` is a link to the base interpreter, yet names the venv."""
    if not os.path.isabs(path):
        if not cwd:
            return set()
        path = os.path.join(cwd, path)
    try:
        head, tail = os.path.split(os.path.normpath(path))
        return {os.path.realpath(path), os.path.join(os.path.realpath(head), tail)}
    except (OSError, ValueError):  # a NUL, a loop: a string that names nothing
        return set()


def _folders_of(path: str, wanted: dict[str, list[ProcessInfo]]) -> Iterator[str]:
    """The wanted folders that ``path`` is in (or is)."""
    while True:
        if path in wanted:
            yield path
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent
