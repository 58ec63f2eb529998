"""Store venvs: creating them, checking that one can move, copying, and reading facts.

``relocate python`` imports this module for :func:`python_version`, so
shutil and subprocess are imported only in the functions that use them.
"""

from __future__ import annotations

import os
import stat
import sys

from relocator.errors import RelocatorError, ToolFailed
from relocator.system import faults
from relocator.system.files import read_small

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


def create(
    dest: str,
    project: str,
    python: Optional[str] = None,
    *,
    requested: Optional[str] = None,
    pip: bool = True,
) -> str:
    """Create a venv at ``dest`` for ``project``; return the tool used (``uv`` or ``venv``).

    With ``pip``, the venv has pip (``uv venv --seed``), so that ``.venv/bin/pip``
    and tools that run it (Hatch, Poetry's installer) work; a project uv manages
    needs none.

    Nothing inside the project runs: the tools start outside it, with ``requested``,
    the project's ``.python-version`` or ``requires-python`` as the caller read it
    (:func:`relocator.paths.project.python_request`), passed as a version request
    (never as a path); only ``python``, the user's own ``--python``, may name an
    interpreter by path, and it comes first.
    """
    import shutil

    prompt = os.path.basename(project)
    request = python or requested
    cwd = os.path.dirname(dest)  # the store: never the project, whose files would be found
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "venv", "--quiet", "--no-config", "--no-project", "--prompt", prompt]
        cmd += ["--seed"] if pip else []
        if request:
            cmd += ["--python", _absolute(request) if python else request]
        _run([*cmd, dest], cwd=cwd, what="uv venv")
        return "uv"
    interpreter = _find_python(python)
    cmd = [interpreter, "-I", "-m", "venv", "--prompt", prompt, *([] if pip else ["--without-pip"])]
    cmd.append(dest)
    _run(cmd, cwd=cwd, what="python -m venv")
    return "venv"


def _absolute(python: str) -> str:
    """A ``--python`` the user gave as a relative path, made absolute against their folder."""
    return os.path.abspath(python) if os.sep in python else python


def _find_python(python: Optional[str]) -> str:
    import shutil

    if python is None:
        return shutil.which("python3") or sys.executable
    if os.sep in python:
        if not os.access(python, os.X_OK) or os.path.isdir(python):
            raise RelocatorError(f"--python {python}: not an executable file")
        return os.path.abspath(python)
    for name in (python, f"python{python}"):
        found = shutil.which(name)
        if found:
            return found
    raise RelocatorError(f"--python {python}: no such interpreter on PATH (try a path or 3.X)")


def _run(cmd: list[str], *, cwd: str, what: str) -> None:
    import subprocess

    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, errors="replace", check=False
    )
    if result.returncode != 0:
        raise ToolFailed.of(f"{what} failed", result.stdout, result.stderr)


# -- moving ------------------------------------------------------------------------


def same_volume(path: str, folder: str) -> bool:
    """Whether ``path`` and ``folder`` (both exist) are on one file system, so that a rename
    can move the one into the other. Two mounts of one file system (a bind mount, as Docker
    and devcontainers make) share the device number and still refuse a rename (``EXDEV``):
    :func:`relocator.venv.transfer.move` copies then."""
    return os.lstat(path).st_dev == os.stat(folder).st_dev


Manifest = dict[str, tuple[str, object, int]]


def check_movable(venv: str, dest_folder: str, *, cross_volume: bool) -> Optional[Manifest]:
    """Check, before anything moves, that ``venv`` can move into ``dest_folder`` whole.

    A POSIX venv (a real ``bin/``), writable where relocator rewrites or removes.
    Across volumes every entry is read, so that the copy cannot fail half-way on
    something known now: only files, folders and symlinks, readable, folders
    writable, and room on the other volume. Returns that manifest (None on one
    volume, where a rename moves the venv without reading it).
    """
    bindir = os.path.join(venv, "bin")
    if os.path.islink(bindir) or not os.path.isdir(bindir):
        if os.path.isdir(os.path.join(venv, "Scripts")):
            raise RelocatorError(
                f"{venv} is a Windows venv (Scripts\\, no bin/): it cannot run here; "
                "move it away and run relocate adopt to create one"
            )
        raise RelocatorError(
            f"{venv} has no bin/ folder: it is not a venv relocate can move; "
            "move it away and run again"
        )
    for folder in (venv, bindir, *site_packages(venv)):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise RelocatorError(
                f"cannot write in {folder} (permission denied): relocate rewrites the venv "
                "as it moves it; make it writable (chmod -R u+w) and run again"
            )
    return check_copyable(venv, dest_folder) if cross_volume else None


def check_copyable(top: str, dest_folder: str) -> Manifest:
    """Check, before anything moves, that the tree ``top`` can be copied into
    ``dest_folder`` whole: only files, folders and symlinks, files readable, folders
    readable and writable, and room on that volume. Returns its manifest with times."""
    found = manifest(top, times=True)
    needed = 0
    for rel, (kind, size, _) in found.items():
        path = os.path.join(top, rel)
        if kind == "special":
            raise RelocatorError(
                f"{path} is a pipe, socket or device, which cannot be copied to another volume; "
                "remove it and run again"
            )
        if kind == "dir" and not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise RelocatorError(
                f"cannot read or write {path} (permission denied); make it writable "
                "(chmod -R u+w) and run again"
            )
        if kind == "file":
            if not os.access(path, os.R_OK):
                raise RelocatorError(f"cannot read {path} (permission denied); nothing moved")
            needed += int(size)  # type: ignore[call-overload]
    fs = os.statvfs(dest_folder)
    free = fs.f_bavail * fs.f_frsize
    if needed + len(found) * 512 > free:  # what the files hold, and room for their entries
        raise RelocatorError(
            f"not enough space for {top} ({needed / 1e6:.1f} MB) in {dest_folder} "
            f"({free / 1e6:.1f} MB free); nothing moved"
        )
    return found


def copy_tree(src: str, dst: str, progress: Optional[Callable[[int], None]] = None) -> None:
    """Copy ``src`` to the new folder ``dst``: files, folders, symlinks (as links), modes, times.

    Folders get their modes and times after their content, so a read-only
    folder is copied whole. Stops at the first error (the caller removes ``dst``).
    ``progress`` is called with the number of files copied so far, after each file.
    """
    import shutil

    os.mkdir(dst, 0o700)
    folders = [""]
    count = 0
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(src, rel)) as entries:
            for entry in entries:
                relpath = os.path.join(rel, entry.name)
                target = os.path.join(dst, relpath)
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    os.symlink(os.readlink(entry.path), target)
                elif stat.S_ISDIR(mode):
                    os.mkdir(target, 0o700)
                    folders.append(relpath)
                    pending.append(relpath)
                elif stat.S_ISREG(mode):
                    _copy_file(entry.path, target)
                    count += 1
                    faults.copied(count)
                    if progress is not None:
                        progress(count)
                else:
                    raise RelocatorError(f"{entry.path} is a pipe, socket or device; nothing moved")
    for rel in reversed(folders):
        shutil.copystat(os.path.join(src, rel), os.path.join(dst, rel), follow_symlinks=False)


def _copy_file(src: str, dst: str) -> None:
    """One regular file with its mode and times: what a venv needs, in a few system calls
    (shutil.copy2 spends a dozen a file on checks and attributes a venv has no use for)."""
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fin)
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            _copy_data(fin, fout)
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _copy_data(fin: int, fout: int) -> None:
    if sys.platform.startswith("linux"):  # in the kernel; elsewhere sendfile wants a socket
        while os.sendfile(fout, fin, None, 1 << 24):
            pass
        return
    while True:
        chunk = os.read(fin, 1 << 20)
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            view = view[os.write(fout, view) :]


def manifest(top: str, *, times: bool = False) -> Manifest:
    """Every entry below ``top``: relative path -> (kind, size or link target, mtime).

    Kinds: file, dir, link, special. The mtime (of files, in ns) only with ``times``:
    comparing a copy needs shapes; telling whether a source changed needs times.
    """
    entries: Manifest = {}
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(top, rel)) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    entries[path] = ("link", os.readlink(entry.path), 0)
                elif stat.S_ISDIR(st.st_mode):
                    entries[path] = ("dir", None, 0)
                    pending.append(path)
                elif stat.S_ISREG(st.st_mode):
                    entries[path] = ("file", st.st_size, st.st_mtime_ns if times else 0)
                else:
                    entries[path] = ("special", None, 0)
    return entries


def shapes(found: Manifest) -> Manifest:
    """A manifest without times: what a verified copy must match."""
    return {k: (kind, what, 0) for k, (kind, what, _) in found.items()}


# -- facts ----------------------------------------------------------------------------


def python_version(venv: str) -> Optional[str]:
    """The Python version of a venv, from its own ``pyvenv.cfg`` (read each time: a
    tool may recreate the venv with another Python). virtualenv's ``3.12.1.final.0``
    reads as ``3.12.1``."""
    cfg = read_cfg(venv)
    numbers = []
    for part in (cfg.get("version_info") or cfg.get("version") or "").split(".")[:3]:
        if not part.isdigit():
            break
        numbers.append(part)
    return ".".join(numbers) if len(numbers) >= 2 else None


def read_cfg(venv: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (read_small(os.path.join(venv, "pyvenv.cfg")) or "").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def site_packages(venv: str) -> list[str]:
    """The venv's site-packages folders: real folders inside the venv, never through a link."""
    lib = os.path.join(venv, "lib")
    try:
        names = sorted(os.listdir(lib)) if not os.path.islink(lib) else []
    except OSError:
        return []
    found = []
    for name in names:
        sp = os.path.join(lib, name, "site-packages")
        real = not os.path.islink(os.path.join(lib, name)) and not os.path.islink(sp)
        if name.startswith("python") and real and os.path.isdir(sp):
            found.append(sp)
    return found


def pth_files(venv: str) -> list[str]:
    """The ``.pth`` files of the venv's site-packages: the only files whose hidden flag
    matters (CPython's ``site`` skips a hidden one, and the imports it adds fail)."""
    found = []
    for sp in site_packages(venv):
        found += sorted(os.path.join(sp, n) for n in os.listdir(sp) if n.endswith(".pth"))
    return found


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


def read_shebang(data: bytes) -> Optional[tuple[list[str], int]]:
    """(interpreter candidates, header length in bytes) of a console script, either form.

    The two-line form has one word: shell-quoted by uv, but put raw between
    double quotes by pip (distlib), so a path holding a quote reads two ways.
    """
    import re
    import shlex

    if not data.startswith(b"#!"):
        return None
    first, _, rest = data.partition(b"\n")
    if first.strip() == b"#!/bin/sh":
        second, _, rest2 = rest.partition(b"\n")
        third, _, _ = rest2.partition(b"\n")
        match = re.match(rb"^'''exec' (?P<word>.+) \"\$0\" \"\$@\"$", second)
        if match is None or third.strip() != b"' '''":
            return None
        word = os.fsdecode(match.group("word"))
        candidates = [word[1:-1]] if len(word) > 1 and word[0] == word[-1] == '"' else []
        try:
            words = shlex.split(word)
        except ValueError:
            words = []
        candidates += words if len(words) == 1 else []
        return (candidates, len(first) + len(second) + len(third) + 3) if candidates else None
    line = os.fsdecode(first[2:]).strip()
    if not line or " " in line:
        return None
    return [line], len(first) + 1
