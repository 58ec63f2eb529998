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

from typing import Optional

from relocator.files import write_atomic
from relocator.rewrite import Files

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
    name (``folder`` when CPython's venv made it); return notes on files left alone."""
    files = Files(venv)
    cfg = os.path.join(venv, "pyvenv.cfg")
    text = _text(files, cfg)
    if text is None or not PLAIN.fullmatch(name) or re.search(r"(?m)^\s*prompt\s*=", text):
        return []

    def rename(path: str) -> bool:
        script = _text(files, path)
        if script is None:
            return False
        found, written = _AT_RUN_TIME[os.path.basename(path)]
        new = script.replace(found, written.format(name))
        new = new.replace(f"({folder}) ", f"({name}) ").replace(f'"{folder}"', f'"{name}"')
        if new == script:
            return False
        write_atomic(path, new.encode("utf-8", "surrogateescape"), sync=False)
        return True

    changed = files.each([os.path.join(venv, "bin", s) for s in _AT_RUN_TIME], rename)
    if changed:
        end = "" if text.endswith("\n") or not text else "\n"
        data = f"{text}{end}prompt = {name}\n".encode("utf-8", "surrogateescape")
        files.each([cfg], lambda path: write_atomic(path, data, sync=False) is None)
    return files.notes


def _text(files: Files, path: str) -> Optional[str]:
    try:
        raw = files.read(path)
    except OSError:
        return None
    return None if raw is None else raw.decode("utf-8", "surrogateescape")
