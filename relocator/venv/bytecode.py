"""Bytecode: keeping ``__pycache__`` out of the synced project.

A project that asks for trees (``adopt --trees``, or a ``trees`` setting) gets a
pycache prefix in its bundle at once, tree or no tree
(``<store>/trees/<bundle>/bytecode``): Python (3.8+) then writes every ``.pyc`` of
the modules it imports under that prefix instead of a ``__pycache__`` beside the
source, and pytest puts its assertion-rewritten modules there too.

The setting has to reach every way the venv's Python starts: a hooked shell,
but also an editor or a script running ``.venv/bin/python`` directly. So it
lives in the venv itself, in three files in its site-packages:

- ``_relocator_bytecode.py``, whose ``start()`` sets ``sys.pycache_prefix`` unless
  it is set already (``PYTHONPYCACHEPREFIX``, ``-X pycache_prefix`` win);
- ``_relocator_bytecode.pth``, an import line calling it, which ``site`` runs on
  every Python up to 3.17;
- ``_relocator_bytecode.start``, the same as a PEP 829 entry point: from Python
  3.15 ``site`` runs it and ignores the ``.pth`` file's import line, which
  later versions stop running at all.

With a prefix set, Python neither reads nor writes ``__pycache__`` folders, so
the venv's packages are compiled once more, into the prefix, the first time
they are imported.
"""

from __future__ import annotations

import contextlib
import os

from relocator.state import venvs
from relocator.system.files import read_small, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

FOLDER = "bytecode"
MODULE = "_relocator_bytecode"
_NAMES = (MODULE + ".py", MODULE + ".pth", MODULE + ".start")
_CODE = '''\
"""Written by relocator: bytecode of this venv goes to the store, not beside the sources.

`relocate eject` removes this file, its .pth and its .start.
"""

import sys

PREFIX = {prefix!r}


def start() -> None:
    if sys.pycache_prefix is None:
        sys.pycache_prefix = PREFIX
'''


def on(venv: str, prefix: str) -> list[str]:
    """Point the venv's bytecode at ``prefix``; a note for each site-packages it cannot."""
    notes = []
    files = {
        MODULE + ".py": _CODE.format(prefix=prefix),
        MODULE + ".pth": f"import {MODULE}; {MODULE}.start()\n",
        MODULE + ".start": f"{MODULE}:start\n",
    }
    for folder in venvs.site_packages(venv):
        try:
            for name, text in files.items():
                path = os.path.join(folder, name)
                if read_small(path) != text:
                    write_atomic(path, text, sync=False)
        except OSError as e:
            notes.append(f"could not keep bytecode out of the project ({e.strerror}: {folder})")
    return notes


def prefix(venv: str) -> Optional[str]:
    """The prefix the venv's bytecode goes to, when relocator set one."""
    import re

    for folder in venvs.site_packages(venv):
        text = read_small(os.path.join(folder, MODULE + ".py")) or ""
        match = re.search(r"^PREFIX = (.*)$", text, re.MULTILINE)
        if match and os.path.isfile(os.path.join(folder, MODULE + ".pth")):
            found = _literal(match.group(1))
            if found is not None:
                return found
    return None


def _literal(text: str) -> Optional[str]:
    """The string ``text`` (a Python literal, as ``repr`` writes one) stands for, else None.

    A literal without a backslash is its characters between the quotes: no need to load
    ``ast`` (what ``relocate status`` would pay for on every project) but for an escape.
    """
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and "\\" not in text:
        inner = text[1:-1]
        return None if text[0] in inner else inner
    import ast

    with contextlib.suppress(ValueError, SyntaxError):
        found = ast.literal_eval(text)
        if isinstance(found, str):
            return found
    return None


def off(venv: str) -> None:
    """Remove the three files (and the module's own bytecode) from the venv."""
    for folder in venvs.site_packages(venv):
        for name in _NAMES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, name))
        cache = os.path.join(folder, "__pycache__")
        with contextlib.suppress(OSError):
            for name in os.listdir(cache):
                if name.startswith(MODULE + "."):
                    os.unlink(os.path.join(cache, name))


def left_in(root: str) -> bool:
    """Whether the project ``root`` holds a ``__pycache__`` folder (outside venvs, git's
    folder and ``node_modules``; never through a symlink): what ``relocate scan
    --remove-bytecode`` would delete. Stops at the first one."""
    for folder, dirs, _ in os.walk(root):
        if "__pycache__" in dirs:
            return True
        dirs[:] = [
            d
            for d in dirs
            if d not in (".git", "node_modules")
            and not os.path.isfile(os.path.join(folder, d, "pyvenv.cfg"))
        ]
    return False


def remove_pycache(folder: str) -> tuple[int, Optional[str]]:
    """Delete the ``__pycache__`` folder ``folder`` when it holds nothing but ``.pyc``
    files (``relocate scan --remove-bytecode``: only ever on request). Returns the files
    removed, and why the folder stays (None when it went)."""
    import stat

    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    if os.path.basename(folder) != "__pycache__":
        return 0, "not a __pycache__ folder"
    try:
        fd = os.open(folder, flags)
    except OSError as e:
        return 0, f"cannot open it ({e.strerror})"
    removed = 0
    try:
        names = os.listdir(fd)
        for name in names:
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            if not (name.endswith(".pyc") and stat.S_ISREG(mode)):
                return 0, f"it holds {name}, which is not bytecode"
        for name in names:
            os.unlink(name, dir_fd=fd)
            removed += 1
    except OSError as e:
        return removed, f"{e.strerror}"
    finally:
        os.close(fd)
    try:
        os.rmdir(folder)
    except OSError as e:
        return removed, f"cannot remove the folder ({e.strerror})"
    return removed, None
