"""Benchmark: a start that costs nothing. Every command with nothing to do, against a bare
``python -c pass``; the second machine's repair against ``uv sync --locked``.

Figures (goals from the issue):

* each command that finds nothing to do (``adopt`` of an adopted project, ``status``,
  ``list``, ``python``, ``resolve``, ``hook bash``, ``--version``, ``doctor`` of a
  healthy project, ``gc``, ``trash`` with an empty trash, ``excludes``, and ``info``
  where the command exists) / ``python -c pass`` with the interpreter relocate runs
  on: <= 2.5x (ratio of medians);
* the second machine's repair: ``relocate adopt`` of a project synced from another
  machine (its ``.venv -> .venv.nosync/.venv`` link dangling, a ``uv.lock`` beside)
  / ``uv sync --locked`` into a fresh ``.venv`` of the same project, uv's cache warm
  for both: <= 1.5x.

The project is a small uv app (``six``, ``idna``), locked once with ``uv lock`` (the
network, once); one adopted copy of it answers the no-op commands. The cases run
interleaved, ``--runs`` times each after ``--warmup`` untimed rounds. Everything
happens in a temporary folder with ``HOME``, ``RELOCATOR_HOME`` and the uv cache
there, ``UV_PYTHON_DOWNLOADS=never`` (see bench_adopt.py: ``session``, ``bench_env``).
Run it with a relocate installed the way users get it (``pip install .``, not
editable: an editable install's import hook adds its own cost to every start).
Standard library only: ``python benchmarks/bench_start.py [--json FILE] [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from typing import Any, Callable, Optional

from harness.cli import parse, parser
from harness.isolation import machine_env, session, uv_folder
from harness.results import figure, machine, missed, print_tables, write_json
from harness.timing import Setup, discard, measure, run_ok, timed
from harness.venvs import write_file

BARE = "python -c pass"
NO_OPS = {
    "adopt, already relocated": ["adopt", "{project}"],
    "status": ["status", "{project}"],
    "list": ["list"],
    "python": ["python", "{project}"],
    "resolve": ["resolve", "{project}"],
    "hook bash": ["hook", "bash"],
    "--version": ["--version"],
    "doctor, healthy project": ["doctor", "{project}"],
    "gc, nothing to do": ["gc"],
    "trash, empty": ["trash"],
    "excludes": ["excludes"],
    "info": ["info"],
}
REPAIR = "relocate adopt, synced project (uv.lock)"
UV_SYNC = "uv sync --locked, fresh .venv"
START_GOAL = 2.5
REPAIR_GOAL = 1.5
DEPENDENCIES = ("six", "idna")
IMPORT_CHECK = "import six, idna"


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=20, warmup=3)
    p.add_argument("--repair-runs", type=int, default=5, help="runs of the repair cases (5)")
    return parse(p, argv, runs=5, warmup=1, repair_runs=2)


def write_app(folder: str) -> str:
    deps = ", ".join(f'"{d}"' for d in DEPENDENCIES)
    write_file(
        os.path.join(folder, "pyproject.toml"),
        f'[project]\nname = "start-app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f"dependencies = [{deps}]\n",
    )
    return folder


def locked_app(root: str, env: dict[str, str], uv: str) -> str:
    """The app locked once (its uv.lock beside its pyproject.toml); uv's cache warmed."""
    app = write_app(os.path.join(root, "template", "app"))
    run_ok([uv, "lock", "--quiet"], env, cwd=app)
    run_ok([uv, "sync", "--locked", "--quiet"], env, cwd=app)  # warms the cache
    shutil.rmtree(os.path.join(app, ".venv"))
    return app


def runner(cmd: list[str], env: dict[str, str], cwd: str) -> Callable[[], float]:
    def once() -> float:
        return timed(cmd, env, cwd)[0]

    return once


def available(relocate: list[str], args: list[str], env: dict[str, str]) -> bool:
    """Whether this relocate has the command (``info`` is newer than some)."""
    result = subprocess.run([*relocate, *args, "--help"], env=env, capture_output=True)
    return result.returncode == 0


def run_repair(setup: Setup, template: str, project: str) -> float:
    """A copy of the app as the sync brings it (a dangling ``.venv`` link, no store):
    time ``relocate adopt`` on it."""
    discard(setup, project, setup.store)
    shutil.copytree(template, project)
    os.symlink(os.path.join(".venv.nosync", ".venv"), os.path.join(project, ".venv"))
    elapsed, _ = timed([*setup.relocate, "adopt", project], setup.env)
    python = os.path.join(project, ".venv", "bin", "python")
    run_ok([python, "-c", IMPORT_CHECK], setup.env)
    venv = os.path.realpath(os.path.join(project, ".venv"))
    if not venv.startswith(os.path.realpath(setup.store) + os.sep):
        raise SystemExit(f"{project}/.venv does not lead into the store")
    return elapsed


def run_uv_sync(setup: Setup, uv: str, template: str, fresh: str) -> float:
    discard(setup, fresh)
    shutil.copytree(template, fresh)
    elapsed, _ = timed([uv, "sync", "--locked"], setup.env, cwd=fresh)
    run_ok([os.path.join(fresh, ".venv", "bin", "python"), "-c", IMPORT_CHECK], setup.env)
    return elapsed


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    with session(args) as (root, relocate, how):
        uv_dir = uv_folder(root)
        uv = os.path.join(uv_dir, "uv")
        where = os.path.join(root, "machine")
        env = machine_env(root, where, os.path.join(root, "uv-cache"), uv_dir)
        template = locked_app(root, env, uv)
        os.makedirs(os.path.join(root, "trash"))
        setup = Setup(relocate, env, env["RELOCATOR_HOME"], os.path.join(root, "trash"))
        # the no-op commands' project: adopted once, healthy
        project = os.path.join(env["HOME"], "Documents", "app")
        run_repair(setup, template, project)
        todo: dict[str, Any] = {BARE: (runner([sys.executable, "-c", "pass"], env, project), ())}
        for name, words in NO_OPS.items():
            cmd = [*relocate, *(w.format(project=project) for w in words)]
            if available(relocate, words[:1], env):
                todo[name] = (runner(cmd, env, project), ())
                timed(cmd, env, project)  # it succeeds, nothing to do
        print("no-op commands", file=sys.stderr)
        cases = measure(args.runs, todo, args.warmup)
        b = machine_env(
            root, os.path.join(root, "machine-b"), os.path.join(root, "uv-cache"), uv_dir
        )
        setup_b = Setup(relocate, b, b["RELOCATOR_HOME"], os.path.join(root, "trash"))
        repair_cases = {
            REPAIR: (run_repair, (setup_b, template, os.path.join(b["HOME"], "Documents", "app"))),
            UV_SYNC: (run_uv_sync, (setup_b, uv, template, os.path.join(root, "uv-sync", "app"))),
        }
        print("repair against uv sync", file=sys.stderr)
        cases.update(measure(args.repair_runs, repair_cases, 1))
    figures = [figure(f"{n} / {BARE}", cases, n, BARE, START_GOAL) for n in NO_OPS if n in cases]
    figures.append(figure(f"{REPAIR} / {UV_SYNC}", cases, REPAIR, UV_SYNC, REPAIR_GOAL))
    print_tables(cases, figures)
    data = {"benchmark": "start", "relocate": how, **machine(), "cases": cases}
    write_json(args.json, {**data, "figures": figures})
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
