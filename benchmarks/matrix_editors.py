"""Rows of ``tools_matrix.py``: what records the venv's path, editors, and trees.

pre-commit and ipykernel write the interpreter that ran them into a file (a git hook,
a kernel spec), so they run as the user runs them, from a shell where the venv is
active (relocated: the shell hook; plain: ``source .venv/bin/activate``), and the
venv is then made again. The editors' rows (docs/editors.md) prove that the tool saw
the project's venv, not any Python: they resolve ``demo``, which only that venv holds,
or name the folder a module came from. The trees rows (docs/trees.md) adopt with
``--trees`` and check that each tool's tree is still a link into the store afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import re
from typing import Callable, Optional

from matrix_managers import NOXFILE, TOX_INI
from matrix_run import Action, Run

EDITORS = "editors.md"
TREES = "trees.md"
#: What setups install into the project's venv (uv add --dev), pinned for re-runs.
PROJECT_PINS = {
    "pre-commit": "pre-commit==4.7.0",
    "ipykernel": "ipykernel==7.4.0",
    "pytest": "pytest==9.2.0",
    "mypy": "mypy==2.4.1",
    "ruff": "ruff==0.17.6",
}
PRE_COMMIT_CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: mark
        name: mark
        entry: touch ../hook-ran
        language: system
        pass_filenames: false
        always_run: true
"""
EDITOR_FILE = "import attrs\nimport demo\n\nprint(attrs.define, demo.main)\n"
PYRIGHT_CONFIG = '{ "venvPath": ".", "venv": ".venv" }\n'
JEDI = """\
import os, sys, jedi
project, env = sys.argv[1], sys.argv[2] or None
proj = jedi.Project(project, environment_path=env)
script = jedi.Script("import demo\\ndemo.ma", path=os.path.join(project, "x.py"), project=proj)
print("completions:", [c.name for c in script.complete(2, 7)])
names = jedi.Script("import attrs", project=proj).goto(1, 8, follow_imports=True)
print("attrs:", names[0].module_path if names else None)
"""
TESTS = "def test_passes():\n    assert True\n\n\ndef test_fails():\n    assert False\n"


def add_dev(*names: str) -> Callable[[Run], None]:
    def setup(run: Run) -> None:
        run.uv("add", "--dev", *(PROJECT_PINS[n] for n in names))

    return setup


# -- pre-commit and ipykernel: recorded interpreters ---------------------------------------


def pre_commit_setup(run: Run) -> None:
    add_dev("pre-commit")(run)
    run.write(".pre-commit-config.yaml", PRE_COMMIT_CONFIG)


def pre_commit(run: Run) -> None:
    """``pre-commit install`` (activated), a new venv, then ``git commit`` runs the hook."""
    marker = os.path.join(run.folder, "hook-ran")
    if os.path.exists(marker):
        os.unlink(marker)
    run.activated("pre-commit", "install")
    run.rebuild()
    run.append("notes.txt", "one more line\n")
    run.sh("git", "add", "notes.txt")
    run.sh("git", "commit", "-q", "-m", "a change")  # a GUI's commit: no venv active
    run.expect(os.path.exists(marker), "git commit did not run the pre-commit hook")


def kernel(run: Run) -> None:
    """``ipykernel install --user`` (activated), a new venv, then the kernel's argv[0]."""
    run.activated("python", "-m", "ipykernel", "install", "--user", "--name", "demo")
    run.rebuild()
    specs = [
        os.path.join(top, "kernel.json")
        for top, _, files in os.walk(run.env["HOME"])
        if top.endswith(os.path.join("kernels", "demo")) and "kernel.json" in files
    ]
    run.expect(specs, "no kernel spec named demo under HOME")
    with open(specs[0], encoding="utf-8") as f:
        argv = json.load(f)["argv"]
    run.log.append(f"  kernel argv[0]: {argv[0]}")
    run.sh(argv[0], "-c", "import demo, attrs, ipykernel", cwd=run.folder)


RECORDED = [
    Action(
        "pre-commit install, rebuild, git commit",
        "extra",
        pre_commit,
        setup=pre_commit_setup,
    ),
    Action(
        "ipykernel install --user, rebuild, kernel argv[0]",
        "extra",
        kernel,
        setup=add_dev("ipykernel"),
    ),
]

# -- editors -----------------------------------------------------------------------------------


def editor_file(run: Run) -> None:
    run.write("check_me.py", EDITOR_FILE)


def pyright_config(run: Run) -> None:
    editor_file(run)
    run.write("pyrightconfig.json", PYRIGHT_CONFIG)


def basedpyright_pyproject(run: Run) -> None:
    editor_file(run)
    run.append("pyproject.toml", '\n[tool.basedpyright]\nvenvPath = "."\nvenv = ".venv"\n')


def pyright(tool: str, activated: bool = False) -> Callable[[Run], None]:
    """``tool --verbose check_me.py``: no error, and a search path in the project's venv.

    ``import attrs`` alone proves little (the system Python here has attrs too); ``import
    demo`` resolves only through the venv's site-packages, and the verbose search paths
    must name that folder (through the link or by its real path).
    """

    def run_it(run: Run) -> None:
        cmd = (run.tool(tool), "--verbose", "check_me.py")
        result = run.activated(*cmd, check=False) if activated else run.sh(*cmd, check=False)
        found = re.search(r"(\d+) errors?", result.text)
        errors = [line.strip() for line in result.text.splitlines() if " - error:" in line]
        run.expect(
            found and found.group(1) == "0" and not errors,
            f"{tool} reports: {errors[0] if errors else 'no summary'}",
        )
        site = os.path.realpath(glob.glob(run.path(".venv", "lib", "python3*", "site-packages"))[0])
        paths = [line.strip() for line in result.text.splitlines() if "site-packages" in line]
        seen = [p for p in paths if os.path.realpath(p) == site]
        run.expect(seen, f"{tool} did not search the venv's site-packages ({site})")

    return run_it


def jedi(activated: bool) -> Callable[[Run], None]:
    """jedi (pylsp's, as an editor runs it) completes ``demo.ma`` and finds attrs in the venv.

    With ``environment_path=.venv/bin/python``, or with none in a shell where the venv
    is active (jedi then takes ``VIRTUAL_ENV``).
    """

    def run_it(run: Run) -> None:
        python = os.path.join(os.path.dirname(run.tool("python-lsp-server")), "python")
        args = (python, "-c", JEDI, run.project)
        out = run.activated(*args, "").out if activated else run.sh(*args, run.python).out
        run.expect("'main'" in out, f"jedi did not complete demo.main: {out.strip()[:200]}")
        where = out.rsplit("attrs:", 1)[-1].strip()
        venv = os.path.realpath(run.path(".venv"))
        run.expect(
            os.path.realpath(where).startswith(venv + os.sep),
            f"jedi found attrs at {where}, not in the venv ({venv})",
        )

    return run_it


def lsp_message(payload: dict[str, object]) -> str:
    body = json.dumps(payload)
    return f"Content-Length: {len(body.encode())}\r\n\r\n{body}"


def pylsp(run: Run) -> None:
    """pylsp starts in a shell where the venv is active and completes ``demo.ma``."""
    uri = "file://" + run.path("x.py")
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": "file://" + run.project, "capabilities": {}},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "import demo\ndemo.ma",
                }
            },
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/completion",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 7}},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    stdin = "".join(lsp_message(m) for m in messages)
    out = run.activated(run.tool("python-lsp-server"), stdin=stdin).out
    replies = {}
    decoder = json.JSONDecoder()
    for header in re.finditer(r"Content-Length: \d+[^{]*", out):  # headers, then the body
        try:
            reply = decoder.raw_decode(out, header.end())[0]
        except ValueError:
            continue
        replies[reply.get("id")] = reply
    run.expect("capabilities" in str(replies.get(1)), "pylsp did not answer initialize")
    items = (replies.get(2) or {}).get("result") or {}
    labels = [
        i.get("label", "") for i in (items.get("items", []) if isinstance(items, dict) else items)
    ]
    run.expect(
        any(label.startswith("main") for label in labels),
        f"pylsp did not complete demo.main: {labels[:5]}",
    )


EDITOR_ROWS = [
    Action(
        "pyright, venvPath/venv config",
        f"{EDITORS}#neovim-pyright-and-basedpyright",
        pyright("pyright"),
        setup=pyright_config,
        tools=("pyright",),
    ),
    Action(
        "pyright, activated shell",
        f"{EDITORS}#neovim-pyright-and-basedpyright",
        pyright("pyright", activated=True),
        setup=editor_file,
        tools=("pyright",),
    ),
    Action(
        "basedpyright, no configuration",
        f"{EDITORS}#neovim-pyright-and-basedpyright",
        pyright("basedpyright"),
        setup=editor_file,
        tools=("basedpyright",),
    ),
    Action(
        "basedpyright, [tool.basedpyright] venv",
        f"{EDITORS}#neovim-pyright-and-basedpyright",
        pyright("basedpyright"),
        setup=basedpyright_pyproject,
        tools=("basedpyright",),
    ),
    Action(
        "jedi, environment_path=.venv/bin/python",
        f"{EDITORS}#jedi-language-server-and-pylsp",
        jedi(activated=False),
        tools=("python-lsp-server",),
    ),
    Action(
        "jedi, VIRTUAL_ENV (activated shell)",
        f"{EDITORS}#jedi-language-server-and-pylsp",
        jedi(activated=True),
        tools=("python-lsp-server",),
    ),
    Action(
        "pylsp starts and completes (activated shell)",
        f"{EDITORS}#jedi-language-server-and-pylsp",
        pylsp,
        tools=("python-lsp-server",),
    ),
]

# -- trees (relocate adopt --trees) -------------------------------------------------------------


def tree_tool(tree: str, *runs: tuple[str, ...], expect: str = "") -> Callable[[Run], None]:
    """Run each command of ``runs`` in the project; ``tree`` must stay a link into the store.

    A command's first word ``tox``/``nox`` is that tool from tests/tools.py; another is
    a script in the project's venv. ``expect``: text the last command must print.
    """

    def run_it(run: Run) -> None:
        result = None
        for cmd in runs:
            exe = run.tool(cmd[0]) if cmd[0] in ("tox", "nox") else run.path(".venv", "bin", cmd[0])
            result = run.sh(exe, *cmd[1:])
        if result is not None and expect:
            run.expect(expect in result.text, f"`{' '.join(runs[-1])}` did not print {expect!r}")
        run.linked_into_store(tree)

    return run_it


def pytest_lf(run: Run) -> None:
    """pytest fails once, ``--lf`` reruns only that failure; no bytecode in the project."""
    first = run.sh(run.path(".venv", "bin", "pytest"), "-q", check=False)
    run.expect(first.code == 1 and "1 failed, 1 passed" in first.text, "the first pytest run")
    again = run.sh(run.path(".venv", "bin", "pytest"), "-q", "--lf", check=False)
    run.expect(
        again.code == 1 and "1 failed" in again.text and "passed" not in again.text,
        f"pytest --lf did not rerun only the failure: {again.text.strip()[-200:]}",
    )
    run.linked_into_store(".pytest_cache")
    if run.relocated:
        pyc = [
            p
            for p in glob.glob(run.path("**", "*.pyc"), recursive=True)
            if ".venv" not in os.path.relpath(p, run.project)
        ]
        run.expect(not pyc, f"{len(pyc)} .pyc files in the project, such as {pyc[:1]}")


def pyproject_table(
    table: str, *dev: str, files: Optional[dict[str, str]] = None
) -> Callable[[Run], None]:
    def setup(run: Run) -> None:
        if dev:
            add_dev(*dev)(run)
        run.append("pyproject.toml", f"\n[{table}]\n")
        for name, text in (files or {}).items():
            run.write(name, text)

    return setup


def tox_tree_setup(run: Run) -> None:
    run.write("tox.ini", TOX_INI)


def nox_tree_setup(run: Run) -> None:
    run.write("noxfile.py", NOXFILE)


TREE_ROWS = [
    Action(
        "tox, then tox -r (.tox relocated)",
        TREES,
        tree_tool(".tox", ("tox",), ("tox", "-r"), expect="tox ok"),
        setup=tox_tree_setup,
        tools=("tox",),
        trees=True,
    ),
    Action(
        "nox twice (.nox relocated)",
        TREES,
        tree_tool(".nox", ("nox",), ("nox",), expect="nox ok"),
        setup=nox_tree_setup,
        tools=("nox",),
        trees=True,
    ),
    Action(
        "pytest, then pytest --lf (.pytest_cache relocated)",
        TREES,
        pytest_lf,
        setup=pyproject_table(
            "tool.pytest.ini_options", "pytest", files={"tests/test_demo.py": TESTS}
        ),
        trees=True,
    ),
    Action(
        "mypy twice (.mypy_cache relocated)",
        TREES,
        tree_tool(".mypy_cache", ("mypy", "src"), ("mypy", "src")),
        setup=pyproject_table("tool.mypy", "mypy"),
        trees=True,
    ),
    Action(
        "ruff check (.ruff_cache relocated)",
        TREES,
        tree_tool(".ruff_cache", ("ruff", "check", "src")),
        setup=pyproject_table("tool.ruff", "ruff"),
        trees=True,
    ),
]

ACTIONS = [*RECORDED, *EDITOR_ROWS, *TREE_ROWS]
