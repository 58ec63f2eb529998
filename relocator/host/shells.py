"""Shell hooks: rendering them for a store, and the one line in an rc file that loads them.

The rc line starts no process on the normal path: it sources the hook as last
rendered into the store (``<store>/hooks/relocator.<shell>``) when that file is
the user's own and newer than the ``relocate`` command it names, and runs
``relocate hook <shell>`` only when it is not: on the first shell after an
install or upgrade (installers write the command anew), which renders the file
again for the next shells. Once the command is gone (uninstalled), the line does
nothing, so neither a stale hook nor an error is left behind.

Standard library only: ``relocate hook`` runs whenever the rendered file is stale.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys

from relocator.errors import UsageError, say
from relocator.host.rcedits import HOOKS, MARKER, Created, Edits, edit, with_line, without_lines
from relocator.state.store import Store
from relocator.system.files import read_regular, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

USAGE = "usage: relocate hook bash|zsh|fish [--install | --uninstall]"


class Shell:
    """One shell: its hook template, its quoting, and where its rc line goes."""

    name = ""
    #: Files of shell/ that make up the hook, in order.
    parts: tuple[str, ...] = ()
    guard = ""  #: the load line's first test: bash's, as sh reads ~/.profile too

    def quote(self, value: str) -> str:
        return shlex.quote(value)

    def template(self) -> str:
        # Read beside the package rather than through importlib.resources, which
        # costs more to import than the rest of `relocate hook` together.
        import importlib

        package = importlib.import_module("relocator.shell")  # the top-level shell/ folder
        folder = os.path.dirname(os.path.abspath(package.__file__ or ""))
        texts = []
        for part in self.parts:
            with open(os.path.join(folder, part), encoding="utf-8") as f:
                texts.append(f.read())
        return "\n".join(texts)

    def render(self, store: Store) -> str:
        from relocator.cli import completion

        venvs = os.path.realpath(store.venvs)
        text = self.template().replace("__RELOCATOR_VENVS__", self.quote(venvs))
        return f"{text}\n{completion.script(self.name)}"

    def load_line(self, exe: str, hook: str) -> str:
        e, h = self.quote(exe), self.quote(hook)
        return (
            f"if {self.guard}[ -x {e} ]; then if [ -O {h} ] && [ {h} -nt {e} ]; then . {h}; "
            f'else eval "$({e} hook {self.name})"; fi; fi {MARKER}'
        )

    def rc_files(self) -> list[str]:
        """Where --install puts the load line."""
        raise NotImplementedError

    def uninstall_files(self) -> list[str]:
        """Where --uninstall looks for it: wherever an earlier install may have put it."""
        return self.rc_files()


#: What bash reads at login, the first of them that exists only.
LOGIN_FILES = (".bash_profile", ".bash_login", ".profile")
#: A line that sources ~/.bashrc (`. ~/.bashrc`, `source "$HOME/.bashrc"`), not a comment.
_SOURCES_BASHRC = re.compile(r"(?m)^[^#\n]*(?:^|[\s;&|({])(?:\.|source)\s+[^#\n]*\.bashrc\b")


class Bash(Shell):
    name = "bash"
    parts = ("relocator.sh", "relocator.bash")  # the core is shared with zsh
    guard = '[ -n "${BASH_VERSION-}" ] && '  # ~/.profile: sh (dash) at login, a desktop session

    def rc_files(self) -> list[str]:
        """``~/.bashrc``, and the first login file (all a login shell reads: every macOS
        Terminal window) unless it sources ``~/.bashrc``; with none, a new ``~/.bash_profile``."""
        home = os.path.expanduser("~")
        files = [os.path.join(home, ".bashrc")]
        for name in LOGIN_FILES:
            login = os.path.join(home, name)
            if os.path.lexists(login):
                if not _SOURCES_BASHRC.search(_read(login)):
                    files.append(login)
                break
        else:
            files.append(os.path.join(home, LOGIN_FILES[0]))
        return files

    def uninstall_files(self) -> list[str]:
        home = os.path.expanduser("~")
        return [os.path.join(home, name) for name in (".bashrc", *LOGIN_FILES)]


class Zsh(Shell):
    name = "zsh"
    parts = ("relocator.sh", "relocator.zsh")

    def rc_files(self) -> list[str]:
        zdotdir = os.environ.get("ZDOTDIR") or os.path.expanduser("~")
        return [os.path.join(zdotdir, ".zshrc")]


class Fish(Shell):
    name = "fish"
    parts = ("relocator.fish",)

    def quote(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def load_line(self, exe: str, hook: str) -> str:
        e, h = self.quote(exe), self.quote(hook)
        return (
            f"if test -x {e}; if test -O {h} -a {h} -nt {e}; source {h}; "
            f"else; {e} hook fish | source; end; end {MARKER}"
        )

    def rc_files(self) -> list[str]:
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        return [os.path.join(config, "fish", "conf.d", "relocator.fish")]


SHELLS: dict[str, Shell] = {s.name: s for s in (Bash(), Zsh(), Fish())}


def get(name: str) -> Shell:
    try:
        return SHELLS[name]
    except KeyError:
        raise UsageError(f"unknown shell {name!r}; {USAGE}") from None


def executable() -> Optional[str]:
    """The absolute path of the installed ``relocate`` command, for an rc line or a service
    unit; None when there is none.

    First the ``relocate`` running now (``sys.argv[0]``): its version writes the line and
    renders the hook. Then the one beside ``sys.executable`` (the same installation, run
    as ``python -m relocator``), then the one on ``PATH``. Made absolute, symlinks not
    resolved: ``~/.local/bin/relocate`` (uv tool, pipx) survives an upgrade, the versioned
    folder it leads to does not.
    """
    import shutil

    argv0 = sys.argv[0] if sys.argv else ""
    beside = os.path.join(os.path.dirname(sys.executable), "relocate") if sys.executable else ""
    for candidate in (argv0, beside, shutil.which("relocate") or ""):
        if (
            os.path.basename(candidate) == "relocate"
            and os.path.isfile(candidate)
            and os.access(candidate, os.X_OK)
        ):
            return os.path.abspath(candidate)
    return None


def hook_file(store: Store, shell: Shell) -> str:
    """Where the rendered hook of ``shell`` is kept for the rc line to source."""
    return os.path.join(store.root, HOOKS, f"relocator.{shell.name}")


def save_rendered(store: Store, shell: Shell, text: str) -> None:
    """Keep ``text`` as the rendered hook, newer than the ``relocate`` command now.

    Rewritten when it changed, else only touched: either way the rc line sources it
    from the next shell on. A store that cannot be written leaves the rc line on its
    slow path, which still works.
    """
    path = hook_file(store, shell)
    try:
        try:
            same = read_regular(path) == text.encode()
        except FileNotFoundError:
            same = False
        if same:
            os.utime(path)
        else:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            write_atomic(path, text.encode())
    except OSError:
        pass


def install(shell: Shell, exe: str, store: Optional[Store] = None) -> Edits:
    """Put the load line into each rc file of ``shell`` that lacks it, and render the hook
    for it to source.

    Only lines ending in :data:`MARKER` are ours. An older line of ours is
    replaced where it stands (the user may have moved it); else the line goes
    at the end. Every other byte stays as it was: line ends, form feeds,
    undecodable bytes, a missing final newline (then the line goes after a
    newline of ours and gets none itself, so that ``uninstall`` gives back the
    exact bytes). A new file is made when there was none.

    A symlinked rc file (stow, yadm, a dotfiles checkout) is edited at the end
    of its chain, atomically beside that target, so the link stays a link. A
    link that leads nowhere is left alone with a note: its target may be on a
    volume not mounted yet or in a checkout not made yet, and a file created
    there would shadow or clash with the real one. The target keeps its mode
    and owner; a file relocate cannot give back to its owner (another user's,
    when not running as root) is left alone with a note, as is anything that
    is not a regular file. An rc file the install creates is recorded in the store, so
    that uninstall can remove it again once it holds nothing else.
    """
    store = store or Store()
    save_rendered(store.ensure(), shell, shell.render(store))
    line = shell.load_line(exe, hook_file(store, shell)).encode("utf-8", "surrogateescape")
    edits = Edits([], [])
    created = Created(store)
    for path in shell.rc_files():
        edit(path, lambda data: with_line(data, line), edits, created, create=True)
    created.save()
    return edits


def uninstall(shell: Shell, store: Optional[Store] = None) -> Edits:
    """Remove our lines (only those ending in the marker) from every file an install may
    have used, and the rendered hook.

    The file keeps every other byte; one the install created (fish's
    ``conf.d/relocator.fish`` always) is deleted once nothing but blank space is
    left in it.
    """
    store = store or Store()
    edits = Edits([], [])
    created = Created(store)
    for path in shell.uninstall_files():
        edit(path, without_lines, edits, created, create=False)
    created.save()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(hook_file(store, shell))
    return edits


def _read(path: str) -> str:
    """A text file's content for a quick look ("" when missing or not a regular file)."""
    try:
        data = read_regular(path)
    except OSError:
        return ""
    return (data or b"").decode("utf-8", "surrogateescape")


def main(args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    flags = set(args) - set(names)
    if len(names) != 1 or flags - {"--install", "--uninstall"} or len(flags) > 1:
        raise UsageError(USAGE)
    shell = get(names[0])
    if "--uninstall" in flags:
        edits = uninstall(shell)
        for path in edits.changed:
            print(f"removed the relocator line from {path}")
    elif "--install" in flags:
        exe = executable() or os.path.join(os.path.dirname(sys.executable), "relocate")
        there = {path for path in shell.rc_files() if os.path.lexists(path)}
        edits = install(shell, exe)
        for path in edits.changed:
            did = "added the relocator line to" if path in there else "created with the line:"
            print(f"{did} {path}; open a new shell to use it")
        if not edits.changed and not edits.notes:
            print("the relocator line is already installed")
    else:
        store = Store().ensure()
        text = shell.render(store)
        sys.stdout.write(text)
        save_rendered(store, shell, text)
        return 0
    for note in edits.notes:
        say(note)
    return 1 if edits.notes else 0
