"""Benchmark: the watcher's idle CPU on a 100,000-file root, and how soon it adopts.

Figures (goals), for each mode of ``relocate service run --interval 1``
(filesystem events, and the bounded poll):

- idle CPU: the service's own CPU time (user + system, from psutil) over
  ``--seconds`` (300: 5 minutes) while nothing changes, as a share of one
  core: below 1%;
- quiet to adopted: a new project's ``.venv`` is made (``python -m venv``)
  and the time from its last change to the moment ``.venv`` is relocator's
  link is taken, ``--rounds`` times: below the quiet window + 2 s.

The root is the 100,000-file tree of ``bench_scan.py`` in a fake iCloud
Drive, with each project's venv-like folder renamed ``vendor`` so that the
watcher has nothing to adopt while idle (the idle case is an iCloud Drive whose
venvs are already relocated). The quiet window is ``--quiet`` seconds (3).

Needs psutil (a dependency of relocator, so the interpreter that has relocator
has it): ``python benchmarks/bench_service.py [--seconds 300] [--json FILE]``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Optional

import psutil  # type: ignore[import-untyped]
from bench_scan import CLOUD_DOCUMENTS, build_tree
from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import machine, write_json

MODES = ("events", "poll")
IDLE_GOAL = 1.0  # percent of one core, below
SLACK_GOAL = 2.0  # seconds after the quiet window, below


def parse_args(argv: Optional[list[str]]) -> Any:
    p = parser(__doc__, runs=5, warmup=0)
    p.add_argument("--seconds", type=float, default=300.0, help="idle window (300)")
    p.add_argument("--rounds", type=int, default=5, help="venvs made per mode (5)")
    p.add_argument("--quiet", type=float, default=3.0, help="the quiet window (3)")
    p.add_argument("--projects", type=int, default=100, help="projects of 1,000 files (100)")
    return parse(p, argv, seconds=20, rounds=2, projects=10)


def wait_for(what: str, check: Any, timeout: float, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def status(store: str) -> dict[str, Any]:
    try:
        with open(os.path.join(store, "service.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def idle_share(proc: psutil.Process, seconds: float) -> float:
    """Percent of one core the service used over ``seconds`` of wall time."""
    before, start = cpu_seconds(proc), time.monotonic()
    time.sleep(seconds)  # the measurement window itself, not a wait for a condition
    return 100 * (cpu_seconds(proc) - before) / (time.monotonic() - start)


def quiet_to_adopted(documents: str, env: dict[str, str], name: str) -> float:
    """Make a project with a venv; seconds from the venv's last change to its adoption."""
    project = os.path.join(documents, "new", name)
    os.makedirs(project)
    with open(os.path.join(project, "pyproject.toml"), "w", encoding="utf-8") as f:
        f.write(f"[project]\nname = '{name}'\nversion = '0'\n")
    dotvenv = os.path.join(project, ".venv")
    cmd = [sys.executable, "-m", "venv", "--without-pip", dotvenv]
    subprocess.run(cmd, env=env, check=True)
    last = max(os.lstat(os.path.join(d, n)).st_mtime for d, _, ns in os.walk(dotvenv) for n in ns)
    last = max(last, os.lstat(dotvenv).st_mtime)
    wait_for(f"{dotvenv} adopted", lambda: os.path.islink(dotvenv), timeout=120)
    return time.time() - last


def one_mode(mode: str, root: str, relocate: list[str], args: Any) -> dict[str, Any]:
    env = bench_env(os.path.join(root, mode), os.path.join(root, mode, "store"))
    store = env["RELOCATOR_HOME"]
    documents = os.path.join(env["HOME"], CLOUD_DOCUMENTS)
    files = build_tree(documents, args.projects)
    for p in range(args.projects):
        code = os.path.join(documents, "code", f"proj-{p:03d}")
        os.rename(os.path.join(code, ".venv"), os.path.join(code, "vendor"))
    config = os.path.join(root, mode, "service.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(f'mode = "{mode}"\nquiet = {args.quiet}\n')
    env.update(RELOCATOR_CONFIG=config)
    os.sync()
    service = subprocess.Popen([*relocate, "service", "run", "--interval", "1"], env=env)
    try:
        proc = psutil.Process(service.pid)
        wait_for("the first pass", lambda: status(store).get("last_scan"), timeout=300)
        started = cpu_seconds(proc)
        print(f"{mode}: {files:,} files, first pass {started:.2f} s of CPU", file=sys.stderr)
        share = idle_share(proc, args.seconds)
        print(f"{mode}: idle {share:.3f}% of one core over {args.seconds:g} s", file=sys.stderr)
        delays = []
        for i in range(args.rounds):
            delays.append(quiet_to_adopted(documents, env, f"n{i}"))
            print(f"{mode}: quiet to adopted {delays[-1]:.2f} s", file=sys.stderr)
        # the idle tree gave nothing to adopt: only the new venvs were
        wait_for("the count", lambda: status(store).get("adopted") == args.rounds, timeout=30)
        actual = status(store).get("mode")
        assert actual == mode, (actual, mode)
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
    assert code == 0, code
    return {"files": files, "first_pass_cpu_s": started, "idle_percent": share, "delays": delays}


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {}
    with session(args) as (root, relocate, _):
        for mode in MODES:
            results[mode] = one_mode(mode, root, relocate, args)
    missed = False
    print(f"\n{'mode':<7} {'idle % of a core':>17} {'last change->adopted s, max':>23}  result")
    for mode, r in results.items():
        worst = max(r["delays"]) - args.quiet
        met = r["idle_percent"] < IDLE_GOAL and worst < SLACK_GOAL
        missed |= not met
        delays = ", ".join(f"{d:.2f}" for d in r["delays"])
        print(
            f"{mode:<7} {r['idle_percent']:>17.3f} {max(r['delays']):>23.2f}  "
            f"{'met' if met else 'NOT MET'}  ({delays}; quiet window {args.quiet:g} s)"
        )
    print(f"goals: idle < {IDLE_GOAL:g}% of one core; quiet to adopted < quiet + {SLACK_GOAL:g} s")
    data = {"benchmark": "service", **machine(), "quiet": args.quiet, "seconds": args.seconds}
    write_json(args.json, {**data, "modes": results})
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
