"""What the watcher reports (``relocate service status``), and what the sync daemons cost.

The watcher (:mod:`relocator.commands.service`) writes ``<store>/service.pid`` (``{pid, started}``)
and ``<store>/service.json`` (``{pid, started, last_event, last_scan, adopted, repaired,
roots, mode, denied}``). :func:`status` reads them and trusts nothing in them: a dead pid, a pid
reused by another process, or garbage all read as "not running". :func:`daemons` measures
the sync clients' CPU, which ``relocate doctor`` shows too.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import time
from collections.abc import Iterable

from relocator.host import access, unitfile, units
from relocator.state.store import Store
from relocator.system.files import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

#: Process names of sync clients, compared case-insensitively with the whole name.
SYNC_DAEMONS = (
    "bird",  # iCloud Drive
    "fileproviderd",  # macOS File Provider host (iCloud, Dropbox, OneDrive, Google Drive)
    "cloudd",  # CloudKit
    "Dropbox",
    "OneDrive",
    "Google Drive",
    "GoogleDriveFS",
    "maestral",  # a Dropbox client
    "nextcloud",
)
_PID_REUSE_SLACK = 5.0  # seconds a process may seem to predate its own "started"


def status(
    store: Optional[Store] = None, *, platform: Optional[str] = None, interval: float = 0.5
) -> dict[str, Any]:
    """Whether the watcher runs, what it last reported, whether its unit is installed, and
    the sync daemons' CPU (measured over ``interval`` seconds).

    Returns ``{running, pid, started, uptime, last_event, last_scan, adopted, repaired,
    mode, roots, denied, platform, unit, unit_installed, unit_enabled, daemons, daemons_cpu,
    trash}``
    (``trash``: ``{entries, bytes}``; ``denied``: the roots the watcher may not read, each
    ``{root, reason, binary, message}``, :mod:`relocator.host.access`). ``pid`` and
    ``uptime`` (seconds) are None when no watcher runs; the last report (``last_event`` to
    ``roots``) is shown even then, and hidden while a watcher runs that has not reported
    yet. ``unit_enabled`` is False when the user disabled the installed unit (it will not
    start at login), None when not installed or the service manager cannot tell. Reads
    only; writes nothing.
    """
    store = store or Store()
    chosen = unitfile.platform_name(platform)
    path = unitfile.unit_path(chosen)
    pid, started = _pid_record(_read_json(store.service_pid))
    live = _live(pid, started) if pid is not None else None
    report = _read_json(store.service_state)
    if not isinstance(report, dict) or (live is not None and report.get("pid") != pid):
        report = {}
    found = daemons(interval)
    installed = units.installed(path, chosen)
    return {
        "running": live is not None,
        "pid": pid if live is not None else None,
        "started": live[0] if live is not None else None,
        "uptime": live[1] if live is not None else None,
        "last_event": _scalar(report.get("last_event")),
        "last_scan": _scalar(report.get("last_scan")),
        "adopted": _count(report.get("adopted")),
        "repaired": _count(report.get("repaired")),
        "mode": report.get("mode") if isinstance(report.get("mode"), str) else None,
        "roots": _strings(report.get("roots")),
        "denied": [{**d, "message": access.hint(d)} for d in access.records(report.get("denied"))],
        "platform": chosen,
        "unit": path,
        "unit_installed": installed,
        "unit_enabled": units.enabled(chosen) if installed else None,
        "daemons": found,
        "daemons_cpu": total_cpu(found),
        "trash": _trash(store),
    }


def _trash(store: Store) -> dict[str, int]:
    """``{entries, bytes}`` in the store's trash (what relocator retired, kept restorable)."""
    from relocator.state import trash

    count, size = trash.size(store)
    return {"entries": count, "bytes": size}


def _read_json(path: str) -> Any:
    try:
        data = read_regular(path, 1 << 20)
        return json.loads(data) if data is not None else None
    except (OSError, ValueError, RecursionError):  # absent, unreadable, garbage, not UTF-8
        return None


def _pid_record(record: Any) -> tuple[Optional[int], Optional[float]]:
    """(pid, started) from the pid file's JSON (a bare number counts as the pid)."""
    if _is_int(record):
        record = {"pid": record}
    if not isinstance(record, dict):
        return None, None
    pid = record.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 1 << 31:
        return None, None
    return pid, _timestamp(record.get("started"))


def _live(pid: int, started: Optional[float]) -> Optional[tuple[Optional[float], Optional[float]]]:
    """(started, uptime) of the watcher ``pid`` when it runs, None when it does not: the
    process is gone, a zombie, or began well after the watcher said it started (its pid
    was reused: after a reboot, say)."""
    import psutil  # type: ignore[import-untyped,unused-ignore]

    now = time.time()
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        created: Optional[float] = float(proc.create_time())
    except psutil.NoSuchProcess:  # zombies included
        return None
    except psutil.Error:  # another user's: it runs, but tells nothing more
        created = None
    if started is not None and created is not None and created > started + _PID_REUSE_SLACK:
        return None
    begin = started if started is not None and started <= now + _PID_REUSE_SLACK else created
    return begin, (max(0.0, now - begin) if begin is not None else None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _timestamp(value: Any) -> Optional[float]:
    """Seconds since the epoch from a number or an ISO 8601 string (naive = local time)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except (ValueError, OverflowError, OSError):
                return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _scalar(value: Any) -> Any:
    """A report field shown as given when it is a plain value (a time, a path, a line) or
    a JSON object; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, dict)) else None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _count(value: Any) -> Optional[int]:
    """A count from a number, or from a list (of the venvs themselves)."""
    if _is_int(value) and value >= 0:
        return int(value)
    return len(value) if isinstance(value, list) else None


# -- the sync daemons ----------------------------------------------------------------


def daemons(interval: float = 0.5, names: Iterable[str] = SYNC_DAEMONS) -> list[dict[str, Any]]:
    """The sync clients running here, each ``{pid, name, cpu_percent}``, busiest first.

    ``cpu_percent`` is the share of one core (it may pass 100 on several) each used over
    the same ``interval`` seconds: every process is primed first, then all are read after
    one sleep. None when the process may not be measured (another user's, on macOS). With
    nothing found there is no sleep.
    """
    import psutil  # type: ignore[import-untyped,unused-ignore]

    wanted = {name.casefold() for name in names}
    me = os.getpid()
    primed: list[tuple[Any, str, bool]] = []
    for proc in psutil.process_iter(["name"]):
        name = str(proc.info.get("name") or "")
        if proc.pid == me or name.casefold() not in wanted:
            continue
        try:
            proc.cpu_percent(None)
            primed.append((proc, name, True))
        except psutil.NoSuchProcess:
            continue
        except psutil.Error:
            primed.append((proc, name, False))
    if primed and interval > 0:
        time.sleep(interval)
    found: list[dict[str, Any]] = []
    for proc, name, readable in primed:
        cpu: Optional[float] = None
        if readable:
            try:
                cpu = round(float(proc.cpu_percent(None)), 1)
            except psutil.NoSuchProcess:
                continue
            except psutil.Error:
                cpu = None
        found.append({"pid": proc.pid, "name": name, "cpu_percent": cpu})
    found.sort(key=lambda d: (-(d["cpu_percent"] or 0.0), d["name"].casefold(), d["pid"]))
    return found


def total_cpu(found: Iterable[dict[str, Any]]) -> float:
    """The summed ``cpu_percent`` of :func:`daemons`' result (those measured)."""
    return round(float(sum(d["cpu_percent"] or 0.0 for d in found)), 1)
