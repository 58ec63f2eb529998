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
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_adopt import bench_env, summary, write_file, write_json

CASES = ("adopt (no-op)", "status", "list", "doctor", "gc (nothing to do)")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def relocate_at(checkout: str) -> tuple[list[str], dict[str, str]]:
    """``python -m relocator`` of the checkout ``checkout``, and what its env adds."""
    return [sys.executable, "-m", "relocator"], {"PYTHONPATH": checkout}


def run_ok(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:])} failed: {result.stderr.strip()[:500]}")
    return elapsed


def projects(root: str, count: int, relocate: list[str], env: dict[str, str]) -> list[str]:
    """``count`` projects with a small venv each, adopted."""
    template = os.path.join(root, "template-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", template], check=True)
    made = []
    for i in range(count):
        project = os.path.join(env["HOME"], "Documents", "projects", f"p-{i:03d}")
        write_file(os.path.join(project, "pyproject.toml"), f'[project]\nname = "p{i}"\n')
        subprocess.run(["cp", "-a", template, os.path.join(project, ".venv")], check=True)
        run_ok([*relocate, "adopt", project], env)
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
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for i in range(-args.warmup, args.runs):
        for name in CASES:
            elapsed = run_ok([*relocate, *commands[name]], env)
            if i >= 0:
                times[name].append(elapsed)
    return {f"{name}, {args.projects} projects": summary(t) for name, t in times.items()}


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--projects", type=int, default=200)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--base", help="a commit to compare with (a git worktree of it)")
    p.add_argument("--json", help="write the results here")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    root = tempfile.mkdtemp(prefix="relocator-bench-evidence-")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        results["current"] = side(args, os.path.join(root, "current"), REPO)
        if args.base:
            base = os.path.join(root, "base-checkout")
            subprocess.run(
                ["git", "-C", REPO, "worktree", "add", "-q", "--detach", base, args.base],
                check=True,
            )
            try:
                results["base"] = side(args, os.path.join(root, "base"), base)
            finally:
                subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", base])
    finally:
        shutil.rmtree(root, ignore_errors=True)
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
