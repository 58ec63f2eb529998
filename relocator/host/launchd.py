"""The launchd agent of ``relocate service install`` (macOS): its plist, whether a plist is
ours, and loading and unloading it with ``launchctl``.

The agent is ``~/Library/LaunchAgents/io.github.relocator.service.plist``. It carries only
keys documented in launchd.plist(5); relocator knows its own plist by what it says, not by
a mark of its own: the :data:`LABEL` and ``ProgramArguments`` that run relocate's
``service run --unit`` (:func:`is_ours`). On install it is enabled
(``launchctl enable gui/<uid>/<label>``, which clears a ``launchctl disable``; whether it
also clears a switch turned off in Login Items is not known), then bootstrapped into
``gui/<uid>``. None of this has run on a Mac: the
tests put a recording ``launchctl`` on PATH (docs/scan-and-service.md says what is proven
by reading and what is not).
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import time

from relocator.errors import RelocatorError
from relocator.host.unitcalls import Load, ask, run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

LABEL = "io.github.relocator.service"
UNIT_FLAG = "--unit"  # `service run --unit`: started by a unit (see relocator.commands.service.run)
#: What follows the program in ProgramArguments: relocate's own, or ``python -m relocator``.
_OUR_ARGS = (["service", "run", UNIT_FLAG], ["-m", "relocator", "service", "run", UNIT_FLAG])
#: The same, as written before ``--unit``: still ours, so install replaces it.
_OLD_ARGS = tuple(args[:-1] for args in _OUR_ARGS)


def plist(argv: list[str], env: dict[str, str], log: str, nice: int) -> bytes:
    """The agent's bytes: runs ``argv`` at login with the variables ``env``
    (:func:`relocator.host.unitfile.environment`)."""
    agent: dict[str, Any] = {
        "Label": LABEL,
        "ProgramArguments": argv,
        "RunAtLoad": True,
        # Started again only when it exits non-zero (a crash, a signal): the watcher exits 0
        # when stopped and when another already holds the store (run with --unit), so a
        # second one is not respawned every 10 seconds while the first runs. The systemd
        # unit's Restart=on-failure does the same.
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": nice,
        "StandardOutPath": log,
        "StandardErrorPath": log,
        # launchd gives an agent no shell variable: the store is always named, since the
        # installing shell's default (XDG_CACHE_HOME) may not be the agent's
        "EnvironmentVariables": env,
    }
    try:
        return plistlib.dumps(agent, sort_keys=True)
    except UnicodeError:
        raise RelocatorError(
            f"cannot write a service unit for a path that is not UTF-8 ({' '.join(argv)}, "
            f"store {env['RELOCATOR_HOME']}); install relocate, or set RELOCATOR_HOME, to a "
            "path that is"
        ) from None


def is_ours(data: bytes) -> bool:
    """Whether the plist ``data`` is one ``relocate service install`` wrote: our label, and
    a program that is relocate's ``service run`` (``--unit``, or as written before it):
    a ``relocate`` by that name, or a python running ``-m relocator``."""
    try:
        agent = plistlib.loads(data)
    except Exception:  # plistlib raises several kinds on garbage
        return False
    if not isinstance(agent, dict) or agent.get("Label") != LABEL:
        return False
    argv = agent.get("ProgramArguments")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return False
    program: str = argv[0] if argv else ""
    if argv[1:] in (_OUR_ARGS[0], _OLD_ARGS[0]):
        return os.path.basename(program) == "relocate"  # as shells.executable finds it
    return argv[1:] in (_OUR_ARGS[1], _OLD_ARGS[1])  # any python, running the module


def program(path: str) -> Optional[str]:
    """The program relocator's agent at ``path`` runs (``ProgramArguments[0]``); None when
    there is no agent there, or it is not ours."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)
    except OSError:
        return None
    return str(plistlib.loads(data)["ProgramArguments"][0]) if is_ours(data) else None


def _domain() -> str:
    return f"gui/{os.getuid()}"


def _loaded(launchctl: str) -> bool:
    return run([launchctl, "print", f"{_domain()}/{LABEL}"])[0]


def enabled() -> Optional[bool]:
    """Whether launchd may start the agent: False when it is disabled in ``gui/<uid>``
    (``launchctl disable``, which Login Items may do too), None when ``launchctl
    print-disabled`` does not tell."""
    launchctl = shutil.which("launchctl")
    answer = ask([launchctl, "print-disabled", _domain()]) if launchctl else None
    if answer is None or answer[0] != 0:
        return None
    return enabled_in(answer[1])


def enabled_in(listing: str) -> bool:
    """Whether ``launchctl print-disabled``'s ``listing`` leaves the agent enabled: a line
    ``"<label>" => disabled`` (``=> true`` on older macOS) says it is not; a label
    that is not listed is enabled."""
    for line in listing.splitlines():
        name, arrow, value = line.partition("=>")
        if arrow and name.strip().strip('"') == LABEL:
            return value.strip() not in ("disabled", "true")
    return True


def load(path: str) -> Load:
    """Enable the agent, bootout a loaded one (launchd keeps the plist it read at
    bootstrap), then bootstrap the one just written.

    ``enable`` comes first: a service the user disabled (``launchctl disable``; on macOS 13
    and later, switched off in Login Items) is refused by ``bootstrap``. When ``enable``
    fails the agent is reported not enabled, and not loaded: nothing says it would start at
    the next login."""
    domain = _domain()
    target = f"{domain}/{LABEL}"
    enable = f"launchctl enable {target}"
    bootstrap = f"launchctl bootstrap {domain} {shlex.quote(path)}"
    launchctl = shutil.which("launchctl")
    if launchctl is None:
        return Load(
            False,
            False,
            "launchctl was not found (launchd agents run only on macOS)",
            f"{enable} && {bootstrap}",
        )
    enabled, why = run([launchctl, "enable", target])
    if not enabled:
        why += " (the agent may be switched off in System Settings > General > Login Items)"
        return Load(False, False, why, f"{enable} && {bootstrap}")
    was_loaded = _loaded(launchctl)
    if was_loaded:
        run([launchctl, "bootout", target])  # a failure shows in bootstrap
        bootstrap = f"launchctl bootout {target}; {bootstrap}"
    for attempt in range(4):
        ok, why = run([launchctl, "bootstrap", domain, path])
        if ok:
            return Load(True, True)
        if not was_loaded:
            break
        time.sleep(0.5 * (attempt + 1))  # bootout returns before the old job is gone
    return Load(False, True, why, bootstrap)


def unload(notes: list[str]) -> bool:
    """Bootout the agent when loaded: whether it no longer runs (a failure is a note)."""
    launchctl = shutil.which("launchctl")
    if launchctl is None:
        notes.append("launchctl was not found, so nothing was unloaded")
        return False
    if not _loaded(launchctl):
        return True
    target = f"{_domain()}/{LABEL}"
    ok, why = run([launchctl, "bootout", target])
    if not ok:
        notes.append(
            f"could not unload {LABEL} ({why}); if it still runs: launchctl bootout {target}"
        )
    return ok
