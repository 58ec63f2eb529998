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
Standard library only: ``python benchmarks/bench_adopt.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from typing import Any, Callable, NamedTuple, Optional

BIG, SMALL = 12_000, 120
SCRIPTS = 6  # console scripts in bin/ (pip's #!<venv>/bin/python form)
FILES_PER_PACKAGE = 100  # a package: a .dist-info (4 files) and modules in folders of 16
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
PROJECT_NAME = "bench_project"
NOISY = 1.5  # slowest run / fastest run of a case above which the table says so
ADOPT_SMALL = f"adopt {SMALL} files, one volume"
ADOPT_BIG = f"adopt {BIG} files, one volume"
CP_BIG = f"cp -a {BIG} files, one volume"
ADOPT_CROSS = f"adopt {BIG} files, store on tmpfs"
MV_CROSS = f"mv {BIG} files to tmpfs"


# -- environment -------------------------------------------------------------------


def relocate_command(module: bool = False) -> tuple[list[str], str]:
    """How to run relocate, and a description.

    The console script is what users run (``relocate`` from pipx, uv tool or a
    venv's bin/): it is the one beside this interpreter, not a pyenv shim on
    PATH (a shim adds a bash and ``pyenv exec`` to every call). Without it,
    ``python -m relocator``.
    """
    script = os.path.join(sysconfig.get_path("scripts"), "relocate")
    if not module and os.path.isfile(script) and os.access(script, os.X_OK):
        return [script], f"console script {script}"
    return [sys.executable, "-m", "relocator"], f"{sys.executable} -m relocator"


def clean_path() -> str:
    """A PATH of system folders only, none of which holds uv."""
    dirs = [d for d in SYSTEM_PATH if os.path.isdir(d)]
    return os.pathsep.join(d for d in dirs if shutil.which("uv", path=d) is None)


def bench_env(root: str, store: str) -> dict[str, str]:
    """The environment of every relocate run: a temporary home and store, no uv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELOCATOR_", "XDG_", "VIRTUAL_ENV", "UV_", "PYENV", "CONDA"))
        and k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"}
    }
    home = os.path.join(root, "home")
    os.makedirs(home, exist_ok=True)
    env.update(
        HOME=home,
        RELOCATOR_HOME=store,
        UV_PYTHON_DOWNLOADS="never",
        PATH=clean_path(),
        TMPDIR=os.path.join(root, "tmp"),
    )
    os.makedirs(env["TMPDIR"], exist_ok=True)
    assert shutil.which("uv", path=env["PATH"]) is None
    return env


def real_store_state() -> Optional[float]:
    """The mtime of the user's real store, to check afterwards that nothing touched it."""
    path = os.environ.get("RELOCATOR_HOME")
    if not path:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        home = os.path.expanduser("~")
        cache = os.path.join(home, "Library/Caches" if sys.platform == "darwin" else ".cache")
        path = os.path.join(xdg if os.path.isabs(xdg) else cache, "relocator")
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


@contextlib.contextmanager
def workspace(parent: Optional[str], keep: bool) -> Iterator[str]:
    root = tempfile.mkdtemp(prefix="relocator-bench-", dir=parent)
    try:
        yield root
    finally:
        if keep:
            print(f"kept {root}")
        else:
            started = time.perf_counter()
            shutil.rmtree(root, ignore_errors=True)
            print(f"removed {root} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


@contextlib.contextmanager
def session(args: argparse.Namespace) -> Iterator[tuple[str, list[str], str]]:
    """(work folder, relocate command, how it is run); the real store must stay untouched."""
    relocate, how = relocate_command(args.module)
    before = real_store_state()
    with workspace(args.tmp, args.keep) as root:
        print(f"relocate: {how}\nwork folder: {root}", file=sys.stderr)
        print(f"{os.cpu_count()} cpus, load average {os.getloadavg()}", file=sys.stderr)
        yield root, relocate, how
    assert real_store_state() == before, "the real store changed during the benchmark"


# -- building venvs ----------------------------------------------------------------


def count_files(top: str) -> int:
    return sum(len(files) for _, _, files in os.walk(top))


def write_file(path: str, text: str, mode: int = 0o644) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _record_line(path: str, sp: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    return f"{os.path.relpath(path, sp)},sha256={digest},{len(data)}\n"


def _dist_info(sp: str, name: str, written: list[str], extra: Optional[dict[str, str]] = None):
    info = os.path.join(sp, f"{name}-1.0.dist-info")
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: synthetic\n",
        "INSTALLER": "pip\n",
        "WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        **(extra or {}),
    }
    paths = written + [write_file(os.path.join(info, n), t) for n, t in files.items()]
    record = "".join(_record_line(p, sp) for p in paths)
    write_file(os.path.join(info, "RECORD"), record + f"{name}-1.0.dist-info/RECORD,,\n")


def _package(sp: str, index: int, files: int) -> None:
    """One installed package of exactly ``files`` files (at least 5)."""
    name = f"pkg_{index:04d}"
    modules = files - 4  # METADATA, INSTALLER, WHEEL, RECORD
    written = []
    for m in range(modules):
        folder = os.path.join(sp, name, *([f"sub_{m // 16:02d}"] if m >= 16 else []))
        module = "__init__" if m % 16 == 0 else f"mod_{m % 16:02d}"
        text = f'"""{name} module {m}."""\n\nVALUE = {m}\n\n\ndef main():\n    return VALUE\n'
        written.append(write_file(os.path.join(folder, module + ".py"), text))
    _dist_info(sp, name, written)


def console_script(python: str, module: str) -> str:
    """A console script as pip writes it, calling ``module:main``."""
    return (
        f"#!{python}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
        f"from {module} import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )


def _console_scripts(venv: str, sp: str, count: int) -> None:
    python = os.path.join(venv, "bin", "python")
    written = []
    for i in range(count):
        body = console_script(python, f"pkg_{i:04d}")
        written.append(write_file(os.path.join(venv, "bin", f"tool-{i}"), body, 0o755))
    _dist_info(sp, "bench_tools", written)


def _editable_project(project: str, sp: str) -> None:
    """An editable install of the project itself, as pip leaves it."""
    pth = write_file(os.path.join(sp, f"__editable__.{PROJECT_NAME}-1.0.pth"), project + "\n")
    url = json.dumps({"url": "file://" + project, "dir_info": {"editable": True}})
    _dist_info(sp, PROJECT_NAME, [pth], {"direct_url.json": url})


def build_project(project: str, total: int, env: dict[str, str], scripts: int = SCRIPTS) -> None:
    """A project with a pyproject.toml and a real ``.venv`` of exactly ``total`` files."""
    os.makedirs(project)
    write_file(
        os.path.join(project, "pyproject.toml"),
        f'[project]\nname = "{PROJECT_NAME}"\nversion = "1.0"\n',
    )
    venv = os.path.join(project, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)
    lib = os.path.join(venv, "lib")
    (sp,) = (os.path.join(lib, d, "site-packages") for d in os.listdir(lib))
    _editable_project(project, sp)
    _console_scripts(venv, sp, scripts)
    remaining = total - count_files(venv)
    if remaining < 5:
        raise SystemExit(f"a {total}-file venv is too small for its base files")
    packages = -(-remaining // FILES_PER_PACKAGE)
    for i in range(packages):
        _package(sp, i, remaining // packages + (1 if i < remaining % packages else 0))
    found = count_files(venv)
    assert found == total, (found, total)


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


# -- timing -------------------------------------------------------------------------


def timed(cmd: list[str], env: dict[str, str], cwd: Optional[str] = None) -> tuple[float, str]:
    """Wall time of one command (it must succeed), and its output."""
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return elapsed, result.stdout


def summary(times: list[float]) -> dict[str, Any]:
    return {
        "runs": times,
        "median": statistics.median(times),
        "min": min(times),
        # the second slowest run over the fastest (one outlier is no trend): above
        # NOISY, the machine or its disk was busy
        "spread": sorted(times)[-2 if len(times) > 2 else -1] / min(times),
    }


class Setup(NamedTuple):
    relocate: list[str]  # the command that runs relocate
    env: dict[str, str]
    store: str  # $RELOCATOR_HOME
    trash: str  # where discarded trees go, on the work folder's volume


def discard(setup: Setup, *paths: str) -> None:
    """Take ``paths`` away: renamed into the trash on the work volume, else deleted.

    Renaming, not deleting, between runs: on ext4 without a journal (this
    machine's disk), creating files in the seconds after deleting thousands
    costs up to ten times more (the inode allocator skips every recently
    deleted inode, ``recently_deleted()`` in fs/ext4/ialloc.c), which would
    bill ``cp -a`` and the untimed copies for the previous run's cleanup.
    The trash goes with the work folder at the end.
    """
    for path in paths:
        if not os.path.lexists(path):
            continue
        if os.lstat(path).st_dev == os.stat(setup.trash).st_dev:
            os.rename(path, os.path.join(setup.trash, str(len(os.listdir(setup.trash)))))
        else:
            shutil.rmtree(path)


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


Case = tuple[Callable[..., float], tuple[Any, ...]]


def measure(runs: int, cases: dict[str, Case], warmup: int = 0) -> dict[str, dict[str, Any]]:
    """Time every case ``runs`` times, interleaved (one run of each per round).

    ``warmup`` untimed rounds come first: on a virtual disk the first writes to
    fresh parts of the file system can cost ten times the later ones.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(-warmup, runs):
        for name, (once, args) in cases.items():
            elapsed = once(*args)
            what = f"run {i + 1}/{runs}" if i >= 0 else "warm-up"
            print(f"  {what}: {name}: {elapsed * 1e3:.0f} ms", file=sys.stderr)
            if i >= 0:
                times[name].append(elapsed)
    return {name: summary(t) for name, t in times.items()}


# -- reporting -----------------------------------------------------------------------


def figure(
    name: str,
    cases: dict[str, dict[str, Any]],
    num: str,
    den: str,
    goal: Optional[float],
    *,
    info: bool = False,
) -> dict[str, Any]:
    """``num``'s median over ``den``'s, against ``goal`` (a ratio that must not be exceeded).

    ``info``: reported beside the figures, not one of them (never a missed goal);
    ``goal`` None: reported only, with no yardstick.
    """
    if num not in cases or den not in cases:
        return {"name": name, "numerator": num, "denominator": den, "goal": goal, "skipped": True}
    ratio = cases[num]["median"] / cases[den]["median"]
    return {
        "name": name,
        "numerator": num,
        "denominator": den,
        "ratio": ratio,
        "ratio_of_min": cases[num]["min"] / cases[den]["min"],
        "goal": goal,
        "met": goal is None or ratio <= goal,
        "info": info or goal is None,
    }


def ratio_text(ratio: float) -> str:
    """Three significant digits (``0.253x``, ``1.60x``, ``130x``): enough to tell a goal's edge."""
    return f"{ratio:,.0f}x" if ratio >= 99.95 else f"{ratio:#.3g}x"


def print_tables(cases: dict[str, dict[str, Any]], figures: list[dict[str, Any]]) -> None:
    width = max(len(n) for n in cases)
    print(f"\n{'case':<{width}}  {'runs':>4}  {'median ms':>10}  {'min ms':>8}")
    for name, c in cases.items():
        median, low = c["median"] * 1e3, c["min"] * 1e3
        print(f"{name:<{width}}  {len(c['runs']):>4}  {median:>10.1f}  {low:>8.1f}")
    for name, c in cases.items():
        if c["spread"] > NOISY:
            slow, fast = max(c["runs"]) * 1e3, c["min"] * 1e3
            print(f"note: {name} ranged {fast:.0f}-{slow:.0f} ms: noisy (see benchmarks/README)")
    width = max(len(f["name"]) for f in figures)
    print(f"\n{'figure':<{width}}  {'median':>7}  {'min':>7}  {'goal':>7}  result")
    for f in figures:
        goal = "-" if f["goal"] is None else f"<={f['goal']:g}x"
        if f.get("skipped"):
            print(f"{f['name']:<{width}}  {'-':>7}  {'-':>7}  {goal:>7}  skipped")
            continue
        verdict = ("met" if f["met"] else "NOT MET") + (" (info)" if f.get("info") else "")
        if f["goal"] is None:
            verdict = "reported"
        ratio, of_min = ratio_text(f["ratio"]), ratio_text(f["ratio_of_min"])
        print(f"{f['name']:<{width}}  {ratio:>7}  {of_min:>7}  {goal:>7}  {verdict}")


def source_commit() -> Optional[str]:
    """The git commit of the checkout these benchmarks are in (``+`` if it has changes)."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(
            ["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    return {
        "date": datetime.date.today().isoformat(),
        "commit": source_commit(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg": os.getloadavg(),  # other work on the machine skews the figures
    }


def write_json(path: Optional[str], data: dict[str, Any]) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        print(f"\nwrote {path}")


def missed(figures: list[dict[str, Any]]) -> bool:
    return any(not f.get("skipped") and not f.get("info") and not f["met"] for f in figures)


# -- main -------------------------------------------------------------------------------


def base_parser(doc: Optional[str], runs: int, warmup: int) -> argparse.ArgumentParser:
    """The options every benchmark script takes."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    p.add_argument("--runs", type=int, default=runs, help=f"timed runs per case ({runs})")
    p.add_argument("--warmup", type=int, default=warmup, help=f"untimed rounds first ({warmup})")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--tmp", help="parent of the work folder (default: the system temp dir)")
    p.add_argument("--module", action="store_true", help="run python -m relocator instead")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    return p


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = base_parser(__doc__, runs=5, warmup=2)
    p.add_argument("--cross-runs", type=int, default=5, help="runs of the cross-volume cases")
    p.add_argument("--shm", default="/dev/shm", help="another volume for the store (tmpfs)")
    return p.parse_args(argv)


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
    write_json(
        args.json,
        {"benchmark": "adopt", "relocate": how, **machine(), "cases": cases, "figures": figures},
    )
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
