"""Store venvs: creating, moving, and reading facts about them.

``relocate python`` imports this module for :func:`python_version`, so
shutil and subprocess are imported only in the functions that use them.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from relocator.errors import RelocatorError


def create(dest: str, project: str, python: Optional[str] = None) -> str:
    """Create a venv at ``dest`` for ``project``; return the tool used (``uv`` or ``venv``).

    uv, when on PATH, runs in the project folder so that it honours
    ``.python-version`` and ``requires-python``; else ``python -m venv``.
    """
    import shutil

    prompt = os.path.basename(project)
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "venv", "--quiet", "--prompt", prompt, *(["--python", python] if python else [])]
        _run([*cmd, dest], cwd=project, what="uv venv")
        return "uv"
    interpreter = _find_python(python)
    _run([interpreter, "-m", "venv", "--prompt", prompt, dest], cwd=project, what="python -m venv")
    return "venv"


def _find_python(python: Optional[str]) -> str:
    import shutil

    if python is None:
        return shutil.which("python3") or sys.executable
    if os.sep in python:
        if not os.access(python, os.X_OK):
            raise RelocatorError(f"--python {python}: not an executable file")
        return python
    for name in (python, f"python{python}"):
        found = shutil.which(name)
        if found:
            return found
    raise RelocatorError(f"--python {python}: no such interpreter on PATH (try a path or 3.X)")


def _run(cmd: list[str], *, cwd: str, what: str) -> None:
    import subprocess

    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise RelocatorError(f"{what} failed: {lines[-1].strip()}")


def same_volume(path: str, folder: str) -> bool:
    """Whether ``path`` can be renamed into ``folder`` (both exist)."""
    return os.lstat(path).st_dev == os.stat(folder).st_dev


def copy_verified(src: str, staging: str) -> None:
    """Copy the tree ``src`` to ``staging`` and check every name, type, size and link target.

    ``staging`` must not exist. On a mismatch the copy is removed and nothing else changes.
    """
    import shutil

    shutil.copytree(src, staging, symlinks=True)
    expected, copied = manifest(src), manifest(staging)
    if expected != copied:
        differs = sorted(k for k in set(expected) | set(copied) if expected.get(k) != copied.get(k))
        shutil.rmtree(staging)
        raise RelocatorError(
            f"copy of {src} did not verify ({differs[0]!r} differs); nothing moved"
        )


def is_leftover(src: str, copy: str) -> bool:
    """Whether everything in ``src`` is also in ``copy``: removing ``src`` loses nothing."""
    have = manifest(copy)
    return all(have.get(k) == v for k, v in manifest(src).items())


def manifest(top: str) -> dict[str, tuple[str, object]]:
    """Every entry below ``top``: relative path -> (kind, size or link target)."""
    entries: dict[str, tuple[str, object]] = {}
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(top, rel)) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_symlink():
                    entries[path] = ("link", os.readlink(entry.path))
                elif entry.is_dir():
                    entries[path] = ("dir", None)
                    pending.append(path)
                else:
                    entries[path] = ("file", entry.stat(follow_symlinks=False).st_size)
    return entries


def python_version(venv: str) -> Optional[str]:
    """The Python version a venv was made with, from its ``pyvenv.cfg``."""
    cfg = read_cfg(venv)
    return cfg.get("version_info") or cfg.get("version")


def read_cfg(venv: str) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                name, sep, value = line.partition("=")
                if sep:
                    values[name.strip()] = value.strip()
    except OSError:
        pass
    return values


def usage(venv: str) -> tuple[int, int]:
    """(file count, bytes) of everything below ``venv``."""
    files = size = 0
    for folder, _dirs, names in os.walk(venv):
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            files += 1
    return files, size


def interpreter(venv: str) -> str:
    return os.path.join(venv, "bin", "python")
