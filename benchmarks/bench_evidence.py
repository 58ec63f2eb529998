"""What the evidence checks and the trash cost where users feel it.

Over ``--projects`` (200) relocated, healthy projects: a no-op ``relocate adopt``
(the project already relocated), ``relocate status``, ``list``, ``doctor`` and a
``gc`` that finds nothing to do (it now proves each project is there, reads each
owner record's volume, settles the trash's journal and looks at the trash's age).
With ``--base REV`` the same runs are timed with the relocator of that commit too
(a git worktree of it, run as ``python -m relocator``), and the figures are the
ratios current/base (reported, no goal: the checks are the point).

    python benchmarks/bench_evidence.py                     # about a minute
    python benchmarks/bench_evidence.py --base 0943682      # before the trash and evidence
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import REPO, base_checkout, bench_env, relocate_at, workspace
from harness.results import write_json
from harness.timing import measure, run_ok, timed
from harness.venvs import write_file

CASES = ("adopt (no-op)", "status", "list", "doctor", "gc (nothing to do)")


def run_in_home(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds of ``cmd`` run in the side's home (``python -m`` imports from the current
    folder first: run from a checkout, it would take that checkout's relocator)."""
    return timed(cmd, env, cwd=env["HOME"])[0]


def projects(root: str, count: int, relocate: list[str], env: dict[str, str]) -> list[str]:
    """``count`` projects with a small venv each, adopted."""
    template = os.path.join(root, "template-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", template], check=True)
    made = []
    for i in range(count):
        project = os.path.join(env["HOME"], "Documents", "projects", f"p-{i:03d}")
        write_file(os.path.join(project, "pyproject.toml"), f'[project]\nname = "p{i}"\n')
        subprocess.run(["cp", "-a", template, os.path.join(project, ".venv")], check=True)
        run_ok([*relocate, "adopt", project], env, cwd=env["HOME"])
        made.append(project)
    return made


def side(args: argparse.Namespace, root: str, checkout: str) -> dict[str, dict[str, Any]]:
    relocate, extra = relocate_at(checkout)
    env = {**bench_env(root, os.path.join(root, "store")), **extra}
    env["HOME"] = os.path.join(root, "home")
    made = projects(root, args.projects, relocate, env)
    commands = {
        "adopt (no-op)": ["adopt", made[0]],
        "status": ["status", made[0]],
        "list": ["list"],
        "doctor": ["doctor"],
        "gc (nothing to do)": ["gc"],
    }
    cases = {name: (run_in_home, ([*relocate, *commands[name]], env)) for name in CASES}
    timed_cases = measure(args.runs, cases, args.warmup)
    return {f"{name}, {args.projects} projects": c for name, c in timed_cases.items()}


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=5, warmup=1)
    p.add_argument("--projects", type=int, default=200, help="relocated projects (200)")
    p.add_argument("--base", help="a commit to compare with (a git worktree of it)")
    return parse(p, argv, runs=2, warmup=1, projects=20)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with workspace(args.tmp, args.keep) as root:
        results["current"] = side(args, os.path.join(root, "current"), REPO)
        with base_checkout(args.base, os.path.join(root, "base-checkout")) as base:
            if base:
                results["base"] = side(args, os.path.join(root, "base"), base)
    print(f"{'case':<34} {'current (ms)':>13} {'base (ms)':>10} {'ratio':>6}")
    figures = []
    for name, now in results["current"].items():
        before = results.get("base", {}).get(name)
        ratio = now["median"] / before["median"] if before else None
        shown = f"{before['median'] * 1e3:>10.0f}" if before else f"{'':>10}"
        print(f"{name:<34} {now['median'] * 1e3:>13.0f} {shown} {ratio or 0:>6.2f}")
        if ratio is not None:
            figures.append({"name": f"{name}: current / {args.base}", "value": ratio})
    write_json(args.json, {"benchmark": "evidence", "cases": results, "figures": figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
