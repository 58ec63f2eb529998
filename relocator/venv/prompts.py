"""The name a venv's activate scripts put before the prompt: the project's, as the hook shows.

A venv made in a project without ``--prompt`` names its prompt after its folder:
CPython's ``venv`` writes ``(.venv)`` into ``activate`` when it makes the venv;
virtualenv and uv read the folder's name each time ``activate`` runs, which is
the store folder's (``<project>-<id>``) once the venv is relocated. On adopt,
:func:`name_prompt` writes the project's name in their place (``activate`` and
``activate.fish``, which the hook's users source) and records it as
``prompt`` in ``pyvenv.cfg``. A prompt chosen when the venv was made
(``pyvenv.cfg`` has a ``prompt``: ``--prompt``, Poetry's ``<name>-py3.12``)
stays, and so does one that is not plain text: a prompt string is expanded
by the shell, so a name with ``$``, quotes or backslashes is never written
into one.
"""

from __future__ import annotations

import os
import re

from relocator.system.files import write_atomic
from relocator.venv.rewrite import Files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Folder names written into a prompt as they are: no quoting, no expansion, in sh and fish.
PLAIN = re.compile(r"[A-Za-z0-9 ._+@,=-]{1,64}")

#: virtualenv's and uv's activate, made without --prompt: the folder's name at run time.
_AT_RUN_TIME = {
    "activate": ('VIRTUAL_ENV_PROMPT=$(basename "$VIRTUAL_ENV")', "VIRTUAL_ENV_PROMPT='{}'"),
    "activate.fish": (
        'set -gx VIRTUAL_ENV_PROMPT (basename "$VIRTUAL_ENV")',
        "set -gx VIRTUAL_ENV_PROMPT '{}'",
    ),
}


def name_prompt(venv: str, name: str, folder: str = ".venv") -> list[str]:
    """Make the activate scripts of ``venv`` show ``name`` where they showed its folder's
    name (``folder`` when CPython's venv made it), or the name an earlier call wrote;
    return notes on files left alone.

    ``pyvenv.cfg`` gets ``prompt = <name>`` and ``relocator-prompt = <folder>``: the
    record :func:`unname_prompt` reads to give the scripts back on eject."""
    files = Files(venv)
    cfg = os.path.join(venv, "pyvenv.cfg")
    text = _text(files, cfg)
    record = _RECORD.search(text or "")
    if record is not None:  # named before: for a project since moved or copied, name it anew
        if record["name"] == name or not PLAIN.fullmatch(name):
            return []
        notes = unname_prompt(venv)
        return notes + name_prompt(venv, name, record["folder"])
    if not (text or "").endswith("\n") or not PLAIN.fullmatch(name):
        return []
    if re.search(r"(?m)^\s*prompt\s*=", text or ""):
        return []  # chosen when the venv was made
    if _swap(files, venv, folder, name):
        data = f"{text}{_TAIL.format(name=name, folder=folder)}".encode("utf-8", "surrogateescape")
        files.each([cfg], lambda path: _write(path, data))
    return files.notes


def unname_prompt(venv: str) -> list[str]:
    """Undo :func:`name_prompt` (an ejected venv is the project's folder again, whose name
    its activate scripts show as they did); return notes on files left alone."""
    files = Files(venv)
    cfg = os.path.join(venv, "pyvenv.cfg")
    text = _text(files, cfg) or ""
    found = _RECORD.search(text)
    if found is None:
        return []
    _swap(files, venv, found["name"], found["folder"], back=True)
    data = text[: found.start()].encode("utf-8", "surrogateescape")
    files.each([cfg], lambda path: _write(path, data))
    return files.notes


_TAIL = "prompt = {name}\nrelocator-prompt = {folder}\n"
_RECORD = re.compile(r"(?<=\n)prompt = (?P<name>[^\n]+)\nrelocator-prompt = (?P<folder>[^\n]+)\n\Z")


#: The lines of activate and activate.fish that show the name (CPython 3.9-3.13, virtualenv,
#: uv): only there is a quoted name the prompt's, never a word the script compares.
_PROMPT_LINE = re.compile(r"(?m)^.*(?:PS1=|VIRTUAL_ENV_PROMPT|set_color).*$")


def _swap(files: Files, venv: str, old: str, new: str, *, back: bool = False) -> int:
    """In ``activate`` and ``activate.fish``: the shown name ``old`` -> ``new``, and the
    folder's name read at run time -> ``new`` (``back``: the other way round)."""

    def change(path: str) -> bool:
        script = _text(files, path)
        if script is None:
            return False
        at_run_time, fixed = _AT_RUN_TIME[os.path.basename(path)]
        if back:
            out = script.replace(fixed.format(old), at_run_time)
        else:
            out = script.replace(at_run_time, fixed.format(new))
        out = _PROMPT_LINE.sub(
            lambda m: m[0].replace(f"({old}) ", f"({new}) ").replace(f'"{old}"', f'"{new}"'), out
        )
        if out == script:
            return False
        return _write(path, out.encode("utf-8", "surrogateescape"))

    return files.each([os.path.join(venv, "bin", name) for name in _AT_RUN_TIME], change)


def _write(path: str, data: bytes) -> bool:
    write_atomic(path, data, sync=False)
    return True


def _text(files: Files, path: str) -> Optional[str]:
    try:
        raw = files.read(path)
    except OSError:
        return None
    return None if raw is None else raw.decode("utf-8", "surrogateescape")
