"""Shell hooks: rendering them for a store, and the one line in an rc file that loads them.

Standard library only: ``relocate hook`` runs at every shell start.
"""

from __future__ import annotations

import os
import shlex
import sys

from relocator.errors import UsageError
from relocator.store import Store, write_atomic

MARKER = "# relocator-hook"  # on every line relocator writes into a user's file
USAGE = "usage: relocate hook bash|zsh|fish [--install | --uninstall]"


class Shell:
    """One shell: its hook template, its quoting, and where its rc line goes."""

    name = ""
    #: Files of shell/ that make up the hook, in order.
    parts: tuple[str, ...] = ()

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
        venvs = os.path.realpath(store.venvs)
        return self.template().replace("__RELOCATOR_VENVS__", self.quote(venvs))

    def load_line(self, exe: str) -> str:
        q = self.quote(exe)
        return f'[ -x {q} ] && eval "$({q} hook {self.name})" {MARKER}'

    def rc_files(self) -> list[str]:
        """Where --install puts the load line."""
        raise NotImplementedError

    def uninstall_files(self) -> list[str]:
        """Where --uninstall looks for it: wherever an earlier install may have put it."""
        return self.rc_files()


class Bash(Shell):
    name = "bash"
    parts = ("relocator.sh", "relocator.bash")  # the core is shared with zsh

    def rc_files(self) -> list[str]:
        home = os.path.expanduser("~")
        files = [os.path.join(home, ".bashrc")]
        # A login shell (every new macOS Terminal window) reads only the first of these.
        for name in (".bash_profile", ".bash_login", ".profile"):
            login = os.path.join(home, name)
            if os.path.exists(login):
                if ".bashrc" not in _read(login):
                    files.append(login)
                break
        else:
            if sys.platform == "darwin":
                files.append(os.path.join(home, ".bash_profile"))
        return files

    def uninstall_files(self) -> list[str]:
        home = os.path.expanduser("~")
        names = (".bashrc", ".bash_profile", ".bash_login", ".profile")
        return [os.path.join(home, name) for name in names]


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

    def load_line(self, exe: str) -> str:
        q = self.quote(exe)
        return f"test -x {q}; and {q} hook fish | source {MARKER}"

    def rc_files(self) -> list[str]:
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        return [os.path.join(config, "fish", "conf.d", "relocator.fish")]


SHELLS: dict[str, Shell] = {s.name: s for s in (Bash(), Zsh(), Fish())}


def get(name: str) -> Shell:
    try:
        return SHELLS[name]
    except KeyError:
        raise UsageError(f"unknown shell {name!r}; {USAGE}") from None


def executable() -> str:
    """The absolute path of the ``relocate`` command to put into rc files."""
    argv0 = os.path.abspath(sys.argv[0])
    if os.path.basename(argv0) == "relocate" and os.access(argv0, os.X_OK):
        return argv0
    import shutil

    return shutil.which("relocate") or os.path.join(os.path.dirname(sys.executable), "relocate")


def install(shell: Shell, exe: str) -> list[str]:
    """Add the load line to each rc file that lacks it; return the files changed."""
    changed = []
    line = shell.load_line(exe)
    for path in shell.rc_files():
        text = _read(path)
        lines = text.splitlines()
        if line in lines:
            continue
        kept = [x for x in lines if not x.endswith(MARKER)]  # an older line of ours
        kept.append(line)
        write_atomic(path, "\n".join(kept) + "\n")
        changed.append(path)
    return changed


def uninstall(shell: Shell) -> list[str]:
    """Remove our lines (only those carrying the marker); return the files changed."""
    changed = []
    for path in shell.uninstall_files():
        text = _read(path)
        lines = text.splitlines(keepends=True)
        kept = [x for x in lines if not x.rstrip("\n").endswith(MARKER)]
        if kept == lines:
            continue
        if not "".join(kept).strip() and os.path.basename(path) == "relocator.fish":
            os.unlink(path)  # the conf.d file is ours alone
        else:
            write_atomic(path, "".join(kept))
        changed.append(path)
    return changed


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def main(args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    flags = set(args) - set(names)
    if len(names) != 1 or flags - {"--install", "--uninstall"} or len(flags) > 1:
        raise UsageError(USAGE)
    shell = get(names[0])
    if "--uninstall" in flags:
        for path in uninstall(shell):
            print(f"removed the relocator line from {path}")
        return 0
    if "--install" in flags:
        Store().ensure()
        changed = install(shell, executable())
        for path in changed:
            print(f"added the relocator line to {path}; open a new shell to use it")
        if not changed:
            print("the relocator line is already installed")
        return 0
    sys.stdout.write(shell.render(Store().ensure()))
    return 0
