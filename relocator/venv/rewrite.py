"""Rewriting what a venv hard-codes about where it lives and what it serves.

Two jobs:

* :func:`relocate_venv`: after a venv moved, point its console-script
  shebangs (``#!/path/python`` and the ``#!/bin/sh`` + ``'''exec'`` form),
  its activate scripts and ``pyvenv.cfg`` at the new place.
* :func:`respell_editables`: make every editable-install reference to the
  project (``direct_url.json``, ``.pth`` path lines, setuptools'
  ``__editable__`` finder mappings) use the resolver's spelling.

Both run after a venv has moved, past the point of no return, on files that
any tool (or a hostile repository) may have written: nothing here may fail
on a file's content. A file that cannot be read, parsed or written is left as
it was, with a note. Only regular files inside the venv are touched, never
through a symlink.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys

from relocator.paths import resolver
from relocator.state.venvs import read_shebang, site_packages
from relocator.system.files import is_under, read_regular, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    Place = Callable[[str], Optional[str]]

# Linux and macOS cut a shebang line at these lengths (distlib's limits).
MAX_SHEBANG = 512 if sys.platform == "darwin" else 127


# -- moving a venv -------------------------------------------------------------


class Files:
    """Reads and writes of one venv's files, with the notes of those left alone."""

    #: What a file's content or state can raise while it is read, parsed or written.
    TROUBLE = (OSError, ValueError, UnicodeError, SyntaxError, RecursionError, MemoryError)

    def __init__(self, venv: str) -> None:
        self.venv = os.path.realpath(venv)
        self.notes: list[str] = []

    def read(self, path: str, limit: Optional[int] = None) -> Optional[bytes]:
        """The bytes of a regular file inside the venv (not a link), else None."""
        folder = os.path.realpath(os.path.dirname(path))
        if not is_under(folder, self.venv):
            return None
        if os.path.islink(path):  # bin/python and friends: nothing of theirs to rewrite
            return None
        return read_regular(path, -1 if limit is None else limit, follow=False)

    def each(self, paths: list[str], job: Callable[[str], bool]) -> int:
        """Run ``job`` on each path; count the changed files, note the ones left alone."""
        changed = 0
        for path in paths:
            try:
                changed += job(path)
            except FileNotFoundError:
                continue
            except self.TROUBLE as e:
                reason = getattr(e, "strerror", None) or type(e).__name__
                self.notes.append(f"left {path} as it was ({reason})")
        return changed


def _listing(folder: str) -> list[str]:
    if os.path.islink(folder) or not os.path.isdir(folder):
        return []
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))]


def relocate_venv(venv: str, old_places: list[str]) -> list[str]:
    """Point ``venv`` (now at its new place) at itself where it named ``old_places``.

    Returns notes on the files left as they were.
    """
    files = Files(venv)
    bindir = os.path.join(venv, "bin")
    olds: set[str] = set()

    def shebang_of(path: str) -> bool:
        old = _rewrite_shebang(files, path, venv, old_places)
        if old is not None:
            olds.add(old)
        return old is not None

    scripts = _listing(bindir)
    files.each(scripts, shebang_of)
    olds |= _activate_spellings(files, bindir, old_places)
    cfg = os.path.join(venv, "pyvenv.cfg")

    def literals_of(path: str) -> bool:
        quote = _plain if path == cfg else _quoting_for(os.path.basename(path))
        return quote is not None and _replace_literals(files, path, olds, venv, quote)

    files.each([*scripts, cfg], literals_of)
    return files.notes


def _is_old(venv_dir: str, old_places: list[str]) -> bool:
    return any(resolver.same_location(venv_dir, old) for old in old_places)


def shebang(interpreter: str) -> bytes:
    """The header pip and uv would write for ``interpreter``."""
    raw = os.fsencode(interpreter)
    if b" " not in raw and len(raw) + 3 <= MAX_SHEBANG:
        return b"#!" + raw + b"\n"
    return (
        b"#!/bin/sh\n'''exec' " + os.fsencode(shlex.quote(interpreter)) + b" \"$0\" \"$@\"\n' '''\n"
    )


def _rewrite_shebang(files: Files, path: str, venv: str, old_places: list[str]) -> Optional[str]:
    head = files.read(path, 4096)
    found = read_shebang(head or b"")
    if found is None:
        return None
    candidates, length = found
    for interp in candidates:
        bindir = os.path.dirname(interp)
        if os.path.basename(bindir) == "bin" and _is_old(os.path.dirname(bindir), old_places):
            break
    else:
        return None
    new = os.path.join(venv, "bin", os.path.basename(interp))
    body = (files.read(path) or b"")[length:]
    write_atomic(path, shebang(new) + body, sync=False)
    return os.path.dirname(bindir)


# Quoting a value the way each activate script's language reads it back.
def _sh(value: str) -> str:
    return shlex.quote(value)


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _csh(value: str) -> str:
    return "'" + value.replace("'", "'\\''").replace("!", "\\!").replace("\n", "\\\n") + "'"


def _nu(value: str) -> str:
    hashes = "#" * (1 + max((len(m) for m in re.findall(r"'(#*)", value)), default=0))
    return f"r{hashes}'{value}'{hashes}"


def _plain(value: str) -> str:
    return value


def _quoting_for(name: str) -> Optional[Callable[[str], str]]:
    return {
        "activate": _sh,
        "activate.csh": _csh,
        "activate.fish": _fish,
        "activate.nu": _nu,
        "activate.bat": _plain,
    }.get(name)  # Activate.ps1 and activate_this.py find their venv at run time


_ASSIGNMENT = re.compile(
    r"^\s*(?:export\s+|setenv\s+|set\s+-gx\s+)?VIRTUAL_ENV[=\s]\s*(?P<word>.+?)\s*$", re.M
)


def _activate_spellings(files: Files, bindir: str, old_places: list[str]) -> set[str]:
    """The old venv paths as the activate scripts spell them."""
    found: set[str] = set()
    for name in ("activate", "activate.csh", "activate.fish"):
        try:
            raw = files.read(os.path.join(bindir, name))
        except OSError:
            continue
        text = (raw or b"").decode("utf-8", "surrogateescape")
        for match in _ASSIGNMENT.finditer(text):
            try:
                words = shlex.split(match.group("word"))
            except ValueError:
                continue
            if len(words) == 1 and words[0].startswith("/") and _is_old(words[0], old_places):
                found.add(words[0])
    return found


def _encodings(value: str) -> list[str]:
    """Ways a tool may have written ``value`` into a script, most specific first."""
    escaped_dq = re.sub(r'(["\\$`])', r"\\\1", value)
    forms = [
        shlex.quote(value),
        "'" + value.replace("'", "'\\''") + "'",
        _fish(value),
        "'" + value + "'",
        '"' + escaped_dq + '"',
        '"' + value + '"',
        _nu(value),
    ]
    return sorted(set(forms), key=len, reverse=True)


def _replace_literals(
    files: Files, path: str, olds: set[str], new: str, quote: Callable[[str], str]
) -> bool:
    raw = files.read(path) if olds else None
    if raw is None:
        return False
    text = raw.decode("utf-8", "surrogateescape")
    updated = text
    for old in sorted(olds, key=len, reverse=True):
        if quote is _plain:
            updated = updated.replace(old, new)
            continue
        for form in _encodings(old):
            updated = updated.replace(form, quote(new))
    if updated == text:
        return False
    write_atomic(path, updated, sync=False)
    return True


# -- editable installs -----------------------------------------------------------


def respell_editables(
    venv: str, project: resolver.Resolved, moved_from: Optional[resolver.Resolved] = None
) -> list[str]:
    """Make editable-install references to ``project`` use its spelling; with
    ``moved_from``, references to the project's old place point at the new one.

    Returns notes on the files left as they were.
    """

    def place(path: str) -> Optional[str]:
        if moved_from is not None:
            old = resolver.rebase(path, moved_from)
            if old is not None:
                return project.path + old[len(moved_from.path) :]
        return resolver.rebase(path, project)

    import glob

    files = Files(venv)
    for sp in site_packages(venv):
        pattern = os.path.join(glob.escape(sp), "*.dist-info", "direct_url.json")
        files.each(sorted(glob.glob(pattern)), lambda p: _respell_direct_url(files, p, place))
        pths = sorted(glob.glob(os.path.join(glob.escape(sp), "*.pth")))
        files.each(pths, lambda p: _respell_pth(files, p, place))
        finders = sorted(glob.glob(os.path.join(glob.escape(sp), "__editable__*finder.py")))
        files.each(finders, lambda p: _respell_finder(files, p, place))
    return files.notes


def _respell_direct_url(files: Files, path: str, place: Place) -> bool:
    import urllib.parse

    data = json.loads(files.read(path) or b"{}")
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url.startswith("file:"):
        return False
    local = urllib.parse.unquote(urllib.parse.urlsplit(url).path)  # POSIX url2pathname
    new = place(local)
    if new is None or new == local:
        return False
    data["url"] = "file://" + urllib.parse.quote(new)
    write_atomic(path, json.dumps(data), sync=False)
    return True


def _respell_pth(files: Files, path: str, place: Place) -> bool:
    text = (files.read(path) or b"").decode("utf-8", "surrogateescape")
    lines = text.split("\n")  # only what site splits on: every other byte stays as it was
    out = []
    for line in lines:
        entry = line.rstrip("\r")
        new = place(entry) if entry.startswith("/") else None
        out.append(new + line[len(entry) :] if new and new != entry else line)
    if out == lines:
        return False
    write_atomic(path, "\n".join(out), sync=False)
    return True


_FINDER_LITERAL = re.compile(
    r"^(?P<head>(?:MAPPING|NAMESPACES)\s*(?::[^=]+)?=\s*)(?P<lit>.+)$", re.M
)


def _respell_finder(files: Files, path: str, place: Place) -> bool:
    text = (files.read(path) or b"").decode("utf-8")

    def fix(value: object) -> object:
        if isinstance(value, str) and value.startswith("/"):
            return place(value) or value
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    import ast

    def replace(match: re.Match[str]) -> str:
        try:
            literal = ast.literal_eval(match.group("lit"))
        except Files.TROUBLE:
            return match.group(0)
        fixed = fix(literal)
        return match.group(0) if fixed == literal else match.group("head") + repr(fixed)

    updated = _FINDER_LITERAL.sub(replace, text)
    if updated == text:
        return False
    write_atomic(path, updated, sync=False)
    return True
