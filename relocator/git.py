"""Git: keeping the link out of ``git status`` through ``.git/info/exclude``.

relocator never edits the user's ``.gitignore``; it adds the link names in a
marked block of the work tree's ``info/exclude`` and removes only that block.
"""

from __future__ import annotations

import os
from typing import Optional

from relocator.store import write_atomic

LINK_NAMES = (".venv", ".venv.nosync")
EXCLUDE_BEGIN = "# >>> relocator: venv links (relocate eject removes these lines) >>>"
EXCLUDE_END = "# <<< relocator <<<"


def git_exclude_file(root: str) -> Optional[tuple[str, str]]:
    """(``info/exclude`` path, work tree) of the git work tree holding ``root``, if any."""
    folder = root
    while True:
        dotgit = os.path.join(folder, ".git")
        if os.path.isdir(dotgit):
            return os.path.join(dotgit, "info", "exclude"), folder
        if os.path.isfile(dotgit):  # a linked worktree or a submodule
            gitdir = _read_gitdir(dotgit)
            if gitdir is None:
                return None
            common = gitdir
            commondir = os.path.join(gitdir, "commondir")
            if os.path.isfile(commondir):
                with open(commondir, encoding="utf-8") as f:
                    common = os.path.normpath(os.path.join(gitdir, f.read().strip()))
            return os.path.join(common, "info", "exclude"), folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read_gitdir(dotgit: str) -> Optional[str]:
    with open(dotgit, encoding="utf-8", errors="surrogateescape") as f:
        line = f.readline().strip()
    if not line.startswith("gitdir:"):
        return None
    gitdir = line[len("gitdir:") :].strip()
    return os.path.normpath(os.path.join(os.path.dirname(dotgit), gitdir))


def _exclude_patterns(root: str, worktree: str) -> list[str]:
    rel = os.path.relpath(root, worktree)
    prefix = "" if rel == "." else "/" + _escape_gitignore(rel)
    # No trailing slash: the link is a symlink, which a `dir/` pattern does not match.
    return [f"{prefix}/{name}" for name in LINK_NAMES]


def _escape_gitignore(rel: str) -> str:
    out = rel
    for ch in "\\*?[!#":
        out = out.replace(ch, "\\" + ch)
    out = out.replace("\n", "?")  # a pattern cannot hold a newline; `?` matches it
    return out.replace(" ", "\\ ") if out.endswith(" ") else out


def add_git_exclude(root: str) -> None:
    """Add the link names to ``.git/info/exclude`` in a block of ours (never ``.gitignore``)."""
    found = git_exclude_file(root)
    if found is None:
        return
    path, worktree = found
    lines = _read_lines(path)
    wanted = _exclude_patterns(root, worktree)
    existing = _our_patterns(lines)
    if all(p in existing for p in wanted):
        return
    kept = _without_our_block(lines)
    block = [EXCLUDE_BEGIN, *sorted(set(existing) | set(wanted)), EXCLUDE_END]
    write_atomic(path, "".join(line + "\n" for line in [*kept, *block]))


def remove_git_exclude(root: str) -> None:
    """Remove this project's lines from our block; the block goes when empty."""
    found = git_exclude_file(root)
    if found is None or not os.path.exists(found[0]):
        return
    path, worktree = found
    lines = _read_lines(path)
    remaining = [p for p in _our_patterns(lines) if p not in _exclude_patterns(root, worktree)]
    kept = _without_our_block(lines)
    block = [EXCLUDE_BEGIN, *remaining, EXCLUDE_END] if remaining else []
    if kept + block != lines:
        write_atomic(path, "".join(line + "\n" for line in kept + block))


def _our_patterns(lines: list[str]) -> list[str]:
    if EXCLUDE_BEGIN not in lines:
        return []
    start = lines.index(EXCLUDE_BEGIN) + 1
    end = lines.index(EXCLUDE_END, start) if EXCLUDE_END in lines[start:] else len(lines)
    return lines[start:end]


def _without_our_block(lines: list[str]) -> list[str]:
    if EXCLUDE_BEGIN not in lines:
        return lines
    start = lines.index(EXCLUDE_BEGIN)
    end = lines.index(EXCLUDE_END, start) + 1 if EXCLUDE_END in lines[start:] else len(lines)
    return lines[:start] + lines[end:]


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []
