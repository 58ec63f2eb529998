"""Which service unit this machine takes and what it says: launchd or systemd
(``RELOCATOR_SERVICE_PLATFORM`` picks one regardless of the system), where its file goes, the
command it runs (relocate's own, or ``python -m relocator``), the environment it names (the
store, a HOME or config that is not the account's own), and its text: a launchd plist or a
systemd unit with every word quoted as systemd reads it.
"""

from __future__ import annotations

import os
import sys

from relocator.errors import RelocatorError
from relocator.host import launchd
from relocator.host.launchd import LABEL, UNIT_FLAG
from relocator.host.shells import executable
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


LAUNCHD = "launchd"
SYSTEMD = "systemd"
PLATFORM_ENV = "RELOCATOR_SERVICE_PLATFORM"
UNIT_NAME = "relocator.service"
MARK = "# written by relocate service install"  # a line of its own in the systemd unit
LOG_FILE = "service.out"  # in the store's logs/: launchd's stdout and stderr (systemd: journal)
NICE = 10


# -- where, and what runs ----------------------------------------------------


def platform_name(platform: Optional[str] = None) -> str:
    """``launchd`` or ``systemd``: ``platform`` if given, else ``$RELOCATOR_SERVICE_PLATFORM``,
    else launchd on macOS and systemd everywhere else."""
    chosen = platform or os.environ.get(PLATFORM_ENV) or ""
    if not chosen:
        return LAUNCHD if sys.platform == "darwin" else SYSTEMD
    if chosen not in (LAUNCHD, SYSTEMD):
        raise RelocatorError(
            f"{PLATFORM_ENV} must be {LAUNCHD} or {SYSTEMD} (got {chosen!r}); "
            "fix it, or unset it to use the system's own"
        )
    return chosen


def unit_path(platform: Optional[str] = None) -> str:
    """Where the unit of ``platform`` goes (under ``$HOME``, or ``$XDG_CONFIG_HOME``)."""
    if platform_name(platform) == LAUNCHD:
        return os.path.join(os.path.expanduser("~/Library/LaunchAgents"), LABEL + ".plist")
    config = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config):  # the XDG spec: a relative value is ignored
        config = os.path.expanduser("~/.config")
    return os.path.join(config, "systemd", "user", UNIT_NAME)


def command() -> list[str]:
    """The command line that runs the watcher: ``[<relocate>, "service", "run", "--unit"]``,
    with the installed ``relocate`` as the rc line names it (:func:`shells.executable`);
    without one, ``[sys.executable, "-m", "relocator", "service", "run", "--unit"]``."""
    exe = executable()
    head = [exe] if exe else [sys.executable, "-m", "relocator"]
    return [*head, "service", "run", UNIT_FLAG]


def program() -> str:
    """The program the watcher runs: the installed launchd agent's, else what ``install``
    would write (what macOS's privacy settings must allow, :mod:`relocator.host.access`)."""
    if platform_name() == LAUNCHD:
        return launchd.program(unit_path(LAUNCHD)) or command()[0]
    return command()[0]


# -- the unit files ----------------------------------------------------------


def environment(store: Store) -> dict[str, str]:
    """The variables the unit gives the watcher. Neither launchd nor a systemd user manager
    gives it the installing shell's, so the store's absolute root is always named in
    ``RELOCATOR_HOME`` (``XDG_CACHE_HOME`` moves the default store, among others), and
    so are the settings file (``RELOCATOR_CONFIG``) when one is set and ``HOME`` when it
    is not the account's own: a watcher installed under another home acts for that home
    (its sync roots and settings), never for the account's real one."""
    import pwd

    env = {"RELOCATOR_HOME": store.root}
    config = os.environ.get("RELOCATOR_CONFIG", "")
    if config:
        env["RELOCATOR_CONFIG"] = os.path.abspath(config)
    home = os.environ.get("HOME", "")
    try:
        own = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:  # no account entry: HOME is all there is
        own = ""
    if home and os.path.isabs(home) and home != own:
        env["HOME"] = home
    return env


def render(platform: str, argv: list[str], store: Store) -> bytes:
    """The unit file's bytes: a launchd plist, or a systemd unit, each giving the watcher
    the variables of :func:`environment`."""
    home = store.root
    env = environment(store)
    if platform == LAUNCHD:
        return launchd.plist(argv, env, os.path.join(store.logs, LOG_FILE), NICE)
    exec_start = " ".join(
        [_systemd_exe(argv[0]), *(_systemd_word(a, exec_arg=True) for a in argv[1:])]
    )
    lines = [
        MARK,
        "# `relocate service uninstall` stops and removes this file (only while it has the line",
        "# above); `relocate service status` says whether the watcher runs.",
        "[Unit]",
        "Description=relocator watcher: keeps Python venvs out of cloud-synced folders",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        # Started again only on failure: with --unit, a watcher finding another one holding
        # the store exits 0, so it is not restarted while that one runs (launchd: the same)
        "Restart=on-failure",
        "RestartSec=10",  # launchd's own throttle; systemd's 100 ms soon hits its start limit
        f"Nice={NICE}",
        "IOSchedulingClass=idle",
        *("Environment=" + _systemd_word(f"{k}={v}", exec_arg=False) for k, v in env.items()),
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    text = "\n".join(lines)
    try:
        return text.encode("utf-8")
    except UnicodeError:
        raise RelocatorError(_NOT_UTF8.format(what=argv[0], home=home)) from None


_NOT_UTF8 = (
    "cannot write a service unit for a path that is not UTF-8 ({what}, store {home}); "
    "install relocate, or set RELOCATOR_HOME, to a path that is"
)


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.,:@+=-%$")


def _systemd_word(word: str, *, exec_arg: bool) -> str:
    """One word of a systemd setting, quoted as systemd unquotes it: ``%`` is a specifier
    (``%%``); in an ExecStart argument ``$`` expands a variable (``$$``); quotes and
    backslashes are C-escaped inside double quotes, as are control characters."""
    word = word.replace("%", "%%")
    if exec_arg:
        word = word.replace("$", "$$")
    if word and set(word) <= _SAFE:
        return word
    out = []
    for ch in word:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _systemd_exe(path: str) -> str:
    """ExecStart's first word: systemd expands no variable in it (a ``$`` stays), and runs
    no program whose path holds a quote, a backslash or a control character."""
    if any(ch in "\"'\\" or ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise RelocatorError(
            f"systemd cannot run a program whose path holds quotes, backslashes or control "
            f"characters ({path!r}); install relocate in a folder without them"
        )
    return _systemd_word(path, exec_arg=False)
