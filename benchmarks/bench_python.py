"""Benchmark: ``relocate python`` (the editor lookup) against a bare ``python -c pass``.

Figure (goal): ``relocate python`` in a relocated project costs at most 4x a
bare ``python -c pass`` with the venv's own interpreter. Also reported against
the same yardstick: ``relocate python --json`` and ``relocate python`` from a
folder three levels below the project root; for reference, ``python -c pass``
with the interpreter relocate itself runs on (its floor), and ``relocate
python`` from a clean install: a venv without pip whose site-packages holds
only a path ``.pth`` to the relocator package and a console script like the one
pip writes (the fast path needs no third-party package). That venv's site has
no other ``.pth`` hooks, as in a pipx or ``uv tool`` install: it separates
relocate's own cost from the startup cost of the interpreter it is installed in.

One project with a small venv (120 files) is adopted once; then every case
runs ``--runs`` times (default 30), interleaved, after a few untimed warm-up
rounds. Everything happens in a temporary folder, with ``RELOCATOR_HOME``,
``HOME`` and the store there, ``UV_PYTHON_DOWNLOADS=never`` and a PATH without
uv. Standard library only: ``python benchmarks/bench_python.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from typing import Any, Optional

from bench_adopt import SMALL
from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import figure, machine, missed, print_tables, write_json
from harness.timing import summary, timed
from harness.venvs import build_project, console_script, write_file

BARE = "venv python -c pass"
LOOKUP = "relocate python"
LOOKUP_JSON = "relocate python --json"
LOOKUP_DEEP = "relocate python (3 levels down)"
FLOOR = "relocate's python -c pass"
CLEAN = "relocate python (clean install)"
GOAL = 4.0


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=30, warmup=3)
    return parse(p, argv, runs=5, warmup=1)


def relocated_project(root: str, relocate: list[str], env: dict[str, str]) -> tuple[str, str]:
    """An adopted project (and a folder three levels inside it)."""
    project = os.path.join(root, "work", "proj")
    build_project(project, SMALL, env)
    timed([*relocate, "adopt", project], env)
    deep = os.path.join(project, "src", "pkg", "sub")
    os.makedirs(deep)
    return project, deep


def clean_install(root: str, env: dict[str, str]) -> str:
    """A venv with relocator on a path ``.pth`` and pip's console script; its ``relocate``."""
    spec = importlib.util.find_spec("relocator")
    if spec is None or spec.origin is None:
        raise SystemExit("relocator is not importable from this interpreter")
    source = os.path.dirname(os.path.dirname(spec.origin))
    venv = os.path.join(root, "clean-install")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)
    lib = os.path.join(venv, "lib")
    (sp,) = (os.path.join(lib, d, "site-packages") for d in os.listdir(lib))
    write_file(os.path.join(sp, "relocator.pth"), source + "\n")
    script = os.path.join(venv, "bin", "relocate")
    write_file(
        script, console_script(os.path.join(venv, "bin", "python"), "relocator.cli.entry"), 0o755
    )
    return script


def cases(
    relocate: list[str], project: str, deep: str, clean: str
) -> dict[str, tuple[list[str], str, Optional[str]]]:
    """name -> (command, working folder, what its output must contain)."""
    venv_python = os.path.join(project, ".venv", "bin", "python")
    return {
        BARE: ([venv_python, "-c", "pass"], project, None),
        LOOKUP: ([*relocate, "python"], project, venv_python + "\n"),
        LOOKUP_JSON: ([*relocate, "python", "--json"], project, '"valid": true'),
        LOOKUP_DEEP: ([*relocate, "python"], deep, venv_python + "\n"),
        FLOOR: ([sys.executable, "-c", "pass"], project, None),
        CLEAN: ([clean, "python"], project, venv_python + "\n"),
    }


def run_all(
    todo: dict[str, tuple[list[str], str, Optional[str]]],
    env: dict[str, str],
    runs: int,
    warmup: int,
) -> dict[str, dict[str, Any]]:
    for name, (cmd, cwd, expect) in todo.items():
        _, output = timed(cmd, env, cwd)
        assert expect is None or expect in output, (name, output)
    times: dict[str, list[float]] = {name: [] for name in todo}
    for i in range(warmup + runs):
        for name, (cmd, cwd, _) in todo.items():
            elapsed, _ = timed(cmd, env, cwd)
            if i >= warmup:
                times[name].append(elapsed)
        if i >= warmup and (i - warmup + 1) % 10 == 0:
            print(f"  {i - warmup + 1}/{runs} rounds", file=sys.stderr)
    return {name: summary(t) for name, t in times.items()}


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    with session(args) as (root, relocate, how):
        env = bench_env(root, os.path.join(root, "store"))
        project, deep = relocated_project(root, relocate, env)
        todo = cases(relocate, project, deep, clean_install(root, env))
        results = run_all(todo, env, args.runs, args.warmup)
    figures = [
        figure(f"{LOOKUP} / {BARE}", results, LOOKUP, BARE, GOAL),
        figure(f"{LOOKUP_JSON} / {BARE}", results, LOOKUP_JSON, BARE, GOAL, info=True),
        figure(f"{LOOKUP_DEEP} / {BARE}", results, LOOKUP_DEEP, BARE, GOAL, info=True),
        figure(f"{FLOOR} / {BARE}", results, FLOOR, BARE, GOAL, info=True),
        figure(f"{CLEAN} / {BARE}", results, CLEAN, BARE, GOAL, info=True),
    ]
    print_tables(results, figures)
    data = {"benchmark": "python", "relocate": how, **machine(), "cases": results}
    write_json(args.json, {**data, "figures": figures})
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
