"""How relocate is run, and the isolated environment every run gets.

Every run works in a new temporary folder with ``HOME``, ``RELOCATOR_HOME`` (the
store) and ``TMPDIR`` inside it, ``UV_PYTHON_DOWNLOADS=never`` and a ``PATH`` of
system folders without uv. The real store is never touched: :func:`session`
fails if its mtime changed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from typing import Optional

SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DROPPED_PREFIXES = ("RELOCATOR_", "XDG_", "VIRTUAL_ENV", "UV_", "PYENV", "CONDA")
DROPPED = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONPYCACHEPREFIX"}


def relocate_command(module: bool = False) -> tuple[list[str], str]:
    """How to run relocate, and a description.

    The console script is what users run (``relocate`` from pipx, uv tool or a
    venv's bin/): it is the one beside this interpreter, not a pyenv shim on
    PATH (a shim adds a bash and ``pyenv exec`` to every call). Without it,
    ``python -m relocator``.
    """
    script = os.path.join(sysconfig.get_path("scripts"), "relocate")
    if not module and os.path.isfile(script) and os.access(script, os.X_OK):
        return [script], f"console script {script}"
    return [sys.executable, "-m", "relocator"], f"{sys.executable} -m relocator"


def relocate_at(checkout: str) -> tuple[list[str], dict[str, str]]:
    """``python -m relocator`` of the checkout ``checkout``, and what its env adds.

    Run it with the current folder outside any checkout: ``python -m`` and ``-c``
    put the current folder first on sys.path, before PYTHONPATH.
    """
    return [sys.executable, "-m", "relocator"], {"PYTHONPATH": checkout}


def relocator_of(checkout: str, env: dict[str, str]) -> str:
    """Where ``relocate_at(checkout)`` imports relocator from; it must be the checkout."""
    code = "import relocator; print(relocator.__file__)"
    found = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **relocate_at(checkout)[1]},
        cwd=env["HOME"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not found.startswith(os.path.join(checkout, "relocator") + os.sep):
        raise SystemExit(f"python imports relocator from {found or '?'}, not {checkout}'s")
    return found


def clean_path() -> str:
    """A PATH of system folders only, none of which holds uv."""
    dirs = [d for d in SYSTEM_PATH if os.path.isdir(d)]
    return os.pathsep.join(d for d in dirs if shutil.which("uv", path=d) is None)


def bench_env(root: str, store: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of every relocate run: a temporary home and store, no uv.

    ``drop``: more prefixes of variables left out (the tools' own settings).
    """
    prefixes = (*DROPPED_PREFIXES, *drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in DROPPED}
    home = os.path.join(root, "home")
    os.makedirs(home, exist_ok=True)
    env.update(
        HOME=home,
        RELOCATOR_HOME=store,
        UV_PYTHON_DOWNLOADS="never",
        PATH=clean_path(),
        TMPDIR=os.path.join(root, "tmp"),
    )
    os.makedirs(env["TMPDIR"], exist_ok=True)
    assert shutil.which("uv", path=env["PATH"]) is None
    return env


def find_uv() -> str:
    """uv on PATH or beside this interpreter; the benchmarks that need it exit without."""
    found = shutil.which("uv") or os.path.join(sysconfig.get_path("scripts"), "uv")
    if not os.access(found, os.X_OK):
        raise SystemExit("uv is needed: put it on PATH (or beside this interpreter)")
    return os.path.realpath(found)


def uv_folder(root: str) -> str:
    """A folder holding only a link to uv: PATH gains uv and nothing else."""
    folder = os.path.join(root, "uv-bin")
    os.makedirs(folder)
    os.symlink(find_uv(), os.path.join(folder, "uv"))
    return folder


def machine_env(root: str, where: str, cache: str, uv_dir: str) -> dict[str, str]:
    """One machine: its HOME (with a Documents folder), store and uv cache; uv on PATH."""
    env = bench_env(root, os.path.join(where, "store"))
    home = os.path.join(where, "home")
    os.makedirs(os.path.join(home, "Documents"), exist_ok=True)
    env.update(
        HOME=home,
        UV_CACHE_DIR=cache,
        UV_NO_PROGRESS="1",
        PATH=uv_dir + os.pathsep + env["PATH"],
    )
    return env


def real_store_state() -> Optional[float]:
    """The mtime of the user's real store, to check afterwards that nothing touched it."""
    path = os.environ.get("RELOCATOR_HOME")
    if not path:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        home = os.path.expanduser("~")
        cache = os.path.join(home, "Library/Caches" if sys.platform == "darwin" else ".cache")
        path = os.path.join(xdg if os.path.isabs(xdg) else cache, "relocator")
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


@contextlib.contextmanager
def workspace(parent: Optional[str], keep: bool) -> Iterator[str]:
    """A new work folder under ``parent`` (the system temp dir), removed at the end."""
    root = tempfile.mkdtemp(prefix="relocator-bench-", dir=parent)
    try:
        yield root
    finally:
        if keep:
            print(f"kept {root}")
        else:
            started = time.perf_counter()
            shutil.rmtree(root, ignore_errors=True)
            print(f"removed {root} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


@contextlib.contextmanager
def session(args: argparse.Namespace) -> Iterator[tuple[str, list[str], str]]:
    """(work folder, relocate command, how it is run); the real store must stay untouched."""
    relocate, how = relocate_command(args.module)
    before = real_store_state()
    with workspace(args.tmp, args.keep) as root:
        print(f"relocate: {how}\nwork folder: {root}", file=sys.stderr)
        print(f"{os.cpu_count()} cpus, load average {os.getloadavg()}", file=sys.stderr)
        yield root, relocate, how
    assert real_store_state() == before, "the real store changed during the benchmark"


@contextlib.contextmanager
def base_checkout(rev: Optional[str], where: str) -> Iterator[Optional[str]]:
    """A detached git worktree of ``rev`` at ``where`` (None without a rev), removed after."""
    if not rev:
        yield None
        return
    subprocess.run(["git", "-C", REPO, "worktree", "add", "-q", "--detach", where, rev], check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", where])


def short_rev(rev: str) -> str:
    """``rev``'s short hash (``rev`` itself if git does not know it)."""
    found = subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--short", rev], capture_output=True, text=True
    )
    return found.stdout.strip() or rev
