"""Whether a store venv works, judged by reading it: nothing of it runs.

``relocate status``, ``list`` and ``doctor`` judge every registered venv each time
they run, so each check reads ``pyvenv.cfg``, stats files and reads the first
lines of ``bin/`` scripts; none starts an interpreter (the venv's Python may be
what is broken, and evidence comes from reading, never from running a file a
tool or a project put there). Two things are checked here:

- the interpreter is the Python ``pyvenv.cfg`` names, and the packages are in the
  site-packages that Python reads (``lib/pythonX.Y`` for the cfg's X.Y): a tool
  that makes the venv again in place with another Python (``virtualenv -p 3.12
  .venv`` over a 3.11 venv) writes a new ``pyvenv.cfg`` and ``bin/python`` and
  leaves the packages in ``lib/python3.11``, where 3.12 never looks;
- every console script's shebang leads to a Python that exists.

Whether the venv's own interpreter exists is :func:`relocator.venv.health.venv_condition`'s
first question; the backup marks are the store's (:meth:`relocator.state.store.Store.unmarked`).
"""

from __future__ import annotations

import os
import re

from relocator.state import inventory, venvs
from relocator.system.files import read_regular, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: What a Python interpreter's file is called: python3.12, python3, pypy3.10, graalpy.
_PYTHON = re.compile(r"(?:python|pypy|graalpy)[\d.]*[a-z]*")
#: The X.Y of an interpreter whose name says it: python3.12, python3.13t, python3.12d.
_MINOR = re.compile(r"python(\d+)\.(\d+)")
HEAD = 4096  # bytes of a script read: the shebang, in either form, fits
_HOPS = 16  # links followed from bin/python at most (a loop ends there)


def minor(version: Optional[str]) -> Optional[str]:
    """``3.12`` of ``3.12.1``."""
    parts = (version or "").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def interpreter_minor(venv: str) -> Optional[str]:
    """The X.Y of the interpreter ``bin/python`` leads to, when a name on its chain of links
    says it (``python3.12``: pyenv, uv, Homebrew, Debian, python.org; the last such name
    wins); None when none does. Only the links are read (a readlink each), never each
    folder on the way as ``realpath`` would."""
    path, found = venvs.interpreter(venv), None
    for _ in range(_HOPS):
        try:
            target = os.readlink(path)
        except OSError:  # not a link (the end of the chain), or gone
            break
        path = os.path.join(os.path.dirname(path), target)
        found = _MINOR.match(os.path.basename(target)) or found
    return f"{found.group(1)}.{found.group(2)}" if found else None


def python_mismatch(venv: str) -> Optional[str]:
    """What is wrong, in words, when the venv's interpreter is not the Python its
    ``pyvenv.cfg`` names, or when it has packages in a site-packages that Python does not
    read; None when neither (or when ``pyvenv.cfg`` names no version)."""
    named = minor(venvs.python_version(venv))
    if named is None:
        return None
    runs = interpreter_minor(venv)
    if runs is not None and runs != named:
        return f"bin/python is Python {runs}, but pyvenv.cfg names Python {named}"
    reads = (f"python{named}", f"python{named}t")  # free-threaded builds read python3.13t
    try:
        others = [n for n in os.listdir(os.path.join(venv, "lib")) if n not in reads]
    except OSError:
        return None
    if not any(n.startswith("python") for n in others):  # one listdir, for most venvs
        return None
    for site in venvs.site_packages(venv):  # never through a link
        if os.path.basename(os.path.dirname(site)) in reads:
            continue
        if inventory.installed(site) - inventory.SEED_PACKAGES:
            return (
                f"its packages are in {os.path.relpath(site, venv)}, which its Python "
                f"{named} does not read (it reads lib/python{named}/site-packages)"
            )
    return None


def dead_scripts(venv: str) -> list[tuple[str, str]]:
    """(name, interpreter) of each console script in ``bin/`` whose shebang names a Python
    that does not exist: an executable regular file, its first lines read (a ``bin/`` that
    is a symlink is not read through). A shebang that names no absolute path (``uv venv
    --relocatable``'s, ``/usr/bin/env python``) is not judged."""
    bindir = os.path.join(venv, "bin")
    if os.path.islink(bindir):
        return []
    try:
        with os.scandir(bindir) as entries:
            scripts = [e for e in entries if _executable_file(e)]
    except OSError:
        return []
    found = []
    there: dict[str, bool] = {}  # every script names the same Python: one stat
    for entry in scripts:
        parsed = venvs.read_shebang(_head(entry.path))
        if parsed is None:
            continue
        pythons = [p for p in parsed[0] if os.path.isabs(p) and _is_python(p)]
        for p in pythons:
            if p not in there:
                there[p] = os.path.exists(p)
        if pythons and not any(there[p] for p in pythons):
            found.append((entry.name, pythons[0]))
    return sorted(found)


def _executable_file(entry: os.DirEntry[str]) -> bool:
    """A regular file with an execute bit (the links to the interpreter and the activate
    scripts, which are not executable, are not read)."""
    try:
        if not entry.is_file(follow_symlinks=False):  # the folder's own listing says so
            return False
        return bool(entry.stat(follow_symlinks=False).st_mode & 0o111)
    except OSError:
        return False


def _head(path: str) -> bytes:
    """The first :data:`HEAD` bytes of the file ``path`` (a regular file a moment ago: a
    link is not followed, a pipe put there since is not waited on); empty when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY)
    except OSError:
        return b""
    try:
        return os.read(fd, HEAD)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _is_python(path: str) -> bool:
    return _PYTHON.fullmatch(os.path.basename(path)) is not None


def describe_dead(dead: list[tuple[str, str]]) -> str:
    name, python = dead[0]
    more = f" (and {len(dead) - 1} more script{'s' if len(dead) > 2 else ''})" if dead[1:] else ""
    return f"bin/{name} runs {python}, which does not exist{more}"


def mend_scripts(venv: str) -> list[str]:
    """Point each console script whose Python is gone at the venv's own interpreter (the
    one that reads the site-packages the script imports from): ``bin/<that name>`` when
    the venv has it, else ``bin/python``. Returns notes: what was mended, and the scripts
    left as they were."""
    from relocator.venv import rewrite

    mended: list[str] = []
    notes: list[str] = []
    for name, python in dead_scripts(venv):
        path = os.path.join(venv, "bin", name)
        own = os.path.join(venv, "bin", os.path.basename(python))
        new = own if os.path.exists(own) else venvs.interpreter(venv)
        try:
            data = read_regular(path, follow=False) or b""
            parsed = venvs.read_shebang(data)
            if parsed is None:
                continue
            write_atomic(path, rewrite.shebang(new) + data[parsed[1] :], sync=False)
        except OSError as e:
            notes.append(f"left {path} as it was ({e.strerror})")
            continue
        mended.append(name)
    if mended:
        notes.insert(0, f"pointed {', '.join(mended)} at the venv's own Python (theirs was gone)")
    return notes


def base_interpreter(venv: str) -> Optional[str]:
    """The Python the venv's ``pyvenv.cfg`` names, outside the venv, when it exists: its
    ``base-executable`` or ``executable`` (virtualenv), else ``pythonX.Y`` in its ``home``
    (venv, uv). What a rebuild of a venv whose packages a tool stranded is made with."""
    cfg = venvs.read_cfg(venv)
    named = minor(venvs.python_version(venv))
    home = cfg.get("home", "")
    found = [cfg.get("base-executable", ""), cfg.get("executable", "")]
    if os.path.isabs(home):
        found += [os.path.join(home, f"python{named}")] if named else []
        found += [os.path.join(home, "python3"), os.path.join(home, "python")]
    inside = os.path.realpath(venv) + os.sep
    for path in found:
        if (
            os.path.isabs(path)
            and os.path.isfile(path)
            and os.access(path, os.X_OK)
            and not os.path.realpath(path).startswith(inside)
        ):
            return path
    return None
