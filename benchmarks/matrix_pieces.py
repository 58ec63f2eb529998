"""Pieces the matrix's rows are made of (``matrix_managers.py``): run a tool, expect what
it prints, check the venv it left."""

from __future__ import annotations

import os
from typing import Callable

from matrix_run import Run


def tool_run(tool: str, *args: str) -> Callable[[Run], None]:
    """Run ``tool`` (from tests/tools.py) with ``args`` in the project."""

    def run_it(run: Run) -> None:
        run.sh(run.tool(tool), *args)

    return run_it


def prints(text: str, tool: str, *args: str) -> Callable[[Run], None]:
    """Run ``tool`` (a tests/tools.py name, or ``uv``); its output must hold ``text``."""

    def run_it(run: Run) -> None:
        exe = os.path.join(run.ws.bin, "uv") if tool == "uv" else run.tool(tool)
        result = run.sh(exe, *args)
        run.expect(text in result.text, f"`{tool} {' '.join(args)}` did not print {text!r}")

    return run_it


def removed(run: Run) -> None:
    """The action was to remove the venv: ``.venv/bin/python`` must be gone."""
    run.expect(not os.path.exists(run.python), f"{run.python} is still there")


def venv_runs(run: Run) -> None:
    """``.venv/bin/python`` starts (the action made a venv, empty or not)."""
    run.python_version()


def venv_python(version: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        found = run.python_version()
        run.expect(found == version, f".venv/bin/python is Python {found}, not {version}")

    return check


def both(*checks: Callable[[Run], None]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for c in checks:
            c(run)

    return check
