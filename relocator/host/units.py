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

from relocator.errors import RelocatorError
from relocator.host import launchd
from relocator.host.launchd import LABEL
from relocator.host.unitcalls import Load, ask, run
from relocator.host.unitfile import (
    LAUNCHD,
    MARK,
    SYSTEMD,
    UNIT_NAME,
    command,
    platform_name,
    render,
    unit_path,
)
from relocator.state.store import Store
from relocator.system.files import bare_line, read_regular, split_lines, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


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
