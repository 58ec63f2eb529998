"""Run every benchmark, each with ``--json`` into ``benchmarks/results/``, then write
``docs/benchmarks.md`` (and its charts, with matplotlib) from the JSON files.

``--quick`` gives each script small sizes and few runs (a smoke test of a few
minutes; the page says which figures came from it). ``--only adopt,scan`` runs
some again and renders the page from every JSON file there; ``--render-only``
runs none. Each script's output goes to the terminal and to
``benchmarks/results/<name>.log``; a script that fails leaves a JSON file that
says so, and the page shows it. Standard library only:
``python benchmarks/run_all.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from typing import Any, Optional

from harness.results import machine
from report import BENCHMARKS, write_report

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
PAGE = os.path.join(REPO, "docs", "benchmarks.md")

TAIL = 30  # lines of a failed script's output kept for the page


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and runs: a smoke test")
    p.add_argument("--only", help=f"comma-separated, of: {', '.join(BENCHMARKS)} (all)")
    p.add_argument("--render-only", action="store_true", help="run nothing; only the page")
    p.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter that runs the scripts; relocate is its console script (this one)",
    )
    p.add_argument("--tmp", help="parent of each script's work folder (the system temp dir)")
    p.add_argument("--module", action="store_true", help="the scripts run python -m relocator")
    p.add_argument("--results", default=RESULTS, help="where the JSON files go")
    p.add_argument("--out", default=PAGE, help="the page (docs/benchmarks.md)")
    p.add_argument("--charts", help="where the charts go (docs/benchmarks/)")
    return p.parse_args(argv)


def shown(path: str) -> str:
    """``path`` relative to the repository when it is inside it."""
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


def run_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``bench_<name>.py`` with ``--json``; its JSON, with how it ran under ``run``."""
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"{name}.json")
    if os.path.exists(path):
        os.unlink(path)  # a failed run must not leave the last one's figures on the page
    options = ["--json", path, *(["--quick"] if args.quick else [])]
    options += ["--tmp", args.tmp] if args.tmp else []
    options += ["--module"] if args.module else []
    script = os.path.join(HERE, f"bench_{name}.py")
    cmd = [args.python, "-u", script, *options]  # -u: its lines in order, as they come
    python = "python" if args.python == sys.executable else args.python
    command = shlex.join([python, shown(script), *(shown(o) for o in options)])
    print(f"\n=== {name}: {command}", flush=True)
    lines: list[str] = []
    started = time.perf_counter()
    with open(os.path.join(args.results, f"{name}.log"), "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            lines = [*lines[-TAIL + 1 :], line.rstrip("\n")]
        code = proc.wait()
    took = time.perf_counter() - started
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {"benchmark": name, **machine()}
    data["run"] = {
        "quick": args.quick,
        "command": command,
        "python": args.python,
        "returncode": code,
        "seconds": took,
        "error": "\n".join(lines) if code else "",
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    print(f"=== {name}: exit {code} in {took:.0f} s", flush=True)
    return data


def outcome(data: dict[str, Any]) -> str:
    """One line: how a benchmark went, and its goals."""
    from report import figure_row, service_figures

    run = data.get("run", {})
    if run.get("returncode"):
        return f"FAILED (exit {run['returncode']})"
    figures = (
        service_figures(data) if data.get("benchmark") == "service" else data.get("figures", [])
    )
    results = [figure_row(f)[4] for f in figures]
    met = sum(r == "met" for r in results)
    missed = sum("NOT MET" in r and "reported" not in r for r in results)
    skipped = sum(r == "skipped" for r in results)
    extra = f", {skipped} skipped" if skipped else ""
    failed = data.get("failures") or data.get("skipped")
    extra += f"; not measured: {', '.join(failed)}" if failed else ""
    return f"goals: {met} met, {missed} NOT MET{extra}"


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    names = [n for n in (args.only or ",".join(BENCHMARKS)).split(",") if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(
            f"unknown benchmarks: {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})"
        )
    done: dict[str, dict[str, Any]] = {}
    if not args.render_only:
        for name in names:
            done[name] = run_one(name, args)
    paths = [os.path.join(args.results, f"{n}.json") for n in BENCHMARKS]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:
        raise SystemExit(f"no results in {args.results}: run some benchmarks first")
    write_report(paths, args.out, args.charts)
    print(f"\nwrote {shown(args.out)} from {len(paths)} JSON files in {shown(args.results)}")
    if done:
        width = max(len(n) for n in done)
        print(f"\n{'benchmark':<{width}}  {'took':>6}  outcome")
        for name, data in done.items():
            print(f"{name:<{width}}  {data['run']['seconds']:>5.0f}s  {outcome(data)}")
    return 1 if any(d["run"]["returncode"] for d in done.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
