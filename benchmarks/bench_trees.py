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

from harness.cli import parse, parser
from harness.isolation import bench_env, find_uv, session
from harness.results import figure, machine, missed, print_absolute, print_tables, write_json
from harness.timing import Failed, measure, part, run_ok, timed
from harness.venvs import write_file

PACKAGE = "inventory"
PACKAGES = ("pytest", "requests", "attrs", "mypy", "ruff", "types-requests")
TOX_PIN = "tox==4.67.15"  # tests/tools.py's pin
NOSYNC = ".nosync"
VENV = ".venv"
TREES = (".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox")
OWN = "the project's own files"
LINKS = "link entries (NAME, NAME.nosync)"
PYCACHE = "__pycache__ (and *.pyc)"
OTHER = "anything else"
CATEGORIES = (OWN, LINKS, VENV, *TREES, PYCACHE, OTHER)
BEFORE = "before adopt --trees"
ADOPTED = "after adopt --trees"
STEADY = "tools run again (tox.ini as written)"
STEADY_PREFIX = "tools run again (tox set_env PYTHONPYCACHEPREFIX)"
IN_PLACE = "mypy, 2nd run, .mypy_cache in the project"
RELOCATED = "mypy, 2nd run, .mypy_cache relocated"
LEFT_GOAL = 0  # entries beyond the project's own files and the links
MYPY_GOAL = 1.1  # relocated / in place, ratio of medians
TOX_PREFIX = "PYTHONPYCACHEPREFIX = {toxworkdir}/bytecode"


# -- the project ------------------------------------------------------------------------

MODULE = '''\
"""Catalogue {i}: items, baskets and a client for the catalogue service."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import requests


@attrs.frozen
class Item{i}:
    sku: str
    name: str
    price_cents: int
    tags: tuple[str, ...] = ()

    def with_price(self, cents: int) -> Item{i}:
        return attrs.evolve(self, price_cents=cents)


@attrs.define
class Basket{i}:
    items: list[Item{i}] = attrs.field(factory=list)

    def add(self, item: Item{i}) -> None:
        self.items.append(item)

    def total(self) -> int:
        return sum(item.price_cents for item in self.items)

    def tagged(self, tag: str) -> list[Item{i}]:
        return [item for item in self.items if tag in item.tags]


def parse_items(rows: Iterable[dict[str, object]]) -> list[Item{i}]:
    found: list[Item{i}] = []
    for row in rows:
        sku, name, price = row.get("sku"), row.get("name"), row.get("price_cents")
        if not isinstance(sku, str) or not isinstance(name, str):
            raise ValueError(f"bad row: {{row!r}}")
        if not isinstance(price, int):
            raise ValueError(f"bad price: {{row!r}}")
        tags = row.get("tags", ())
        names = tuple(str(t) for t in tags) if isinstance(tags, (list, tuple)) else ()
        found.append(Item{i}(sku, name, price, names))
    return found


class Client{i}:
    def __init__(self, base: str, session: requests.Session | None = None) -> None:
        self.base = base.rstrip("/")
        self.session = session or requests.Session()

    def url(self, path: str) -> str:
        return f"{{self.base}}/{{path.lstrip('/')}}"

    def fetch(self, path: str, timeout: float = 5.0) -> list[Item{i}]:
        response: requests.Response = self.session.get(self.url(path), timeout=timeout)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, list):
            raise ValueError("expected a list")
        return parse_items(data)
'''

TEST = """\
from inventory.catalog_{i} import Basket{i}, Client{i}, Item{i}, parse_items


def test_total(prices: list[int]) -> None:
    basket = Basket{i}()
    for n, cents in enumerate(prices):
        basket.add(Item{i}(f"sku-{{n}}", "thing", cents, ("sale",) if n % 2 else ()))
    assert basket.total() == sum(prices)
    assert len(basket.tagged("sale")) == len(prices) // 2


def test_parse() -> None:
    rows: list[dict[str, object]] = [{{"sku": "a", "name": "A", "price_cents": 5}}]
    assert parse_items(rows) == [Item{i}("a", "A", 5)]
    assert parse_items(rows)[0].with_price(7).price_cents == 7


def test_url() -> None:
    assert Client{i}("http://example.invalid/").url("/items") == "http://example.invalid/items"
"""

CONFTEST = """\
import pytest



@pytest.fixture
def prices() -> list[int]:
    return [120, 250, 999, 5, 40, 60]
"""

PYPROJECT = f'''\
[project]
name = "{PACKAGE}"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["attrs", "requests"]

[tool.mypy]
strict = true

[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "W", "B", "UP"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
'''

TOX_INI = """\
[tox]
env_list = py
skipsdist = true

[testenv]
skip_install = true
deps =
    pytest
    attrs
    requests
commands = pytest -q {{posargs}}
{set_env}"""


def tox_ini(prefix: bool) -> str:
    return TOX_INI.format(set_env=f"set_env =\n    {TOX_PREFIX}\n" if prefix else "")


def write_project(folder: str, modules: int) -> None:
    """The package, its tests and configuration (no venv, no caches)."""
    names = [f"catalog_{i}" for i in range(modules)]
    init = "".join(f"from {PACKAGE} import {n}\n" for n in names)
    init += "\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]\n"
    write_file(os.path.join(folder, PACKAGE, "__init__.py"), init)
    for i, name in enumerate(names):
        write_file(os.path.join(folder, PACKAGE, f"{name}.py"), MODULE.format(i=i))
        write_file(os.path.join(folder, "tests", f"test_{name}.py"), TEST.format(i=i))
    write_file(os.path.join(folder, "tests", "conftest.py"), CONFTEST)
    write_file(os.path.join(folder, "pyproject.toml"), PYPROJECT)
    write_file(os.path.join(folder, "tox.ini"), tox_ini(prefix=False))
    write_file(os.path.join(folder, "README.md"), f"# {PACKAGE}\n\nA catalogue client.\n")
    write_file(os.path.join(folder, ".gitignore"), ".venv\n*.nosync\n__pycache__/\n")


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


def entries(top: str, rel: str = "") -> list[tuple[str, str]]:
    """Every entry under ``top`` as (relative path, kind): never follows a link."""
    found = []
    with os.scandir(os.path.join(top, rel)) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            path = os.path.join(rel, entry.name)
            if entry.is_symlink():
                found.append((path, "links"))
            elif entry.is_dir(follow_symlinks=False):
                found.append((path, "dirs"))
                found += entries(top, path)
            else:
                found.append((path, "files"))
    return found


def category(path: str, kind: str, own: set[str]) -> str:
    parts = path.split(os.sep)
    first = parts[0]
    base = first[: -len(NOSYNC)] if first.endswith(NOSYNC) else first
    if base in (VENV, *TREES):
        if len(parts) == 1 and (kind == "links" or first != base):  # NAME, NAME.nosync/
            return LINKS
        if len(parts) == 2 and first != base and parts[1] == base and kind == "links":
            return LINKS  # NAME.nosync/NAME
        return base
    if "__pycache__" in parts or path.endswith(".pyc"):
        return PYCACHE
    return OWN if path in own else OTHER


def census(project: str, own: set[str]) -> dict[str, Any]:
    """Entries under the project by category: files, dirs, links and total each; the
    paths of any entry that is none of the known kinds, and what a sync engine carries."""
    counts = {c: {"files": 0, "dirs": 0, "links": 0} for c in CATEGORIES}
    other: list[str] = []
    found = entries(project)
    for path, kind in found:
        name = category(path, kind, own)
        counts[name][kind] += 1
        if name == OTHER:
            other.append(path)
    for c in counts.values():
        c["total"] = c["files"] + c["dirs"] + c["links"]
    synced = [p for p, _ in found if not any(s.endswith(NOSYNC) for s in p.split(os.sep))]
    return {
        "categories": counts,
        "total": len(found),
        "synced": len(synced),
        "beyond_own": sum(c["total"] for n, c in counts.items() if n != OWN),
        "beyond_own_and_links": sum(c["total"] for n, c in counts.items() if n not in (OWN, LINKS)),
        "other_paths": other[:50],
    }


def drop_pycache(project: str) -> int:
    """Delete every ``__pycache__`` folder in the project (not through a link); how many."""
    gone = 0
    for path, kind in entries(project):
        if kind == "dirs" and os.path.basename(path) == "__pycache__":
            full = os.path.join(project, path)
            if os.path.isdir(full):  # an outer one may have taken it already
                shutil.rmtree(full)
                gone += 1
    return gone


def links_of(project: str) -> dict[str, str]:
    return {
        name: os.readlink(os.path.join(project, name))
        for name in sorted(os.listdir(project))
        if os.path.islink(os.path.join(project, name))
    }


def pyc_under(folder: str, project: str) -> int:
    """The ``.pyc`` files of the project's own sources (not its venv's or tox's) under the
    pycache prefix ``folder``, which mirrors each source's absolute folder."""
    found = 0
    for path in {project, os.path.realpath(project)}:
        top = os.path.join(folder, path.lstrip(os.sep))
        for here, dirs, files in os.walk(top):
            if here == top:
                dirs[:] = [d for d in dirs if d.split(".nosync")[0] not in (VENV, *TREES)]
            found += sum(f.endswith(".pyc") for f in files)
    return found


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


def print_census(found: dict[str, Any]) -> None:
    stages_ = found.get("stages", {})
    if not stages_:
        return
    heads = list(stages_)
    width = max(len(c) for c in CATEGORIES)
    print("\nentries under the project (files/folders/links), by stage:")
    for i, head in enumerate(heads):
        print(f"  ({i + 1}) {head}")
    print(f"{'category':<{width}}  " + "  ".join(f"{f'({i + 1})':>16}" for i in range(len(heads))))
    for cat in CATEGORIES:
        cells = []
        for head in heads:
            c = stages_[head]["categories"][cat]
            cells.append(f"{c['total']:>5} ({c['files']}/{c['dirs']}/{c['links']})")
        print(f"{cat:<{width}}  " + "  ".join(f"{x:>16}" for x in cells))
    for label, key in (("total", "total"), ("synced (no *.nosync)", "synced")):
        print(f"{label:<{width}}  " + "  ".join(f"{stages_[h][key]:>16}" for h in heads))
    for head in heads:
        if stages_[head]["other_paths"]:
            print(f"  {head}: other entries: {', '.join(stages_[head]['other_paths'][:10])}")


def stage_notes(found: dict[str, Any]) -> list[str]:
    """One line per stage with its counts by category and what each tool added (printed;
    the page makes a table of them from the JSON's ``stages``, ``tools`` and
    ``pycache_deleted``)."""
    notes = []
    for head, c in found.get("stages", {}).items():
        parts = [f"{n} {v['total']:,}" for n, v in c["categories"].items() if v["total"]]
        line = f"{head}: {c['total']:,} entries ({c['synced']:,} synced): {'; '.join(parts)}"
        if head in found.get("pycache_deleted", {}):
            line += f" (after deleting {found['pycache_deleted'][head]} __pycache__ by hand)"
        if c["other_paths"]:
            line += f"; other: {', '.join(c['other_paths'][:8])}"
        runs = found.get("tools", {}).get(head)
        if runs:
            added = ", ".join(f"{t} {r['added']:+,}" for t, r in runs.items())
            line += f"; added beyond the links by each tool: {added}"
        notes.append(line)
    return notes


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
    for note in stage_notes(found):  # the page has these as tables (report.extras)
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
    for note in notes:
        print(f"note: {note}")
    for name, message in failures.items():
        print(f"FAILED ({name}): {message}")
    figures = [*counts, ratio]
    keep = ("stages", "tools", "versions", "bytecode", "links", "pycache_deleted")
    data = {"benchmark": "trees", "relocate": how, **machine(), "cases": cases}
    write_json(
        args.json,
        {
            **data,
            "figures": figures,
            **{k: found[k] for k in keep if k in found},
            "notes": notes,
            "failures": failures,
        },
    )
    return 1 if args.strict and (missed(figures) or failures) else 0


if __name__ == "__main__":
    sys.exit(main())
