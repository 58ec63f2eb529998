"""The service's watcher (``relocate service run``, :mod:`relocator.commands.service`): what it
notices and what it decides on a tick.

It keeps the sync roots clean. A venv made in a project there moves to the store
once it is quiet; a registered project whose link a tool replaced or removed
(``link-replaced``, ``link-missing``) is adopted again once its new ``.venv`` is
quiet too. Events (or the bounded poll, :mod:`relocator.host.watching`) only mark a
project (:meth:`Watcher.notice`); what to do is decided on a timer
(:meth:`Watcher.decide_due`), after the quiet window: nothing in
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
"""

from __future__ import annotations

import os
import time

from relocator.errors import Busy, RelocatorError
from relocator.host import access, watching
from relocator.paths import link, resolver
from relocator.records import NamedTuple
from relocator.state import settings
from relocator.system.files import is_under
from relocator.venv import health

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from typing import Any, Optional

    from relocator.host.servicefiles import Log
    from relocator.state.store import Store

IN_USE_RETRY = 30.0  # seconds before a venv in use is looked at again (a process scan is not free)
RESCAN = 600.0  # seconds between polls in events mode: a safety net
POLL_SHARE = 0.005  # of one core, at most, for the poll (it runs every --interval, or rarer)
REPAIRED = (health.LINK_MISSING, health.LINK_REPLACED, health.OLD_SHAPE)


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

    def tick(self, stop: threading.Event) -> None:
        """One pass: mark what changed, then decide what is due (an error is logged)."""
        now = time.time()
        try:
            self.notice(now, full=now >= self.next_poll)
            self.decide_due(stop)
        except Exception as e:  # the registry unusable, say: log, go on
            self.tell("", f"error: {type(e).__name__}: {e}")
        self.last_scan = time.time()

    def wait(self) -> float:
        """Seconds until the next pass: the interval, or sooner when a candidate is due."""
        wait = self.interval
        if self.candidates:
            next_due = min(c.due for c in self.candidates.values())
            wait = min(wait, max(0.05, next_due - time.time()))
        return wait

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

    def status(self) -> dict[str, Any]:
        """What ``<store>/service.json`` says after a pass (:data:`service.STATUS_KEYS`)."""
        return {
            "pid": os.getpid(),
            "started": self.started,
            "last_event": self.last_event,
            "last_scan": self.last_scan,
            **self.counts,
            "roots": self.roots,
            "mode": self.mode,
            "denied": self.access.report(),
        }


def _describe(e: Exception) -> str:
    if isinstance(e, OSError) and not isinstance(e, RelocatorError):
        return f"{e.strerror or type(e).__name__}{f': {e.filename}' if e.filename else ''}"
    return str(e)
