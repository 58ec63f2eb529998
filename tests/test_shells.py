"""The shell hook, in real interactive bash, zsh and fish processes on a terminal.

One scenario runs in every shell (direnv's habit): activation in a subfolder,
leaving restores PATH, nested projects, deactivate, a hand-activated venv left
alone, a subshell that inherits the state, a foreign .venv whose scripts never
run, awkward directory names, a .venv adopted while the shell stays put, and a
dangling link. The hook is installed the documented way: `relocate hook SHELL
--install` into the fake home's rc file. bash runs twice: the system's, and a
bash 3.2 (macOS's /bin/bash version) from shared/bin.

The hook activates a project through the real path of its store venv: that is
what VIRTUAL_ENV names and whose bin/ goes on PATH, never <project>/.venv, which
`git checkout` of a branch that tracks .venv files replaces with the branch's
own (a planted `ls` must not run, in this shell or in another one open there).

Hostile folders come last: a ':' in a project path (PATH would split it into
relative entries), names with newlines, glob characters, a leading '-' or
terminal escapes, a .venv leading into a look-alike of the store, a store venv
whose bin/ links out of the store. Each carries a `git` that must never run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest

from tests.helpers import (
    bare_project,
    env_without_uv,
    hop_of,
    link_by_hand,
    make_venv,
    relocate_ok,
    require_tool,
    venv_project,
)
from tests.shell_session import BASH_32, FAMILY, Session

SHELLS = ("bash", "bash-3.2", "zsh", "fish")
AWKWARD = unicodedata.normalize("NFD", 'it\'s "odd" $(touch pwned) `touch pwned2` café')
MARKER = "RELOCATOR-TEST-PWNED"  # printed by every planted `git`


def _relocate_command() -> str:
    found = shutil.which("relocate")
    if found is None:
        pytest.fail("the relocate console script must be on PATH (pip install -e .)")
    return found


class World:
    """Projects and venvs the scenario walks through."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "store"
        # Built once per module, before the per-test fixtures: name the store and home here.
        env = {**env_without_uv(root), "RELOCATOR_HOME": str(self.store), "HOME": str(root)}
        self.outer = venv_project(root / "work" / "outer proj")
        (self.outer / "src" / "deep").mkdir(parents=True)
        self.inner = venv_project(self.outer / "packages" / "inner")
        self.awkward = venv_project(root / "work" / AWKWARD)
        self.late = venv_project(root / "work" / "late")
        # A venv of uv's (its activate reads the prompt at run time), made without a prompt.
        self.uv_made = bare_project(root / "work" / "uv made")
        (self.uv_made / "src").mkdir()
        uv = shutil.which("uv") or pytest.fail("uv must be on PATH (pip install -e '.[test]')")
        venv = str(self.uv_made / ".venv")
        subprocess.run([uv, "venv", "-q", "--no-config", "-p", sys.executable, venv], check=True)
        for project in (self.outer, self.inner, self.awkward, self.uv_made):
            relocate_ok("adopt", str(project), env=env)
        # Adopted through a link to the store: its activate spells the store venv that way.
        self.spelled = venv_project(root / "work" / "spelled")
        (self.spelled / "src").mkdir()
        (root / "store link").symlink_to(self.store)
        relocate_ok(
            "adopt", str(self.spelled), env={**env, "RELOCATOR_HOME": str(root / "store link")}
        )
        self.alias = root / "work" / "alias"
        self.alias.symlink_to(self.outer)
        self.plain = root / "work" / "plain"
        self.plain.mkdir()
        self.hand = make_venv(root / "hand")
        # A repository shipping its own .venv, real or linked elsewhere: scripts that must not run.
        self.foreign = root / "work" / "foreign"
        evil = self.foreign / ".venv" / "bin"
        evil.mkdir(parents=True)
        self.pwned = root / "pwned"
        for name in ("activate", "activate.fish", "python", "python3"):
            (evil / name).write_text(f"#!/bin/sh\ntouch '{self.pwned}'\n")
            (evil / name).chmod(0o755)
        self.linked = root / "work" / "linked"
        self.linked.mkdir()
        (self.linked / ".venv").symlink_to(self.foreign / ".venv")
        self.dangling = root / "work" / "dangling"
        self.dangling.mkdir()
        (self.dangling / "setup.py").write_text("")
        (self.dangling / ".venv").symlink_to(".venv.nosync/.venv")
        self.dangling2 = root / "work" / "dangling two"
        self.dangling2.mkdir()
        (self.dangling2 / ".venv").symlink_to(".venv.nosync/.venv")
        # relocator's shapes, into another store: another user's, or another RELOCATOR_HOME.
        self.elsewhere = bare_project(root / "work" / "elsewhere")
        self.elsewhere_old = bare_project(root / "work" / "elsewhere old")
        theirs = root / "their store" / "venvs" / "elsewhere-0000"
        (theirs / "bin").mkdir(parents=True)
        (self.elsewhere / ".venv.nosync").mkdir()
        (self.elsewhere / ".venv.nosync" / ".venv").symlink_to(theirs)
        (self.elsewhere / ".venv").symlink_to(".venv.nosync/.venv")
        (self.elsewhere_old / ".venv.nosync").symlink_to(theirs)
        (self.elsewhere_old / ".venv").symlink_to(".venv.nosync")
        self._hostile(root / "work")

    def _hostile(self, work: Path) -> None:
        self.ran = self.root / "hostile-script-ran"
        # Linked by hand, as adopt would link them (adopt refuses a ':' in a path).
        self.shared = make_venv(self.store / "venvs" / "by-hand-0000")
        self.colon = self._linked_by_hand(work / "demo:x")
        self._plant(
            self.colon / "x" / ".venv" / "bin"
        )  # `demo:x/.venv/bin` puts `x/.venv/bin` on PATH
        self.colon_alias = work / "colon-alias"  # no ':' here, one in its real path
        self.colon_alias.symlink_to(self.colon)
        self.newline = self._linked_by_hand(work / "new\nline")
        self.globby = self._linked_by_hand(work / "g[l]o*b? {a,b}")
        self.dashed = self._linked_by_hand(work / "-rf --help")
        # A .venv leading into a folder spelled like the store, inside the repository.
        self.lookalike = work / "lookalike"
        fake = self.lookalike / self.store.relative_to(self.root) / "venvs" / "fake-0000"
        self._plant(fake / "bin")
        (self.lookalike / ".venv").symlink_to(fake.relative_to(self.lookalike))
        # A store venv whose bin/ is a link out of the store, into the repository.
        self.binlink = work / "binlink"
        self._plant(self.binlink / "payload")
        hollow = self.store / "venvs" / "hollow-0000"
        hollow.mkdir()
        (hollow / "bin").symlink_to(self.binlink / "payload")
        (self.binlink / ".venv").symlink_to(hollow)
        self.fifo = work / "fifo"
        self.fifo.mkdir()
        os.mkfifo(self.fifo / "pipe")
        (self.fifo / ".venv").symlink_to("pipe")
        self.escape = work / "esc\x1b]0;title\x07\x1b[2J"
        self.escape.mkdir()
        (self.escape / ".venv").symlink_to(".venv.nosync/.venv")

    def _linked_by_hand(self, project: Path) -> Path:
        project.mkdir(parents=True)
        (project / "setup.py").write_text("")
        (project / "sub").mkdir()
        link_by_hand(project, self.shared)
        return project

    def _plant(self, bindir: Path) -> None:
        bindir.mkdir(parents=True, exist_ok=True)
        for name in ("git", "python", "python3", "activate"):
            (bindir / name).write_text(f"#!/bin/sh\necho {MARKER}\ntouch '{self.ran}'\n")
            (bindir / name).chmod(0o755)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("world"))


@pytest.fixture
def session(request: pytest.FixtureRequest, tmp_path: Path, world: World, isolated: Path):
    shell = request.param
    _require_shell(shell)
    family = FAMILY[shell]
    relocate = _relocate_command()
    # The user's own rc content comes first; the hook must keep their prompt hooks running.
    user_rc = {
        "bash": (
            ".bashrc",
            "_user_prompt() { user_prompts=$((user_prompts + 1)); }\n"
            "PROMPT_COMMAND=(_user_prompt)\n",
        ),
        "zsh": (
            ".zshrc",
            "_user_prompt() { user_prompts=$((user_prompts + 1)); }\n"
            "precmd_functions=(_user_prompt)\n",
        ),
        "fish": (
            ".config/fish/config.fish",
            "function _user_prompt --on-event fish_prompt\n"
            "    set -g user_prompts (math $user_prompts + 1)\nend\nset -g user_prompts 0\n",
        ),
    }[family]
    rc = isolated / user_rc[0]
    rc.parent.mkdir(parents=True, exist_ok=True)
    rc.write_text(user_rc[1])
    env = {**os.environ, "RELOCATOR_HOME": str(world.store)}
    subprocess.run(
        [relocate, "hook", family, "--install"], check=True, env=env, capture_output=True
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "relocate").symlink_to(relocate)
    if shell == "bash-3.2":  # a nested `bash` is the old one too
        (bindir / "bash").symlink_to(BASH_32)
        (bindir / "bash-3.2").symlink_to(BASH_32)
    env = {
        "HOME": str(isolated),
        "PATH": f"{bindir}:/usr/bin:/bin",
        "RELOCATOR_HOME": str(world.store),
        "TERM": "dumb",
        "HISTFILE": "/dev/null",
        "LANG": "C.UTF-8",
        "UV_PYTHON_DOWNLOADS": "never",
    }
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    s = Session(shell, env, world.root, scratch)
    s.original_path = env["PATH"]
    s.start_env = env  # for a second shell of the same kind (_another)
    yield s
    s.close()


def _require_shell(shell: str) -> None:
    if shell != "bash-3.2":
        require_tool(shell)
    elif not os.path.exists(BASH_32):  # shared/bin/bash-3.2: present here and in CI
        pytest.skip(f"{BASH_32} is absent (a fresh clone)")


def _in(s: Session, folder: Path) -> dict[str, str]:
    s.run(f"cd {s.quote(str(folder))}")
    return s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH", "PWD")


def _active(state: dict[str, str], project: Path, original: str) -> None:
    venv = os.path.realpath(project / ".venv")  # the store venv, never the link
    assert Path(venv).parent.name == "venvs"
    assert state["VIRTUAL_ENV"] == venv
    assert state["VIRTUAL_ENV_PROMPT"] == project.name
    assert state["PATH"] == f"{venv}/bin:{original}"


def _inactive(state: dict[str, str], original: str) -> None:
    assert state["VIRTUAL_ENV"] == ""
    assert state["PATH"] == original


parametrize_shells = pytest.mark.parametrize("session", SHELLS, indirect=True)


@parametrize_shells
def test_activate_in_subfolder_leave_and_nest(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _inactive(_in(s, world.plain), original)
    _active(_in(s, world.outer / "src" / "deep"), world.outer, original)
    ask = "python -c 'import sys; print(sys.prefix)'"
    prefix = s.values(f"({ask})" if s.family == "fish" else f'"$({ask})"')[0]
    assert prefix == os.path.realpath(world.outer / ".venv")
    _active(_in(s, world.inner), world.inner, original)  # nested: the innermost wins
    _active(_in(s, world.outer), world.outer, original)
    _inactive(_in(s, world.root), original)
    # The link's machine-local folder holds a .venv too: it is the project's, not a project.
    _active(_in(s, world.outer / ".venv.nosync"), world.outer, original)
    assert s.env("_RELOCATOR_ROOT")["_RELOCATOR_ROOT"] == str(world.outer)
    _inactive(_in(s, world.root), original)


@parametrize_shells
def test_user_path_changes_survive_leaving(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _in(s, world.outer)
    if s.family == "fish":
        s.run("set -gx PATH /custom/first $PATH /custom/last")
    else:
        s.run('export PATH="/custom/first:$PATH:/custom/last"')
    state = _in(s, world.plain)
    assert state["VIRTUAL_ENV"] == ""
    assert state["PATH"] == f"/custom/first:{original}:/custom/last"


@parametrize_shells
def test_deactivate_stays_quiet_until_leaving_the_project(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _active(_in(s, world.outer), world.outer, original)
    s.run("deactivate")
    assert s.env("VIRTUAL_ENV", "PATH") == {"VIRTUAL_ENV": "", "PATH": original}
    _inactive(_in(s, world.outer / "src"), original)  # same project: stays off
    _inactive(_in(s, world.plain), original)
    _active(_in(s, world.outer), world.outer, original)  # back again: on


@parametrize_shells
def test_a_hand_activated_venv_is_never_touched(session: Session, world: World) -> None:
    s, original = session, session.original_path
    script = "activate.fish" if s.family == "fish" else "activate"
    s.run(f"source {s.quote(str(world.hand / 'bin' / script))}")
    theirs = s.env("VIRTUAL_ENV", "PATH")
    assert theirs["VIRTUAL_ENV"] == str(world.hand)
    for folder in (world.outer, world.inner, world.plain):
        state = _in(s, folder)
        assert (state["VIRTUAL_ENV"], state["PATH"]) == (theirs["VIRTUAL_ENV"], theirs["PATH"])
    s.run("deactivate")
    _inactive(_in(s, world.plain), original)


@parametrize_shells
def test_a_subshell_inherits_the_venv_and_leaves_cleanly(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _active(_in(s, world.outer), world.outer, original)
    s.run(s.shell + " -i")  # a nested interactive shell: loads the hook from the rc file
    _active(s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), world.outer, original)
    _inactive(_in(s, world.plain), original)
    _active(_in(s, world.outer), world.outer, original)
    s.run("deactivate")
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)
    s.run("exit")
    _active(s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), world.outer, original)


@parametrize_shells
def test_foreign_venvs_run_nothing_and_activate_nothing(session: Session, world: World) -> None:
    s, original = session, session.original_path
    for folder in (world.foreign, world.linked):
        _inactive(_in(s, folder), original)
        s.run("true")
    assert not world.pwned.exists()


@parametrize_shells
def test_awkward_names_are_data(session: Session, world: World) -> None:
    s, original = session, session.original_path
    state = _in(s, world.awkward)
    venv = os.path.realpath(world.awkward / ".venv")
    assert state["VIRTUAL_ENV"].encode() == venv.encode()
    assert state["PATH"] == f"{venv}/bin:{original}"
    assert state["VIRTUAL_ENV_PROMPT"] == AWKWARD
    _inactive(_in(s, world.plain), original)
    assert not list(world.root.rglob("pwned*"))


@parametrize_shells
def test_adopting_where_the_shell_stands_activates_at_the_next_prompt(
    session: Session, world: World
) -> None:
    s, original = session, session.original_path
    project = world.late
    _inactive(_in(s, project), original)
    s.run("relocate adopt >/dev/null")
    _active(s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), project, original)
    s.run("relocate eject >/dev/null")  # the link is gone: leave at the next prompt
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)


@parametrize_shells
def test_a_dangling_link_gets_one_hint(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _inactive(_in(s, world.dangling), original)
    s.run("true")
    s.run("true")
    hint = f"relocator: {world.dangling}/.venv leads nowhere"
    assert s.text().count(hint) == 1


@parametrize_shells
def test_a_hint_comes_once_per_project_in_a_shells_life(session: Session, world: World) -> None:
    s, original = session, session.original_path
    for folder in (world.dangling, world.dangling2, world.elsewhere, world.plain) * 2:
        _inactive(_in(s, folder), original)
    _inactive(_in(s, world.elsewhere_old), original)
    text = s.text()
    assert text.count(f"relocator: {world.dangling}/.venv leads nowhere") == 1
    assert text.count(f"relocator: {world.dangling2}/.venv leads nowhere") == 1
    for project in (world.elsewhere, world.elsewhere_old):
        other = f"relocator: {project}/.venv leads to a venv outside your store"
        assert text.count(other) == 1, text
        assert "relocate status" in text.split(other, 1)[1].split("\n")[0]


@parametrize_shells
def test_hints_stay_off_with_relocator_hook_quiet(session: Session, world: World) -> None:
    s, original = session, session.original_path
    s.run(
        "set -gx RELOCATOR_HOOK_QUIET 1" if s.family == "fish" else "export RELOCATOR_HOOK_QUIET=1"
    )
    for folder in (world.dangling, world.elsewhere, world.colon):
        _inactive(_in(s, folder), original)
    assert "relocator: " not in s.text()


@parametrize_shells
def test_healthy_projects_and_other_folders_get_no_hint(session: Session, world: World) -> None:
    s, original = session, session.original_path
    _active(_in(s, world.outer / "src"), world.outer, original)
    _active(_in(s, world.inner), world.inner, original)
    for folder in (world.plain, world.foreign, world.linked, world.lookalike, world.root):
        _inactive(_in(s, folder), original)
    s.run("true")
    assert "relocator: " not in s.text()


@parametrize_shells
def test_loading_the_hook_twice_changes_nothing(session: Session, world: World) -> None:
    s, original = session, session.original_path
    load = {
        "bash": 'eval "$(relocate hook bash)"',
        "zsh": 'eval "$(relocate hook zsh)"',
        "fish": "relocate hook fish | source",
    }[s.family]
    s.run(load)
    _active(_in(s, world.outer), world.outer, original)
    _inactive(_in(s, world.plain), original)
    count = {
        "bash": '"${PROMPT_COMMAND[*]}"',
        "zsh": '"${precmd_functions[*]} ${chpwd_functions[*]}"',
        "fish": "(functions -q __relocator_hook; and echo defined)",
    }[s.family]
    (listed,) = s.values(count)
    if s.family == "bash":  # an array (bash 5.1+) or a string: commands split by ';'
        assert listed.replace(";", " ").split().count("_relocator_hook") == 1
    elif s.family == "zsh":
        assert listed.split().count("_relocator_hook") == 2  # one precmd, one chpwd
    else:
        assert listed == "defined"


@parametrize_shells
def test_canonical_cd_moves_to_the_real_spelling(session: Session, world: World) -> None:
    s, original = session, session.original_path
    state = _in(s, world.alias / "src")  # by default the shell keeps the spelling it was given
    assert state["PWD"] == str(world.alias / "src")
    assert state["VIRTUAL_ENV"] == os.path.realpath(world.outer / ".venv")  # either spelling
    _inactive(_in(s, world.plain), original)
    s.run(
        "set -gx RELOCATOR_CANONICAL_CD 1"
        if s.family == "fish"
        else "export RELOCATOR_CANONICAL_CD=1"
    )
    state = _in(s, world.alias / "src")
    assert state["PWD"] == str(world.outer / "src")
    _active(state, world.outer, original)
    _inactive(_in(s, world.plain), original)


@parametrize_shells
def test_the_users_prompt_hooks_keep_running(session: Session, world: World) -> None:
    s = session
    (before,) = s.values('"$user_prompts"')
    _active(_in(s, world.outer), world.outer, s.original_path)
    s.run("true")
    (after,) = s.values('"$user_prompts"')
    assert int(after) >= int(before or 0) + 2


@parametrize_shells
def test_completion_comes_with_the_hook(session: Session, world: World) -> None:
    s = session
    if s.family == "bash":
        s.run("COMP_WORDS=(relocate ad); COMP_CWORD=1; _relocator_complete")
        (words,) = s.values('"${COMPREPLY[*]}"')
        assert words == "adopt"
        (spec,) = s.values('"$(complete -p relocate)"')
        assert "_relocator_complete" in spec
    elif s.family == "zsh":
        (defined,) = s.values('"${+functions[_relocator_complete]}"')
        assert defined == "1"
    else:
        (words,) = s.values("(complete -C 'relocate ad')")
        assert words.split()[0] == "adopt"


# -- a branch that tracks .venv ---------------------------------------------------------------


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def _tracking_project(root: Path, world: World, marker: Path) -> Path:
    """A git project adopted on main, whose branch ``evil`` tracks ``.venv/bin/ls`` (it
    writes ``marker``) and ``.venv/pyvenv.cfg``: what a checkout puts where the link was."""
    require_tool("git")
    project = bare_project(root / "tracked proj")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "main")
    _git(project, "checkout", "-q", "-b", "evil")
    planted = project / ".venv" / "bin" / "ls"
    planted.parent.mkdir(parents=True)
    planted.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n")
    planted.chmod(0o755)
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    _git(project, "add", "-f", ".venv")
    _git(project, "commit", "-q", "-m", "a branch that tracks .venv")
    _git(project, "checkout", "-q", "main")
    assert not (project / ".venv").exists()
    make_venv(project / ".venv")
    env = {**env_without_uv(root), "RELOCATOR_HOME": str(world.store)}
    subprocess.run(
        [sys.executable, "-m", "relocator", "adopt", str(project)],
        check=True,
        capture_output=True,
        env=env,
    )
    assert (project / ".venv").is_symlink()
    return project


def _another(s: Session, cwd: Path, name: str) -> Session:
    """A second interactive shell of the same kind, started in ``cwd``."""
    scratch = s.scratch.parent / name
    scratch.mkdir()
    other = Session(s.shell, s.start_env, cwd, scratch)
    other.original_path = s.original_path
    return other


@parametrize_shells
def test_a_checkout_that_replaces_the_link_runs_nothing_from_the_branch(
    session: Session, world: World, tmp_path: Path
) -> None:
    s, original = session, session.original_path
    marker = tmp_path / "branch-ls-ran"
    project = _tracking_project(tmp_path, world, marker)
    _active(_in(s, project), project, original)
    other = _another(s, project, "other")
    try:
        _active(other.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), project, original)
        # The same command line: no prompt (and no hook) between the checkout and `ls`.
        s.run("git checkout -q evil && ls")
        assert (project / ".venv" / "bin" / "ls").is_file()  # the branch's files are there
        assert not (project / ".venv").is_symlink()
        assert not marker.exists()
        other.run("ls")  # a shell that sat at its prompt meanwhile
        assert not marker.exists()
        for shell in (s, other):  # left at the next prompt: nothing of ours on PATH
            _inactive(shell.env("VIRTUAL_ENV", "PATH"), original)
            assert shell.env("VIRTUAL_ENV_PROMPT") == {"VIRTUAL_ENV_PROMPT": ""}
        # Back on main with the link made again: on at the next prompt.
        s.run("git checkout -q main && relocate adopt >/dev/null")
        _active(s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), project, original)
    finally:
        other.close()
    # The planted `ls` does run when asked for by its path: the absence above means something.
    subprocess.run(["git", "checkout", "-q", "evil"], cwd=project, check=True)
    subprocess.run([str(project / ".venv" / "bin" / "ls")], check=True)
    assert marker.exists()


@parametrize_shells
def test_a_rebuilt_venv_replaces_the_old_one_at_the_next_prompt(
    session: Session, world: World, tmp_path: Path
) -> None:
    s, original = session, session.original_path
    project = venv_project(tmp_path / "rebuilt proj")
    relocate_ok("adopt", str(project), env={**os.environ, "RELOCATOR_HOME": str(world.store)})
    first = Path(os.path.realpath(project / ".venv"))
    (project / "sub").mkdir()
    _active(_in(s, project / "sub"), project, original)
    # What a takeover's swap does (the hop moved from the adopted venv's own name to the
    # project's), or adopt of a copied project: .venv.nosync/.venv pointed at another
    # store venv in one step.
    second = make_venv(world.store / "venvs" / f"{tmp_path.name}-rebuilt-0000")
    hop = hop_of(project)
    (project / "hop.new").symlink_to(second)
    os.replace(project / "hop.new", hop)
    s.run("true")
    state = s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH")
    _active(state, project, original)
    assert state["VIRTUAL_ENV"] == str(second)
    assert str(first) not in state["PATH"]
    # And back to the first: the second's entry goes.
    (project / "hop.new").symlink_to(first)
    os.replace(project / "hop.new", hop)
    s.run("true")
    state = s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH")
    _active(state, project, original)
    assert str(second) not in state["PATH"]
    s.run("deactivate")
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)


def _tiny_wheel(folder: Path) -> Path:
    """A pure-Python wheel made by hand, so that `uv pip install` needs no index."""
    wheel = folder / "tiny-1.0-py3-none-any.whl"
    files = {
        "tiny.py": "VALUE = 1\n",
        "tiny-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        "tiny-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in [*files, "tiny-1.0.dist-info/RECORD"])
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in {**files, "tiny-1.0.dist-info/RECORD": record}.items():
            z.writestr(name, text)
    return wheel


@parametrize_shells
def test_uv_in_an_activated_project_uses_its_venv_without_a_warning(
    session: Session, world: World, tmp_path: Path
) -> None:
    """VIRTUAL_ENV is the store venv, not <project>/.venv: uv compares the two as files
    (no "does not match the project environment" warning), and `uv pip` installs into it."""
    s, original = session, session.original_path
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv must be installed for the tests (scripts/test installs it)")
    project = tmp_path / "uv proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = []\n'
    )
    relocate_ok("adopt", str(project), env={**os.environ, "RELOCATOR_HOME": str(world.store)})
    venv = os.path.realpath(project / ".venv")
    _active(_in(s, project), project, original)
    wheel = _tiny_wheel(tmp_path)
    said = {}
    for name, command in (
        ("sync", "sync"),
        ("run", "run python -c 'import sys; print(sys.prefix)'"),
        ("pip", f"pip install {s.quote(str(wheel))}"),
        ("sync-again", "sync --inexact"),
    ):
        out = s.scratch / f"uv-{name}"
        s.run(f"{s.quote(uv)} {command} > {s.quote(str(out))} 2>&1")
        said[name] = out.read_text()
        assert "does not match" not in said[name], said[name]
        assert "warning" not in said[name].lower(), said[name]
    assert os.path.realpath(said["run"].strip().splitlines()[-1]) == venv
    assert venv in said["pip"]  # "Using Python ... environment at: <store venv>"
    assert list(Path(venv).glob("lib/python*/site-packages/tiny.py"))
    assert os.path.islink(project / ".venv")
    _active(s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH"), project, original)
    # This uv does warn when VIRTUAL_ENV is another venv: the absence above means something.
    out = s.scratch / "uv-other"
    s.run(f"VIRTUAL_ENV={s.quote(str(world.hand))} {s.quote(uv)} sync > {s.quote(str(out))} 2>&1")
    assert "does not match the project environment" in out.read_text()


@parametrize_shells
def test_activation_leaves_the_shells_cd_state_alone(session: Session, world: World) -> None:
    """bash finds the real path with a physical cd and back: OLDPWD, `cd -`, CDPATH and
    the user's own `cd` function must not notice."""
    s, original = session, session.original_path
    if s.family != "fish":
        s.run('cds=0; cd() { cds=$((cds + 1)); builtin cd "$@"; }')
        s.run(f"export CDPATH={s.quote(str(world.root))}")
    _inactive(_in(s, world.plain), original)
    _active(_in(s, world.outer / "src"), world.outer, original)
    if s.family != "fish":
        assert s.values('"$cds"') == ["2"]  # the user's two, none of the hook's
        assert s.values('"$OLDPWD"') == [str(world.plain)]
    s.run("cd - >/dev/null")
    assert s.env("PWD")["PWD"] == str(world.plain)


@pytest.mark.parametrize("session", ("bash", "bash-3.2", "zsh"), indirect=True)
def test_nounset_and_errexit_in_the_users_shell(session: Session, world: World) -> None:
    """`set -u` (and `set -e`, `pipefail`) in the user's shell: the hook reads no unset
    variable, even while loading with PROMPT_COMMAND unset, and fails no command."""
    s, original = session, session.original_path
    s.run("set -u -o pipefail")
    if s.family == "bash":
        s.run('unset PROMPT_COMMAND; eval "$(relocate hook bash)"')
    s.run("set -e")
    ask = ('"${VIRTUAL_ENV-}"', '"$PATH"')
    s.run(f"cd {s.quote(str(world.plain))}")
    assert s.values(*ask) == ["", original]
    s.run(f"cd {s.quote(str(world.outer / 'src'))}")
    venv = os.path.realpath(world.outer / ".venv")
    assert s.values(*ask) == [venv, f"{venv}/bin:{original}"]
    s.run("deactivate")
    assert s.values(*ask) == ["", original]
    s.run(f"cd {s.quote(str(world.plain))}")
    s.run(f"cd {s.quote(str(world.inner))}")
    venv = os.path.realpath(world.inner / ".venv")
    assert s.values(*ask) == [venv, f"{venv}/bin:{original}"]
    s.run(f"cd {s.quote(str(world.plain))}")
    assert s.values(*ask) == ["", original]
    assert "unbound" not in s.text()
    assert "parameter not set" not in s.text()


def _enter(s: Session, folder: Path) -> dict[str, str]:
    """cd to a folder whose name cannot be typed (control characters): read from a file."""
    where = s.scratch / f"where.{s.count}"
    where.write_bytes(os.fsencode(folder))
    if s.family == "fish":
        s.run(f"cd (cat {s.quote(str(where))} | string collect)")
    else:
        s.run(f'cd -- "$(cat {s.quote(str(where))})"')
    return s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH", "PWD")


def _git_runs_the_real_git(s: Session, world: World) -> None:
    out = s.scratch / f"git.{s.count}"
    s.run(f"git --version > {s.quote(str(out))} 2>&1")
    text = out.read_text()
    assert text.startswith("git version"), text
    assert MARKER not in text
    assert not world.ran.exists()


@parametrize_shells
def test_a_colon_in_the_project_path_is_never_activated(session: Session, world: World) -> None:
    s, original = session, session.original_path
    world.ran.unlink(missing_ok=True)
    state = _enter(s, world.colon)
    assert state["PWD"] == str(world.colon)
    _inactive(state, original)
    _git_runs_the_real_git(s, world)
    _inactive(_enter(s, world.colon / "x"), original)  # from a subfolder too
    _git_runs_the_real_git(s, world)
    s.run("true")
    assert s.text().count(f"relocator: {world.colon}: a ':' in this path") == 1
    # Spelled without the ':', it is a fine PATH entry; its real path is not.
    _active(_in(s, world.colon_alias), world.colon_alias, original)
    _inactive(_in(s, world.plain), original)
    s.run(
        "set -gx RELOCATOR_CANONICAL_CD 1"
        if s.family == "fish"
        else "export RELOCATOR_CANONICAL_CD=1"
    )
    state = _in(s, world.colon_alias)
    assert state["PWD"] == str(world.colon)
    _inactive(state, original)
    _git_runs_the_real_git(s, world)


@parametrize_shells
def test_look_alike_and_hollow_store_venvs_activate_nothing(session: Session, world: World) -> None:
    s, original = session, session.original_path
    world.ran.unlink(missing_ok=True)
    for folder in (world.lookalike, world.binlink, world.fifo):
        _inactive(_enter(s, folder), original)
        _git_runs_the_real_git(s, world)


@parametrize_shells
def test_newlines_globs_and_dashes_in_names_are_data(session: Session, world: World) -> None:
    s, original = session, session.original_path
    for project in (world.newline, world.globby, world.dashed):
        _active(_enter(s, project), project, original)
        state = _enter(s, project / "sub")
        assert state["PWD"] == str(project / "sub")
        _active(state, project, original)
        _inactive(_in(s, world.plain), original)  # leaving removes exactly our entry


@parametrize_shells
def test_control_characters_in_a_hint_are_shown_as_question_marks(
    session: Session, world: World
) -> None:
    s, original = session, session.original_path
    _inactive(_enter(s, world.escape), original)
    s.run("true")
    raw = str(world.escape)
    shown = raw.replace("\x1b", "?").replace("\x07", "?")
    text = s.text()
    assert text.count(f"relocator: {shown}/.venv leads nowhere") == 1
    assert f"relocator: {raw}" not in text


# -- the prompt -----------------------------------------------------------------------------


def _screen_after(s: Session, command: str) -> str:
    """What the terminal showed from ``command`` on (prompts included)."""
    before = len(s.text())
    s.run(command)
    s.run("true")
    return s.text()[before:]


def _last_prompt(shown: str) -> str:
    """What stood before the last ``P> `` prompt (of :func:`_plain_prompt`) on the screen."""
    found = re.findall(r"((?:\([^()\n]*\) )*)P\d*> ", shown)
    assert found, shown
    return str(found[-1])


def _plain_prompt(s: Session) -> str:
    """Give the shell the prompt ``P<status>> `` (bash and zsh: ``P> ``); return its start."""
    if s.family == "fish":
        s.run("function fish_prompt; printf 'P%s> ' $status; end")
    else:
        s.run("PS1='P> '")
    return "P"


@parametrize_shells
def test_the_prompt_shows_the_project_as_activate_does(session: Session, world: World) -> None:
    s = session
    _plain_prompt(s)
    name = world.outer.name
    shown = _screen_after(s, f"cd {s.quote(str(world.outer))}")
    assert f"({name}) P" in shown, shown
    if s.family == "fish":  # the wrapped prompt still sees the last command's status
        assert f"({name}) P1> " in _screen_after(s, "false")
    shown = _screen_after(s, f"cd {s.quote(str(world.plain))}")
    assert f"({name})" not in shown.split("cd ", 1)[-1].split("\n", 1)[-1], shown
    if s.family == "fish":
        assert s.values("(functions -q __relocator_old_fish_prompt; and echo wrapped)") == [""]
    else:
        assert s.values('"$PS1"') == ["P> "]
    # A prompt the user changed meanwhile is left as it is on leaving.
    s.run(f"cd {s.quote(str(world.outer))}")
    if s.family != "fish":
        s.run("PS1='mine> '")
        s.run(f"cd {s.quote(str(world.plain))}")
        assert s.values('"$PS1"') == ["mine> "]


@parametrize_shells
def test_virtual_env_disable_prompt_is_honoured(session: Session, world: World) -> None:
    s = session
    _plain_prompt(s)
    s.run(
        "set -gx VIRTUAL_ENV_DISABLE_PROMPT 1"
        if s.family == "fish"
        else "export VIRTUAL_ENV_DISABLE_PROMPT=1"
    )
    shown = _screen_after(s, f"cd {s.quote(str(world.outer))}")
    assert s.env("VIRTUAL_ENV")["VIRTUAL_ENV"] == os.path.realpath(world.outer / ".venv")
    assert f"({world.outer.name})" not in shown, shown


@pytest.mark.parametrize(
    ("session", "setting"),
    [("bash", "shopt -u promptvars"), ("bash", ""), ("zsh", "setopt prompt_subst"), ("zsh", "")],
    indirect=["session"],
)
def test_a_project_name_in_the_prompt_is_data(session: Session, world: World, setting: str) -> None:
    """The name holds $(...), backquotes and quotes: shown, never run, however the shell
    expands its prompt."""
    s = session
    _plain_prompt(s)
    if setting:
        s.run(setting)
    shown = _screen_after(s, f"cd {s.quote(str(world.awkward))}")
    s.run("cd /")
    assert f"({AWKWARD}) P> " in shown, shown
    assert not list(world.root.rglob("pwned*"))
    assert not list(Path("/").glob("pwned*"))


# -- the venv's own activate under the hook ---------------------------------------------------


@parametrize_shells
@pytest.mark.parametrize("made_by", ["venv", "uv", "venv through a store link"])
def test_sourcing_activate_under_the_hook_shows_one_name_and_deactivate_leaves_nothing(
    session: Session, world: World, made_by: str
) -> None:
    """`source .venv/bin/activate`, the habit of a lifetime, in a project the hook activated:
    one `(name)`, the project's, and VIRTUAL_ENV the hook's; activate's deactivate gives back
    the shell as it was before the hook, and the hook keeps out until the shell leaves."""
    s, original = session, session.original_path
    _plain_prompt(s)  # bash's promptvars (on by default) and zsh's defaults
    project = {"venv": world.outer, "uv": world.uv_made}.get(made_by, world.spelled)
    name, venv = project.name, os.path.realpath(project / ".venv")
    _active(_in(s, project), project, original)
    script = "activate.fish" if s.family == "fish" else "activate"
    shown = _screen_after(s, f"source .venv/bin/{script}")
    assert _last_prompt(shown) == f"({name}) ", shown
    state = s.env("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH")
    assert (state["VIRTUAL_ENV"], state["PATH"]) == (venv, f"{venv}/bin:{original}")
    assert name in state["VIRTUAL_ENV_PROMPT"]
    shown = _screen_after(s, "deactivate")
    assert _last_prompt(shown) == "", shown
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)
    if s.family == "fish":
        (left,) = s.values(
            "(functions -q __relocator_old_fish_prompt _old_fish_prompt deactivate; or echo none)"
        )
        assert left == "none"
    else:
        assert s.values('"$PS1"', '"${_OLD_VIRTUAL_PATH-unset}"') == ["P> ", "unset"]
        assert s.values('"$(type deactivate >/dev/null 2>&1 || echo none)"') == ["none"]
    _inactive(_in(s, project / "src"), original)  # deactivated by hand: stays off here
    _inactive(_in(s, world.plain), original)
    _active(_in(s, project), project, original)  # back again: on
    s.run("deactivate")
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)


@parametrize_shells
def test_activate_sourced_on_entering_is_final_after_its_deactivate(
    session: Session, world: World
) -> None:
    """`cd proj && source .venv/bin/activate` on one line, before the hook's next prompt: the
    venv is the user's; after its deactivate the hook does not bring it back in this project."""
    s, original = session, session.original_path
    script = "activate.fish" if s.family == "fish" else "activate"
    venv = os.path.realpath(world.outer / ".venv")
    joiner = "; and" if s.family == "fish" else " &&"
    s.run(f"cd {s.quote(str(world.outer))}{joiner} source .venv/bin/{script}")
    state = s.env("VIRTUAL_ENV", "PATH")
    assert (state["VIRTUAL_ENV"], state["PATH"]) == (venv, f"{venv}/bin:{original}")
    s.run("deactivate")
    s.run("true")
    _inactive(s.env("VIRTUAL_ENV", "PATH"), original)
    _inactive(_in(s, world.outer / "src"), original)
    _inactive(_in(s, world.plain), original)
    _active(_in(s, world.outer), world.outer, original)
