"""The docs: every relative link resolves, and every ``relocate`` command they show runs.

(a) Every relative Markdown link in README.md and docs/*.md, ``[text](path)`` or
``[text](path#anchor)`` (also ``(#anchor)`` within a page), names an existing file, and
an anchor names a heading of that file by its GitHub slug. Links in code are not links.

(b) Every line of a fenced ``sh``, ``bash`` or ``console`` block that starts with
``relocate `` is run as a real process (``python -m relocator``), in document order, in a
sandbox of its own per page: the ``isolated`` fixture's HOME and RELOCATOR_HOME, a fake
macOS home with iCloud Desktop & Documents (so ``scan`` finds ``~/Documents`` and the
provider is iCloud), the docs' sample paths (``~/Documents/myapp``, a project with a real
venv, and ``~/src/relocator`` for the checkout), ``cd`` lines followed. Rules, read from
each line:

- a trailing ``# comment`` is not part of the command;
- a line with a placeholder (``PATH``, ``[ROOT...]``, ``<...>``, ``a|b`` alternatives) or
  whose comment says ``macOS`` (it would do something else here) runs as
  ``relocate <command> --help`` instead, so the command at least exists;
- ``relocate service run`` is never run: it watches until stopped. Its ``--help`` is;
- a command that asks first (its comment says ``asks``, or run without a terminal it
  says it needs one) runs on a pseudo-terminal, answered ``y``;
- exit 0 is expected, or 0 or 1 when the comment says ``exit 1`` (a command documented to
  report a problem); never another code, never a traceback or an internal error.

Nothing reaches the real machine: HOME, the store and the XDG folders are the sandbox's,
there is no session bus, the service is forced to systemd (never launchd), and
``systemctl`` and ``launchctl`` on PATH are stand-ins that only fail.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import make_venv, relocate, run

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"sh", "bash", "console"}
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
PLACEHOLDER = re.compile(r"[\[\]<>|]|\.\.\.|[A-Z]{2,}")
COMMAND_WORD = re.compile(r"^[a-z][a-z-]*$")


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


# -- Markdown ------------------------------------------------------------------------


class Block(NamedTuple):
    language: str
    first_line: int  # 1-based number of the block's first content line
    lines: list[str]


def split_markdown(text: str) -> tuple[list[tuple[int, str]], list[Block]]:
    """The prose lines (number, text) outside fenced blocks, and the fenced blocks."""
    prose: list[tuple[int, str]] = []
    blocks: list[Block] = []
    fence = ""
    current: Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if current is None:
            opened = FENCE.match(line)
            if opened:
                fence = opened.group(2)
                current = Block(opened.group(3).lower(), number + 1, [])
            else:
                prose.append((number, line))
            continue
        stripped = line.strip()
        if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    if current is not None:
        blocks.append(current)
    return prose, blocks


def without_code_spans(line: str) -> str:
    return re.sub(r"(`+)(?:(?!\1).)+\1", "", line)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces
    made hyphens (inline code keeps its text, link syntax its label)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose, _ = split_markdown(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose:
        heading = HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    prose, _ = split_markdown(path.read_text(encoding="utf-8"))
    links = []
    for number, line in prose:
        for match in LINK.finditer(without_code_spans(line)):
            target = match.group(1).strip("<>")
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            links.append((number, target))
    return links


def test_the_pages_are_found() -> None:
    names = {page_id(p) for p in PAGES}
    assert {"README.md", "docs/README.md", "docs/quickstart.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for number, target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{page_id(page)}:{number}: {target}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{page_id(page)}:{number}: {target}: no heading #{anchor}")
    assert not broken, "\n".join(broken)


def test_slugs_follow_github() -> None:
    assert slug("For plugin authors: `relocate python --json`") == (
        "for-plugin-authors-relocate-python---json"
    )
    assert slug("uv's centralized project environments") == "uvs-centralized-project-environments"
    assert slug("Recipes: how a venv is built again") == "recipes-how-a-venv-is-built-again"


# -- the commands ------------------------------------------------------------------------


class Command(NamedTuple):
    page: str
    line: int
    text: str  # the command as shown, without its comment
    comment: str
    cwd: Path


def split_comment(line: str) -> tuple[str, str]:
    """``line`` without a trailing ``# comment`` (outside quotes), and the comment."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def expand(word: str, home: Path) -> str:
    if word == "~":
        return str(home)
    if word.startswith("~/"):
        return str(home / word[2:])
    return word


def commands(page: Path, home: Path, start: Path) -> list[Command]:
    """The ``relocate`` lines of ``page``'s shell blocks, each with the folder the
    ``cd`` lines before it lead to."""
    _, blocks = split_markdown(page.read_text(encoding="utf-8"))
    cwd = start
    found = []
    for block in blocks:
        if block.language not in SHELL_LANGUAGES:
            continue
        for offset, raw in enumerate(block.lines):
            line = raw.strip()
            if block.language == "console":
                if not line.startswith("$ "):
                    continue  # output, not a command
                line = line[2:]
            text, comment = split_comment(line)
            if text.startswith("cd "):
                cwd = Path(expand(shlex.split(text)[1], home))
            elif text.startswith("relocate "):
                found.append(Command(page_id(page), block.first_line + offset, text, comment, cwd))
    return found


def planned(command: Command, home: Path) -> tuple[list[str], str]:
    """The arguments to run for ``command``, and how: ``run``, ``help`` or ``terminal``."""
    words = shlex.split(command.text)[1:]
    placeholder = any(PLACEHOLDER.search(w) for w in words) or "|" in command.text
    service_run = words[:2] == ["service", "run"]
    if placeholder or service_run or "macos" in command.comment.lower():
        names: list[str] = []
        for word in words:
            if not COMMAND_WORD.match(word) or PLACEHOLDER.search(word) or len(names) == 2:
                break
            names.append(word)
        return [*names, "--help"], "help"
    expanded = [expand(w, home) for w in words]
    return expanded, "terminal" if "asks" in command.comment.lower() else "run"


def on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run relocate with stdin and stderr on a pseudo-terminal, answer ``y``; its exit code
    and everything it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "relocator", *args],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    os.write(leader, b"y\n")
    said = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # EIO: every copy of the follower is closed
                    chunk = b""
                if not chunk and proc.poll() is not None:
                    break
                said += chunk
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
    finally:
        os.close(leader)
    out = proc.stdout.read() if proc.stdout else b""
    code = proc.wait()
    return code, (out + said).decode("utf-8", "replace")


# -- the sandbox -------------------------------------------------------------------------

FRESH, ADOPTED, SECOND_MACHINE = "fresh", "adopted", "second machine"
#: The state ~/Documents/myapp is in when a page starts (default: ADOPTED).
STATES = {"README.md": FRESH, "docs/quickstart.md": FRESH, "docs/machines.md": SECOND_MACHINE}


def sandbox(home: Path, tmp_path: Path, state: str) -> dict[str, str]:
    """The sample paths of the docs under ``home``, and the environment to run in."""
    documents = home / "Documents"
    cloud = home / "Library" / "Mobile Documents" / "com~apple~CloudDocs"
    cloud.mkdir(parents=True)
    documents.mkdir()
    (cloud / "Documents").symlink_to(documents)  # iCloud Desktop & Documents, as on a Mac
    (home / "src" / "relocator").mkdir(parents=True)  # where install.md's checkout is
    project = documents / "myapp"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "myapp"\nversion = "0.1"\n')

    fakes = tmp_path / "fake-bin"
    fakes.mkdir()
    said = {  # never the real service managers; systemctl as in a container, with no session
        "systemctl": "Failed to connect to bus: No medium found",
        "launchctl": "launchctl: not in the docs sandbox",
    }
    for name, line in said.items():
        (fakes / name).write_text(f"#!/bin/sh\necho '{line}' >&2\nexit 1\n")
        (fakes / name).chmod(0o755)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "PATH": f"{fakes}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "RELOCATOR_SERVICE_PLATFORM": "systemd",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    for name in ("DBUS_SESSION_BUS_ADDRESS", "ZDOTDIR", "XDG_DATA_HOME", "RELOCATOR_CONFIG"):
        env.pop(name, None)

    if state == SECOND_MACHINE:
        # What a second machine receives: .venv -> .venv.nosync/.venv, the hop not synced. The
        # recipe is an empty requirements.txt, and uv is off PATH, so the repair the page
        # shows runs offline: python3 -m venv, then pip with nothing to install.
        (project / ".venv").symlink_to(".venv.nosync/.venv")
        (project / "requirements.txt").write_text("")
        no_uv = tmp_path / "bin-no-uv"
        no_uv.mkdir()
        (no_uv / "python3").symlink_to(sys.executable)
        env["PATH"] = os.pathsep.join([str(fakes), str(no_uv), "/usr/bin", "/bin"])
        return env
    make_venv(project / ".venv")
    if state == ADOPTED:
        result = relocate("adopt", str(project), env=env)
        assert result.returncode == 0, result.stderr
    return env


def check(command: Command, env: dict[str, str], home: Path) -> str | None:
    """What is wrong with running ``command``, or None."""
    args, how = planned(command, home)
    if how == "terminal":
        code, output = on_terminal(args, command.cwd, env)
        errors = output
    else:
        result = relocate(*args, cwd=command.cwd, env=env)
        code, output, errors = result.returncode, result.stdout + result.stderr, result.stderr
        if how == "run" and code == 2 and "there is no terminal" in errors:
            how = "terminal"  # it asks first: what a reader does at a terminal, answered y
            code, output = on_terminal(args, command.cwd, env)
            errors = output
    allowed = {0, 1} if how != "help" and "exit 1" in command.comment.lower() else {0}
    problems = []
    if code not in allowed:
        problems.append(f"exit {code} (expected {' or '.join(map(str, sorted(allowed)))})")
    if "Traceback" in output or "internal error" in errors:
        problems.append("a traceback or an internal error")
    if not problems:
        return None
    shown = " ".join(["relocate", *args]) if how == "help" else command.text
    tail = "\n    ".join(output.strip().splitlines()[-6:])
    return f"{command.page}:{command.line}: {shown} ({how}): {', '.join(problems)}\n    {tail}"


#: Pages whose sandbox makes a venv with pip (machines.md's repair): marked slow.
SLOW_PAGES = {"docs/machines.md"}


#: Pages that show a relocate command (the others have nothing to run).
COMMAND_PAGES = [p for p in PAGES if commands(p, Path("/home/reader"), start=Path("/"))]


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.slow) if page_id(p) in SLOW_PAGES else p
        for p in COMMAND_PAGES
    ],
    ids=page_id,
)
def test_every_relocate_command_shown_runs(page: Path, isolated: Path, tmp_path: Path) -> None:
    home = isolated
    shown = commands(page, home, start=home)
    assert shown, f"{page_id(page)} shows no relocate command any more"
    env = sandbox(home, tmp_path, STATES.get(page_id(page), ADOPTED))
    failures = [problem for c in shown if (problem := check(c, env, home)) is not None]
    assert not failures, "\n".join(failures)


def test_the_sandbox_is_what_the_docs_describe(isolated: Path, tmp_path: Path) -> None:
    """~/Documents is iCloud's in the sandbox, and the sample project relocates."""
    env = sandbox(isolated, tmp_path, ADOPTED)
    project = isolated / "Documents" / "myapp"
    out = run([sys.executable, "-m", "relocator", "python", str(project), "--json"], env=env)
    assert out.returncode == 0, out.stderr
    assert '"provider": "icloud"' in out.stdout
    assert os.readlink(project / ".venv") == ".venv.nosync/.venv"
