"""The name a relocated venv's own activate puts before the prompt: the project's.

A venv made in the project without --prompt names its prompt after its folder:
CPython's venv writes `(.venv)` when it makes it, virtualenv and uv read the
folder's name when activated (the store folder's, `<project>-<id>`, once
relocated). Each flavour is made for real, adopted, and its activate sourced
in real bash and fish.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import bare_project, relocate_ok, require_tool
from tests.test_health import python_of
from tests.tools import tool

NAME = "my proj"


def _made(kind: str, tmp_path: Path, name: str = NAME) -> Path:
    project = bare_project(tmp_path / name)
    venv = str(project / ".venv")
    uv = shutil.which("uv") or pytest.fail("uv must be on PATH (pip install -e '.[test]')")
    python = sys.executable
    cmd = {
        "venv": [python, "-m", "venv", "--without-pip", venv],
        "venv-3.13": [python_of("3.13"), "-m", "venv", "--without-pip", venv],
        "uv": [uv, "venv", "-q", "--no-config", "--python", python, venv],
        "virtualenv": [tool("virtualenv"), "-q", "--no-seed", "-p", python, venv],
        "uv --prompt": [uv, "venv", "-q", "--no-config", "--prompt", "mine", "-p", python, venv],
    }[kind]
    subprocess.run(cmd, check=True, capture_output=True)  # UV_PYTHON_DOWNLOADS=never: isolated
    return project


def _scripts(project: Path) -> dict[str, bytes]:
    venv = project / ".venv"
    paths = [venv / "pyvenv.cfg", venv / "bin" / "activate", venv / "bin" / "activate.fish"]
    return {p.name: p.read_bytes() for p in paths}


BASH_SHOWS = 'PS1="P> "; . "$1"; printf "%s|%s" "$PS1" "$VIRTUAL_ENV_PROMPT"'
FISH_SHOWS = "function fish_prompt; printf 'P> '; end; source $argv[1]; fish_prompt; true"


def _shown(project: Path) -> dict[str, str]:
    """The prompt activate gives (bash: PS1 and VIRTUAL_ENV_PROMPT; fish: fish_prompt)."""
    bindir = project / ".venv" / "bin"
    bash = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_SHOWS, "_", str(bindir / "activate")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fish = subprocess.run(
        [require_tool("fish"), "--no-config", "-c", FISH_SHOWS, str(bindir / "activate.fish")],
        env={**os.environ, "TERM": "xterm"},  # 3.13's activate.fish loses "(" without colours
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ps1, prompt = bash.split("|")
    return {
        "ps1": ps1,
        "prompt": prompt,
        "fish": re.sub(r"\x1b[^m]*m|\x1b\(B", "", fish).rstrip("\n"),
    }


@pytest.mark.parametrize("kind", ["venv", "venv-3.13", "uv", "virtualenv"])
def test_an_adopted_venv_without_a_prompt_shows_the_projects_name(
    kind: str, tmp_path: Path, isolated: Path
) -> None:
    project = _made(kind, tmp_path)
    made = _scripts(project)
    relocate_ok("adopt", str(project))
    store_name = (project / ".venv").resolve().name
    shown = _shown(project)
    assert shown["ps1"] == f"({NAME}) P> "
    assert NAME in shown["prompt"] and store_name not in shown["prompt"]
    assert shown["fish"] == f"({NAME}) P> "
    assert f"prompt = {NAME}\n" in (project / ".venv" / "pyvenv.cfg").read_text()
    relocate_ok("eject", str(project))  # the venv is the project's folder again: as it was made
    assert _scripts(project)["pyvenv.cfg"] == made["pyvenv.cfg"]
    assert _shown(project)["ps1"] == "(.venv) P> "


ROUND_TRIP = 'PS1="P> "; . "$1"; printf "%s|" "$PS1"; deactivate; printf "%s" "$PS1"'


@pytest.mark.parametrize("name", ["nondestructive", "x"])  # words the scripts hold, quoted
@pytest.mark.parametrize("kind", ["venv", "uv"])
def test_only_the_prompt_is_renamed_never_a_word_the_script_compares(
    kind: str, name: str, tmp_path: Path, isolated: Path
) -> None:
    project = _made(kind, tmp_path, name)
    activate = str(project / ".venv" / "bin" / "activate")
    for step, shown in (("adopt", name), ("eject", ".venv")):
        relocate_ok(step, str(project))
        out = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", ROUND_TRIP, "_", activate],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert out == f"({shown}) P> |P> ", step  # deactivate is there, and gives PS1 back


def test_a_prompt_chosen_when_the_venv_was_made_stays(tmp_path: Path, isolated: Path) -> None:
    project = _made("uv --prompt", tmp_path)
    relocate_ok("adopt", str(project))
    assert _shown(project)["ps1"] == "(mine) P> "


def test_a_venv_relocate_creates_shows_the_projects_name(tmp_path: Path, isolated: Path) -> None:
    project = bare_project(tmp_path / NAME)
    relocate_ok("adopt", str(project))
    assert _shown(project)["ps1"] == f"({NAME}) P> "


def test_a_name_the_shell_would_expand_is_never_written(tmp_path: Path, isolated: Path) -> None:
    project = bare_project(tmp_path / "x$(touch pwned)")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True
    )
    relocate_ok("adopt", str(project))
    assert _shown(project)["ps1"] == "(.venv) P> "  # as CPython's venv made it
    assert not list(tmp_path.rglob("pwned"))


def test_a_moved_or_copied_project_shows_its_new_name(tmp_path: Path, isolated: Path) -> None:
    first = _made("venv", tmp_path)
    relocate_ok("adopt", str(first))
    moved = first.rename(tmp_path / "renamed")
    relocate_ok("adopt", str(moved))  # the venv follows the project
    assert _shown(moved)["ps1"] == "(renamed) P> "
    copy = tmp_path / "copy"
    shutil.copytree(moved, copy, symlinks=True)
    relocate_ok("adopt", str(copy))  # a copy of the venv, its own
    assert (_shown(copy)["ps1"], _shown(moved)["ps1"]) == ("(copy) P> ", "(renamed) P> ")
    relocate_ok("eject", str(copy))
    assert _shown(copy)["ps1"] == "(.venv) P> "
