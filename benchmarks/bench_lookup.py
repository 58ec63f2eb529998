"""Benchmark: ``relocate python`` against each tool's own look-up of a project's venv.

Cases, in one run, interleaved: ``relocate python`` in a relocated project;
``poetry env info -p`` in a Poetry project (PEP 621 ``[project]``, ``[tool.poetry]
package-mode = false``, a ``poetry.toml`` with ``virtualenvs.in-project =
true``); ``pipenv --venv`` in a Pipfile project (``PIPENV_VENV_IN_PROJECT=1``);
``pdm info --python`` in a PDM project (``[tool.pdm] distribution = false``);
and, as the yardstick of ``bench_python.py``, a bare ``python -c pass`` with
the venv's own interpreter. Every project's venv is a ``python -m venv
--without-pip .venv`` relocated by ``relocate adopt``, so every tool looks at
the same kind of link; every run's output must name that venv (the link or
the store venv it leads to).

Figures (reported: the issue sets no goal for them): ``relocate python`` /
each tool's look-up, and each look-up / the bare ``python -c pass``
(``relocate python``'s own goal there, <= 4x, is ``bench_python.py``'s).

The tools are the pinned ones from PyPI that ``tests/tools.py`` installs into
``.test-tools/`` (each in a venv of its own, made on first use with uv; the
network is needed then). A tool that cannot be installed is skipped, with a
note. Everything happens in a temporary folder, with ``RELOCATOR_HOME``,
``HOME`` (the tools' caches and configuration too) and the store there.
``python benchmarks/bench_lookup.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import NamedTuple, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import figure, machine, missed, print_tables, write_json
from harness.timing import measure, timed
from harness.tools import find_tool, tools_module
from harness.venvs import write_file

BARE = "venv python -c pass"
LOOKUP = "relocate python"
GOAL = 4.0  # bench_python.py's: relocate python / venv python -c pass
PYPROJECT = '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
"""


class Tool(NamedTuple):
    case: str  # the command as the tables name it
    args: tuple[str, ...]  # after the executable
    prints: str  # "venv": the venv's folder; "python": its interpreter
    files: dict[str, str]  # the project, as the tool expects it
    env: dict[str, str]  # what the tool needs besides the benchmark's environment


TOOLS = {
    "poetry": Tool(
        "poetry env info -p",
        ("env", "info", "-p"),
        "venv",
        {
            "pyproject.toml": PYPROJECT + "\n[tool.poetry]\npackage-mode = false\n",
            "poetry.toml": "[virtualenvs]\nin-project = true\n",
        },
        {"POETRY_NO_INTERACTION": "1"},
    ),
    "pipenv": Tool(
        "pipenv --venv",
        ("--venv",),
        "venv",
        {"Pipfile": PIPFILE},
        {"PIPENV_VENV_IN_PROJECT": "1", "PIPENV_VERBOSITY": "-1", "PIPENV_IGNORE_VIRTUALENVS": "1"},
    ),
    "pdm": Tool(
        "pdm info --python",
        ("info", "--python"),
        "python",
        {"pyproject.toml": PYPROJECT + "\n[tool.pdm]\ndistribution = false\n"},
        {"PDM_CHECK_UPDATE": "0", "PDM_NON_INTERACTIVE": "1"},
    ),
}


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=10, warmup=1)
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"the tools to compare with, comma-separated ({','.join(TOOLS)}; '' for none)",
    )
    return parse(p, argv, runs=3, warmup=1)


# -- the tools --------------------------------------------------------------------------


def version(exe: str, env: dict[str, str]) -> str:
    result = subprocess.run([exe, "--version"], env=env, capture_output=True, text=True)
    return (result.stdout.strip().splitlines() or ["?"])[0]


# -- projects ---------------------------------------------------------------------------


def relocated(project: str, files: dict[str, str], relocate: list[str], env: dict[str, str]) -> str:
    """A project of ``files`` with a ``python -m venv`` ``.venv``, adopted; its store venv."""
    for name, text in files.items():
        write_file(os.path.join(project, name), text)
    venv = os.path.join(project, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)
    timed([*relocate, "adopt", project], env)
    store_venv = os.path.realpath(venv)
    assert os.path.islink(venv), venv
    assert store_venv.startswith(os.path.realpath(env["RELOCATOR_HOME"]) + os.sep), store_venv
    return store_venv


def check_output(case: str, output: str, prints: str, store_venv: str) -> None:
    """The command printed the relocated venv (or its interpreter), as a link or resolved."""
    lines = output.strip().splitlines()
    printed = lines[-1].strip() if lines else ""
    venv = os.path.dirname(os.path.dirname(printed)) if prints == "python" else printed
    if not os.path.isabs(printed) or os.path.realpath(venv) != store_venv:
        raise SystemExit(f"{case} printed {output.strip()!r}, not the relocated venv {store_venv}")
    if prints == "python" and os.path.basename(os.path.dirname(printed)) != "bin":
        raise SystemExit(f"{case} printed {printed!r}, not an interpreter in the venv's bin/")


class Lookup(NamedTuple):
    """One case: a command run in a project, and what it must print."""

    case: str
    cmd: list[str]
    cwd: str
    env: dict[str, str]
    prints: Optional[str]  # "venv", "python", or None: nothing to check
    store_venv: str

    def once(self) -> tuple[float, str]:
        elapsed, output = timed(self.cmd, self.env, self.cwd)
        if self.prints:
            check_output(self.case, output, self.prints, self.store_venv)
        return elapsed, output.strip()


def run_lookup(lookup: Lookup) -> float:
    return lookup.once()[0]


# -- main -------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    wanted = [t for t in args.tools.split(",") if t]
    unknown = set(wanted) - set(TOOLS)
    if unknown:
        raise SystemExit(f"unknown tools: {', '.join(sorted(unknown))} (known: {', '.join(TOOLS)})")
    found: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    if wanted:
        tools = tools_module()
        for name in wanted:
            exe, why = find_tool(tools, name)
            if exe is None:
                skipped[name] = why
                print(f"note: skipping {name}: {why}", file=sys.stderr)
            else:
                found[name] = {"executable": exe}
    with session(args) as (root, relocate, how):
        env = bench_env(root, os.path.join(root, "store"))
        work = os.path.join(root, "work")
        project = os.path.join(work, "relocate", "app")
        store_venv = relocated(project, {"pyproject.toml": PYPROJECT}, relocate, env)
        python = os.path.join(project, ".venv", "bin", "python")
        lookups = [
            Lookup(BARE, [python, "-c", "pass"], project, env, None, store_venv),
            Lookup(LOOKUP, [*relocate, "python"], project, env, "python", store_venv),
        ]
        for name, info in found.items():
            tool = TOOLS[name]
            there = os.path.join(work, name, "app")
            venv = relocated(there, tool.files, relocate, env)
            tool_env = {**env, **tool.env}
            info["version"] = version(info["executable"], tool_env)
            cmd = [info["executable"], *tool.args]
            lookups.append(Lookup(tool.case, cmd, there, tool_env, tool.prints, venv))
            # relocate's answer in the tool's project must name the same venv (untimed)
            same = f"{LOOKUP} in the {name} project"
            Lookup(same, lookups[1].cmd, there, env, "python", venv).once()
        # Untimed and checked: each command's first run (PDM saves .pdm-python then).
        prints = {lookup.case: lookup.once()[1] for lookup in lookups[1:]}
        todo = {lookup.case: (run_lookup, (lookup,)) for lookup in lookups}
        cases = measure(args.runs, todo, args.warmup)
    figures = [figure(f"{LOOKUP} / {BARE}", cases, LOOKUP, BARE, GOAL, info=True)]
    for name in wanted:
        case = TOOLS[name].case
        figures.append(figure(f"{LOOKUP} / {case}", cases, LOOKUP, case, None))
    for name in wanted:
        case = TOOLS[name].case
        figures.append(figure(f"{case} / {BARE}", cases, case, BARE, None))
    print_tables(cases, figures)
    for name, why in skipped.items():
        print(f"note: {name} skipped: {why}")
    data = {"benchmark": "lookup", "relocate": how, **machine(), "cases": cases}
    data.update(figures=figures, tools=found, skipped=skipped, prints=prints)
    write_json(args.json, data)
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
