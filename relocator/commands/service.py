"""``relocate service run``: the watcher, in the foreground.

It keeps the sync roots clean. A venv made in a project there moves to the store
once it is quiet; a registered project whose link a tool replaced or removed
(``link-replaced``, ``link-missing``) is adopted again once its new ``.venv`` is
quiet too. Events (or the bounded poll, :mod:`relocator.host.watching`) only mark a
project; what to do is decided on a timer, after the quiet window: nothing in
the venv changed for ``quiet`` seconds (10 by default) and no live process uses
it. Opting out: a ``.relocator-ignore`` file in the project or any folder above
it up to its root, or the config's ignore list; and a project the user ejected
(``relocate eject`` marks it in the registry) until the user adopts it again. A
project that fails is logged and left until something in it changes; the service
goes on.

The service never installs packages (``Wants(install=False)``): a replacement
``.venv`` that is empty while the old venv had packages keeps the old one, as
``adopt`` says in its note, for the user to settle. Nor does it fight uv's
centralized-project-envs preview, which would replace the link again on the
next ``uv sync``: that project is skipped with the hint to turn it off.

Configuration (roots, ignore list, quiet window, mode): :func:`settings.load_config`.

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
import os
import signal
import sys
import threading
import time

from relocator.errors import Busy, RelocatorError, UsageError
from relocator.host import access, watching
from relocator.host.servicefiles import AlreadyRunning, Log, PidLock
from relocator.paths import link, resolver
from relocator.records import NamedTuple
from relocator.state import settings
from relocator.state.store import Store
from relocator.system.files import is_under, write_atomic
from relocator.venv import health

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, TextIO

STATUS_KEYS: tuple[str, ...] = ("pid", "started", "last_event", "last_scan", "adopted")
STATUS_KEYS += ("repaired", "roots", "mode", "denied")
IN_USE_RETRY = 30.0  # seconds before a venv in use is looked at again (a process scan is not free)
RESCAN = 600.0  # seconds between polls in events mode: a safety net
POLL_SHARE = 0.005  # of one core, at most, for the poll (it runs every --interval, or rarer)
REPAIRED = (health.LINK_MISSING, health.LINK_REPLACED, health.OLD_SHAPE)
MAX_INTERVAL = 86400.0  # seconds: beyond a day a wait overflows the platform's clock types


class _Candidate(NamedTuple):
    since: float  # the latest change noticed (0: none, the venv's mtimes tell)
    due: float  # when to decide


class Watcher:
    """One service's state: candidates, what was settled, what was said, the counts."""

    def __init__(
        self, store: Store, config: settings.Config, interval: float, log: Log, *, started: float
    ) -> None:
        self.store, self.config, self.interval, self.log = store, config, interval, log
        self.roots = settings.sync_roots(config)
        self.skip = frozenset([*self.roots, os.path.realpath(store.root)])
        self.access = access.Denials(log)
        self.started = started
        self.events: Optional[watching.Events] = None
        self.candidates: dict[str, _Candidate] = {}
        self.settled: dict[str, object] = {}  # project -> link signature when left alone
        self.told: dict[str, str] = {}  # project -> the last thing logged about it
        self.links: dict[str, object] = {}  # registered project -> link signature last seen
        self.rows: dict[str, Any] = {}  # registry key -> Row
        self.ejected: dict[str, Any] = {}  # registry key -> Ejected: the user's word
        self.listings = watching.Listings()  # what the poll listed, reused while unchanged
        self.next_poll = 0.0
        self.registry_seen: object = None
        self.counts = {"adopted": 0, "repaired": 0}
        self.last_event: Optional[float] = None
        self.last_scan: Optional[float] = None

    @property
    def mode(self) -> str:
        return "events" if self.events is not None else "poll"

    def start(self) -> None:
        if self.config.mode != "poll":
            try:
                self.watch()
            except watching.Unavailable as e:
                if self.config.mode == "events":
                    raise RelocatorError(f"the service cannot use events: {e}") from None
                self.log(f"polling: {e}")
        self.log(
            f"started: pid {os.getpid()}, mode {self.mode}, quiet {self.config.quiet:g}s, "
            f"interval {self.interval:g}s, roots {', '.join(self.roots) or '(none)'}"
        )

    def watch(self) -> None:
        """Events over the roots this process may read (watched again once one is)."""
        self.stop()
        self.events = None
        self.events = watching.Events(self.access.readable(self.roots), self.log)

    def stop(self) -> None:
        if self.events is not None:
            self.events.stop()

    def serve(self, stop: threading.Event) -> None:
        while not stop.is_set():
            now = time.time()
            try:
                self.notice(now, full=now >= self.next_poll)
                self.decide_due(stop)
            except Exception as e:  # the registry unusable, say: log, go on
                self.tell("", f"error: {type(e).__name__}: {e}")
            self.last_scan = time.time()
            self.write_status()
            wait = self.interval
            if self.candidates:
                next_due = min(c.due for c in self.candidates.values())
                wait = min(wait, max(0.05, next_due - time.time()))
            stop.wait(wait)

    # -- noticing -----------------------------------------------------------------

    def mark(self, project: str, since: float) -> None:
        old = self.candidates.get(project)
        if old is None:
            self.last_event = max(self.last_event or 0.0, since or time.time())
            self.candidates[project] = _Candidate(since, since + self.config.quiet)
        elif since > old.since:
            self.candidates[project] = _Candidate(since, max(old.due, since + self.config.quiet))

    def notice(self, now: float, *, full: bool) -> None:
        """Mark what changed: events (or a poll of the roots when ``full``), and the
        registered projects whose link is no longer what it was."""
        if self.access.granted():  # access given while it runs: look there now
            full = True
            if self.events is not None:
                try:
                    self.watch()
                except watching.Unavailable as e:
                    self.log(f"polling: {e}")
        if self.events is not None:
            self.take_events()
            if not self.events.alive():
                self.log("polling: the event observer stopped")
                self.events.stop()
                self.events, full = None, True
        if full:
            self.poll()
        for row in self.registered().values():
            if self.access.holds(row.path):  # looked at once its root is readable again
                continue
            signature = watching.signature(row.path)
            if self.links.get(row.key) == signature:
                continue
            self.links[row.key] = signature
            state = link.inspect(row.path, self.store.venvs)
            fine = state.kind == link.RELOCATED and os.path.basename(state.target or "") == row.venv
            fine = fine and not health.old_shape(row.path)
            if not fine and self.settled.get(row.path, ()) != signature:
                self.mark(row.path, now)

    def take_events(self) -> None:
        if self.events is None:
            return
        changes = self.events.take()
        for project, when in changes.projects.items():
            self.mark(project, when)
        for folder, when in sorted(changes.folders.items()):  # new, moved in, ignore file
            depth = watching.depth_below(folder, self.roots) or 0
            for project in watching.find_venvs(folder, watching.MAX_DEPTH - depth, self.skip):
                self.mark(project, when)

    def poll(self) -> None:
        """Look for in-project venvs in every root: each ``--interval`` without events;
        with them, at the start (for what is already there) and every :data:`RESCAN`
        seconds (for what events missed: a queue overflow, a remounted root). The next
        poll waits long enough that polling takes at most :data:`POLL_SHARE` of a core."""
        cost = time.thread_time()
        found = [
            project
            for root in self.access.readable(self.roots)
            for project in watching.find_venvs(
                root, watching.MAX_DEPTH, self.skip - {root}, self.listings
            )
        ]
        self.listings.turn()
        cost = time.thread_time() - cost
        every = self.interval if self.events is None else RESCAN
        self.next_poll = time.time() + max(every, cost / POLL_SHARE) - 0.01
        for project in found:
            if project in self.candidates:
                continue
            if self.settled.get(project, ()) == watching.signature(project):
                continue
            why = settings.ignored(project, self.roots, self.config.ignore)
            if why:  # looked at again on every poll: the ignore file may go
                self.tell(project, f"skipped {project}: ignored ({why})")
            else:
                self.mark(project, 0.0)  # since: the venv's mtimes tell

    def registered(self) -> dict[str, Any]:
        """Registry rows by key, read again only when the registry files changed."""
        seen = tuple(watching.stat_key(self.store.registry_path + s) for s in ("", "-wal"))
        if seen != self.registry_seen:
            from relocator.state.registry import Registry

            with Registry(self.store) as registry:
                self.rows = {row.key: row for row in registry.all()}
                self.ejected = registry.all_ejected()
            self.registry_seen = seen
        return self.rows

    # -- deciding -----------------------------------------------------------------

    def decide_due(self, stop: threading.Event) -> None:
        due = sorted((c.due, p) for p, c in self.candidates.items() if c.due <= time.time())
        for _, project in due:
            if stop.is_set():
                return
            try:
                again = self.decide(project, time.time())
            except Busy as e:  # another relocate works on it: later
                self.tell(project, f"waiting for {project}: {e}")
                again = time.time() + self.config.quiet
            except (RelocatorError, OSError) as e:
                self.tell(project, f"skipped {project}: {_describe(e)}")
                again = None
                self.settled[project] = watching.signature(project)
            except Exception as e:
                self.tell(project, f"error with {project}: {type(e).__name__}: {e}")
                again = None
                self.settled[project] = watching.signature(project)
            if again is None:
                self.candidates.pop(project, None)
            else:
                since = self.candidates[project].since
                self.candidates[project] = _Candidate(since, again)

    def decide(self, project: str, now: float) -> Optional[float]:
        """Act on one candidate whose window passed; when to look again (None: done)."""
        if not os.path.isdir(project) or is_under(project, self.store.root):
            return None
        why = settings.ignored(project, self.roots, self.config.ignore)
        if why:
            self.tell(project, f"skipped {project}: ignored ({why})")
            return None
        key = resolver.key(project)
        row = self.registered().get(key)
        mark = self.ejected.get(key)
        if mark is not None:  # the user ejected it: left alone until the user adopts it
            self.tell(project, f"skipped {project}: {mark.reason()}")
            self.settled[project] = watching.signature(project)
            return None
        if row is not None:
            status, cause = health.diagnose(self.store, row)
            if status == health.OK:
                self.told.pop(project, None)
                return None
            if status == health.PROJECT_MISSING:
                return None
            if status not in REPAIRED or cause is not None:
                hint = health.hint(status, cause, project)
                self.tell(project, f"skipped {project}: {cause or status} ({hint})")
                self.settled[project] = watching.signature(project)
                return None
        state = link.inspect(project, self.store.venvs)
        dotvenv = os.path.join(project, link.LINK)
        if row is None and (state.kind != link.IN_PROJECT or os.path.islink(dotvenv)):
            return None  # nothing new here: no venv, or a link (relocator's, another's)
        if state.kind == link.IN_PROJECT and state.target:  # a venv in the synced tree
            later = self.not_yet(project, state.target, now)
            if later is not None:
                return later
        self.adopt(project, repair=row is not None)
        return None

    def not_yet(self, project: str, venv: str, now: float) -> Optional[float]:
        """When to look at ``venv`` again if it is not quiet or a live process uses it."""
        newest = watching.newest_change(venv)
        if now - newest < self.config.quiet:
            return newest + self.config.quiet
        newest = watching.newest_change(venv, deep=True)  # once, before anything moves
        if now - newest < self.config.quiet:
            return newest + self.config.quiet
        from relocator.system import processes

        users = processes.users([venv])[venv]
        if not users:
            return None
        first, more = users[0], f" and {len(users) - 1} more" if len(users) > 1 else ""
        why = f"pid {first.pid} ({first.name}) {first.why}{more}"
        self.tell(project, f"skipped {project} for now: {why}")
        return now + max(self.config.quiet, IN_USE_RETRY)

    def adopt(self, project: str, *, repair: bool) -> None:
        from relocator.commands.adoption import adopt
        from relocator.moves.relocation import Wants

        done = adopt(project, store=self.store, wants=Wants(install=False, by_service=True))
        self.settled.pop(project, None)
        self.told.pop(project, None)
        if done.action == "unchanged":
            return
        verb = "repaired" if repair else "adopted"
        self.counts[verb] += 1
        notes = "".join(f"; {note}" for note in done.notes)
        self.log(f"{verb} {done.project} ({done.action}: {done.venv}){notes}")

    def tell(self, project: str, message: str) -> None:
        """Log ``message`` unless it is what was last said about ``project``."""
        if self.told.get(project) != message:
            self.told[project] = message
            self.log(message)

    def write_status(self) -> None:
        status = {
            "pid": os.getpid(),
            "started": self.started,
            "last_event": self.last_event,
            "last_scan": self.last_scan,
            **self.counts,
            "roots": self.roots,
            "mode": self.mode,
            "denied": self.access.report(),
        }
        with contextlib.suppress(OSError):  # rewritten after the next pass anyway
            path = self.store.service_state
            write_atomic(path, json.dumps({k: status[k] for k in STATUS_KEYS}) + "\n", sync=False)


def _describe(e: Exception) -> str:
    if isinstance(e, OSError) and not isinstance(e, RelocatorError):
        return f"{e.strerror or type(e).__name__}{f': {e.filename}' if e.filename else ''}"
    return str(e)


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
                    watcher.serve(stop)
                finally:
                    watcher.stop()
                    watcher.write_status()
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
