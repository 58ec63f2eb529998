"""``relocate uninstall``: undo everything relocator did to this machine.

In order: the service stops and its unit goes (a watcher left running would see the
venvs come back into synced folders), every registered project gets its venv back as a
real folder (``eject``, which also marks it ejected), the shell hook's line leaves the rc
files, and last the store. The
store goes only when every eject succeeded and nothing in it is still worth keeping (a
venv, an unfinished move, a running watcher, a file relocator did not put there); nothing
outside it is deleted, except on request (``--self``) the copy of relocate that
``scripts/install`` made (:func:`remove_self`). Removing another copy is its installer's
job: :func:`tool_hint` names the command for each copy found.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

from relocator.commands import ejection
from relocator.errors import RelocatorError
from relocator.host import installs, rcedits, servicefiles, shells, unitfile, units
from relocator.paths.storeroot import STORE_NAMES
from relocator.records import NamedTuple
from relocator.state import bundles
from relocator.state.store import Store
from relocator.system.files import bare_line, read_regular, split_lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: What else relocator may leave at the top of its store: temporary files of an atomic
#: write (``name.<pid>.tmp``) and a damaged registry set aside (``registry.db.damaged-*``).
_OWN_ROOT_FILE = re.compile(r"(README|registry\.db|service\.pid|service\.json)\..+")
#: The rest of what relocator puts there: its README.
_OWN_ROOT_NAMES = STORE_NAMES | {"README"}
AGAIN = "then run `relocate uninstall` again"
HINT = "to remove relocate itself: "
STOP_TIMEOUT = 30.0  # seconds a running service gets to stop after SIGTERM
EJECT_ALL = "eject the relocated projects"  # the one eject step when there is no project


class Step(NamedTuple):
    what: str
    ok: bool
    detail: str


def plan(store: Store) -> list[str]:
    """What :func:`uninstall` would do, a line each (changes nothing but an existing
    store's missing subfolders, as every command that reads the registry does)."""
    lines = []
    try:
        chosen = unitfile.platform_name()
        unit = unitfile.unit_path(chosen)
        there = units.installed(unit, chosen)
        lines.append(f"stop and remove the service {unit}" if there else "no service is installed")
    except RelocatorError as e:
        lines.append(f"cannot tell whether a service is installed: {e}")
    running = _running(store)
    if running is not None:
        lines.append(f"stop the running service (pid {running})")
    try:
        projects = registered(store)
    except (RelocatorError, OSError) as e:
        lines.append(f"cannot read the registry, so no project can be ejected: {e}")
        projects = []
    if projects:
        lines.append(f"eject {_count(len(projects), 'project')} (each venv goes back as a folder):")
        lines += [f"  {path}" for path in projects]
    else:
        lines.append("no project to eject")
    rc_files = [p for s in shells.SHELLS.values() for p in s.uninstall_files() if _has_line(p)]
    lines += [f"remove the relocator line from {path}" for path in dict.fromkeys(rc_files)]
    if not rc_files:
        lines.append("no rc file holds the relocator line")
    there = os.path.lexists(store.root)
    lines.append(f"remove the store {store.root}" if there else f"no store at {store.root}")
    return lines


def uninstall(store: Store) -> list[Step]:
    """Stop and remove the service, eject every project, remove the rc lines and the
    store: a step each."""
    steps = [_unservice()]
    stopped = _stop(store)
    if stopped is not None:
        steps.append(stopped)
    ejects = _eject_all(store)
    failed: Optional[int] = sum(not step.ok for step in ejects)
    if any(step.what == EJECT_ALL and not step.ok for step in ejects):
        failed = None  # the registry could not be read: how many is not known
    steps += ejects
    steps += [_unhook(shell) for shell in shells.SHELLS.values()]
    steps.append(_remove_store(store, failed))
    return steps


def tool_hint(found: Optional[list[installs.Install]] = None) -> list[str]:
    """How to remove the ``relocate`` command itself: the command for each copy found
    (:func:`relocator.host.installs.find`), for the way it was installed."""
    found = installs.find() if found is None else found
    if not found:
        return ["no other copy of relocate is installed"]
    if len(found) == 1:
        return [f"{HINT}{found[0].remove}"]
    lines = [f"relocate is installed {len(found)} ways; {HINT.rstrip(': ')}, run each:"]
    for install in found:
        running = " (this one)" if install.running else ""
        lines.append(f"  {installs.summary(install)}{running}: {install.remove}")
    return lines


def self_plan(found: list[installs.Install]) -> str:
    """The plan's line for ``uninstall --self``."""
    ours = [i for i in found if i.ours]
    if not ours:
        return f"remove relocate itself: no copy made by {installs.SCRIPT} (see the end)"
    paths = [p for i in ours for p in installs.removal_steps(i)]
    return f"remove relocate itself ({installs.SCRIPT}): {', '.join(paths)}"


#: ``uninstall --self`` after a step failed: relocate stays to finish the job.
SELF_KEPT = (
    "kept: relocate is needed to finish the steps above; run relocate uninstall --self "
    "again once they succeed"
)


def remove_self(found: list[installs.Install]) -> Step:
    """Remove the copies of relocate that ``scripts/install`` made (its venv and links);
    the others are their installer's to remove (:func:`tool_hint` names the command).
    The last thing ``uninstall --self`` does: this process may run from that venv."""
    what = "remove relocate itself"
    ours = [i for i in found if i.ours]
    if not ours:
        others = ", ".join(sorted({i.method for i in found})) or "none found"
        return Step(
            what,
            False,
            f"--self removes only a copy {installs.SCRIPT} made, and there is none "
            f"(installed by: {others}); run the command below",
        )
    removed = []
    for install in ours:
        try:
            removed += installs.remove_ours(install)
        except OSError as e:
            return Step(what, False, f"could not remove {e.filename} ({e.strerror or e})")
        except ValueError as e:  # no longer a venv of scripts/install's alone
            return Step(what, False, str(e))
    return Step(what, True, f"removed {', '.join(removed)}")


# -- the steps --------------------------------------------------------------------


def _eject_all(store: Store) -> list[Step]:
    try:
        results = ejection.eject_all(store)
    except (RelocatorError, OSError) as e:
        return [Step(EJECT_ALL, False, f"{e}; the store is kept")]
    if not results:
        return [Step(EJECT_ALL, True, "no project was relocated")]
    steps = []
    for path, outcome, error in results:
        if outcome is not None:
            detail = "; ".join([f"the venv is back in {outcome.venv}", *outcome.notes])
            steps.append(Step(f"eject {path}", True, detail))
            continue
        detail = f"{error}; its venv stays in the store, so the store is kept"
        if not os.path.lexists(path):
            detail += (
                f" (if the project is gone for good, `relocate gc` moves its venv to the trash "
                f"and `relocate gc --empty-trash` deletes it; {AGAIN})"
            )
        steps.append(Step(f"eject {path}", False, detail))
    return steps


def _unhook(shell: shells.Shell) -> Step:
    edits = shells.uninstall(shell)
    parts = [f"removed it from {', '.join(edits.changed)}"] if edits.changed else []
    if not edits.changed and not edits.notes:
        parts.append("none was installed")
    return Step(
        f"remove the {shell.name} hook line", not edits.notes, "; ".join(parts + edits.notes)
    )


def _unservice() -> Step:
    try:
        result = units.uninstall()
    except RelocatorError as e:
        return Step("remove the service", False, str(e))
    removed = result["removed"]
    parts = [f"removed {', '.join(removed)}" if removed else "none was installed"]
    return Step("remove the service", bool(result["stopped"]), "; ".join(parts + result["notes"]))


def _running(store: Store) -> Optional[int]:
    """The pid of the service that holds this store's pid lock, None when none does."""
    if not os.path.isdir(store.root) or not servicefiles.held(store):
        return None
    from relocator.commands import watcher

    pid = watcher.status(store, platform=unitfile.SYSTEMD, interval=0)["pid"]
    return pid if isinstance(pid, int) else None


def _stop(store: Store) -> Optional[Step]:
    """Stop a service that runs on this store (one the unit did not start: ``service
    run`` in a terminal), with SIGTERM, and wait until it lets its lock go; None when
    none runs."""
    if not os.path.isdir(store.root) or not servicefiles.held(store):
        return None
    what = "stop the running service"
    pid = _running(store)
    if pid is None:
        return Step(
            what,
            False,
            "a service holds the store's lock, but its pid file names no "
            "process that runs; stop it yourself",
        )
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as e:
        return Step(what, False, f"cannot stop pid {pid} ({e.strerror or e}); stop it yourself")
    deadline = time.monotonic() + STOP_TIMEOUT
    while servicefiles.held(store):
        if time.monotonic() > deadline:
            return Step(what, False, f"pid {pid} did not stop within {STOP_TIMEOUT:g}s; stop it")
        time.sleep(0.05)
    return Step(what, True, f"stopped pid {pid}")


def _remove_store(store: Store, failed: Optional[int]) -> Step:
    """Remove the store, unless ``failed`` projects (None: an unknown number) could not be
    ejected or :func:`_why_keep` finds a reason to keep it."""
    root = store.root
    what = f"remove the store {root}"
    if not os.path.lexists(root):
        return Step(what, True, "there is none")
    if failed is None:
        return Step(what, False, f"kept: no project was ejected; fix what is said above, {AGAIN}")
    if failed:
        return Step(
            what,
            False,
            f"kept: {_count(failed, 'project')} could not be ejected, and the store holds "
            f"{'its venv' if failed == 1 else 'their venvs'}; fix what is said above, {AGAIN}",
        )
    reason = _why_keep(store)
    if reason is not None:
        return Step(what, False, f"kept: {reason}")
    real = os.path.realpath(root)
    try:
        shutil.rmtree(real)
        if os.path.islink(root):
            os.unlink(root)
    except OSError as e:
        return Step(what, False, f"could not remove {e.filename or root} ({e.strerror or e})")
    return Step(what, True, "removed")


def _why_keep(store: Store) -> Optional[str]:
    """Why the store must stay though every project was ejected, or None."""
    try:
        entries = os.listdir(os.path.realpath(store.root))
    except OSError as e:
        return f"cannot read it ({e.strerror or e})"
    foreign = sorted(
        n for n in entries if n not in _OWN_ROOT_NAMES and not _OWN_ROOT_FILE.fullmatch(n)
    )
    if foreign:
        return (
            f"it holds what relocator did not put there ({', '.join(foreign)}); "
            "move that away (or delete the folder yourself)"
        )
    held = [b for b, _ in bundles.owners(store)]
    if held:
        return (
            f"it still holds the trees of {_count(len(held), 'project')} ({', '.join(held)}) "
            f"in {store.trees}; `relocate eject PROJECT` puts them back, {AGAIN}"
        )
    from relocator.state import trash

    count, size = trash.size(store)
    if count:
        return (
            f"its trash holds {_count(count, 'retired venv or tree')} ({size / 1e6:.1f} MB), "
            f"restorable for a while (relocate trash lists them); `relocate gc --empty-trash` "
            f"deletes them, {AGAIN}"
        )
    venvs = store.venv_names()
    if venvs:
        return (
            f"it still holds {_count(len(venvs), 'venv')} of no registered project "
            f"({', '.join(venvs)}); `relocate gc` removes those whose project is gone, {AGAIN}"
        )
    from relocator.state import journal

    try:
        unfinished = sorted({intent["project"] for intent in journal.pending(store)})
    except OSError as e:
        return f"cannot read its journal {store.journal} ({e.strerror or e})"
    if unfinished:
        return (
            f"an interrupted adopt or eject of {', '.join(unfinished)} is not settled yet: "
            f"`relocate eject PROJECT` settles it; {AGAIN}"
        )
    from relocator.commands import watcher

    running = watcher.status(store, platform=unitfile.SYSTEMD, interval=0)
    if running["running"]:
        return f"a watcher (pid {running['pid']}) still uses it; stop that process, {AGAIN}"
    return None


# -- helpers --------------------------------------------------------------------------


def registered(store: Store) -> list[str]:
    """The registered projects' paths (none without a store; a store is never made)."""
    if not os.path.isdir(store.root):
        return []
    from relocator.state.registry import Registry

    with Registry(store.ensure()) as registry:
        return [row.path for row in registry.all()]


def _has_line(path: str) -> bool:
    """Whether the file at ``path`` holds a line of the shell hook's (ending in the marker)."""
    try:
        data = read_regular(path, 1 << 22)
    except OSError:
        return False
    marker = rcedits.MARKER.encode()
    return data is not None and any(bare_line(x).endswith(marker) for x in split_lines(data))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
