"""Small real projects for the tools to run on: a typed package with tests, a
``pyproject.toml`` (mypy strict, ruff, pytest) and a ``tox.ini`` (bench_trees.py); a uv app
(bench_lifecycle.py); a project with a bare venv (bench_shells.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Optional

from harness.isolation import machine_env
from harness.timing import Failed, run_ok
from harness.venvs import write_file

PACKAGE = "inventory"
TOX_PREFIX = "PYTHONPYCACHEPREFIX = {toxworkdir}/bytecode"
APP = "lifecycle-app"
DEPENDENCIES = ("requests", "rich", "click", "attrs")
IMPORT_CHECK = "import requests, rich, click, attrs"


# -- the typed package (bench_trees.py) -------------------------------------------------

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


# -- the uv app (bench_lifecycle.py) ----------------------------------------------------


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


# -- a project with a bare venv (bench_shells.py) ---------------------------------------


def make_venv_project(project: str, env: dict[str, str]) -> None:
    """A pyproject.toml and ``python -m venv --without-pip .venv``."""
    os.makedirs(project)
    write_file(os.path.join(project, "pyproject.toml"), '[project]\nname = "p"\nversion = "1"\n')
    venv = os.path.join(project, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)
