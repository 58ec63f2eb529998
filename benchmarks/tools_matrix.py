"""Re-run everyday actions of the real tools on relocated projects: what breaks, what repairs.

Not a timing benchmark: a matrix of about fifty actions (uv, Poetry, PDM, Hatch, Pipenv,
pip, virtualenv, venv, builds, tox, nox, pre-commit, ipykernel, pyright, basedpyright,
jedi, pylsp, and the trees of ``adopt --trees``), the rows of docs/package-managers.md,
docs/editors.md and docs/trees.md and a few more. Each action runs twice, on fresh
copies of one project (a hatchling ``src/`` package ``demo`` with a console script
``demo`` and a dependency on ``attrs``, synced by uv): once relocated (``relocate
adopt``), once plain (a real ``.venv``). Per action it reports:

(a) whether the action succeeded on the relocated project, (b) on the plain one, (c)
whether the venv still works afterwards (``.venv/bin/demo`` runs, ``import demo,
attrs`` works with ``.venv/bin/python``), (d) what ``relocate status --json`` says,
(e) after ``relocate adopt`` (the repair): whether the venv works, status is ``ok``, and
an action that failed only relocated now succeeds.

Summary: actions tried; broken by the relocation (failed relocated but not plain, or
left the venv not working relocated but not plain); repaired by adopt; and failing while
status says ok (the venv does not work, or the action failed because of the
relocation, and status is ``ok``; or, after adopt, status is ``ok`` and the venv does
not work): the goal of that last count is 0.

Each run has its own HOME, XDG folders, store and TMPDIR in a temporary folder; uv,
pip, Poetry, PDM and Pipenv share download caches there. ``UV_PYTHON_DOWNLOADS=never``.
relocate is this checkout's (``python -m relocator`` with the checkout first on the
path); the tools are the pins of ``tests/tools.py`` (installed once into
``.test-tools/``, or ``$RELOCATOR_TEST_TOOLS``). The network is needed (PyPI).
``python benchmarks/tools_matrix.py [-k NAME] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Optional

from harness.isolation import REPO, real_store_state, relocate_at, relocator_of
from harness.results import machine, write_json
from harness.tools import find_tool, python312, tools_module
from harness.venvs import write_file
from matrix_editors import ACTIONS as MORE_ACTIONS
from matrix_editors import PROJECT_PINS
from matrix_managers import ACTIONS as MANAGER_ACTIONS
from matrix_report import judge, print_report, summary
from matrix_run import (
    Action,
    Failed,
    Run,
    Workspace,
    last_line,
    nothing,
    status,
    venv_works,
)

ACTIONS = [*MANAGER_ACTIONS, *MORE_ACTIONS]
PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["attrs"]

[project.scripts]
demo = "demo:main"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
INIT = 'import attrs\n\n\ndef main():\n    print("demo ok", attrs.__version__)\n'


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument(
        "-k",
        action="append",
        default=[],
        metavar="NAME",
        help="run only actions whose name contains NAME (repeatable; any matches)",
    )
    p.add_argument("--list", action="store_true", help="list the actions and exit")
    p.add_argument("--timeout", type=float, default=300, help="seconds per action and variant")
    p.add_argument("--jobs", type=int, choices=(1, 2), default=2, help="actions at once (2)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--tmp", help="parent of the work folder (default: the system temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--python312", default=python312(), help="a CPython 3.12 (pyenv's)")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when an action fails while status says ok"
    )
    return p.parse_args(argv)


def selected(patterns: list[str]) -> list[Action]:
    if not patterns:
        return list(ACTIONS)
    return [a for a in ACTIONS if any(p.lower() in a.name.lower() for p in patterns)]


# -- the workspace and the template -----------------------------------------------------------


def find_tools(actions: list[Action]) -> tuple[dict[str, str], dict[str, str]]:
    """The tools the actions need (installed on first use): found, and why not."""
    module = tools_module()
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for name in sorted({t for a in actions for t in a.tools}):
        exe, why = find_tool(module, name)
        if exe:
            found[name] = exe
        else:
            missing[name] = why
    return found, missing


def versions(ws: Workspace) -> dict[str, str]:
    """``--version`` of uv, git, node and every tool used; the project's pins."""
    exes = {"uv": os.path.join(ws.bin, "uv"), "git": "git", "node": "node", **ws.tools}
    found = {}
    for name, exe in exes.items():
        try:
            result = subprocess.run(
                [exe, "--version"],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ws.root,
                env={**os.environ, "COLUMNS": "500"},  # no wrapped lines
            )
            lines = (result.stdout or result.stderr).splitlines()
            said = [line.strip() for line in lines if line.strip() and "ROOT:" not in line]
            found[name] = " ".join(said)[:200]  # tox warns of no tox.ini in ROOT: lines
        except (OSError, subprocess.TimeoutExpired) as e:
            found[name] = f"? ({e})"
    found.update(PROJECT_PINS)
    return found


def build_template(ws: Workspace) -> None:
    """The project every run copies: written, locked and synced once (which fills uv's
    cache), committed to git, its ``.venv`` removed (each copy syncs its own)."""
    run = Run(ws, Action("template", "", nothing), "template", os.path.join(ws.root, "template"))
    files = {
        "pyproject.toml": PYPROJECT,
        "src/demo/__init__.py": INIT,
        ".python-version": "3.11\n",
        ".gitignore": "dist/\n__pycache__/\n",
        "notes.txt": "notes\n",
    }
    for rel, text in files.items():
        write_file(run.path(rel), text)
    try:
        run.sh("git", "init", "-q", "-b", "main")
        run.uv("lock")
        run.uv("sync")
        why = venv_works(run)
        if why:
            raise Failed(why)
        code = "import sys; print(sys._base_executable)"
        ws.base_python = run.py(code).out.strip()
        run.commit("the template")
    except Failed as e:
        print("\n".join(run.log), file=sys.stderr)
        raise SystemExit(f"tools_matrix: the template project does not build: {e}") from None
    shutil.rmtree(run.path(".venv"))
    ws.template = run.project


# -- one action -------------------------------------------------------------------------------


def prepare(run: Run) -> None:
    """A fresh copy of the template, synced, the action's setup, committed; adopted."""
    shutil.copytree(run.ws.template, run.project, symlinks=True)
    run.uv("sync", "--locked")
    run.action.setup(run)
    run.commit("the action's setup")
    if run.relocated:
        run.relocate("adopt", *(["--trees"] if run.action.trees else []), run.project)
        run.linked_into_store(".venv")
        health, cause = status(run)
        run.expect(health == "ok", f"status after adopt: {health} ({cause})")
    why = venv_works(run)
    if why:
        raise Failed(f"the fresh project does not work: {why}")


def attempt(run: Run, timeout: float) -> tuple[bool, Optional[str]]:
    """Run the action and its check within ``timeout``: did it succeed, and why not."""
    run.deadline = time.monotonic() + timeout
    try:
        run.action.run(run)
        run.action.check(run)
    except Failed as e:
        return False, str(e)
    except Exception as e:  # a check that crashes has proven nothing
        return False, f"the check raised {type(e).__name__}: {e}"
    finally:
        run.deadline = None
    return True, None


def run_variant(
    ws: Workspace, action: Action, variant: str, folder: str, timeout: float, *, retry: bool
) -> dict[str, Any]:
    """One variant: prepared, the action, the venv checked; relocated: status, the repair
    (``relocate adopt``) and, with ``retry``, the action again if it failed."""
    run = Run(ws, action, variant, folder)
    out: dict[str, Any] = {"log": run.log}
    started = time.monotonic()
    try:
        prepare(run)
    except Failed as e:
        out["error"] = f"preparing the {variant} project: {e}"
        return out
    out["ok"], out["why"] = attempt(run, timeout)
    out["why_not_working"] = venv_works(run)
    out["works"] = out["why_not_working"] is None
    if run.relocated:
        out["status"], out["cause"] = status(run)
        run.log.append("--- the repair")
        adopt = run.relocate("adopt", run.project, check=False)
        after: dict[str, Any] = {"adopt": f"exit {adopt.code}: {last_line(adopt.text)}"}
        after["why_not_working"] = venv_works(run)
        after["works"] = after["why_not_working"] is None
        after["status"], after["cause"] = status(run)
        if retry and not out["ok"]:
            run.log.append("--- the action again")
            after["retry"], after["retry_why"] = attempt(run, timeout)
        out["after"] = after
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


def run_action(ws: Workspace, action: Action, index: int, args: argparse.Namespace) -> dict:
    """Both variants of ``action`` (plain first: the relocated retry needs its outcome)."""
    res: dict[str, Any] = {"name": action.name, "source": action.source}
    res["refuses"] = action.refuses
    missing = [t for t in action.tools if t not in ws.tools]
    if missing:
        res.update(verdict="skipped", skipped=f"not installed: {', '.join(missing)}")
        return res
    folder = os.path.join(ws.root, "runs", f"{index:02d}-{slug(action.name)}")
    started = time.monotonic()
    try:
        res["plain"] = run_variant(
            ws, action, "plain", os.path.join(folder, "plain"), args.timeout, retry=False
        )
        plain_ok = bool(res["plain"].get("ok"))
        res["relocated"] = run_variant(
            ws, action, "relocated", os.path.join(folder, "relocated"), args.timeout, retry=plain_ok
        )
        judge(res)
    except Exception:  # a fault of the harness: the row says so, the others go on
        res.update(verdict="error", error=traceback.format_exc(limit=3).strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    res["seconds"] = round(time.monotonic() - started, 1)
    return res


# -- main -------------------------------------------------------------------------------------


def workspace(root: str, actions: list[Action], python: Optional[str]) -> Workspace:
    uv = shutil.which("uv")
    if uv is None or not python or not os.path.exists(python):
        missing = "uv (on PATH)" if uv is None else f"CPython 3.12 ({python or 'none found'})"
        raise SystemExit(f"tools_matrix: {missing} is needed")
    tools, missing_tools = find_tools(actions)
    for name, why in missing_tools.items():
        print(f"note: {name}: {why}", file=sys.stderr)
    ws = Workspace(root, relocate_at(REPO)[0], tools, python)
    os.makedirs(ws.bin)
    os.symlink(uv, os.path.join(ws.bin, "uv"))
    os.symlink(python, os.path.join(ws.bin, "python3.12"))
    return ws


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    actions = selected(args.k)
    if not actions:
        print(
            f"tools_matrix: no action's name holds {' or '.join(map(repr, args.k))}; "
            "--list shows them",
            file=sys.stderr,
        )
        return 2
    if args.list:
        for action in actions:
            print(f"{action.name}  [{action.source}]")
        return 0
    before = real_store_state()
    root = tempfile.mkdtemp(prefix="relocator-matrix-", dir=args.tmp)
    try:
        ws = workspace(root, actions, args.python312)
        where = relocator_of(REPO, ws.env(os.path.join(root, "probe")))
        print(f"work folder {root}; relocator from {where}", file=sys.stderr)
        build_template(ws)
        results: list[dict[str, Any]] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {
                pool.submit(run_action, ws, action, i, args): action
                for i, action in enumerate(actions)
            }
            for future in concurrent.futures.as_completed(futures):
                res = future.result()
                results.append(res)
                print(
                    f"[{len(results)}/{len(actions)}] {res['name']}: {res['verdict']} "
                    f"({res['seconds']:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        order = {a.name: i for i, a in enumerate(actions)}
        results.sort(key=lambda r: order[r["name"]])
        totals = summary(results)
        print_report(results, totals)
        write_json(
            args.json,
            {
                "benchmark": "tools_matrix",
                **machine(),
                "relocator": where,
                "versions": versions(ws),
                "timeout": args.timeout,
                "jobs": args.jobs,
                "summary": totals,
                "actions": results,
            },
        )
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    assert real_store_state() == before, "the real store changed during the matrix"
    return 1 if args.strict and totals["failing_while_status_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
