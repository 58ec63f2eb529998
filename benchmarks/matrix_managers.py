"""Rows of ``tools_matrix.py``: the package managers, builds, tox and nox.

Each row is an :class:`~matrix_run.Action`: ``setup`` runs on a fresh copy of the
template project before ``relocate adopt`` (its changes are committed), ``run`` is the
tool's action, ``check`` what proves that the action did what it is for. Every check
can fail: an exit code, a file the action must leave, an interpreter version, the
folder a tool names, or a module that only the project's venv holds. The rows come from
docs/package-managers.md (every row there) and a few more everyday commands ("extra").
"""

from __future__ import annotations

import glob
import os
import tarfile
import zipfile
from typing import Callable

from matrix_pieces import both, prints, removed, tool_run, venv_python, venv_runs
from matrix_run import Action, Run

PM = "package-managers.md"
EXTRA = "iniconfig"  # the package the add and install rows add
PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
attrs = "*"
demo = {path = ".", editable = true}
"""
TOX_INI = """\
[tox]
env_list = py

[testenv]
commands = python -c "import demo, attrs; print('tox ok')"
"""
NOXFILE = """\
import nox


@nox.session
def tests(session):
    session.install(".")
    session.run("python", "-c", "import demo, attrs; print('nox ok')")
"""


def builds(run: Run) -> None:
    """``dist/`` holds a wheel and an sdist of ``demo``, and neither carries a venv."""
    sdists = glob.glob(run.path("dist", "*.tar.gz"))
    wheels = glob.glob(run.path("dist", "*.whl"))
    run.expect(sdists and wheels, f"dist/ holds {os.listdir(run.path('dist'))}, not both kinds")
    with tarfile.open(sdists[0]) as t:
        names = t.getnames()
    with zipfile.ZipFile(wheels[0]) as z:
        names += z.namelist()
    venv = [n for n in names if ".venv" in n or "site-packages" in n or "pyvenv.cfg" in n]
    run.expect(not venv, f"the build holds {len(venv)} files of the venv, such as {venv[:1]}")
    run.expect(any(n.endswith("demo/__init__.py") for n in names), "the build has no demo")


def imports_extra(run: Run) -> None:
    run.imports(EXTRA)


def names_venv(tool: str, *args: str) -> Callable[[Run], None]:
    """A check: what ``tool args`` prints (a venv or its python) is the project's .venv."""

    def check(run: Run) -> None:
        run.same_venv(run.sh(run.tool(tool), *args).out, f"`{tool} {' '.join(args)}`")

    return check


# -- uv --------------------------------------------------------------------------------------


def uv_rm_sync(run: Run) -> None:
    run.sh("rm", "-rf", ".venv")
    run.uv("sync")


def uv_central(run: Run) -> None:
    env = {**run.env, "UV_PREVIEW_FEATURES": "centralized-project-envs"}
    run.sh(os.path.join(run.ws.bin, "uv"), "sync", env=env)


def uv_pin(run: Run) -> None:
    run.uv("python", "pin", "3.12")
    run.uv("sync")


UV = [
    Action("uv sync", f"{PM}#uv", lambda r: r.uv("sync")),
    Action("uv run demo", f"{PM}#uv", prints("demo ok", "uv", "run", "demo")),
    Action(f"uv add {EXTRA}", f"{PM}#uv", lambda r: r.uv("add", EXTRA), check=imports_extra),
    Action(
        f"uv pip install {EXTRA}",
        f"{PM}#uv",
        lambda r: r.uv("pip", "install", EXTRA),
        check=imports_extra,
    ),
    Action("rm -rf .venv && uv sync", f"{PM}#uv", uv_rm_sync),
    Action("uv venv --clear .venv", f"{PM}#uv", lambda r: r.uv("venv", "--clear", ".venv")),
    Action("uv venv .venv", f"{PM}#uv", lambda r: r.uv("venv", ".venv")),
    Action("uv sync, centralized-project-envs preview", f"{PM}#uv", uv_central),
    Action("uv python pin 3.12 && uv sync", "extra", uv_pin, check=venv_python("3.12")),
    Action("uv build", "extra", lambda r: r.uv("build"), check=builds),
]

# -- Poetry (POETRY_VIRTUALENVS_IN_PROJECT=true) ---------------------------------------------

POETRY_VENV = names_venv("poetry", "env", "info", "-p")
POETRY = [
    Action(
        "poetry install",
        f"{PM}#poetry",
        tool_run("poetry", "install"),
        check=POETRY_VENV,
        tools=("poetry",),
    ),
    Action(
        f"poetry add {EXTRA}",
        f"{PM}#poetry",
        tool_run("poetry", "add", EXTRA),
        check=both(imports_extra, POETRY_VENV),
        tools=("poetry",),
    ),
    Action(
        "poetry env remove --all",
        f"{PM}#poetry",
        tool_run("poetry", "env", "remove", "--all"),
        tools=("poetry",),
    ),
    Action(
        "poetry env use python3.12",
        f"{PM}#poetry",
        tool_run("poetry", "env", "use", "python3.12"),
        check=both(POETRY_VENV, venv_python("3.12")),
        tools=("poetry",),
    ),
]

# -- PDM -----------------------------------------------------------------------------------


def pdm_use_312(run: Run) -> None:
    run.sh(run.tool("pdm"), "use", "-f", "python3.12")
    run.sh(run.tool("pdm"), "install")


def pdm_env_312(run: Run) -> None:
    code = "import sys, demo, attrs; print('%d.%d' % sys.version_info[:2])"
    found = run.sh(run.tool("pdm"), "run", "python", "-c", code).out.strip()
    run.expect(found == "3.12", f"pdm run python is Python {found}, not 3.12")


PDM_VENV = names_venv("pdm", "info", "--python")
PDM = [
    Action("pdm install", f"{PM}#pdm", tool_run("pdm", "install"), check=PDM_VENV, tools=("pdm",)),
    Action(
        f"pdm add {EXTRA}",
        f"{PM}#pdm",
        tool_run("pdm", "add", EXTRA),
        check=both(imports_extra, PDM_VENV),
        tools=("pdm",),
    ),
    Action(
        "pdm venv remove in-project",
        f"{PM}#pdm",
        tool_run("pdm", "venv", "remove", "-y", "in-project"),
        check=removed,
        tools=("pdm",),
        refuses=True,
    ),
    Action(
        "pdm use -f python3.12 && pdm install",
        "extra",
        pdm_use_312,
        check=pdm_env_312,
        tools=("pdm",),
    ),
    Action(
        "pdm venv create --force",
        "extra",
        tool_run("pdm", "venv", "create", "--force"),
        check=venv_runs,
        tools=("pdm",),
    ),
]

# -- Hatch (the default environment at .venv) ------------------------------------------------


def hatch_setup(run: Run) -> None:
    run.append("pyproject.toml", '\n[tool.hatch.envs.default]\npath = ".venv"\n')


hatch_demo = prints("demo ok", "hatch", "run", "demo")


def hatch_remove_run(run: Run) -> None:
    run.sh(run.tool("hatch"), "env", "remove")
    hatch_demo(run)


HATCH = [
    Action("hatch run demo", f"{PM}#hatch", hatch_demo, setup=hatch_setup, tools=("hatch",)),
    Action(
        "hatch env remove",
        f"{PM}#hatch",
        tool_run("hatch", "env", "remove"),
        setup=hatch_setup,
        check=removed,
        tools=("hatch",),
    ),
    Action(
        "hatch env remove && hatch run demo",
        "extra",
        hatch_remove_run,
        setup=hatch_setup,
        tools=("hatch",),
    ),
    Action(
        "hatch build",
        "extra",
        tool_run("hatch", "build"),
        setup=hatch_setup,
        check=builds,
        tools=("hatch",),
    ),
]

# -- Pipenv (PIPENV_VENV_IN_PROJECT=1) -------------------------------------------------------


def pipfile(run: Run) -> None:
    run.write("Pipfile", PIPFILE)


def pipfile_locked(run: Run) -> None:
    pipfile(run)
    run.sh(run.tool("pipenv"), "lock")


def pipenv_312(run: Run) -> None:
    code = "import sys, demo, attrs; print('%d.%d' % sys.version_info[:2])"
    found = run.sh(run.tool("pipenv"), "run", "python", "-c", code).out.strip()
    run.expect(found == "3.12", f"pipenv run python is Python {found}, not 3.12")
    PIPENV_VENV(run)


PIPENV_VENV = names_venv("pipenv", "--venv")
PIPENV = [
    Action(
        "pipenv install",
        f"{PM}#pipenv",
        tool_run("pipenv", "install"),
        setup=pipfile,
        check=PIPENV_VENV,
        tools=("pipenv",),
    ),
    Action(
        "pipenv sync",
        f"{PM}#pipenv",
        tool_run("pipenv", "sync"),
        setup=pipfile_locked,
        check=PIPENV_VENV,
        tools=("pipenv",),
    ),
    Action(
        "pipenv --rm",
        f"{PM}#pipenv",
        tool_run("pipenv", "--rm"),
        setup=pipfile,
        check=removed,
        tools=("pipenv",),
        refuses=True,
    ),
    Action(
        "pipenv --python python3.12 install",
        "extra",
        tool_run("pipenv", "--python", "python3.12", "install"),
        setup=pipfile,
        check=pipenv_312,
        tools=("pipenv",),
        refuses=True,
    ),
]

# -- pip, virtualenv, venv -----------------------------------------------------------------


def with_pip(run: Run) -> None:
    run.uv("pip", "install", "pip")


def base_venv(*args: str):  # -> run function: the base interpreter of the project's venv
    def run_it(run: Run) -> None:
        run.sh(run.ws.base_python, "-m", "venv", *args, ".venv")

    return run_it


PIP_VENV = [
    Action(
        f".venv/bin/pip install {EXTRA}",
        f"{PM}#pip",
        lambda r: r.sh(r.path(".venv", "bin", "pip"), "install", EXTRA),
        setup=with_pip,
        check=imports_extra,
    ),
    Action(
        f"python -m pip install {EXTRA} (activated)",
        f"{PM}#pip",
        lambda r: r.activated("python", "-m", "pip", "install", EXTRA),
        setup=with_pip,
        check=imports_extra,
    ),
    Action(
        "virtualenv .venv",
        f"{PM}#virtualenv",
        tool_run("virtualenv", ".venv"),
        tools=("virtualenv",),
    ),
    Action(
        "virtualenv --clear .venv",
        f"{PM}#virtualenv",
        tool_run("virtualenv", "--clear", ".venv"),
        tools=("virtualenv",),
        refuses=True,
    ),
    Action(
        "virtualenv -p python3.12 .venv",
        "extra",
        tool_run("virtualenv", "-p", "python3.12", ".venv"),
        check=venv_python("3.12"),
        tools=("virtualenv",),
    ),
    Action("python -m venv .venv", f"{PM}#python--m-venv", base_venv(), refuses=True),
    Action("python -m venv --clear .venv", f"{PM}#python--m-venv", base_venv("--clear")),
]

# -- builds, tox, nox --------------------------------------------------------------------------


def python_m_build(run: Run) -> None:
    python = os.path.join(os.path.dirname(run.tool("build")), "python")
    run.sh(python, "-m", "build")


def tox_setup(run: Run) -> None:
    run.write("tox.ini", TOX_INI)


def nox_setup(run: Run) -> None:
    run.write("noxfile.py", NOXFILE)


BUILDS = [
    Action("python -m build", "extra", python_m_build, check=builds, tools=("build",)),
    Action(
        "tox (with packaging)",
        "extra",
        prints("tox ok", "tox"),
        setup=tox_setup,
        tools=("tox",),
    ),
    Action(
        "nox (session installs the project)",
        "extra",
        prints("nox ok", "nox"),
        setup=nox_setup,
        tools=("nox",),
    ),
]

ACTIONS = [*UV, *POETRY, *PDM, *HATCH, *PIPENV, *PIP_VENV, *BUILDS]
