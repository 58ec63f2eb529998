"""Benchmark: a relocated project's life: a second machine, ``relocate doctor``, machine switches.

Figures (goals from the issue):

* second machine: ``relocate adopt`` of a uv project synced from another
  machine (``.venv -> .venv.nosync/.venv`` arrives dangling; relocate builds a store
  venv from uv.lock) / ``uv sync --locked`` into a fresh in-project ``.venv`` of
  the same project, uv's cache warm for both: <= 1.2x (ratio of medians);
* ``relocate doctor --json`` over 200 registered, healthy projects: median < 1 s;
* machine switches: how many synced entries change each time two machines take
  turns on one synced project (each runs its tool, then the sync engine carries
  the folder to the other), uv's ``centralized-project-envs`` preview against
  relocator: relocator 0 once each machine has run once.

Reported beside the first figure, against the same ``uv sync``: the uv
command relocate's repair runs, without relocate (``uv sync --locked`` into a
new venv outside the project), and ``relocate adopt`` of a project already
relocated (relocate's fixed cost: start, look-up, lock, registry).

The project is a small app (``requests``, ``rich``, ``click``, ``attrs``: 17
packages in its lock), locked once with ``uv lock``. A "machine" is a HOME, a
relocate store and a uv cache of its own; the sync engine is :func:`sync`,
which mirrors every entry but names ending ``.nosync`` (what iCloud Drive never
uploads), links as links. uv runs from a folder holding only a link to the uv
found on this process's PATH (else beside this interpreter), put first on the
harness's PATH (which has no uv); ``UV_PYTHON_DOWNLOADS=never``,
``UV_NO_PROGRESS=1``. Needs the network for the lock and the first downloads;
the timed runs install from a warm cache.

Everything happens in a temporary folder (see bench_adopt.py: ``session``,
``bench_env``). Standard library only:
``python benchmarks/bench_lifecycle.py [--json FILE] [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, machine_env, session, uv_folder
from harness.results import figure, machine, missed, print_absolute, print_tables, write_json
from harness.timing import Failed, Setup, discard, measure, part, run_ok, summary, timed
from harness.venvs import write_file

DEPENDENCIES = ("requests", "rich", "click", "attrs")
APP = "lifecycle-app"
NOSYNC = ".nosync"
REPAIR = "relocate adopt on machine B (uv.lock)"
UV_SYNC = "uv sync --locked, fresh .venv"
UV_PAIR = "uv sync --locked into a new venv outside"
NO_OP = "relocate adopt, already relocated"
ADOPT_SYNCED = "relocate adopt of a uv-synced .venv (moved, nothing installed)"
DOCTOR = "relocate doctor --json"
REPAIR_GOAL = 1.2  # ratio of medians, at most
DOCTOR_GOAL = 1.0  # seconds, median below
CHURN_GOAL = 0  # synced entries changed per switch once each machine has run once
UV_CENTRAL = "uv central"
RELOCATOR = "relocator"
CENTRAL_PREVIEW = {"UV_PREVIEW_FEATURES": "centralized-project-envs"}
IMPORT_CHECK = "import requests, rich, click, attrs"


# -- commands ---------------------------------------------------------------------------


def write_app(folder: str, lock: Optional[str] = None) -> str:
    """The app's pyproject.toml (and a copy of ``lock``) in ``folder``."""
    deps = ", ".join(f'"{d}"' for d in DEPENDENCIES)
    write_file(
        os.path.join(folder, "pyproject.toml"),
        f'[project]\nname = "{APP}"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f"dependencies = [{deps}]\n",
    )
    if lock:
        shutil.copyfile(lock, os.path.join(folder, "uv.lock"))
    return folder


def lock_app(root: str, uv: str, uv_dir: str) -> str:
    """Lock the app once; the path of its uv.lock."""
    folder = write_app(os.path.join(root, "lock", APP))
    env = machine_env(root, os.path.join(root, "lock"), os.path.join(root, "lock", "cache"), uv_dir)
    run_ok([uv, "lock", "--quiet"], env, cwd=folder)
    lock = os.path.join(folder, "uv.lock")
    with open(lock, encoding="utf-8") as f:
        packages = f.read().count("[[package]]")
    print(f"uv.lock: {packages} packages", file=sys.stderr)
    return lock


def check_venv(project: str, env: dict[str, str], under: str) -> None:
    """The project's ``.venv`` imports the app's dependencies and lives under ``under``."""
    link = os.path.join(project, ".venv")
    real = os.path.realpath(link)
    if not real.startswith(os.path.realpath(under) + os.sep):
        raise Failed(f"{link} leads to {real}, not into {under}")
    run_ok([os.path.join(link, "bin", "python"), "-c", IMPORT_CHECK], env)


# -- the sync engine --------------------------------------------------------------------


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "link"
    return "dir" if entry.is_dir(follow_symlinks=False) else "file"


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _same_bytes(a: str, b: str) -> bool:
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def synced(top: str, rel: str = "") -> dict[str, tuple[str, Any]]:
    """Every entry a sync engine carries: path -> (kind, bytes or link target).

    Names ending ``.nosync`` are skipped (and never entered); links are never followed.
    """
    found: dict[str, tuple[str, Any]] = {}
    with os.scandir(os.path.join(top, rel)) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith(NOSYNC):
                continue
            path = os.path.join(rel, entry.name)
            kind = _kind(entry)
            if kind == "link":
                found[path] = (kind, os.readlink(entry.path))
            elif kind == "dir":
                found[path] = (kind, None)
                found.update(synced(top, path))
            else:
                with open(entry.path, "rb") as f:
                    found[path] = (kind, f.read())
    return found


def sync(src: str, dst: str) -> None:
    """Mirror ``src`` onto ``dst`` as a sync engine does.

    Every entry but names ending ``.nosync`` (on either side: ``dst``'s stay as
    they are): what ``src`` lacks goes, what differs is copied, links are copied
    as links and never followed.
    """
    with os.scandir(src) as entries:
        theirs = {e.name: e for e in entries if not e.name.endswith(NOSYNC)}
    with os.scandir(dst) as entries:
        for entry in list(entries):
            if entry.name.endswith(NOSYNC):
                continue
            other = theirs.get(entry.name)
            if other is None or _kind(other) != _kind(entry):
                _remove(entry.path)
    for name, entry in theirs.items():
        target = os.path.join(dst, name)
        kind = _kind(entry)
        if kind == "link":
            link = os.readlink(entry.path)
            if os.path.islink(target) and os.readlink(target) == link:
                continue
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(link, target)
        elif kind == "dir":
            os.makedirs(target, exist_ok=True)
            sync(entry.path, target)
        elif not (os.path.lexists(target) and _same_bytes(entry.path, target)):
            if os.path.lexists(target):
                os.unlink(target)
            shutil.copy2(entry.path, target)


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The paths added, removed or modified between two :func:`synced` snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# -- figure 1: the second machine's repair against uv sync ------------------------------


def run_repair(setup: Setup, project_a: str, project_b: str, notes: list[str]) -> float:
    """Sync the project to machine B (fresh store there), time ``relocate adopt`` on it."""
    discard(setup, project_b, setup.store)
    shutil.copytree(
        project_a, project_b, symlinks=True, ignore=shutil.ignore_patterns(f"*{NOSYNC}")
    )
    os.sync()
    if os.readlink(os.path.join(project_b, ".venv")) != ".venv.nosync/.venv":
        raise Failed(f"machine A's .venv is not the .venv -> .venv.nosync/.venv link: {project_a}")
    before = synced(project_b)
    elapsed, _ = timed([*setup.relocate, "adopt", project_b], setup.env)
    check_venv(project_b, setup.env, setup.store)
    touched = changed(before, synced(project_b))
    if touched:
        notes.append(f"relocate adopt on machine B changed synced entries: {touched}")
    return elapsed


def run_uv_sync(setup: Setup, uv: str, plain: str, fresh: str) -> float:
    """Time ``uv sync --locked`` in a fresh copy of the project (no ``.venv``)."""
    discard(setup, fresh)
    shutil.copytree(plain, fresh)
    os.sync()
    elapsed, _ = timed([uv, "sync", "--locked"], setup.env, cwd=fresh)
    check_venv(fresh, setup.env, fresh)
    return elapsed


def run_uv_pair(setup: Setup, uv: str, plain: str, fresh: str, venvs: str) -> float:
    """Time the uv command relocate's repair runs, without relocate.

    ``uv sync --locked`` with ``UV_PROJECT_ENVIRONMENT=<venv>``, a new path
    outside the project that uv makes the venv at: the floor of the repair as
    relocate does it, to tell uv's share from relocate's. Each run uses a new
    name, as relocate does.
    """
    discard(setup, fresh, venvs)
    shutil.copytree(plain, fresh)
    os.makedirs(venvs)
    venv = os.path.join(venvs, f"app-{os.urandom(4).hex()}")
    os.sync()
    env = {**setup.env, "UV_PROJECT_ENVIRONMENT": venv}
    elapsed, _ = timed([uv, "sync", "--locked"], env, cwd=fresh)
    run_ok([os.path.join(venv, "bin", "python"), "-c", IMPORT_CHECK], env)
    return elapsed


def run_adopt_synced(setup: Setup, uv: str, plain: str, project: str) -> float:
    """Time ``relocate adopt`` of a project whose ``.venv`` ``uv sync --locked`` just made
    (untimed): what adopting an existing venv costs, beside rebuilding it (UV_SYNC)."""
    discard(setup, project, setup.store)
    shutil.copytree(plain, project)
    run_ok([uv, "sync", "--locked", "--quiet"], setup.env, cwd=project)
    os.sync()
    elapsed, _ = timed([*setup.relocate, "adopt", project], setup.env)
    check_venv(project, setup.env, setup.store)
    return elapsed


def run_no_op(setup: Setup, project: str) -> float:
    """Time ``relocate adopt`` of a project already relocated: relocate's fixed cost."""
    elapsed, _ = timed([*setup.relocate, "adopt", project], setup.env)
    return elapsed


def second_machine(
    args: argparse.Namespace, root: str, relocate: list[str], uv_dir: str, lock: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    base = os.path.join(root, "second-machine")
    cache = os.path.join(base, "uv-cache")  # shared by both machines and every run: warm
    env_a = machine_env(root, os.path.join(base, "a"), cache, uv_dir)
    env_b = machine_env(root, os.path.join(base, "b"), cache, uv_dir)
    env_c = machine_env(root, os.path.join(base, "c"), cache, uv_dir)  # adopts uv's venvs
    uv = os.path.join(uv_dir, "uv")
    project_a = write_app(os.path.join(env_a["HOME"], "Documents", "app"), lock)
    run_ok([uv, "sync", "--locked", "--quiet"], env_a, cwd=project_a)  # warms the cache
    run_ok([*relocate, "adopt", project_a], env_a)
    check_venv(project_a, env_a, env_a["RELOCATOR_HOME"])
    plain = write_app(os.path.join(base, "plain", "app"), lock)
    project_b = os.path.join(env_b["HOME"], "Documents", "app")
    fresh = os.path.join(base, "uv-sync", "app")
    os.makedirs(os.path.dirname(fresh))
    outside = os.path.join(base, "outside")  # the project and a venv beside it
    trash = os.path.join(root, "trash")
    setup_a = Setup(relocate, env_a, env_a["RELOCATOR_HOME"], trash)
    setup_b = Setup(relocate, env_b, env_b["RELOCATOR_HOME"], trash)
    setup_c = Setup(relocate, env_c, env_c["RELOCATOR_HOME"], trash)
    synced = os.path.join(env_c["HOME"], "Documents", "app")
    notes: list[str] = []
    cases = measure(
        args.runs,
        {
            REPAIR: (run_repair, (setup_b, project_a, project_b, notes)),
            UV_SYNC: (run_uv_sync, (setup_b, uv, plain, fresh)),
            UV_PAIR: (run_uv_pair, (setup_b, uv, plain, f"{outside}/app", f"{outside}/venvs")),
            NO_OP: (run_no_op, (setup_a, project_a)),
            ADOPT_SYNCED: (run_adopt_synced, (setup_c, uv, plain, synced)),
        },
        args.warmup,
    )
    return cases, sorted(set(notes))


# -- figure 2: doctor over many projects ------------------------------------------------


def doctor_once(relocate: list[str], env: dict[str, str], cwd: str, count: int) -> float:
    """Time one ``relocate doctor --json``: exit 0, all ok, one finding per project.

    Findings without a project (the watcher's, since doctor reports the service
    too) are not counted, but must be ok as well.
    """
    start = time.perf_counter()
    result = subprocess.run(
        [*relocate, "doctor", "--json"], env=env, cwd=cwd, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    try:
        findings = json.loads(result.stdout)
    except ValueError:
        findings = None
    if not isinstance(findings, list):
        raise Failed(
            f"relocate doctor --json exited {result.returncode} without a JSON list: "
            f"{result.stderr.strip() or result.stdout[:300]}"
        )
    bad = [f for f in findings if not isinstance(f, dict) or f.get("status") != "ok"]
    projects = [f for f in findings if isinstance(f, dict) and f.get("project")]
    if result.returncode != 0 or bad or len(projects) != count:
        raise Failed(
            f"relocate doctor --json exited {result.returncode} with {len(projects)} "
            f"project findings ({count} projects), {len(bad)} not ok; first: {bad[:2]}; "
            f"stderr: {result.stderr.strip()}"
        )
    return elapsed


def doctor_many(
    args: argparse.Namespace, root: str, relocate: list[str]
) -> dict[str, dict[str, Any]]:
    base = os.path.join(root, "doctor")
    env = bench_env(root, os.path.join(base, "store"))
    env["HOME"] = os.path.join(base, "home")
    template = os.path.join(base, "template-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", template], env=env, check=True)
    started = time.perf_counter()
    for i in range(args.projects):
        project = os.path.join(env["HOME"], "Documents", "projects", f"p-{i:03d}")
        write_file(
            os.path.join(project, "pyproject.toml"),
            f'[project]\nname = "p-{i:03d}"\nversion = "1.0"\n',
        )
        subprocess.run(["cp", "-a", template, os.path.join(project, ".venv")], check=True)
        run_ok([*relocate, "adopt", project], env)
        if (i + 1) % 50 == 0:
            took = time.perf_counter() - started
            print(f"  {i + 1}/{args.projects} projects adopted ({took:.0f} s)", file=sys.stderr)
    times = []
    for i in range(-args.warmup, args.runs):
        elapsed = doctor_once(relocate, env, base, args.projects)
        what = f"run {i + 1}/{args.runs}" if i >= 0 else "warm-up"
        print(f"  {what}: {DOCTOR}: {elapsed * 1e3:.0f} ms", file=sys.stderr)
        if i >= 0:
            times.append(elapsed)
    return {f"{DOCTOR}, {args.projects} projects": summary(times)}


# -- figure 3: synced entries changed per machine switch --------------------------------


def run_tool(mode: str, relocate: list[str], env: dict[str, str], project: str, first: str) -> None:
    """What a machine (``env``) does to the project in ``mode``.

    ``first``: "" if the machine ran before, else which one it is ("a", "b").
    """
    uv = shutil.which("uv", path=env["PATH"]) or "uv"
    if mode == UV_CENTRAL:
        env = {**env, **CENTRAL_PREVIEW}
        run_ok([uv, "sync", "--quiet"], env, cwd=project)
        check_venv(project, env, env["UV_CACHE_DIR"])
        return
    if first == "a":  # machine A: a venv made in the project, then adopted
        run_ok([uv, "sync", "--quiet"], env, cwd=project)
    if first:  # machine B: the dangling link repaired, built from uv.lock
        run_ok([*relocate, "adopt", project], env)
    run_ok([uv, "sync", "--quiet"], env, cwd=project)  # through the link
    check_venv(project, env, env["RELOCATOR_HOME"])


def switches(
    args: argparse.Namespace, root: str, relocate: list[str], uv_dir: str, lock: str
) -> dict[str, dict[str, Any]]:
    """Per mode: changed synced entries per switch, and what the mode leaves synced."""
    base = os.path.join(root, "switches")
    machines = {}
    for m in "ab":
        where = os.path.join(base, m)
        machines[m] = machine_env(root, where, os.path.join(where, "uv-cache"), uv_dir)
    results: dict[str, dict[str, Any]] = {}
    for mode in (UV_CENTRAL, RELOCATOR):
        slug = mode.replace(" ", "-")
        folder = {m: os.path.join(machines[m]["HOME"], "Documents", slug, "app") for m in "ab"}
        write_app(folder["a"], lock)
        os.makedirs(folder["b"])
        sync(folder["a"], folder["b"])  # both machines have the project: the start
        start = set(synced(folder["a"]))
        counts, what, ran = [], [], set()
        for i in range(args.switches):
            x, y = ("a", "b") if i % 2 == 0 else ("b", "a")
            run_tool(mode, relocate, machines[x], folder[x], "" if x in ran else x)
            ran.add(x)
            before = synced(folder[y])
            sync(folder[x], folder[y])
            after = synced(folder[y])
            if after != synced(folder[x]):
                raise Failed(f"the sync left {folder[y]} unlike {folder[x]}")
            touched = changed(before, after)
            counts.append(len(touched))
            what.append(touched)
            print(f"  {mode}: switch {i + 1} ({x} -> {y}): {len(touched)} changed", file=sys.stderr)
        left = {p: k for p, (k, _) in synced(folder["a"]).items() if p not in start}
        steady = counts[2:]  # each machine has run once: the first two switches are setup
        results[mode] = {
            "changed_per_switch": counts,
            "changed_paths": what,
            "mean": statistics.mean(counts),
            "mean_after_setup": statistics.mean(steady) if steady else None,
            "max_after_setup": max(steady) if steady else None,
            "left_in_synced_tree": left,
        }
    return results


# -- reporting --------------------------------------------------------------------------


def absolute_figures(
    cases: dict[str, dict[str, Any]], churn: dict[str, dict[str, Any]], projects: int
) -> list[dict[str, Any]]:
    figures = []
    name = f"{DOCTOR}, {projects} projects"
    if name in cases:
        median = cases[name]["median"]
        figures.append(
            {
                "name": f"{name} (median)",
                "value": median,
                "min": cases[name]["min"],
                "unit": "s",
                "goal": DOCTOR_GOAL,
                "met": median < DOCTOR_GOAL,
                "info": False,
            }
        )
    else:
        figures.append({"name": name, "goal": DOCTOR_GOAL, "unit": "s", "skipped": True})
    for mode in (RELOCATOR, UV_CENTRAL):
        name = f"synced entries changed per switch, {mode}, after setup (mean)"
        r = churn.get(mode)
        if r is None or r["mean_after_setup"] is None:
            figures.append({"name": name, "goal": CHURN_GOAL, "unit": "entries", "skipped": True})
            continue
        figures.append(
            {
                "name": name,
                "value": r["mean_after_setup"],
                "max": r["max_after_setup"],
                "unit": "entries",
                "goal": CHURN_GOAL,
                "met": r["max_after_setup"] <= CHURN_GOAL,
                "info": mode != RELOCATOR,
            }
        )
    return figures


def print_switches(churn: dict[str, dict[str, Any]], count: int) -> None:
    if not churn:
        return
    head = f"changed synced entries, switches 1-{count}"
    print(f"\n{'mode':<10}  {head:<36}  mean  after setup  left synced")
    for mode, r in churn.items():
        per = " ".join(str(c) for c in r["changed_per_switch"])
        left = ", ".join(f"{p} ({k})" for p, k in r["left_in_synced_tree"].items()) or "-"
        after = "-" if r["mean_after_setup"] is None else f"{r['mean_after_setup']:.2f}"
        print(f"{mode:<10}  {per:<36}  {r['mean']:.2f}  {after:>11}  {left}")
        for i, paths in enumerate(r["changed_paths"]):
            if paths:
                print(f"{'':<10}  switch {i + 1}: {', '.join(paths[:5])}")


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=10, warmup=2)
    p.add_argument("--projects", type=int, default=200, help="projects doctor examines (200)")
    p.add_argument("--switches", type=int, default=6, help="machine switches (6)")
    return parse(p, argv, runs=3, warmup=1, projects=20, switches=4)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    failures: dict[str, str] = {}
    cases: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    with session(args) as (root, relocate, how):
        os.makedirs(os.path.join(root, "trash"))
        uv_dir = uv_folder(root)
        lock = part("lock", failures, lock_app, root, os.path.join(uv_dir, "uv"), uv_dir)
        if lock:
            repair = part(
                "second machine", failures, second_machine, args, root, relocate, uv_dir, lock
            )
            if repair:
                cases.update(repair[0])
                notes += repair[1]
        doctor = part("doctor", failures, doctor_many, args, root, relocate)
        cases.update(doctor or {})
        churn = (
            part("switches", failures, switches, args, root, relocate, uv_dir, lock)
            if lock
            else None
        )
        churn = churn or {}
    ratio = figure(f"{REPAIR} / {UV_SYNC}", cases, REPAIR, UV_SYNC, REPAIR_GOAL)
    floor = figure(f"{UV_PAIR} / {UV_SYNC}", cases, UV_PAIR, UV_SYNC, REPAIR_GOAL, info=True)
    fixed = figure(f"{NO_OP} / {UV_SYNC}", cases, NO_OP, UV_SYNC, REPAIR_GOAL, info=True)
    adopting = figure(f"{ADOPT_SYNCED} / {UV_SYNC}", cases, ADOPT_SYNCED, UV_SYNC, None)
    others = absolute_figures(cases, churn, args.projects)
    if cases:
        print_tables(cases, [ratio, floor, fixed, adopting])
    print_absolute(others)
    print_switches(churn, args.switches)
    for note in notes:
        print(f"note: {note}")
    for name, message in failures.items():
        print(f"FAILED ({name}): {message}")
    figures = [ratio, floor, fixed, adopting, *others]
    data = {"benchmark": "lifecycle", "relocate": how, **machine(), "cases": cases}
    write_json(
        args.json,
        {**data, "figures": figures, "switches": churn, "notes": notes, "failures": failures},
    )
    return 1 if args.strict and (missed(figures) or failures) else 0


if __name__ == "__main__":
    sys.exit(main())
