"""Benchmark: the scan's walk against ``find`` on the same 100,000-file tree.

Figure (goal): scan speed, in files per second, at least half of ``find ROOT
-printf '%s\\n' | wc -l`` (which also reads every entry's size) on the same
tree: scan time / find time <= 2x.

The scan case is what a user runs: ``relocate scan ROOT --json``, a new process
whose start and output count as find's do. Reported beside it: the walk alone
(``relocator.commands.scan.scan`` in this process) and ``relocate --help`` (the fixed
cost of the command).

The tree is built once in a fake iCloud Documents folder: 100 projects of
exactly 1,000 files each, every one a realistic Python (and JavaScript)
project: sources with their ``__pycache__``, a venv-like ``.venv``
(``pyvenv.cfg``, ``bin/`` with interpreter links and scripts, site-packages of
packages in 16-module folders with their bytecode and ``.dist-info``), a
``node_modules`` with nested dependencies, ``.mypy_cache``, ``.pytest_cache``,
``build``, ``dist`` and an ``.egg-info``. File sizes vary from 60 bytes to 4 KB.
The page cache cannot be dropped without root and a pause of the whole
machine, so both commands are warmed first and timed warm, interleaved.

Standard library only: ``python benchmarks/bench_scan.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import figure, machine, missed, print_tables, write_json
from harness.timing import measure, timed

PROJECTS = 100
FILES_PER_PROJECT = 1_000
SCAN = "relocate scan ROOT --json"
FIND = "find -printf '%s\\n' | wc -l"
IN_PROCESS = "scan (in this process)"
FLOOR = "relocate --help (the command's fixed cost)"
GOAL = 0.5  # scan files/s over find files/s, at least
CLOUD_DOCUMENTS = "Library/Mobile Documents/com~apple~CloudDocs/Documents"
#: GNU find: ``-printf`` is GNU's; on macOS Homebrew's findutils names it ``gfind``
#: (``brew install findutils``), since the BSD find there has no ``-printf``.
GNU_FIND = "gfind" if sys.platform == "darwin" else "find"
FIND_CODE = GNU_FIND + " \"$1\" -printf '%s\\n' | wc -l"


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=10, warmup=2)
    p.add_argument("--projects", type=int, default=PROJECTS, help=f"projects ({PROJECTS})")
    return parse(p, argv, runs=3, warmup=1, projects=10)


# -- the tree -------------------------------------------------------------------------

LOOSE = 12  # files of a project outside any rebuildable tree
ROWS = 9  # rebuildable trees of a project: what a scan must report
VENV_BASE = (
    "pyvenv.cfg",
    ".gitignore",
    *(f"bin/{n}" for n in ("activate", "activate.csh", "activate.fish", "Activate.ps1")),
    "bin/pip",
    "bin/pytest",
)
VENV_LINKS = (
    ("python3.11", "bin/python"),
    ("python3.11", "bin/python3"),
    ("/usr/bin/python3.11", "bin/python3.11"),
    ("lib", "lib64"),
)
DIST_INFO = ("METADATA", "RECORD", "WHEEL", "INSTALLER", "top_level.txt")


class Builder:
    """Writes files of varied small sizes (60 bytes to 4 KB), counting them."""

    def __init__(self) -> None:
        self.files = 0
        self.folders: set[str] = set()

    def file(self, path: str) -> None:
        folder = os.path.dirname(path)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        with open(path, "wb") as f:
            f.write(b"#" * (60 + (self.files * 197) % 4000))
        self.files += 1

    def link(self, target: str, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
        self.files += 1


def _sources(project: str, pkg: str) -> Iterator[str]:
    """LOOSE files outside any tree, and 8 in src's ``__pycache__`` (one tree)."""
    yield from (f"{project}/{n}" for n in ("pyproject.toml", "README.md", ".gitignore"))
    yield f"{project}/tests/test_{pkg}.py"
    for m in range(8):
        yield f"{project}/src/{pkg}/mod{m}.py"
        yield f"{project}/src/{pkg}/__pycache__/mod{m}.cpython-311.pyc"


def _small_trees(project: str, pkg: str) -> Iterator[str]:
    """60 files in six trees: what tools leave beside the sources."""
    for m in range(30):
        yield f"{project}/.mypy_cache/3.11/{pkg}/mod{m % 8}.{m}.json"
    for name in (
        "CACHEDIR.TAG",
        "README.md",
        ".gitignore",
        "v/cache/lastfailed",
        "v/cache/nodeids",
    ):
        yield f"{project}/.pytest_cache/{name}"
    for m in range(15):
        yield f"{project}/build/lib/{pkg}/mod{m}.py"
    for name in ("PKG-INFO", "SOURCES.txt", "top_level.txt", "dependency_links.txt"):
        yield f"{project}/src/{pkg}.egg-info/{name}"
    yield f"{project}/dist/{pkg}-1.0.tar.gz"
    yield f"{project}/dist/{pkg}-1.0-py3-none-any.whl"
    for m in range(4):
        yield f"{project}/.ruff_cache/0.6.9/{m}"


def _node_modules(top: str) -> Iterator[str]:
    """Packages of 24 files; every third is a dependency nested in the one before."""
    for i in itertools.count():
        pkg = f"{top}/pkg-{i:03d}"
        if i % 3 == 2:
            pkg = f"{top}/pkg-{i - 1:03d}/node_modules/dep-{i:03d}"
        yield from (f"{pkg}/{n}" for n in ("package.json", "README.md", "LICENSE"))
        for m in range(21):
            yield f"{pkg}/{'lib' if m % 2 else 'dist'}/f{m}.js"


def _site_packages(sp: str) -> Iterator[str]:
    """Installed packages: a ``.dist-info`` and 48 modules in folders of 16, each module
    with its bytecode."""
    for k in itertools.count():
        yield from (f"{sp}/pkg_{k:03d}-1.0.dist-info/{n}" for n in DIST_INFO)
        for m in range(48):
            folder = f"{sp}/pkg_{k:03d}" + (f"/sub{m // 16}" if m >= 16 else "")
            yield f"{folder}/mod{m % 16}.py"
            yield f"{folder}/__pycache__/mod{m % 16}.cpython-311.pyc"


def _project(b: Builder, project: str, pkg: str) -> None:
    """A project of exactly FILES_PER_PROJECT files; its .venv takes what the rest leaves."""
    start = b.files
    for path in itertools.chain(
        _sources(project, pkg),
        _small_trees(project, pkg),
        itertools.islice(_node_modules(f"{project}/node_modules"), 300),
    ):
        b.file(path)
    venv = f"{project}/.venv"
    for name in VENV_BASE:
        b.file(f"{venv}/{name}")
    for target, name in VENV_LINKS:
        b.link(target, f"{venv}/{name}")
    left = FILES_PER_PROJECT - (b.files - start)
    sp = f"{venv}/lib/python3.11/site-packages"
    for path in itertools.islice(_site_packages(sp), left):
        b.file(path)
    assert b.files - start == FILES_PER_PROJECT, b.files - start


def build_tree(documents: str, projects: int) -> int:
    """``projects`` projects under ``documents/code``; the number of files."""
    b = Builder()
    for p in range(projects):
        _project(b, f"{documents}/code/proj-{p:03d}", f"pkg{p:03d}")
    return b.files


def count_entries(top: str) -> tuple[int, int]:
    """(non-folders, folders) below ``top``, links not followed: what each command reads."""
    files = folders = 0
    for folder, dirs, names in os.walk(top):
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        files += len(names) + len(links)
        folders += len(dirs) - len(links)
    return files, folders


# -- the cases ------------------------------------------------------------------------


def run_command(cmd: list[str], env: dict[str, str], expect: str) -> float:
    elapsed, output = timed(cmd, env)
    assert output.split() == expect.split(), (cmd, output, expect)
    return elapsed


def run_cli(cmd: list[str], env: dict[str, str], expect: str) -> float:
    elapsed, output = timed(cmd, env)
    found = json.loads(output)
    assert f"{len(found)} {sum(t['files'] for t in found)}" == expect, (cmd, expect)
    return elapsed


def run_help(cmd: list[str], env: dict[str, str]) -> float:
    return timed(cmd, env)[0]


def run_in_process(root: str, expect: str) -> float:
    from relocator.commands.scan import scan

    start = time.perf_counter()
    found = scan([root])
    elapsed = time.perf_counter() - start
    assert f"{len(found)} {sum(t.files for t in found)}" == expect
    return elapsed


def speeds(cases: dict[str, dict[str, Any]], files: int) -> dict[str, dict[str, float]]:
    """Files per second of each case, from its median and from its fastest run."""
    return {
        name: {"median": files / c["median"], "best": files / c["min"]}
        for name, c in cases.items()
        if name != FLOOR
    }


def print_speeds(rates: dict[str, dict[str, float]], files: int) -> None:
    width = max(len(n) for n in rates)
    print(f"\n{files:,} files: {'files/s (median)':>17}  {'best':>10}")
    for name, r in rates.items():
        print(f"{name:<{width}}  {r['median']:>17,.0f}  {r['best']:>10,.0f}")
    ratio = rates[SCAN]["median"] / rates[FIND]["median"]
    verdict = "met" if ratio >= GOAL else "NOT MET"
    print(f"scan speed / find speed: {ratio:.2f}x (goal >= {GOAL}x): {verdict}")


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    with session(args) as (root, relocate, _):
        env = bench_env(root, os.path.join(root, "store"))
        documents = os.path.join(env["HOME"], CLOUD_DOCUMENTS)
        started = time.perf_counter()
        total = build_tree(documents, args.projects)
        os.sync()
        files, folders = count_entries(documents)
        assert files == total, (files, total)
        in_trees = files - LOOSE * args.projects
        print(
            f"tree: {files:,} files ({in_trees:,} in rebuildable trees) in {folders:,} "
            f"folders, built in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        found = f"{ROWS * args.projects} {in_trees}"  # what the scan must report
        entries = str(files + folders + 1)  # find prints the root too
        cases = measure(
            args.runs,
            {
                SCAN: (run_cli, ([*relocate, "scan", documents, "--json"], env, found)),
                FIND: (run_command, (["bash", "-c", FIND_CODE, "find", documents], env, entries)),
                IN_PROCESS: (run_in_process, (documents, found)),
                FLOOR: (run_help, ([*relocate, "--help"], env)),
            },
            args.warmup,
        )
        load = os.getloadavg()
    figures = [figure(f"{SCAN} / {FIND} (time)", cases, SCAN, FIND, 1 / GOAL)]
    print_tables(cases, figures)
    rates = speeds(cases, files)
    print_speeds(rates, files)
    data = {"benchmark": "scan", **machine(), "load_at_end": load, "files": files}
    data.update(folders=folders, cases=cases, speeds=rates, figures=figures)
    write_json(args.json, data)
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
