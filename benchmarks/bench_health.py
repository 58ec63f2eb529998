"""What judging every venv costs: ``relocate status``, ``list`` and ``doctor`` over
``--projects`` (200) relocated, healthy projects, with this checkout's relocator and, with
``--base REV``, with that commit's (a git worktree of it), both run as
``python -m relocator`` by the interpreter running the script.

Each project's venv is what the checks read in a real one: a ``python -m venv
--without-pip`` venv with six console scripts in pip's form, an editable install of the
project and synthetic packages (``harness/venvs.py``'s), 150 files in all. Besides the
commands, the venv checks alone (``health.venv_condition`` of every registered venv, in one
process) are timed, so that the interpreter's start and the walk ``list`` makes for sizes
do not hide them. The figures are the ratios this checkout / base (reported), and
``doctor`` over the 200 projects against the goal of ``bench_lifecycle.py``, < 1 s.

    python benchmarks/bench_health.py --base main      # about 3 minutes
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NamedTuple, Optional

from harness.cli import parse, parser
from harness.isolation import (
    REPO,
    base_checkout,
    bench_env,
    real_store_state,
    relocate_at,
    relocator_of,
    short_rev,
    workspace,
)
from harness.results import figure, finish, machine, print_tables, seconds_figure
from harness.timing import summary, timed
from harness.venvs import build_project

COMMANDS = {"status": ["status", "{first}"], "list": ["list"], "doctor": ["doctor"]}
FILES = 150  # each venv's files
DOCTOR_GOAL = 1.0  # seconds, for doctor over the projects (bench_lifecycle.py's)
CHECKS = """\
import json, sys, time
from relocator.venv import health
from relocator.state.registry import Registry
from relocator.state.store import Store


store = Store()
with Registry(store.ensure()) as registry:
    rows = registry.all()
times = []
for _ in range(int(sys.argv[1]) + 1):
    start = time.perf_counter()
    found = [health.venv_condition(store, row.venv) for row in rows]
    times.append(time.perf_counter() - start)
bad = [f for f in found if (f if isinstance(f, str) else f.status) != health.OK]
print(json.dumps({"times": times[1:], "bad": len(bad), "rows": len(rows)}))
"""


def parse_args(argv: Optional[list[str]]) -> Any:
    p = parser(__doc__, runs=10, warmup=1)
    p.add_argument("--projects", type=int, default=200, help="relocated projects (200)")
    p.add_argument("--base", help="a commit to compare with (main, a hash; a git worktree)")
    return parse(p, argv, runs=3, warmup=1, projects=20, base="HEAD")


# Every command runs in the side's home: ``python -m`` and ``-c`` put the current folder
# first on sys.path, before PYTHONPATH, so run from a checkout they would import its relocator.


class Side(NamedTuple):
    """One relocator (a checkout) and the projects it relocated, in a store of its own."""

    label: str
    env: dict[str, str]
    first: str  # the project ``status`` looks at


RELOCATE = relocate_at(REPO)[0]  # each side's env says which checkout


def prepare(args: Any, root: str, checkout: str, label: str) -> Side:
    """Build the projects and relocate them with the relocator of ``checkout``."""
    env = {**bench_env(root, os.path.join(root, "store")), **relocate_at(checkout)[1]}
    relocator_of(checkout, env)
    made = []
    for i in range(args.projects):
        project = os.path.join(root, "work", f"p-{i:03d}")
        build_project(project, FILES, env)
        timed([*RELOCATE, "adopt", project], env, cwd=env["HOME"])
        made.append(project)
    listed = json.loads(timed([*RELOCATE, "list", "--json"], env, cwd=env["HOME"])[1])
    bad = [r["project"] for r in listed if r["status"] != "ok"]
    if bad or len(listed) != args.projects:
        raise SystemExit(f"{label}: not ok after adopt: {bad[:3]}")
    print(f"{label}: {len(made)} projects relocated", file=sys.stderr)
    return Side(label, env, made[0])


def time_commands(args: Any, sides: list[Side]) -> dict[str, dict[str, Any]]:
    """Each command of each side, interleaved round by round (load that comes and goes
    meets both sides alike)."""
    times: dict[str, list[float]] = {}
    for i in range(-args.warmup, args.runs):
        for side in sides:
            for name, words in COMMANDS.items():
                cmd = [*RELOCATE, *(w.format(first=side.first) for w in words)]
                elapsed = timed(cmd, side.env, cwd=side.env["HOME"])[0]
                if i >= 0:
                    times.setdefault(f"{name}, {args.projects} projects ({side.label})", [])
                    times[f"{name}, {args.projects} projects ({side.label})"].append(elapsed)
    return {name: summary(t) for name, t in times.items()}


def time_checks(args: Any, side: Side) -> dict[str, dict[str, Any]]:
    checks = json.loads(
        timed([sys.executable, "-c", CHECKS, str(args.runs)], side.env, cwd=side.env["HOME"])[1]
    )
    if checks["bad"] or checks["rows"] != args.projects:
        raise SystemExit(f"{side.label}: the checks found {checks}")
    name = f"venv checks of {args.projects} venvs, in one process ({side.label})"
    return {name: summary(checks["times"])}


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    here = machine()["commit"] or "this checkout"
    cases: dict[str, dict[str, Any]] = {}
    before = real_store_state()
    with workspace(args.tmp, args.keep) as root:
        sides = [prepare(args, os.path.join(root, "current"), REPO, here)]
        base = short_rev(args.base) if args.base else None
        with base_checkout(args.base, os.path.join(root, "base-checkout")) as checkout:
            if checkout:
                sides.append(prepare(args, os.path.join(root, "base"), checkout, f"base {base}"))
            cases.update(time_commands(args, sides))
            for side in sides:
                cases.update(time_checks(args, side))
    assert real_store_state() == before, "the real store changed during the benchmark"
    n = args.projects
    doctor = f"doctor, {n} projects ({here})"
    figures = [
        seconds_figure(f"relocate doctor, {n} projects (median)", cases[doctor], DOCTOR_GOAL)
    ]
    if base:
        names = [f"{c}, {n} projects" for c in COMMANDS]
        for name in [*names, f"venv checks of {n} venvs, in one process"]:
            now, then = f"{name} ({here})", f"{name} (base {base})"
            figures.append(figure(f"{name}: {here} / {base}", cases, now, then, None))
    print_tables(cases, figures[1:] or [figure("-", cases, "-", "-", None)])
    done = figures[0]
    result = "met" if done["met"] else "NOT MET"
    print(f"{done['name']}: {done['value'] * 1e3:.0f} ms (goal < {DOCTOR_GOAL:g} s): {result}")
    how = "python -m relocator (PYTHONPATH: each checkout)"
    return finish(args, "health", how, cases, figures, projects=n, base=base)


if __name__ == "__main__":
    sys.exit(main())
