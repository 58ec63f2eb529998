"""Git: keeping the link out of ``git status`` through ``.git/info/exclude``, and telling
whether the repository tracks what relocator would act on (:func:`tracked`).

relocator never edits the user's ``.gitignore``; it adds the link names in a
marked block of the repository's ``info/exclude`` and removes only that block:
every other byte of the file stays as it was (line endings, form feeds,
undecodable bytes, a missing final newline).

It writes only inside a git directory that exists, looks like one (``HEAD``,
or a ``commondir`` leading to a folder with ``HEAD``) and belongs to the
current user, never through a ``.git`` file's ``gitdir:`` into anything else.
Nothing here raises for what it finds on disk: a problem becomes a one-line
note for the caller to show, and the relocation goes on without the exclude.
"""

from __future__ import annotations

import os
import stat

from relocator.paths.hops import NOSYNC, TREES, tree_links
from relocator.paths.link import NAMES as LINK_NAMES
from relocator.paths.link import aliases
from relocator.system.files import bare_line, read_regular, split_lines, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

EXCLUDE_BEGIN = "# >>> relocator: venv links (relocate eject removes these lines) >>>"
EXCLUDE_END = "# <<< relocator <<<"
_BEGIN, _END = EXCLUDE_BEGIN.encode(), EXCLUDE_END.encode()
_MAX_POINTER = 4096  # a .git file or commondir longer than this is not one


class _Skip(Exception):
    """The exclude file cannot be used: ``where`` and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(where, reason)
        self.where, self.reason = where, reason


def add_git_exclude(root: str) -> Optional[str]:
    """Add the link names for ``root`` to its repository's ``info/exclude``.

    Returns None when done (or when ``root`` is in no git work tree), else a
    one-line note saying what could not be done and that the user may add the
    lines themselves.
    """
    return _edit(root, _with_patterns, "add .venv to", "add it yourself", create=True)


def remove_git_exclude(root: str) -> Optional[str]:
    """Remove ``root``'s lines from our block (the block goes when empty); None or a note.

    Every line of the block for an entry of ``root`` goes, so that an alias that is a
    folder again after an eject (``venv``) is no longer excluded."""
    what, then = "remove relocator's lines from", "remove them yourself"
    return _edit(root, _without_patterns, what, then, create=False)


def _edit(
    root: str, change: Callable[[bytes, list[str]], bytes], what: str, then: str, *, create: bool
) -> Optional[str]:
    where = root
    try:
        found = _locate(root)
        if found is None:
            return None
        where, worktree = found
        data = _read_exclude(where)
        if data is None and not create:
            return None
        new = change(data or b"", _exclude_patterns(root, worktree))
        if new != data:
            write_atomic(where, new)
        return None
    except _Skip as e:
        where, reason = e.where, e.reason
    except (OSError, ValueError) as e:
        reason = _reason(e)
    return f"could not {what} {where} ({reason}); {then}"


def _reason(e: Exception) -> str:
    return (e.strerror if isinstance(e, OSError) else None) or str(e) or type(e).__name__


# -- finding the exclude file ------------------------------------------------------------


def _locate(root: str) -> Optional[tuple[str, str]]:
    """(``info/exclude`` path, work tree) for ``root``; None outside git; _Skip when unusable."""
    folder = root
    while True:
        dotgit = os.path.join(folder, ".git")
        try:
            st = os.stat(dotgit)  # a .git symlink is followed, as git does
        except FileNotFoundError:
            if os.path.islink(dotgit):
                raise _Skip(dotgit, "a symlink that leads nowhere") from None
            st = None
        except OSError as e:
            raise _Skip(dotgit, _reason(e)) from None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                gitdir = dotgit
            elif stat.S_ISREG(st.st_mode):  # a linked worktree or a submodule
                gitdir = _pointer(dotgit, "gitdir: ", os.path.dirname(dotgit))
            else:
                raise _Skip(dotgit, "neither a folder nor a regular file")
            return os.path.join(_common_dir(gitdir, dotgit), "info", "exclude"), folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _common_dir(gitdir: str, dotgit: str) -> str:
    """The real git directory whose ``info/exclude`` git reads, checked to be ours."""
    real = os.path.realpath(gitdir)
    _check_ours(real, dotgit)
    commondir = os.path.join(real, "commondir")
    if os.path.lexists(commondir):
        common = os.path.realpath(_pointer(commondir, "", real))
        _check_ours(common, commondir)
    else:
        common = real
    if not os.path.isfile(os.path.join(common, "HEAD")):
        raise _Skip(dotgit, f"{common} is not a git directory")
    return common


def _check_ours(folder: str, named_by: str) -> None:
    try:
        st = os.stat(folder)
    except OSError as e:
        raise _Skip(named_by, f"{folder}: {_reason(e)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise _Skip(named_by, f"{folder} is not a git directory")
    if st.st_uid != os.geteuid():
        raise _Skip(named_by, f"{folder} belongs to another user")


def _pointer(path: str, prefix: str, base: str) -> str:
    """The path a ``.git`` file (``gitdir: X``) or a ``commondir`` file names, against ``base``."""
    data = read_regular(path, _MAX_POINTER)
    if data is None or len(data) >= _MAX_POINTER:
        raise _Skip(path, "not a small regular file")
    if not data.startswith(prefix.encode()):
        raise _Skip(path, f"does not start with {prefix.strip() or 'a path'}")
    named = data[len(prefix) :].rstrip(b"\r\n")  # git trims only the line ends
    if not named or b"\0" in named:
        raise _Skip(path, "names no usable path")
    return os.path.join(base, os.fsdecode(named))


def _read_exclude(path: str) -> Optional[bytes]:
    """The exclude file's bytes (None when missing); _Skip for anything but our regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise _Skip(path, "a symlink, which relocator does not write through")
    if not stat.S_ISREG(st.st_mode):
        raise _Skip(path, "not a regular file")
    if st.st_uid != os.geteuid():
        raise _Skip(path, "belongs to another user")
    data = read_regular(path)
    if data is None:
        raise _Skip(path, "not a regular file")
    return data


def _exclude_patterns(root: str, worktree: str) -> list[str]:
    rel = os.path.relpath(root, worktree)
    prefix = "" if rel == "." else "/" + _escape_gitignore(rel)
    # No trailing slash: the link is a symlink, which a `dir/` pattern does not match;
    # nor does `venv/` match an alias `venv -> .venv`.
    trees = [n for t in tree_links(root) for n in (t, t + NOSYNC)]
    names = [*LINK_NAMES, *(_escape_gitignore(a) for a in aliases(root)), *trees]
    return [f"{prefix}/{name}" for name in names]


def _escape_gitignore(rel: str) -> str:
    out = rel
    for ch in "\\*?[!#":
        out = out.replace(ch, "\\" + ch)
    out = out.replace("\n", "?").replace("\r", "?")  # a pattern cannot hold a line end
    return out.replace(" ", "\\ ") if out.endswith(" ") else out


def _looks_like_ours(line: bytes) -> bool:
    bare = bare_line(line)
    names = (*LINK_NAMES, *TREES, *(t + NOSYNC for t in TREES))
    return bare.startswith(b"/") and bare.endswith(tuple(b"/" + n.encode() for n in names))


def _blocks(lines: list[bytes]) -> list[tuple[int, int]]:
    """[start, end) of each block of ours. A block whose end marker is gone keeps only
    the pattern lines right after its start marker: never a user's line."""
    spans = []
    i = 0
    while i < len(lines):
        if bare_line(lines[i]) != _BEGIN:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and bare_line(lines[j]) not in (_BEGIN, _END):
            j += 1
        if j < len(lines) and bare_line(lines[j]) == _END:
            end = j + 1
        else:
            end = i + 1
            while end < len(lines) and _looks_like_ours(lines[end]):
                end += 1
        spans.append((i, end))
        i = end
    return spans


def _patterns(lines: list[bytes], spans: list[tuple[int, int]]) -> list[str]:
    found: list[str] = []
    for start, end in spans:
        for line in lines[start + 1 : end]:
            bare = bare_line(line)
            pattern = os.fsdecode(bare)
            if bare not in (_END, b"") and pattern not in found:
                found.append(pattern)
    return found


def _with_patterns(data: bytes, wanted: list[str]) -> bytes:
    lines = split_lines(data)
    spans = _blocks(lines)
    existing = _patterns(lines, spans)
    if len(spans) == 1 and all(p in existing for p in wanted):
        return data
    return _rewrite(data, lines, spans, sorted(set(existing) | set(wanted)))


def _without_patterns(data: bytes, ours: list[str]) -> bytes:
    lines = split_lines(data)
    spans = _blocks(lines)
    if not spans:
        return data
    folder = ours[0].rsplit("/", 1)[0]  # every pattern is <folder>/<one name>
    remaining = [p for p in _patterns(lines, spans) if p.rsplit("/", 1)[0] != folder]
    return _rewrite(data, lines, spans, remaining)


def _rewrite(
    data: bytes, lines: list[bytes], spans: list[tuple[int, int]], patterns: list[str]
) -> bytes:
    """``data`` with its blocks replaced by one block of ``patterns`` (none: no block).

    The block takes the place of the first old one, or goes at the end. A file
    without a final newline gets none after the block either, so that removing
    the block gives back exactly the bytes it had.
    """
    block = [_BEGIN + b"\n", *(os.fsencode(p) + b"\n" for p in patterns), _END + b"\n"]
    if not patterns:
        block = []
    if not spans:
        if not block:
            return data
        if data and not data.endswith(b"\n"):
            return data + b"\n" + b"".join(block)[:-1]
        return data + b"".join(block)
    at_end_bare = spans[-1][1] == len(lines) and not lines[-1].endswith(b"\n")
    out: list[bytes] = []
    previous = 0
    for n, (start, end) in enumerate(spans):
        out.extend(lines[previous:start])
        if n == 0:
            out.extend(block)
        previous = end
    out.extend(lines[previous:])
    text = b"".join(out)
    return text[:-1] if at_end_bare and text.endswith(b"\n") else text


# -- what the repository tracks ------------------------------------------------------------


def tracked(root: str, names: list[str]) -> Optional[list[str]]:
    """The paths of ``root``'s entries ``names`` (and below them) that git tracks: ``[]``
    outside a git work tree; None when it cannot be told (neither git nor the index
    file answers).

    git reads the index; the repository's own configuration cannot make it run a program
    here (``core.fsmonitor`` is turned off on the command line, nothing else ``ls-files``
    reads starts one).
    """
    if _git_dir(root) is None:
        return []
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return _from_index(root, names)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    cmd = [git, "-c", "core.fsmonitor=false", "ls-files", "-z", "--cached", "--", *names]
    try:
        result = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:  # a repository of another user's (safe.directory), say
        return _from_index(root, names)
    return [os.fsdecode(p) for p in result.stdout.split(b"\0") if p]


def _from_index(root: str, names: list[str]) -> Optional[list[str]]:
    """What :func:`tracked` asks, read from the index file itself (where git is missing or
    refuses): index versions 2 to 4, SHA-1 or SHA-256; None for anything else (a split
    index, a file that does not parse)."""
    import re
    import struct

    found = _git_dir(root)
    if found is None:
        return []
    gitdir, worktree = found
    prefix = os.path.relpath(root, worktree)
    wanted = [os.path.normpath(os.path.join(prefix, n)) if prefix != "." else n for n in names]
    try:
        data = read_regular(os.path.join(gitdir, "index"), 1 << 28) or b""
        config = read_regular(os.path.join(gitdir, "config"), 1 << 16) or b""
    except FileNotFoundError:
        return []  # nothing added yet
    except OSError:
        return None
    sha256 = re.search(rb"(?im)^\s*objectformat\s*=\s*sha256\s*$", config) is not None
    if len(data) < 12 or data[:4] != b"DIRC":
        return None if data else []
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    hashed = 32 if sha256 else 20
    fixed, at, previous, paths = 40 + hashed, 12, b"", []
    try:
        for _ in range(count):
            (flags,) = struct.unpack(">H", data[at + fixed : at + fixed + 2])
            start = at + fixed + 2 + (2 if version >= 3 and flags & 0x4000 else 0)
            if version == 4:
                strip, start = _varint(data, start)
                end = data.index(b"\0", start)
                path = previous[: len(previous) - strip] + data[start:end]
                at = end + 1
            else:
                end = data.index(b"\0", start)
                path = data[start:end]
                at = at + ((end - at) // 8 + 1) * 8
            previous = path
            paths.append(os.fsdecode(path))
        while at + 8 <= len(data) - hashed:  # the extensions: a split index's lacks entries
            signature, (size,) = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])
            if signature == b"link":
                return None
            at += 8 + size
    except (ValueError, struct.error):
        return None
    hits = [p for p in paths if any(p == w or p.startswith(w + "/") for w in wanted)]
    return [os.path.relpath(p, prefix) for p in hits] if prefix != "." else hits


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """git's offset varint (index v4): the number, and where it ends."""
    byte = data[at]
    value, at = byte & 0x7F, at + 1
    while byte & 0x80:
        byte = data[at]
        value, at = ((value + 1) << 7) | (byte & 0x7F), at + 1
    return value, at


def _git_dir(root: str) -> Optional[tuple[str, str]]:
    """(git directory, work tree) of the repository ``root`` is in; None outside one (or
    one that cannot be read)."""
    folder = root
    while True:
        dotgit = os.path.join(folder, ".git")
        if os.path.isdir(dotgit):
            return dotgit, folder
        if os.path.isfile(dotgit):
            try:
                return _pointer(dotgit, "gitdir: ", folder), folder
            except (_Skip, OSError):
                return None
        if folder == os.path.dirname(folder):
            return None
        folder = os.path.dirname(folder)
