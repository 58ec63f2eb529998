"""``relocate service install | uninstall``: the unit that starts the watcher at login.

The watcher itself (``relocate service run``) is :mod:`relocator.commands.service`; this module only
writes, loads and removes what starts it (:mod:`relocator.commands.watcher` reads what it reports):

* macOS: a launchd agent, ``~/Library/LaunchAgents/io.github.relocator.service.plist``,
  enabled and loaded with ``launchctl enable`` and ``bootstrap`` (:mod:`relocator.host.launchd`).
* elsewhere: a systemd user unit, ``$XDG_CONFIG_HOME/systemd/user/relocator.service``,
  enabled with ``systemctl --user``.

``RELOCATOR_SERVICE_PLATFORM=launchd|systemd`` (or the ``platform`` argument) picks one
regardless of the system, so both are tested on Linux. A unit file is relocator's only
when it says so (systemd: the comment line :data:`MARK`; launchd: our label running
relocate's ``service run``, :func:`launchd.is_ours`): install overwrites and uninstall
removes nothing else. Both units run the watcher as ``service run --unit`` and name the
store in ``RELOCATOR_HOME``. When the unit cannot be loaded
(no user systemd session, as in a container; no launchctl), install still writes it and
says why and what to run by hand: the file is right, only starting it waits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

from relocator.errors import RelocatorError
from relocator.host import launchd
from relocator.host.launchd import LABEL, UNIT_FLAG
from relocator.host.shells import executable
from relocator.host.unitcalls import Load, ask, run
from relocator.state.store import Store
from relocator.system.files import bare_line, read_regular, split_lines, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

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


def _unit_state(path: str, platform: str) -> str:
    """``absent``, ``ours`` (a regular file that says it is relocator's) or ``foreign``."""
    if not os.path.lexists(path):
        return "absent"
    try:
        data = read_regular(path, 1 << 20, follow=False)  # a symlink is never one we wrote
    except OSError:
        return "foreign"
    if data is None:
        return "foreign"
    if platform == LAUNCHD:
        ours = launchd.is_ours(data)
    else:
        mark = MARK.encode()
        ours = any(bare_line(line).strip() == mark for line in split_lines(data))
    return "ours" if ours else "foreign"


def _refuse_foreign(path: str, platform: str, doing: str) -> RelocatorError:
    what = (
        f"the label {LABEL} running relocate service run"
        if platform == LAUNCHD
        else f"the line {MARK!r}"
    )
    return RelocatorError(
        f"{path} was not written by relocate service install (it lacks {what}); "
        f"relocate does not {doing} it: move it away yourself if it should go"
    )


# -- running launchctl and systemctl -------------------------------------------


def _systemctl(*args: str) -> list[str]:
    return [shutil.which("systemctl") or "systemctl", "--user", *args]


def _systemd_load() -> Load:
    """Enable, reload, restart. ``enable`` goes first because it works without a session
    (it only makes a link), so a unit written where no user manager is reachable (over
    ``sudo``, or ssh without a session) still starts at the next login. ``restart``, not
    ``start``: a watcher already running (an older version, say) makes way for this unit."""
    manual = f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}"
    if shutil.which("systemctl") is None:
        return Load(
            False, False, "systemctl was not found (this system does not run systemd)", manual
        )
    enabled, why = run(_systemctl("enable", UNIT_NAME))
    if enabled:
        ok, why = run(_systemctl("daemon-reload"))
        if ok:
            ok, why = run(_systemctl("restart", UNIT_NAME))
            if ok:
                return Load(True, True)
            why += f" (journalctl --user -u {UNIT_NAME} says more)"
            return Load(False, True, why, f"systemctl --user restart {UNIT_NAME}")
    if "Failed to connect to bus" in why:
        why += " (no systemd user session is reachable from here)"
    return Load(False, enabled, why, manual)


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
    load = launchd.load(path) if chosen == LAUNCHD else _systemd_load()
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
    stopped = launchd.unload(notes) if chosen == LAUNCHD else _systemd_unload(notes)
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
            ok, why = run(_systemctl("daemon-reload"))
            if not ok:
                notes.append(f"systemctl --user daemon-reload failed: {why}")
    return result


def _systemd_unload(notes: list[str]) -> Optional[bool]:
    """Disable and stop the unit: whether it stopped; None when no user session could be
    reached (so no systemd of this user's runs the watcher from here)."""
    if shutil.which("systemctl") is None:
        notes.append("systemctl was not found, so nothing was stopped")
        return False
    ok, why = run(_systemctl("disable", "--now", UNIT_NAME))
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


# -- status -------------------------------------------------------------------------


def installed(path: str, platform: str) -> bool:
    """Whether the unit at ``path`` is there and relocator's own."""
    return _unit_state(path, platform) == "ours"


def enabled(platform: str) -> Optional[bool]:
    """Whether the service manager would start the unit at login: False when the user
    disabled it (``launchctl disable``, Login Items; ``systemctl --user disable``), None
    when the manager cannot be asked."""
    if platform == LAUNCHD:
        return launchd.enabled()
    answer = ask(_systemctl("is-enabled", UNIT_NAME))
    if answer is None:
        return None
    word = answer[1].strip()
    if word in ("disabled", "masked", "masked-runtime"):
        return False
    return True if word in ("enabled", "enabled-runtime", "linked") else None
