"""``relocate service run``: the watcher (:mod:`relocator.commands.servicewatch`: what it
notices and decides on each pass), in the foreground: its pid lock, signals, log and
status file.

Files, the contract ``relocate service status`` reads:

``<store>/service.pid``
    ``{"pid", "started"}`` while a service runs, written atomically and removed
    when it stops. The service also holds an flock on ``<store>/locks/service.lock``
    for its lifetime: a pid file whose lock can be taken is stale.
``<store>/service.json``
    after each pass: ``{"pid", "started", "last_event", "last_scan", "adopted",
    "repaired", "roots", "mode", "denied"}``; times are epoch seconds: ``last_event``
    when a project was last marked (null until then), ``last_scan`` the end of the last
    pass (one per ``--interval``: a heartbeat); ``mode`` is ``events`` or ``poll``;
    ``denied`` the roots it may not read (:mod:`relocator.host.access`). The file stays
    after the service stops.
``<store>/logs/service.log``
    one line per event worth telling: started, adopted, repaired, skipped or denied
    (and why, once per reason), readable again, stopped. ``relocate service run`` on a
    terminal (stderr) shows the same lines there as they are logged.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time

from relocator.commands.servicewatch import Watcher
from relocator.errors import UsageError
from relocator.host.servicefiles import AlreadyRunning, Log, PidLock
from relocator.state import settings
from relocator.state.store import Store
from relocator.system.files import write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, TextIO

STATUS_KEYS: tuple[str, ...] = ("pid", "started", "last_event", "last_scan", "adopted")
STATUS_KEYS += ("repaired", "roots", "mode", "denied")
MAX_INTERVAL = 86400.0  # seconds: beyond a day a wait overflows the platform's clock types


def _serve(watcher: Watcher, stop: threading.Event) -> None:
    """Pass after pass until ``stop``, the status file written after each."""
    while not stop.is_set():
        watcher.tick(stop)
        _write_status(watcher)
        stop.wait(watcher.wait())


def _write_status(watcher: Watcher) -> None:
    status = watcher.status()
    with contextlib.suppress(OSError):  # rewritten after the next pass anyway
        path = watcher.store.service_state
        write_atomic(path, json.dumps({k: status[k] for k in STATUS_KEYS}) + "\n", sync=False)


def _on_signals(stop: threading.Event, received: list[str]) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop`` (from the main thread only: Python allows no
    other); return what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for number, was in previous.items():
            signal.signal(number, was)

    return restore


def run(
    *,
    interval: float = 2.0,
    store: Optional[Store] = None,
    stop: Optional[threading.Event] = None,
    echo: Optional[TextIO] = None,
    unit: bool = False,
) -> int:
    """Watch until SIGTERM, SIGINT or ``stop``; return the exit code (0). Each line of the
    log is also written to ``echo`` when given (the terminal of a foreground run).

    Raises :class:`RelocatorError` when another service holds this store, or the
    config is wrong. With ``unit`` (``service run --unit``, as the launchd agent and the
    systemd unit run it), another service holding the store is said on stderr and is no
    failure (0): launchd's ``KeepAlive = {SuccessfulExit: false}`` and systemd's
    ``Restart=on-failure`` would start this one again every 10 seconds for as long as the
    other runs.
    """
    if not 0 < interval <= MAX_INTERVAL:
        raise UsageError(
            f"--interval must be a number of seconds > 0 and at most {MAX_INTERVAL:g} "
            f"(a day; got {interval!r})"
        )
    store = (store or Store()).ensure()
    config = settings.load_config()
    stop = stop or threading.Event()
    received: list[str] = []
    try:
        with PidLock(store, time.time()) as pid:
            log = Log(store, echo)
            watcher = Watcher(store, config, interval, log, started=pid.started)
            restore = _on_signals(stop, received)
            try:
                if pid.stale:
                    log(f"took over from a stale pid file (pid {pid.stale.get('pid')} is gone)")
                watcher.start()
                try:
                    _serve(watcher, stop)
                finally:
                    watcher.stop()
                    _write_status(watcher)
                if received:
                    log(f"received {received[0]}")
            finally:
                restore()
    except AlreadyRunning as e:
        if not unit:
            raise
        said = str(e).removesuffix("; stop it first")
        sys.stderr.write(f"relocate: {said}; this one, started by its unit, ends (exit 0)\n")
        return 0
    log("stopped")
    return 0
