"""Where relocate is installed: every copy of relocator this user can see, and how to remove each.

A copy is a venv holding the package, found by the receipt its installer leaves in it:
``uv tool install`` writes ``uv-receipt.toml``, ``pipx install`` writes
``pipx_metadata.json``, and the repository's ``scripts/install`` writes :data:`RECEIPT`.
The places looked at are the running copy's own venv, each installer's default folder (as
its environment variables move it), and every ``relocate`` command in the usual bin
folders and on ``PATH``, followed to the venv it runs. Standard library only: ``relocate
--version -v`` uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys

from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: What ``scripts/install`` writes into the venv it makes: JSON naming the venv's own real
#: path (``prefix``) and the link it made.
RECEIPT = "relocator-install.json"
DEFAULT_PREFIX = "~/.local/share/relocator/venv"
#: What may sit at the top of scripts/install's venv: what ``python -m venv`` and pip put
#: there, and the receipt. A folder holding anything else is not only that venv, and
#: ``uninstall --self`` never removes it.
VENV_ENTRIES = frozenset(
    {"bin", "include", "lib", "lib64", "share", "etc", "pyvenv.cfg", "CACHEDIR.TAG", ".gitignore"}
) | {RECEIPT}
SCRIPT, UV, PIPX, PIP, SOURCE = "scripts/install", "uv tool", "pipx", "pip", "source"
NAME = "relocate"
PIP_EXEC = b"'''exec' "  # line 2 of a script whose python path has a space


class Install(NamedTuple):
    """One copy of relocator: how it was installed, its venv, the ``relocate`` commands
    that run it, and the shell command that removes it."""

    method: str  # SCRIPT, UV, PIPX, PIP (any other venv), or SOURCE (a checkout, no venv)
    prefix: str
    commands: list[str]
    remove: str
    running: bool  # the copy this process runs

    @property
    def ours(self) -> bool:
        """Whether ``relocate uninstall --self`` may remove it (scripts/install's venv)."""
        return self.method == SCRIPT

    def data(self) -> dict[str, object]:
        return {**self._asdict(), "ours": self.ours}


def script_prefix() -> str:
    """Where ``scripts/install`` puts its venv: ``$RELOCATOR_PREFIX``, else its default."""
    given = os.environ.get("RELOCATOR_PREFIX", "")
    return os.path.abspath(os.path.expanduser(given or DEFAULT_PREFIX))


def prefix_problem(prefix: str) -> Optional[str]:
    """Why ``prefix`` cannot be (or no longer is) a venv of scripts/install's alone, which
    ``uninstall --self`` would remove whole; None when it can be. Not an absolute path;
    the root, the home or a folder above it; a folder holding ``~/.local/bin``; a folder
    holding anything a venv does not (a project, ``~/.local`` itself)."""
    if not os.path.isabs(prefix):
        return f"{prefix} is not an absolute path"
    real, home = os.path.realpath(prefix), os.path.realpath(os.path.expanduser("~"))
    if real in (os.sep, home) or home.startswith(real.rstrip(os.sep) + os.sep):
        return f"{prefix} is / or your home or a folder above it, not a venv's own folder"
    bindir = os.path.realpath(os.path.expanduser("~/.local/bin"))
    if bindir == real or bindir.startswith(real + os.sep):
        return f"{prefix} holds {bindir}, not a venv's own folder"
    try:
        names = set(os.listdir(real))
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"{prefix} cannot be read ({e.strerror or e})"
    others = sorted(names - VENV_ENTRIES)
    if others:
        return f"{prefix} holds {others[0]}, which is not part of a venv"
    return None


def method_of(prefix: str) -> Optional[str]:
    """How the venv at ``prefix`` was installed, by its receipt; PIP for another venv with
    a ``relocate`` command; None when it holds none."""
    if os.path.isfile(os.path.join(prefix, "uv-receipt.toml")):
        return UV
    if os.path.isfile(os.path.join(prefix, "pipx_metadata.json")):
        return PIPX
    if not os.path.lexists(os.path.join(prefix, "bin", NAME)):
        return None
    if _made_by_script(prefix):
        return SCRIPT
    return PIP


def _made_by_script(prefix: str) -> bool:
    """Whether the venv at ``prefix`` is scripts/install's, on evidence: a receipt naming
    this very folder (the default folder also holds installs made before the receipt),
    and a folder holding only a venv."""
    recorded = _receipt(prefix).get("prefix")
    if isinstance(recorded, str):
        here = _same(recorded, prefix)
    else:
        here = _same(prefix, os.path.expanduser(DEFAULT_PREFIX))
    return here and prefix_problem(prefix) is None


def running() -> tuple[str, str]:
    """The running copy's install method and its venv (for SOURCE: the checkout)."""
    method = method_of(sys.prefix)
    if method is None:  # run with PYTHONPATH from a checkout, by a Python without it
        return SOURCE, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return method, sys.prefix


def find() -> list[Install]:
    """Every copy of relocator found, the running one first."""
    method, prefix = running()
    found: dict[str, list[str]] = {os.path.realpath(prefix): []}
    prefixes = [(method, prefix)]
    for candidate in _candidates():
        kind = method_of(candidate)
        if kind is not None and os.path.realpath(candidate) not in found:
            found[os.path.realpath(candidate)] = []
            prefixes.append((kind, candidate))
    strays = []
    for command in commands():
        leads = _venv_of(command)
        if leads is not None and os.path.realpath(leads) not in found and method_of(leads):
            found[os.path.realpath(leads)] = []
            prefixes.append((method_of(leads) or PIP, leads))
        key = os.path.realpath(leads) if leads is not None else None
        if key in found:
            found[key].append(command)
        else:
            strays.append(command)
    installs = [
        Install(kind, where, found[os.path.realpath(where)], "", i == 0)
        for i, (kind, where) in enumerate(prefixes)
    ]
    installs = [i._replace(remove=_removal(i)) for i in installs]
    for stray in strays:  # a dangling link, or a script of no venv we know
        installs.append(Install("unknown", "", [stray], f"rm {shlex.quote(stray)}", False))
    return installs


def commands() -> list[str]:
    """Every ``relocate`` in the bin folders installers use and on ``PATH``, each once
    (a folder listed twice counts once)."""
    folders = [
        os.environ.get("UV_TOOL_BIN_DIR", ""),
        os.environ.get("PIPX_BIN_DIR", ""),
        os.environ.get("XDG_BIN_HOME", ""),
        os.path.expanduser("~/.local/bin"),
        *os.environ.get("PATH", "").split(os.pathsep),
    ]
    seen, found = set(), []
    for folder in folders:
        if not os.path.isabs(folder):
            continue
        path = os.path.join(folder, NAME)
        key = os.path.realpath(folder)
        if key in seen or not os.path.lexists(path):
            continue
        seen.add(key)
        found.append(path)
    return found


def uv_tool_dir() -> str:
    """``$UV_TOOL_DIR``, else what ``uv tool dir`` says, else uv's default."""
    given = os.environ.get("UV_TOOL_DIR", "")
    if given:
        return os.path.abspath(os.path.expanduser(given))
    uv = shutil.which("uv")
    if uv is not None:
        try:
            said = subprocess.run(
                [uv, "tool", "dir"], capture_output=True, text=True, timeout=10, check=False
            )
            if said.returncode == 0 and said.stdout.strip():
                return said.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    data = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data):
        data = os.path.expanduser("~/.local/share")
    return os.path.join(data, "uv", "tools")


def pipx_homes() -> list[str]:
    """``$PIPX_HOME``, else the folders pipx uses by default (it moved between versions)."""
    given = os.environ.get("PIPX_HOME", "")
    if given:
        return [os.path.abspath(os.path.expanduser(given))]
    data = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data):
        data = os.path.expanduser("~/.local/share")
    homes = [os.path.join(data, "pipx"), os.path.expanduser("~/.local/pipx")]
    if sys.platform == "darwin":
        homes.append(os.path.expanduser("~/Library/Application Support/pipx"))
    return homes


def removal_steps(install: Install) -> list[str]:
    """What removes scripts/install's copy, a path each: the links that lead into its
    venv (another installer may have taken its link over since), then the venv."""
    target = os.path.realpath(os.path.join(install.prefix, "bin", NAME))
    link = _receipt(install.prefix).get("link")
    found = [*install.commands, *([link] if isinstance(link, str) else [])]
    links = [c for c in found if os.path.islink(c) and os.path.realpath(c) == target]
    return [*dict.fromkeys(links), install.prefix]


def remove_ours(install: Install) -> list[str]:
    """Remove scripts/install's copy (its links to its venv, the venv, and the default
    venv's parent folder when that is left empty); what was removed. Raises OSError."""
    if not install.ours:
        raise ValueError(f"{install.prefix} was not installed by {SCRIPT}")
    problem = prefix_problem(install.prefix)  # again, just before: it may have changed
    if problem is not None:
        raise ValueError(f"{problem}: kept")
    removed = []
    for path in removal_steps(install)[:-1]:
        os.unlink(path)
        removed.append(path)
    shutil.rmtree(install.prefix)
    removed.append(install.prefix)
    parent = os.path.dirname(install.prefix)
    if _same(install.prefix, script_prefix()) and os.path.basename(parent) == "relocator":
        try:
            os.rmdir(parent)
            removed.append(parent)
        except OSError:
            pass  # not empty: something else lives there
    return removed


def summary(install: Install) -> str:
    """One line: how and where, e.g. ``pipx, venv /home/me/.local/share/pipx/venvs/relocator``."""
    if install.method == SOURCE:
        return f"{SOURCE}, run from {install.prefix}"
    if install.method == "unknown":
        return f"a {NAME} command of no install found: {', '.join(install.commands)}"
    return f"{install.method}, venv {install.prefix}"


# -- helpers --------------------------------------------------------------------------


def _candidates() -> list[str]:
    return [
        script_prefix(),
        os.path.join(uv_tool_dir(), "relocator"),
        *[os.path.join(home, "venvs", "relocator") for home in pipx_homes()],
    ]


def _venv_of(command: str) -> Optional[str]:
    """The venv that ``command`` (a link into ``<venv>/bin``, or a script whose ``#!`` names
    ``<venv>/bin/python``) runs; None when it leads to none."""
    real = os.path.realpath(command)
    if not os.path.isfile(real):
        return None
    prefix = os.path.dirname(os.path.dirname(real))
    if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
        return prefix
    try:
        with open(real, "rb") as f:
            first, second = f.readline(4096), f.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    shebang = first[2:].decode("utf-8", "replace").strip()
    pythons = [shebang, *shebang.split()[:1]]
    if second.startswith(PIP_EXEC):  # pip's form for a path a #! line cannot hold
        with contextlib.suppress(ValueError):
            pythons += shlex.split(second.decode("utf-8", "replace"))[1:2]
    for python in pythons:
        prefix = os.path.dirname(os.path.dirname(python))
        if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
            return prefix
    return None


def _removal(install: Install) -> str:
    name = "relocator"
    if install.method == UV:
        return f"uv tool uninstall {name}"
    if install.method == PIPX:
        return f"pipx uninstall {name}"
    if install.method == SCRIPT:
        paths = removal_steps(install)
        commands = [f"rm {shlex.quote(p)}" for p in paths[:-1]]
        commands.append(f"rm -rf {shlex.quote(install.prefix)}")
        if _same(install.prefix, script_prefix()) and install.prefix.endswith("/relocator/venv"):
            commands.append(f"rmdir {shlex.quote(os.path.dirname(install.prefix))}")
        return " && ".join(commands)
    if install.method == SOURCE:
        return f"nothing is installed: relocator runs from the checkout {install.prefix}"
    python = os.path.join(install.prefix, "bin", "python")
    return f"{shlex.quote(python)} -m pip uninstall {name}"


def _receipt(prefix: str) -> dict[str, object]:
    try:
        with open(os.path.join(prefix, RECEIPT), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def in_the_way(link: str, prefix: str) -> Optional[str]:
    """Why ``scripts/install`` must not make ``link`` (``~/.local/bin/relocate``) lead to
    its venv at ``prefix``: what is there and what to run. None when nothing is there or
    it is scripts/install's own link (to ``prefix`` or to another venv with its receipt),
    which it takes over."""
    if not os.path.lexists(link):
        return None
    venv = _venv_of(link)
    method = method_of(venv) if venv is not None else None
    if method == SCRIPT or (venv is not None and _same(venv, prefix)):
        return None
    again = "then run scripts/install again"
    if method == UV:
        return (
            f"{link} is relocate installed with uv tool install (venv {venv}): keep that one "
            f"(`uv tool install --reinstall relocator` updates it), or `uv tool uninstall "
            f"relocator` and {again}"
        )
    if method == PIPX:
        return (
            f"{link} is relocate installed with pipx (venv {venv}): keep that one (`pipx "
            f"upgrade relocator` updates it), or `pipx uninstall relocator` and {again}"
        )
    if venv is not None:
        python = shlex.quote(os.path.join(venv, "bin", "python"))
        return (
            f"{link} runs relocate from the venv {venv}: `{python} -m pip uninstall "
            f"relocator` (and `rm {shlex.quote(link)}` if it stays), {again}"
        )
    return f"{link} is there and is not relocator's: move it away, {again}"


def _prefix_refused(prefix: str) -> Optional[str]:
    """Why scripts/install must not make its venv at ``prefix`` (RELOCATOR_PREFIX): a
    folder that is not a venv's own, or one that holds another venv than its own."""
    problem = prefix_problem(prefix)
    method = method_of(prefix) if os.path.lexists(os.path.join(prefix, "pyvenv.cfg")) else SCRIPT
    # a venv of its own, or the default folder's half-made one (an install that failed)
    half_made = method is None and _same(prefix, os.path.expanduser(DEFAULT_PREFIX))
    if problem is None and method != SCRIPT and not half_made:
        problem = f"{prefix} is a venv scripts/install did not make"
    if problem is None:
        return None
    return f"{problem}: set RELOCATOR_PREFIX to a new folder (or unset it), then run again"


def main(argv: list[str]) -> int:
    """``python -m relocator.host.installs in-the-way LINK PREFIX``: for scripts/install, which
    runs it from the checkout with the system's python3 before anything is installed."""
    if len(argv) == 3 and argv[0] == "in-the-way":
        from relocator.errors import say

        link, prefix = argv[1], argv[2]
        problem = _prefix_refused(prefix) or in_the_way(link, prefix)
        if problem is not None:
            say(problem)
            return 1
        earlier = _venv_of(link) if os.path.lexists(link) else None
        if earlier is not None and not _same(earlier, prefix):  # RELOCATOR_PREFIX changed
            print(f"note: {link} led to {earlier}, which stays: rm -rf {shlex.quote(earlier)}")
        return 0
    sys.stderr.write("usage: python -m relocator.host.installs in-the-way LINK PREFIX\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
