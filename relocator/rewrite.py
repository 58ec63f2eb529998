"""Rewriting what a venv hard-codes about where it lives and what it serves.

Two jobs:

* :func:`relocate_venv`: after a venv moved, point its console-script
  shebangs (``#!/path/python`` and the ``#!/bin/sh`` + ``'''exec'`` form),
  its activate scripts and ``pyvenv.cfg`` at the new place.
* :func:`respell_editables`: make every editable-install reference to the
  project (``direct_url.json``, ``.pth`` path lines, setuptools'
  ``__editable__`` finder mappings) use the resolver's spelling.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import json
import os
import re
import shlex
import sys
import urllib.parse
from typing import Callable, Optional

from relocator import resolver
from relocator.store import write_atomic

# Linux and macOS cut a shebang line at these lengths (distlib's limits).
MAX_SHEBANG = 512 if sys.platform == "darwin" else 127
_EXEC_LINE = re.compile(rb"^'''exec' (?P<word>.+) \"\$0\" \"\$@\"$")


# -- moving a venv -------------------------------------------------------------


def relocate_venv(venv: str, old_places: list[str]) -> int:
    """Point ``venv`` (now at its new place) at itself where it named ``old_places``.

    Returns how many files changed.
    """
    bindir = os.path.join(venv, "bin")
    changed = 0
    olds: set[str] = set()
    for name in sorted(os.listdir(bindir)):
        path = os.path.join(bindir, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        old = _rewrite_shebang(path, venv, old_places)
        if old is not None:
            olds.add(old)
            changed += 1
    olds |= _activate_spellings(bindir, old_places)
    for name in sorted(os.listdir(bindir)):
        quote = _quoting_for(name)
        path = os.path.join(bindir, name)
        if quote is not None and not os.path.islink(path) and os.path.isfile(path):
            changed += _replace_literals(path, olds, venv, quote)
    changed += _replace_literals(os.path.join(venv, "pyvenv.cfg"), olds, venv, _plain)
    return changed


def _is_old(venv_dir: str, old_places: list[str]) -> bool:
    return any(resolver.same_location(venv_dir, old) for old in old_places)


def read_shebang(data: bytes) -> Optional[tuple[list[str], int]]:
    """(interpreter candidates, header length in bytes) of a console script, either form.

    The two-line form has one word: shell-quoted by uv, but put raw between
    double quotes by pip (distlib), so a path holding a quote reads two ways.
    """
    if not data.startswith(b"#!"):
        return None
    first, _, rest = data.partition(b"\n")
    if first.strip() == b"#!/bin/sh":
        second, _, rest2 = rest.partition(b"\n")
        third, _, _ = rest2.partition(b"\n")
        match = _EXEC_LINE.match(second)
        if match is None or third.strip() != b"' '''":
            return None
        word = os.fsdecode(match.group("word"))
        candidates = [word[1:-1]] if len(word) > 1 and word[0] == word[-1] == '"' else []
        with contextlib.suppress(ValueError):
            words = shlex.split(word)
            candidates += words if len(words) == 1 else []
        return (candidates, len(first) + len(second) + len(third) + 3) if candidates else None
    line = os.fsdecode(first[2:]).strip()
    if not line or " " in line:
        return None
    return [line], len(first) + 1


def shebang(interpreter: str) -> bytes:
    """The header pip and uv would write for ``interpreter``."""
    raw = os.fsencode(interpreter)
    if b" " not in raw and len(raw) + 3 <= MAX_SHEBANG:
        return b"#!" + raw + b"\n"
    return (
        b"#!/bin/sh\n'''exec' " + os.fsencode(shlex.quote(interpreter)) + b" \"$0\" \"$@\"\n' '''\n"
    )


def _rewrite_shebang(path: str, venv: str, old_places: list[str]) -> Optional[str]:
    with open(path, "rb") as f:
        head = f.read(4096)
    found = read_shebang(head)
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
    with open(path, "rb") as f:
        body = f.read()[length:]
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


def _activate_spellings(bindir: str, old_places: list[str]) -> set[str]:
    """The old venv paths as the activate scripts spell them."""
    found: set[str] = set()
    for name in ("activate", "activate.csh", "activate.fish"):
        try:
            with open(os.path.join(bindir, name), encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError:
            continue
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


def _replace_literals(path: str, olds: set[str], new: str, quote: Callable[[str], str]) -> int:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError:
        return 0
    updated = text
    for old in sorted(olds, key=len, reverse=True):
        if quote is _plain:
            updated = updated.replace(old, new)
            continue
        for form in _encodings(old):
            updated = updated.replace(form, quote(new))
    if updated == text:
        return 0
    write_atomic(path, updated, sync=False)
    return 1


# -- editable installs -----------------------------------------------------------


def site_packages(venv: str) -> list[str]:
    return sorted(glob.glob(os.path.join(glob.escape(venv), "lib", "python*", "site-packages")))


def respell_editables(venv: str, project: resolver.Resolved) -> int:
    """Make editable-install references to ``project`` use its spelling; return files changed."""
    changed = 0
    for sp in site_packages(venv):
        for path in glob.glob(os.path.join(glob.escape(sp), "*.dist-info", "direct_url.json")):
            changed += _respell_direct_url(path, project)
        for path in glob.glob(os.path.join(glob.escape(sp), "*.pth")):
            changed += _respell_pth(path, project)
        for path in glob.glob(os.path.join(glob.escape(sp), "__editable__*finder.py")):
            changed += _respell_finder(path, project)
    return changed


def _respell_direct_url(path: str, project: resolver.Resolved) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith("file:"):
        return 0
    local = urllib.parse.unquote(urllib.parse.urlsplit(url).path)  # POSIX url2pathname
    new = resolver.rebase(local, project)
    if new is None or new == local:
        return 0
    data["url"] = "file://" + urllib.parse.quote(new)
    write_atomic(path, json.dumps(data), sync=False)
    return 1


def _respell_pth(path: str, project: resolver.Resolved) -> int:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines(keepends=True)
    out = []
    for line in lines:
        entry = line.rstrip("\r\n")
        new = None
        if entry.startswith("/"):
            new = resolver.rebase(entry, project)
        out.append(line.replace(entry, new, 1) if new and new != entry else line)
    if out == lines:
        return 0
    write_atomic(path, "".join(out), sync=False)
    return 1


_FINDER_LITERAL = re.compile(
    r"^(?P<head>(?:MAPPING|NAMESPACES)\s*(?::[^=]+)?=\s*)(?P<lit>.+)$", re.M
)


def _respell_finder(path: str, project: resolver.Resolved) -> int:
    with open(path, encoding="utf-8") as f:
        text = f.read()

    def fix(value: object) -> object:
        if isinstance(value, str) and value.startswith("/"):
            return resolver.rebase(value, project) or value
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    def replace(match: re.Match[str]) -> str:
        try:
            literal = ast.literal_eval(match.group("lit"))
        except (ValueError, SyntaxError):
            return match.group(0)
        fixed = fix(literal)
        return match.group(0) if fixed == literal else match.group("head") + repr(fixed)

    updated = _FINDER_LITERAL.sub(replace, text)
    if updated == text:
        return 0
    write_atomic(path, updated, sync=False)
    return 1
