"""Benchmark: ``relocate adopt`` of a big venv against a small one, ``cp -a`` and ``mv``.

Figures (goals from the issue):

* one volume: adopt of a 12,000-file venv / adopt of a 120-file venv <= 1.5x
  (the cost must not grow with the venv);
* one volume: adopt of the 12,000-file venv / ``cp -a`` of it <= 0.25x;
* across volumes (project on disk, store on tmpfs): adopt / ``mv`` of the same
  venv to the same volume <= 1.5x.

Each venv is a real ``python -m venv --without-pip`` venv filled with synthetic
installed packages (a package folder of small modules and a ``.dist-info`` with
METADATA, RECORD, INSTALLER, WHEEL), an editable install of the project
(``direct_url.json`` and an ``__editable__`` ``.pth``) and console scripts with
pip's ``#!<venv>/bin/python`` shebang. One template per size is built once and
copied (untimed) into the project before each timed adopt; the store is taken
away between runs (renamed into a trash folder: see :func:`discard`). Cases
run interleaved, after untimed warm-up rounds.

Everything happens in a temporary folder, with ``RELOCATOR_HOME``, ``HOME``
and the store there, ``UV_PYTHON_DOWNLOADS=never`` and a PATH without uv.
Standard library only: ``python benchmarks/bench_adopt.py [--json FILE] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, session, workspace
from harness.results import figure, finish, print_tables
from harness.timing import Setup, discard, measure, timed
from harness.venvs import build_project

BIG, SMALL = 12_000, 120
ADOPT_SMALL = f"adopt {SMALL} files, one volume"
ADOPT_BIG = f"adopt {BIG} files, one volume"
CP_BIG = f"cp -a {BIG} files, one volume"
ADOPT_CROSS = f"adopt {BIG} files, store on tmpfs"
MV_CROSS = f"mv {BIG} files to tmpfs"


def build_templates(root: str, sizes: tuple[int, ...], env: dict[str, str]) -> dict[int, str]:
    """One template project per size, built once.

    Each venv is built at ``root/work/proj-<size>`` (the path every timed run
    uses), then moved aside: the copy put back there before each run names its
    own place, exactly as pip would have left it.
    """
    templates = {}
    for size in sizes:
        project = os.path.join(root, "work", f"proj-{size}")
        build_project(project, size, env)
        templates[size] = os.path.join(root, "templates", f"proj-{size}")
        os.makedirs(os.path.dirname(templates[size]), exist_ok=True)
        os.rename(project, templates[size])
    return templates


def fresh_project(setup: Setup, template: str, project: str, *stale: str) -> None:
    """Discard ``stale`` paths and the store, put a fresh copy of the template in place.

    Then flush everything to disk: a venv being adopted was written long ago, and
    relocate's fsyncs must not pay for writing back this copy (all untimed).
    """
    discard(setup, project, setup.store, *stale)
    subprocess.run(["cp", "-a", template, project], check=True)
    os.sync()


def check_adopted(setup: Setup, project: str, action: str, output: str) -> None:
    """The adopt really moved the venv and rewrote its scripts (untimed)."""
    link = os.path.join(project, ".venv")
    real = os.path.realpath(link)
    assert os.path.islink(link), link
    assert real.startswith(os.path.realpath(setup.store) + os.sep), real
    with open(os.path.join(real, "bin", "tool-0"), encoding="utf-8") as f:
        first = f.readline()
    assert first == f"#!{real}/bin/python\n", first
    assert f" {action} into " in output, output


def run_adopt(setup: Setup, template: str, project: str, action: str) -> float:
    fresh_project(setup, template, project)
    elapsed, output = timed([*setup.relocate, "adopt", project], setup.env)
    check_adopted(setup, project, action, output)
    return elapsed


def run_copy(setup: Setup, template: str, dest: str) -> float:
    """``cp -a`` of the template's venv to ``dest`` (on the same volume)."""
    discard(setup, dest, setup.store)
    os.sync()
    elapsed, _ = timed(["cp", "-a", os.path.join(template, ".venv"), dest], setup.env)
    assert os.path.isfile(os.path.join(dest, "pyvenv.cfg"))
    return elapsed


def run_move(setup: Setup, template: str, project: str, dest: str) -> float:
    """``mv`` of a fresh copy of the project's venv to ``dest`` (on another volume)."""
    fresh_project(setup, template, project, dest)
    elapsed, _ = timed(["mv", os.path.join(project, ".venv"), dest], setup.env)
    assert os.path.isfile(os.path.join(dest, "pyvenv.cfg"))
    return elapsed


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=5, warmup=2)
    p.add_argument("--cross-runs", type=int, default=5, help="runs of the cross-volume cases")
    p.add_argument("--shm", default="/dev/shm", help="another volume for the store (tmpfs)")
    return parse(p, argv, runs=3, warmup=1, cross_runs=2)


def one_volume(
    args: argparse.Namespace, root: str, relocate: list[str], templates: dict[int, str]
) -> dict[str, dict[str, Any]]:
    store = os.path.join(root, "store")
    setup = Setup(relocate, bench_env(root, store), store, os.path.join(root, "trash"))
    small, big = (os.path.join(root, "work", f"proj-{size}") for size in (SMALL, BIG))
    copy = os.path.join(root, "cp-dest")
    cases = measure(
        args.runs,
        {
            ADOPT_SMALL: (run_adopt, (setup, templates[SMALL], small, "moved")),
            ADOPT_BIG: (run_adopt, (setup, templates[BIG], big, "moved")),
            CP_BIG: (run_copy, (setup, templates[BIG], copy)),
        },
        args.warmup,
    )
    discard(setup, small, big, store, copy)
    return cases


def cross_volume(
    args: argparse.Namespace, root: str, relocate: list[str], templates: dict[int, str]
) -> dict[str, dict[str, Any]]:
    if not os.path.isdir(args.shm) or os.stat(args.shm).st_dev == os.stat(root).st_dev:
        print(f"skipping the cross-volume cases: {args.shm} is not another volume", file=sys.stderr)
        return {}
    with workspace(args.shm, args.keep) as other:
        store = os.path.join(other, "store")
        setup = Setup(relocate, bench_env(root, store), store, os.path.join(root, "trash"))
        big = os.path.join(root, "work", f"proj-{BIG}")
        cases = measure(
            args.cross_runs,
            {
                ADOPT_CROSS: (run_adopt, (setup, templates[BIG], big, "copied")),
                MV_CROSS: (run_move, (setup, templates[BIG], big, f"{other}/mv-dest")),
            },
            min(args.warmup, 1),
        )
        discard(setup, big)
    return cases


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    with session(args) as (root, relocate, how):
        os.makedirs(os.path.join(root, "trash"))
        started = time.perf_counter()
        templates = build_templates(root, (SMALL, BIG), bench_env(root, f"{root}/store"))
        print(f"templates built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        cases = one_volume(args, root, relocate, templates)
        cases.update(cross_volume(args, root, relocate, templates))
    figures = [
        figure(f"adopt {BIG} / adopt {SMALL} (one volume)", cases, ADOPT_BIG, ADOPT_SMALL, 1.5),
        figure(f"adopt {BIG} / cp -a {BIG} (one volume)", cases, ADOPT_BIG, CP_BIG, 0.25),
        figure(f"adopt {BIG} / mv {BIG} (across volumes)", cases, ADOPT_CROSS, MV_CROSS, 1.5),
    ]
    print_tables(cases, figures)
    return finish(args, "adopt", how, cases, figures)


if __name__ == "__main__":
    sys.exit(main())
