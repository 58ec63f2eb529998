"""Benchmark: ``relocate adopt --trees``: what stays in the synced project, and mypy's cache.

Figures (goals from the issue):

* entries left in the synced project beyond its own files: after ``relocate
  adopt --trees``, the pre-existing ``__pycache__`` folders deleted by hand
  (adopt leaves them: scan reports them, removal is on request) and mypy, ruff,
  pytest and tox run again through the links: only the link entries (``NAME``,
  the ``NAME.nosync`` folder and the ``NAME.nosync/NAME`` link in it, for the
  venv and each tree) may remain, 0 beyond them.
  Measured twice: with ``tox.ini`` as written (tox's own env is a Python without
  the venv's bytecode prefix: it writes ``__pycache__`` beside the sources), and
  with ``set_env = PYTHONPYCACHEPREFIX={toxworkdir}/bytecode`` in it;
* a warm (second) ``mypy`` run with ``.mypy_cache`` relocated / the same run
  with it in the project: <= 1.1x (within noise; ratio of medians).

Reported beside them, by category (the venv, each cache, ``__pycache__``, the
project's own files, the link entries, anything else): every entry under the
project (files, folders and symlinks, never following a link) after the tools
ran in it, before ``adopt --trees``, and right after it.

The project is a package of ``--modules`` modules (attrs classes and a requests
client: about 60 lines each) with a test per module and a ``conftest.py``; its
pyproject.toml has ``[tool.mypy]`` (strict), ``[tool.ruff]`` and
``[tool.pytest.ini_options]``, and a ``tox.ini`` (``skip_install``; deps pytest,
attrs, requests). Its ``.venv`` is made with ``python -m venv`` (this
interpreter) and filled by uv (pytest, requests, attrs, mypy, ruff,
types-requests); mypy (``mypy PACKAGE``), ruff (``ruff check .``) and pytest
(``python -m pytest``) run from it, tox from a venv of its own (the tests' pin,
installed by uv). The tools run without ``PYTHONDONTWRITEBYTECODE`` (removed
from their environment). The mypy cases: a copy of the project's own files
beside it (no venv, no trees), and the relocated project, each checked once
untimed (cold), then (after an ``os.sync``: the venvs just written must not be
written back during the runs) ``--warmup`` untimed rounds and ``--runs`` timed
warm runs each, interleaved, with the relocated venv's mypy in both.

Needs uv (on PATH or beside this interpreter) and the network: the packages are
PyPI's latest but tox, and uv's and pip's caches start empty, in the work folder.
Everything happens in a temporary folder (see bench_adopt.py: ``session``,
``bench_env``). Standard library only:
``python benchmarks/bench_trees.py [--json FILE] [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Optional

from harness.census import (
    VENV,
    census,
    drop_pycache,
    entries,
    links_of,
    print_census,
    pyc_under,
    stage_notes,
)
from harness.cli import parse, parser
from harness.isolation import bench_env, find_uv, session
from harness.projects import PACKAGE, tox_ini, write_project
from harness.results import figure, finish, print_absolute, print_notes, print_tables
from harness.timing import Failed, measure, part, run_ok, timed
from harness.venvs import write_file

PACKAGES = ("pytest", "requests", "attrs", "mypy", "ruff", "types-requests")
TOX_PIN = "tox==4.67.15"  # tests/tools.py's pin
BEFORE = "before adopt --trees"
ADOPTED = "after adopt --trees"
STEADY = "tools run again (tox.ini as written)"
STEADY_PREFIX = "tools run again (tox set_env PYTHONPYCACHEPREFIX)"
IN_PLACE = "mypy, 2nd run, .mypy_cache in the project"
RELOCATED = "mypy, 2nd run, .mypy_cache relocated"
LEFT_GOAL = 0  # entries beyond the project's own files and the links
MYPY_GOAL = 1.1  # relocated / in place, ratio of medians


# -- the tools --------------------------------------------------------------------------


def tool_env(env: dict[str, str], root: str) -> dict[str, str]:
    """The tools' environment: bytecode on (this machine may turn it off globally)."""
    env = {
        k: v for k, v in env.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    env.update(
        UV_CACHE_DIR=os.path.join(root, "uv-cache"),
        UV_NO_PROGRESS="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def make_venv(project: str, uv: str, env: dict[str, str]) -> None:
    venv = os.path.join(project, VENV)
    run_ok([sys.executable, "-m", "venv", venv], env)
    python = os.path.join(venv, "bin", "python")
    run_ok([uv, "pip", "install", "--quiet", "--python", python, *PACKAGES], env)


def install_tox(root: str, uv: str, env: dict[str, str]) -> str:
    venv = os.path.join(root, "tools", "tox")
    run_ok([uv, "venv", "--quiet", "--python", sys.executable, venv], env)
    run_ok([uv, "pip", "install", "--quiet", "--python", f"{venv}/bin/python", TOX_PIN], env)
    return os.path.join(venv, "bin", "tox")


def run_tools(
    project: str, tox: str, env: dict[str, str], own: set[str]
) -> dict[str, dict[str, float]]:
    """mypy, ruff and pytest from the project's venv, then ``tox -e py``: each must pass.
    Per tool: its seconds, and the entries beyond the project's own files and the links
    that it added."""
    bin_ = os.path.join(project, VENV, "bin")
    took = {}
    left = census(project, own)["beyond_own_and_links"]
    for name, cmd in (
        ("mypy", [f"{bin_}/mypy", PACKAGE]),
        ("ruff", [f"{bin_}/ruff", "check", "--quiet", "."]),
        ("pytest", [f"{bin_}/python", "-m", "pytest", "-q"]),
        ("tox", [tox, "-q", "-e", "py"]),
    ):
        started = time.perf_counter()
        result = subprocess.run(cmd, env=env, cwd=project, capture_output=True, text=True)
        if result.returncode != 0:  # the tools report their findings on stdout
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise Failed(f"{' '.join(cmd)} failed ({result.returncode}): {' / '.join(tail)}")
        elapsed = time.perf_counter() - started
        now = census(project, own)["beyond_own_and_links"]
        took[name] = {"seconds": elapsed, "added": now - left}
        left = now
    return took


def versions(project: str, tox: str, env: dict[str, str]) -> dict[str, str]:
    bin_ = os.path.join(project, VENV, "bin")
    found = {}
    for name, cmd in (
        ("python", [f"{bin_}/python", "--version"]),
        ("mypy", [f"{bin_}/mypy", "--version"]),
        ("ruff", [f"{bin_}/ruff", "--version"]),
        ("pytest", [f"{bin_}/python", "-m", "pytest", "--version"]),
        ("tox", [tox, "--version"]),
    ):
        line = run_ok(cmd, env, cwd=project).strip().splitlines()[0]
        found[name] = line if line.lower().startswith(name) else f"{name} {line.split()[0]}"
    return found


# -- counting ---------------------------------------------------------------------------


# -- figure 1: what stays in the synced project -----------------------------------------


def stages(
    args: argparse.Namespace, root: str, relocate: list[str], env: dict[str, str]
) -> dict[str, Any]:
    """Build, run the tools, adopt --trees, run them again; a census after each step."""
    uv = find_uv()
    tools = tool_env(env, root)
    project = os.path.join(env["HOME"], "Documents", "app")
    write_project(project, args.modules)
    own = {p for p, _ in entries(project)}
    template = os.path.join(root, "template")
    shutil.copytree(project, template)
    started = time.perf_counter()
    make_venv(project, uv, tools)
    tox = install_tox(root, uv, tools)
    print(f"  venv and tox installed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    found: dict[str, Any] = {"stages": {}, "tools": {}, "own": len(own)}
    found["versions"] = versions(project, tox, tools)

    def step(name: str) -> None:
        found["stages"][name] = census(project, own)
        c = found["stages"][name]
        print(
            f"  {name}: {c['total']} entries, {c['beyond_own_and_links']} beyond", file=sys.stderr
        )

    found["tools"][BEFORE] = run_tools(project, tox, tools, own)
    step(BEFORE)
    output = run_ok([*relocate, "adopt", "--trees", project], env)
    found["adopt_output"] = output.strip().splitlines()
    step(ADOPTED)
    linked = links_of(project)
    found["links"] = linked
    bundle = os.path.dirname(os.path.realpath(os.path.join(project, ".mypy_cache")))
    if not os.path.realpath(bundle).startswith(os.path.realpath(env["RELOCATOR_HOME"]) + os.sep):
        raise Failed(f".mypy_cache leads to {bundle}, not into the store: {output}")
    prefix = os.path.join(bundle, "bytecode")
    found["pycache_deleted"] = {}
    for name, with_prefix in ((STEADY, False), (STEADY_PREFIX, True)):
        write_file(os.path.join(project, "tox.ini"), tox_ini(with_prefix))
        found["pycache_deleted"][name] = drop_pycache(project)
        found["tools"][name] = run_tools(project, tox, tools, own)
        step(name)
        if links_of(project) != linked:
            raise Failed(f"the links changed: {linked} -> {links_of(project)}")
    write_file(os.path.join(project, "tox.ini"), tox_ini(False))
    found["bytecode"] = {
        "prefix": prefix,
        "pyc_of_the_project": pyc_under(prefix, project),
        "pyc_in_all": sum(f.endswith(".pyc") for _, _, fs in os.walk(prefix) for f in fs),
        "tox_prefix_pyc": pyc_under(os.path.join(project, ".tox", "bytecode"), project),
    }
    found["project"], found["template"], found["tox"] = project, template, tox
    return found


# -- figure 2: mypy's warm run, cache relocated or in place -----------------------------


def run_mypy(mypy: str, folder: str, env: dict[str, str]) -> float:
    elapsed, _ = timed([mypy, PACKAGE], env, cwd=folder)
    return elapsed


def mypy_cases(
    args: argparse.Namespace, root: str, env: dict[str, str], built: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    tools = tool_env(env, root)
    project = built["project"]
    plain = os.path.join(os.path.dirname(project), "app-plain")
    shutil.copytree(built["template"], plain)
    mypy = os.path.join(project, VENV, "bin", "mypy")  # the same mypy, for both
    for folder in (plain, project):  # cold, untimed: every timed run is a second run
        run_mypy(mypy, folder, tools)
    os.sync()  # the venvs and tox's env just written must not be written back during the runs
    cases = measure(
        args.runs,
        {
            IN_PLACE: (run_mypy, (mypy, plain, tools)),
            RELOCATED: (run_mypy, (mypy, project, tools)),
        },
        args.warmup,
    )
    if os.path.islink(os.path.join(plain, ".mypy_cache")) or not os.listdir(
        os.path.join(plain, ".mypy_cache")
    ):
        raise Failed(f"{plain}/.mypy_cache is not a folder with the cache")
    relocated = os.path.realpath(os.path.join(project, ".mypy_cache"))
    if not os.listdir(relocated):
        raise Failed(f"the relocated cache {relocated} is empty")
    for c in cases.values():
        q = statistics.quantiles(c["runs"], n=4) if len(c["runs"]) > 1 else [c["min"]] * 3
        c.update(max=max(c["runs"]), q1=q[0], q3=q[2])
    return cases


# -- reporting --------------------------------------------------------------------------


def count_figures(found: dict[str, Any]) -> list[dict[str, Any]]:
    figures = []
    for name in (BEFORE, ADOPTED):
        c = found.get("stages", {}).get(name)
        if c is not None:
            figures.append(
                {
                    "name": f"entries in the project, {name}",
                    "value": c["total"],
                    "unit": "entries",
                    "goal": None,
                    "met": True,
                    "info": True,
                }
            )
    for name in (STEADY, STEADY_PREFIX):
        label = f"entries beyond its own files and the links, {name}"
        c = found.get("stages", {}).get(name)
        if c is None:
            figures.append({"name": label, "goal": LEFT_GOAL, "unit": "entries", "skipped": True})
            continue
        left = c["beyond_own_and_links"]
        figures.append(
            {
                "name": label,
                "value": left,
                "unit": "entries",
                "goal": LEFT_GOAL,
                "met": left <= LEFT_GOAL,
                "info": False,
            }
        )
    return figures


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=20, warmup=2)
    p.add_argument("--modules", type=int, default=8, help="modules in the package (8)")
    return parse(p, argv, runs=3, warmup=1)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    failures: dict[str, str] = {}
    cases: dict[str, dict[str, Any]] = {}
    found: dict[str, Any] = {}
    with session(args) as (root, relocate, how):
        env = bench_env(root, os.path.join(root, "store"))
        os.makedirs(os.path.join(env["HOME"], "Documents"))
        found = part("synced tree", failures, stages, args, root, relocate, env) or {}
        if found:
            cases = part("mypy", failures, mypy_cases, args, root, env, found) or {}
    ratio = figure(
        "mypy 2nd run: .mypy_cache relocated / in the project",
        cases,
        RELOCATED,
        IN_PLACE,
        MYPY_GOAL,
    )
    counts = count_figures(found)
    print_census(found)
    if cases:
        print_tables(cases, [ratio])
        for name, c in cases.items():
            print(
                f"  {name}: quartiles {c['q1'] * 1e3:.1f}-{c['q3'] * 1e3:.1f} ms, "
                f"max {c['max'] * 1e3:.1f} ms"
            )
    print_absolute(counts)
    for note in stage_notes(found):  # the page has these as tables (sections/trees.py)
        print(f"note: {note}")
    notes = []
    if found.get("bytecode"):
        b = found["bytecode"]
        notes.append(
            f"bytecode: {b['pyc_of_the_project']} .pyc of the project's sources and "
            f"{b['pyc_in_all']} in all under the bundle's bytecode/; "
            f"{b['tox_prefix_pyc']} under .tox/bytecode (tox's set_env)"
        )
    if found.get("versions"):
        notes.append("tools: " + "; ".join(found["versions"].values()))
    print_notes(notes, failures)
    keep = ("stages", "tools", "versions", "bytecode", "links", "pycache_deleted")
    kept = {k: found[k] for k in keep if k in found}
    return finish(
        args,
        "trees",
        how,
        cases,
        [*counts, ratio],
        failed=bool(failures),
        **kept,
        notes=notes,
        failures=failures,
    )


if __name__ == "__main__":
    sys.exit(main())
