"""What ``relocate verify`` costs, and doctor's cheap check of the recipe.

1. One real uv project (``rich`` and ``six``, locked once from PyPI), adopted; then,
   interleaved, ``relocate verify`` (a scratch venv built from uv.lock with ``uv sync
   --locked``, compared with the live venv, its modules imported, removed) against a
   plain ``uv sync --locked`` into a fresh venv of the same project (the same Python,
   uv's cache warm for both). Figure: verify / uv sync (reported).
2. Doctor's cheap check (:func:`relocator.venv.unrecorded.check`: uv.lock's names against
   the venv's metadata folders, no build) over ``--projects`` (200) projects, each with
   that project's uv.lock and a copy of its venv's metadata folders, timed in one
   process. Figure: the median over all projects, against a goal of 0.2 s (doctor's
   goal for 200 projects is 1 s: bench_health.py).

    python benchmarks/bench_verify.py      # about a minute (needs uv and the network)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import figure, finish, print_tables, seconds_figure
from harness.timing import summary, timed

VERIFY = "relocate verify"
SYNC = "uv sync --locked (fresh venv)"
CHECK_GOAL = 0.2  # seconds for the cheap check of every project
CHECKS = """\
import json, sys, time
from relocator.venv import unrecorded


pairs = json.loads(sys.argv[2])
times = []
for _ in range(int(sys.argv[1]) + 1):
    start = time.perf_counter()
    found = [unrecorded.check(project, venv) for project, venv in pairs]
    times.append(time.perf_counter() - start)
print(json.dumps({"times": times[1:], "found": sum(f is not None for f in found)}))
"""


def parse_args(argv: Optional[list[str]]) -> Any:
    p = parser(__doc__, runs=5, warmup=1)
    p.add_argument("--projects", type=int, default=200, help="projects for the cheap check")
    return parse(p, argv, runs=2, warmup=1, projects=20)


def uv_env(root: str) -> dict[str, str]:
    """bench_env's (a temporary home and store), with uv on PATH and its cache there."""
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("bench_verify needs uv on PATH")
    env = bench_env(root, os.path.join(root, "store"))
    env["PATH"] = os.pathsep.join([os.path.dirname(uv), env["PATH"]])
    env["UV_CACHE_DIR"] = os.path.join(root, "uv-cache")
    return env


def make_project(root: str, env: dict[str, str]) -> str:
    project = os.path.join(env["HOME"], "Documents", "app")
    os.makedirs(os.path.join(project, "src", "app"))
    with open(os.path.join(project, "src", "app", "__init__.py"), "w") as f:
        f.write("X = 1\n")
    with open(os.path.join(project, "README.md"), "w") as f:
        f.write("app\n")
    with open(os.path.join(project, "pyproject.toml"), "w") as f:
        f.write(
            textwrap.dedent(
                f"""\
                [project]
                name = "app"
                version = "0.1.0"
                requires-python = ">={sys.version_info[0]}.{sys.version_info[1]}"
                dependencies = ["rich", "six"]

                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"
                """
            )
        )
    timed(["uv", "lock", "-q", "--python", sys.executable], env, project)
    return project


def time_verify(args: Any, root: str, relocate: list[str]) -> tuple[dict[str, Any], str, str]:
    env = uv_env(root)
    project = make_project(root, env)
    timed([*relocate, "adopt", project, "--python", sys.executable], env, project)
    fresh = os.path.join(root, "fresh")
    sync = ["uv", "sync", "--locked", "-q", "--python", sys.executable]
    times: dict[str, list[float]] = {VERIFY: [], SYNC: []}
    for i in range(-args.warmup, args.runs):
        elapsed, out = timed([*relocate, "verify", project, "--json"], env, project)
        assert json.loads(out)["ok"] is True, out
        shutil.rmtree(fresh, ignore_errors=True)
        took = timed(sync, {**env, "UV_PROJECT_ENVIRONMENT": fresh}, project)[0]
        if i >= 0:
            times[VERIFY].append(elapsed)
            times[SYNC].append(took)
        print(f"  run {i + 1}: verify {elapsed:.2f} s, uv sync {took:.2f} s", file=sys.stderr)
    return (
        {n: summary(t) for n, t in times.items()},
        project,
        os.path.realpath(os.path.join(project, ".venv")),
    )


def time_checks(args: Any, root: str, project: str, venv: str) -> dict[str, Any]:
    """The cheap check over ``--projects`` copies of the project (its uv.lock, and its
    venv's pyvenv.cfg and metadata folders: all the check reads)."""
    (site,) = [
        os.path.join(folder, name)
        for folder, dirs, _ in os.walk(os.path.join(venv, "lib"))
        for name in dirs
        if name == "site-packages"
    ]
    rel = os.path.relpath(site, venv)
    pairs = []
    for i in range(args.projects):
        copy = os.path.join(root, "many", f"p-{i:03d}")
        copy_venv = os.path.join(root, "many-venvs", f"p-{i:03d}")
        os.makedirs(copy)
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy(os.path.join(project, name), copy)
        os.makedirs(os.path.join(copy_venv, rel))
        shutil.copy(os.path.join(venv, "pyvenv.cfg"), copy_venv)
        for name in os.listdir(site):
            if name.endswith(".dist-info"):
                shutil.copytree(os.path.join(site, name), os.path.join(copy_venv, rel, name))
        if i % 2:  # half of them hold a package the lock lacks
            shutil.copytree(
                os.path.join(site, "six-" + _version(site, "six") + ".dist-info"),
                os.path.join(copy_venv, rel, "byhand-1.0.dist-info"),
            )
        pairs.append((copy, copy_venv))
    out = timed(
        [sys.executable, "-c", CHECKS, str(args.runs), json.dumps(pairs)], os.environ.copy(), root
    )[1]
    found = json.loads(out)
    if found["found"] != args.projects // 2:
        raise SystemExit(f"the cheap check found {found['found']}, not {args.projects // 2}")
    return summary(found["times"])


def _version(site: str, name: str) -> str:
    for entry in os.listdir(site):
        if entry.startswith(name + "-") and entry.endswith(".dist-info"):
            return entry[len(name) + 1 : -len(".dist-info")]
    raise SystemExit(f"{name} is not in {site}")


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    with session(args) as (root, relocate, how):
        cases, project, venv = time_verify(args, root, relocate)
        check = f"cheap check, {args.projects} projects (one process)"
        cases[check] = time_checks(args, root, project, venv)
    figures = [figure(f"{VERIFY} / {SYNC}", cases, VERIFY, SYNC, None)]
    print_tables(cases, figures)
    value = cases[check]["median"]
    met = value < CHECK_GOAL
    print(
        f"doctor's cheap check of {args.projects} projects: {value * 1e3:.1f} ms "
        f"({value / args.projects * 1e6:.0f} us each; goal < {CHECK_GOAL:g} s): "
        + ("met" if met else "NOT MET")
    )
    figures.append(seconds_figure(check, cases[check], CHECK_GOAL))
    return finish(args, "verify", how, cases, figures, projects=args.projects)


if __name__ == "__main__":
    sys.exit(main())
