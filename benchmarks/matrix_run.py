"""The pieces of ``tools_matrix.py``: an action, the workspace, and one run of an action.

An :class:`Action` is three small functions over a :class:`Run`: ``setup`` (before
``relocate adopt``: files the tool needs, packages it needs in the venv), ``run`` (the
tool's everyday action) and ``check`` (that the action did what it is for, beyond its
exit code). Each raises :class:`Failed` with the reason when something did not work.

A :class:`Run` is one variant of one action: ``relocated`` (the project adopted) or
``plain`` (the same project with a real ``.venv``). It has a folder of its own with
``HOME``, the ``XDG_*`` folders, ``RELOCATOR_HOME`` (the store) and ``TMPDIR`` in it,
and a fresh copy of the template project, synced by uv. What only a relocated project
has a word for (``relocate rebuild``, the shell hook) has its plain counterpart here
(``rm -rf .venv && uv sync``, ``source .venv/bin/activate``), so each action is written
once for both.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from harness.isolation import REPO, bench_env, relocate_at
from harness.venvs import write_file

CHECK_TIMEOUT = 180.0  # seconds for one of the harness's own commands (sync, adopt, checks)
TAIL = 12  # lines of a command's output kept in the log
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: The tools' own variables, left out beside what every benchmark leaves out.
DROP_PREFIXES = (
    *("POETRY_", "PDM_", "PIPENV_", "HATCH_", "TOX_", "NOX_", "PIP_", "PRE_COMMIT", "JUPYTER"),
    "GIT_",
)
#: The tools' settings that make each use the project's ``.venv``, and keep them quiet.
TOOL_SETTINGS = {
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
    "POETRY_VIRTUALENVS_IN_PROJECT": "true",
    "POETRY_NO_INTERACTION": "1",
    "PDM_CHECK_UPDATE": "0",
    "PDM_NON_INTERACTIVE": "1",
    "PIPENV_VENV_IN_PROJECT": "1",
    "PIPENV_VERBOSITY": "-1",
    "PIPENV_IGNORE_VIRTUALENVS": "1",
    "PIPENV_YES": "1",
    "PIPENV_NOSPIN": "1",
    "GIT_AUTHOR_NAME": "Matrix",
    "GIT_AUTHOR_EMAIL": "matrix@example.invalid",
    "GIT_COMMITTER_NAME": "Matrix",
    "GIT_COMMITTER_EMAIL": "matrix@example.invalid",
}
#: Download caches the runs share (each run has its own HOME): a wheel is fetched once.
SHARED_CACHES = {
    "UV_CACHE_DIR": "uv",
    "PIP_CACHE_DIR": "pip",
    "POETRY_CACHE_DIR": "poetry",
    "PDM_CACHE_DIR": "pdm",
    "PIPENV_CACHE_DIR": "pipenv",
}
ACTIVATE = r"""
if [ "$1" = relocated ]; then
  source "$2" && cd -- "$3" && _relocator_hook
else
  cd -- "$3" && source .venv/bin/activate
fi
[ -n "${VIRTUAL_ENV-}" ] && [ "$VIRTUAL_ENV/bin/python" -ef "$3/.venv/bin/python" ] || {
  echo "the venv was not activated (VIRTUAL_ENV=${VIRTUAL_ENV-})" >&2; exit 97; }
shift 3
"$@"
"""


class Failed(Exception):
    """An action, or a check, did not do what it should: the reason."""


def nothing(run: Run) -> None:
    """No setup, or no check beyond the commands' exit codes."""


@dataclass(frozen=True)
class Action:
    """One everyday action: a row of the matrix."""

    name: str  # the command as the table shows it
    source: str  # where the row comes from (a docs page and section, or "brief")
    run: Callable[[Run], None]
    setup: Callable[[Run], None] = nothing
    check: Callable[[Run], None] = nothing
    tools: tuple[str, ...] = ()  # from tests/tools.py, found before the matrix starts
    trees: bool = False  # relocated with `relocate adopt --trees`
    #: The tool refuses the link and changes nothing, as docs/package-managers.md says,
    #: with ``relocate rebuild`` for what the user wanted (a fresh venv).
    refuses: bool = False


@dataclass
class Workspace:
    """What every run shares: the work folder, the tools, the template, relocate."""

    root: str
    relocate: list[str]  # the command that runs relocate (this checkout's)
    tools: dict[str, str]  # name -> executable
    python312: str
    template: str = ""  # the template project (no .venv), made by tools_matrix
    base_python: str = ""  # the interpreter behind the template's venv

    @property
    def bin(self) -> str:
        """A folder that holds links to uv and python3.12, first on every run's PATH."""
        return os.path.join(self.root, "bin")

    def env(self, folder: str) -> dict[str, str]:
        """The environment of a run in ``folder``: its own home and store, shared caches."""
        env = bench_env(folder, os.path.join(folder, "store"), DROP_PREFIXES)
        home = env["HOME"]
        env.update(
            TOOL_SETTINGS,
            HOME=home,
            XDG_CONFIG_HOME=os.path.join(home, ".config"),
            XDG_CACHE_HOME=os.path.join(home, ".cache"),
            XDG_DATA_HOME=os.path.join(home, ".local", "share"),
            XDG_STATE_HOME=os.path.join(home, ".local", "state"),
            PATH=os.pathsep.join([self.bin, env["PATH"]]),
        )
        for name, sub in SHARED_CACHES.items():
            env[name] = os.path.join(self.root, "cache", sub)
        return env


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Run:
    """One variant (``relocated`` or ``plain``) of one action, in a folder of its own."""

    ws: Workspace
    action: Action
    variant: str
    folder: str
    env: dict[str, str] = field(init=False)
    log: list[str] = field(default_factory=list)
    deadline: Optional[float] = None  # set while the action runs: its time limit

    def __post_init__(self) -> None:
        os.makedirs(self.folder, exist_ok=True)
        self.env = self.ws.env(self.folder)

    @property
    def relocated(self) -> bool:
        return self.variant == "relocated"

    @property
    def project(self) -> str:
        return os.path.join(self.folder, "demo")

    def path(self, *parts: str) -> str:
        return os.path.join(self.project, *parts)

    @property
    def python(self) -> str:
        """``<project>/.venv/bin/python``: the path editors and scripts use."""
        return self.path(".venv", "bin", "python")

    def tool(self, name: str) -> str:
        return self.ws.tools[name]

    # -- commands ------------------------------------------------------------------------

    def sh(
        self,
        *cmd: str,
        check: bool = True,
        cwd: Optional[str] = None,
        env: Optional[dict[str, str]] = None,
        stdin: Optional[str] = None,
        quiet: bool = False,
    ) -> Result:
        """Run ``cmd`` (in the project); :class:`Failed` if it fails and ``check``.

        Its own process group, killed whole at the time limit: the action's while it
        runs, else the harness's. The command, exit code and output's tail go to the log.
        """
        limit = CHECK_TIMEOUT if self.deadline is None else self.deadline - time.monotonic()
        shown = shlex.join(
            os.path.relpath(c, self.folder) if c.startswith(self.folder) else c for c in cmd
        )
        if limit <= 0:
            raise Failed(f"time is up before `{shown}`")
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd or self.project,
                env=env or self.env,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as e:  # no such program (a venv that is gone), not executable
            self.note(shown, 127, str(e))
            if check:
                raise Failed(f"`{shown}` cannot start: {e}") from None
            return Result(127, "", str(e))
        try:
            out, err = proc.communicate(stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # a child that left the group holds the pipes
                proc.kill()
                out, err = "", "(output lost: a process outside the group held the pipes)"
            self.note(shown, -9, out + err)
            raise Failed(f"`{shown}` timed out after {limit:.0f} s") from None
        self.note(shown, proc.returncode, "" if quiet else out + err)
        result = Result(proc.returncode, out, err)
        if check and proc.returncode != 0:
            raise Failed(f"`{shown}` exited {proc.returncode}: {last_line(result.text)}")
        return result

    def note(self, shown: str, code: int, output: str) -> None:
        lines = [line for line in output.splitlines() if line.strip()]
        self.log.append(f"$ {shown}  -> {code}")
        self.log.extend(f"  {ANSI.sub('', line)[:300]}" for line in lines[-TAIL:])

    def uv(self, *args: str, check: bool = True) -> Result:
        return self.sh(os.path.join(self.ws.bin, "uv"), *args, check=check)

    def py(self, code: str, check: bool = True) -> Result:
        """``<project>/.venv/bin/python -c code``, from outside the project."""
        return self.sh(self.python, "-c", code, check=check, cwd=self.folder)

    def relocate(self, *args: str, check: bool = True, quiet: bool = False) -> Result:
        """This checkout's relocate, with the run's home and store."""
        env = {**self.env, **relocate_at(REPO)[1]}
        return self.sh(*self.ws.relocate, *args, check=check, env=env, quiet=quiet)

    def activated(self, *cmd: str, check: bool = True, stdin: Optional[str] = None) -> Result:
        """``cmd`` in a bash where the venv is active, as the user has it.

        Relocated: the shell hook (``relocate hook bash``) run in the project, which
        activates the store venv by its real path. Plain: ``source .venv/bin/activate``.
        """
        hook = os.path.join(self.folder, "hook.bash")
        if self.relocated and not os.path.exists(hook):
            write_file(hook, self.relocate("hook", "bash").out)
        script = ["bash", "--norc", "--noprofile", "-c", ACTIVATE, "activate"]
        return self.sh(*script, self.variant, hook, self.project, *cmd, check=check, stdin=stdin)

    def rebuild(self) -> None:
        """A fresh venv at the same place: ``relocate rebuild``, or ``rm -rf .venv && uv sync``."""
        if self.relocated:
            self.relocate("rebuild", self.project)
        else:
            self.sh("rm", "-rf", ".venv")
            self.uv("sync")

    def commit(self, message: str) -> None:
        """Commit whatever changed in the project (nothing to commit is fine)."""
        self.sh("git", "add", "-A")
        if self.sh("git", "diff", "--cached", "--quiet", check=False).code:
            self.sh("git", "commit", "-q", "--no-verify", "-m", message)

    # -- files and checks -----------------------------------------------------------------

    def write(self, rel: str, text: str) -> None:
        write_file(self.path(rel), text)

    def append(self, rel: str, text: str) -> None:
        with open(self.path(rel), "a", encoding="utf-8") as f:
            f.write(text)

    def expect(self, condition: object, why: str) -> None:
        if not condition:
            raise Failed(why)

    def imports(self, module: str) -> None:
        """``module`` imports with the project's ``.venv/bin/python``."""
        self.py(f"import {module}")

    def python_version(self, python: Optional[str] = None) -> str:
        code = "import sys; print('%d.%d' % sys.version_info[:2])"
        return self.sh(python or self.python, "-c", code, cwd=self.folder).out.strip()

    def same_venv(self, printed: str, what: str) -> None:
        """``printed`` (a venv folder or its interpreter) is the project's ``.venv``."""
        lines = printed.strip().splitlines()
        path = lines[-1].strip() if lines else ""
        venv = os.path.dirname(os.path.dirname(path)) if "/bin/python" in path else path
        real = os.path.realpath(self.path(".venv"))
        self.expect(
            os.path.isabs(path) and os.path.realpath(venv) == real,
            f"{what} names {path or 'nothing'}, not the project's .venv ({real})",
        )

    def linked_into_store(self, name: str) -> None:
        """``name`` is still relocated: a link that leads into this run's store."""
        if not self.relocated:
            return
        store = os.path.realpath(self.env["RELOCATOR_HOME"])
        real = os.path.realpath(self.path(name))
        self.expect(
            os.path.islink(self.path(name)) and real.startswith(store + os.sep),
            f"{name} is no longer a link into the store (it leads to {real})",
        )


# -- pieces of actions -----------------------------------------------------------------------


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


def last_line(text: str) -> str:
    """The line of ``text`` that says why: the last that speaks of an error, else the last."""
    lines = [ANSI.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if "error" in line.lower()]
    if not lines:
        return "(no output)"
    said = errors[-1] if errors else lines[-1]
    if said != lines[-1]:  # what follows the error often says why (uv's "hint:")
        said += f" ... {lines[-1]}"
    return said[:400]


def status(run: Run) -> tuple[str, Optional[str]]:
    """What ``relocate status --json`` says: the health, and its cause."""
    result = run.relocate("status", run.project, "--json", check=False, quiet=True)
    try:
        data = json.loads(result.out)
    except ValueError:
        run.log.append(f"  {last_line(result.text)}")
        return f"? ({last_line(result.err)})", None
    run.log.append(f"  status {data.get('status')}, cause {data.get('cause')}")
    return str(data.get("status")), data.get("cause")


def venv_works(run: Run) -> Optional[str]:
    """None when the venv works: the console script ``demo`` runs, and ``import demo,
    attrs`` works with ``.venv/bin/python`` (``demo`` from this project); else why not."""
    try:
        out = run.sh(run.path(".venv", "bin", "demo"), cwd=run.folder).out
        run.expect("demo ok" in out, f"demo printed {last_line(out)!r}")
        code = "import os, demo, attrs; print(os.path.realpath(demo.__file__))"
        where = run.py(code).out.strip()
        src = os.path.realpath(run.path("src"))
        run.expect(where.startswith(src + os.sep), f"demo is imported from {where}, not {src}")
    except Failed as e:
        return str(e)
    return None
