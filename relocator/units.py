"""``relocate service install | uninstall``: the unit that starts the watcher at login.

The watcher itself (``relocate service run``) is :mod:`relocator.service`; this module only
writes, loads and removes what starts it (:mod:`relocator.watcher` reads what it reports):

* macOS: a launchd agent, ``~/Library/LaunchAgents/io.github.relocator.service.plist``,
  loaded with ``launchctl bootstrap gui/<uid>``.
* elsewhere: a systemd user unit, ``$XDG_CONFIG_HOME/systemd/user/relocator.service``,
  enabled with ``systemctl --user``.

``RELOCATOR_SERVICE_PLATFORM=launchd|systemd`` (or the ``platform`` argument) picks one
regardless of the system, so both are tested on Linux. A unit file is relocator's only
when it carries :data:`MARK` (systemd: a comment line; launchd: the ``RelocatorWrittenBy``
key): install overwrites and uninstall removes nothing else. When the unit cannot be loaded
(no user systemd session, as in a container; no launchctl), install still writes it and
says why and what to run by hand: the file is right, only starting it waits.
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import shutil
import subprocess
import sys
import time

from relocator.errors import RelocatorError, telling
from relocator.files import bare_line, read_regular, split_lines, write_atomic
from relocator.records import NamedTuple
from relocator.shells import executable
from relocator.store import Store, default_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

LAUNCHD = "launchd"
SYSTEMD = "systemd"
PLATFORM_ENV = "RELOCATOR_SERVICE_PLATFORM"
LABEL = "io.github.relocator.service"
UNIT_NAME = "relocator.service"
MARK = "# written by relocate service install"  # a line of its own in the systemd unit
PLIST_MARK_KEY = "RelocatorWrittenBy"
PLIST_MARK = "relocate service install"
LOG_FILE = "service.out"  # in the store's logs/: launchd's stdout and stderr (systemd: journal)
NICE = 10
_TIMEOUT = 30.0  # for one launchctl or systemctl call


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
    """The command line that runs the watcher: ``[<relocate>, "service", "run"]``, with the
    installed ``relocate`` as the rc line names it (:func:`shells.executable`); without
    one, ``[sys.executable, "-m", "relocator", "service", "run"]``."""
    exe = executable()
    return [exe, "service", "run"] if exe else [sys.executable, "-m", "relocator", "service", "run"]


# -- the unit files ----------------------------------------------------------


def render(platform: str, argv: list[str], store: Store) -> bytes:
    """The unit file's bytes: a launchd plist, or a systemd unit."""
    home = _relocator_home(store)
    if platform == LAUNCHD:
        log = os.path.join(store.logs, LOG_FILE)
        agent: dict[str, Any] = {
            "Label": LABEL,
            "ProgramArguments": argv,
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},  # like systemd's Restart=on-failure
            "ProcessType": "Background",
            "LowPriorityIO": True,
            "Nice": NICE,
            "StandardOutPath": log,
            "StandardErrorPath": log,
            PLIST_MARK_KEY: PLIST_MARK,
        }
        if home is not None:
            agent["EnvironmentVariables"] = {"RELOCATOR_HOME": home}
        try:
            return plistlib.dumps(agent, sort_keys=True)
        except UnicodeError:
            raise RelocatorError(_NOT_UTF8.format(what=" ".join(argv), home=home)) from None
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
        "Restart=on-failure",
        "RestartSec=10",  # launchd's own throttle; systemd's 100 ms soon hits its start limit
        f"Nice={NICE}",
        "IOSchedulingClass=idle",
    ]
    if home is not None:
        lines.append("Environment=" + _systemd_word(f"RELOCATOR_HOME={home}", exec_arg=False))
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    text = "\n".join(lines)
    try:
        return text.encode("utf-8")
    except UnicodeError:
        raise RelocatorError(_NOT_UTF8.format(what=argv[0], home=home)) from None


_NOT_UTF8 = (
    "cannot write a service unit for a path that is not UTF-8 ({what}, store {home}); "
    "install relocate, or set RELOCATOR_HOME, to a path that is"
)


def _relocator_home(store: Store) -> Optional[str]:
    """The store root the watcher must be told, or None when it finds it by itself (the
    default, with no ``RELOCATOR_HOME`` set). The absolute root is written, never a ``~``."""
    if os.environ.get("RELOCATOR_HOME") or store.root != default_root():
        return store.root
    return None


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


def _unit_state(path: str, platform: str) -> str:
    """``absent``, ``ours`` (a regular file carrying our mark) or ``foreign``."""
    if not os.path.lexists(path):
        return "absent"
    try:
        data = read_regular(path, 1 << 20, follow=False)  # a symlink is never one we wrote
    except OSError:
        return "foreign"
    if data is None:
        return "foreign"
    if platform == LAUNCHD:
        try:
            agent = plistlib.loads(data)
        except Exception:  # plistlib raises several kinds on garbage
            return "foreign"
        ours = isinstance(agent, dict) and agent.get(PLIST_MARK_KEY) == PLIST_MARK
    else:
        mark = MARK.encode()
        ours = any(bare_line(line).strip() == mark for line in split_lines(data))
    return "ours" if ours else "foreign"


def _refuse_foreign(path: str, platform: str, doing: str) -> RelocatorError:
    what = f"the {PLIST_MARK_KEY} key" if platform == LAUNCHD else f"the line {MARK!r}"
    return RelocatorError(
        f"{path} was not written by relocate service install (it lacks {what}); "
        f"relocate does not {doing} it: move it away yourself if it should go"
    )


# -- running launchctl and systemctl -------------------------------------------


def _run(args: list[str]) -> tuple[bool, str]:
    """Run a launchctl or systemctl command: whether it succeeded, and if not, why (its last
    line of output, or what kept it from running)."""
    try:
        done = subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return False, f"{os.path.basename(args[0])} was not found"
    except subprocess.TimeoutExpired:
        return False, f"`{shlex.join(args)}` did not answer within {_TIMEOUT:g}s"
    except OSError as e:
        return False, f"`{shlex.join(args)}` could not run ({e.strerror or e})"
    if done.returncode == 0:
        return True, ""
    said = telling((done.stderr + "\n" + done.stdout).splitlines())  # not a "Removed ..." line
    return False, said or f"`{shlex.join(args)}` exited with {done.returncode}"


def _systemctl(*args: str) -> list[str]:
    return [shutil.which("systemctl") or "systemctl", "--user", *args]


class _Load(NamedTuple):
    loaded: bool  # runs now
    enabled: bool  # starts at the next login
    reason: Optional[str] = None  # why it does not run now
    manual: Optional[str] = None  # the command that starts it by hand


def _systemd_load() -> _Load:
    """Enable, reload, restart. ``enable`` goes first because it works without a session
    (it only makes a link), so a unit written where no user manager is reachable (over
    ``sudo``, or ssh without a session) still starts at the next login. ``restart``, not
    ``start``: a watcher already running (an older version, say) makes way for this unit."""
    manual = f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}"
    if shutil.which("systemctl") is None:
        return _Load(
            False, False, "systemctl was not found (this system does not run systemd)", manual
        )
    enabled, why = _run(_systemctl("enable", UNIT_NAME))
    if enabled:
        ok, why = _run(_systemctl("daemon-reload"))
        if ok:
            ok, why = _run(_systemctl("restart", UNIT_NAME))
            if ok:
                return _Load(True, True)
            why += f" (journalctl --user -u {UNIT_NAME} says more)"
            return _Load(False, True, why, f"systemctl --user restart {UNIT_NAME}")
    if "Failed to connect to bus" in why:
        why += " (no systemd user session is reachable from here)"
    return _Load(False, enabled, why, manual)


def _launchd_domain() -> str:
    return f"gui/{os.getuid()}"


def _launchd_loaded(launchctl: str) -> bool:
    return _run([launchctl, "print", f"{_launchd_domain()}/{LABEL}"])[0]


def _launchd_load(path: str) -> _Load:
    """Bootout a loaded agent (launchd keeps the plist it read at bootstrap), then bootstrap
    the one just written. Every agent in ``~/Library/LaunchAgents`` loads at login, so where
    launchd runs the agent is enabled even when it cannot be loaded now."""
    domain = _launchd_domain()
    bootstrap = f"launchctl bootstrap {domain} {shlex.quote(path)}"
    launchctl = shutil.which("launchctl")
    if launchctl is None:
        return _Load(
            False, False, "launchctl was not found (launchd agents run only on macOS)", bootstrap
        )
    was_loaded = _launchd_loaded(launchctl)
    if was_loaded:
        _run([launchctl, "bootout", f"{domain}/{LABEL}"])  # a failure shows in bootstrap
        bootstrap = f"launchctl bootout {domain}/{LABEL}; {bootstrap}"
    for attempt in range(4):
        ok, why = _run([launchctl, "bootstrap", domain, path])
        if ok:
            return _Load(True, True)
        if not was_loaded:
            break
        time.sleep(0.5 * (attempt + 1))  # bootout returns before the old job is gone
    return _Load(False, True, why, bootstrap)


# -- install, uninstall ----------------------------------------------------------


def install(store: Optional[Store] = None, *, platform: Optional[str] = None) -> dict[str, Any]:
    """Write the unit that runs the watcher, and load (launchd) or enable and start
    (systemd) it.

    Returns ``{platform, unit, command, changed, loaded, enabled, reason, manual, message}``:
    ``loaded`` says the watcher runs now, ``enabled`` that it starts at the next login; when
    it does not run, ``reason`` says why and ``manual`` is the command that starts it by
    hand. The unit file is written all the same. A file of the
    same name that relocate did not write is refused (:class:`RelocatorError`), untouched.
    """
    chosen = platform_name(platform)
    store = (store or Store()).ensure()  # launchd writes the log there, and never makes folders
    path = unit_path(chosen)
    argv = command()
    data = render(chosen, argv, store)
    state = _unit_state(path, chosen)
    if state == "foreign":
        raise _refuse_foreign(path, chosen, "overwrite")
    changed = state == "absent" or read_regular(path, follow=False) != data
    if changed:
        try:
            write_atomic(path, data)
            os.chmod(path, 0o644)  # launchd refuses a plist others may write
        except OSError as e:
            raise RelocatorError(
                f"cannot write {path} ({e.strerror or e}); "
                "make its folder writable, or move what is in the way"
            ) from None
    load = _launchd_load(path) if chosen == LAUNCHD else _systemd_load()
    if load.loaded:
        message = f"installed {path}; the watcher runs now and at every login"
    elif load.enabled:
        message = (
            f"installed {path} (the watcher starts at the next login), but could not start it "
            f"now: {load.reason}; start it by hand with: {load.manual}"
        )
    else:
        message = (
            f"wrote {path}, but could not enable or start it: {load.reason}; "
            f"do it by hand with: {load.manual}"
        )
    return {
        "platform": chosen,
        "unit": path,
        "command": argv,
        "changed": changed,
        "loaded": load.loaded,
        "enabled": load.enabled,
        "reason": load.reason,
        "manual": load.manual,
        "message": message,
    }


def uninstall(*, platform: Optional[str] = None) -> dict[str, Any]:
    """Stop the watcher and remove the unit file, when relocate wrote it.

    Returns ``{platform, unit, removed: [paths], notes: [lines], stopped}``. Stopping is
    best effort: a failure there is a note (``stopped`` false: a watcher it started may
    run on), and the file goes anyway; with no user session to reach, nothing there runs
    it (``stopped`` true, and a note says so). The folders the systemd unit lived in go
    too when it was all they held. Nothing installed is no
    error (nothing removed, no note); a file of the same name that relocate did not write
    is refused (:class:`RelocatorError`) before anything is stopped.
    """
    chosen = platform_name(platform)
    path = unit_path(chosen)
    result: dict[str, Any] = {
        "platform": chosen,
        "unit": path,
        "removed": [],
        "notes": [],
        "stopped": True,
    }
    state = _unit_state(path, chosen)
    if state == "foreign":
        raise _refuse_foreign(path, chosen, "remove")
    if state == "absent":
        return result
    notes: list[str] = result["notes"]
    stopped = _launchd_unload(notes) if chosen == LAUNCHD else _systemd_unload(notes)
    result["stopped"] = stopped is not False
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise RelocatorError(
            f"cannot remove {path} ({e.strerror or e}); remove it yourself"
        ) from None
    result["removed"].append(path)
    if chosen == SYSTEMD:
        result["removed"] += _remove_wants_link(path)
        result["removed"] += _remove_folders(path)
        if stopped:
            ok, why = _run(_systemctl("daemon-reload"))
            if not ok:
                notes.append(f"systemctl --user daemon-reload failed: {why}")
    return result


def _systemd_unload(notes: list[str]) -> Optional[bool]:
    """Disable and stop the unit: whether it stopped; None when no user session could be
    reached (so no systemd of this user's runs the watcher from here)."""
    if shutil.which("systemctl") is None:
        notes.append("systemctl was not found, so nothing was stopped")
        return False
    ok, why = _run(_systemctl("disable", "--now", UNIT_NAME))
    if not ok and "Failed to connect to bus" in why:
        notes.append(
            f"no systemd user session is reachable from here ({why}), so none runs the "
            "watcher to stop"
        )
        return None
    if not ok:
        notes.append(
            f"`systemctl --user disable --now {UNIT_NAME}` failed ({why}); a watcher it "
            "started may run until that session ends: run the command there to stop it now"
        )
    return ok


def _remove_wants_link(path: str) -> list[str]:
    """The link ``enable`` made to our unit, when ``disable`` left it (systemctl missing, or
    failing before it got there): it would point at nothing. Only a link to exactly our unit
    path goes."""
    wants = os.path.join(os.path.dirname(path), "default.target.wants", UNIT_NAME)
    with contextlib.suppress(OSError):
        if os.path.islink(wants) and os.readlink(wants) == path:
            os.unlink(wants)
            return [wants]
    return []


def _remove_folders(path: str) -> list[str]:
    """The folders the unit ``path`` lived in, ``systemd/user`` (with the
    ``default.target.wants`` that ``enable`` made) and ``systemd``, when the unit was all
    they held: each only when empty. Never the config folder itself (``~/.config``)."""
    user = os.path.dirname(path)
    wants = os.path.join(user, "default.target.wants")
    gone = []
    for folder in (wants, user, os.path.dirname(user)):
        if folder == wants and not os.path.lexists(folder):
            continue
        try:
            os.rmdir(folder)  # refuses a folder that holds anything, and a symlink
        except OSError:
            break
        gone.append(folder)
    return gone


def _launchd_unload(notes: list[str]) -> bool:
    launchctl = shutil.which("launchctl")
    if launchctl is None:
        notes.append("launchctl was not found, so nothing was unloaded")
        return False
    if not _launchd_loaded(launchctl):
        return True
    target = f"{_launchd_domain()}/{LABEL}"
    ok, why = _run([launchctl, "bootout", target])
    if not ok:
        notes.append(
            f"could not unload {LABEL} ({why}); if it still runs: launchctl bootout {target}"
        )
    return ok


# -- status -------------------------------------------------------------------------


def installed(path: str, platform: str) -> bool:
    """Whether the unit at ``path`` is there and relocator's own."""
    return _unit_state(path, platform) == "ours"
