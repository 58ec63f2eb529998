"""``relocate doctor``: find what is wrong with relocated projects and the store, and fix it.

Each finding names the project (or the store), the check, the status, what is
wrong and what ``--fix`` does about it. Fixing a project is ``relocate adopt``
on it (:func:`relocator.commands.adoption.converge` under the project's lock), so doctor
and adopt converge to the same state by the same code. What doctor cannot fix
(a project that is gone, a venv no project links to) says which command does.
"""

from __future__ import annotations

import os
import shlex

from relocator.errors import RelocatorError
from relocator.moves.recovery import finish_pending
from relocator.moves.relocation import Wants, unhide
from relocator.paths import link, resolver
from relocator.paths.project import find_root
from relocator.records import NamedTuple
from relocator.state import bundles, venvs
from relocator.state.journal import Intent, pending
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system import platform
from relocator.venv import bytecode, health, projectstatus, trees

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

PROBLEM = "problem"  # the status of a finding that is not a project's health word
NOTE = "note"  # said, but nothing is broken and nothing to fix: doctor does not fail on it


class Finding(NamedTuple):
    project: Optional[str]  # None: the store itself
    check: str  # link, venv, interpreter, scripts, marks, hidden-pth, trees, recipe, registry,
    # orphan, journal, access, service, sync-daemons (reports)
    status: str
    message: str
    fixed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


#: The check each health status belongs to.
_CHECKS = {
    health.PROJECT_MISSING: "project",
    health.LINK_MISSING: "link",
    health.LINK_REPLACED: "link",
    health.OLD_SHAPE: "link",
    health.VENV_MISSING: "venv",
    health.VENV_EMPTIED: "venv",
    health.INTERPRETER_MISSING: "interpreter",
    health.PYTHON_MISMATCH: "interpreter",
    health.SCRIPTS_BROKEN: "scripts",
    health.MARKS_MISSING: "marks",
}
_WHAT = {
    health.PROJECT_MISSING: "the project folder is gone",
    health.LINK_MISSING: ".venv no longer leads to its store venv",
    health.LINK_REPLACED: "a tool replaced the .venv link with a venv of its own",
    health.OLD_SHAPE: "the link works, through relocator's old shape",
    health.VENV_MISSING: "its store venv is gone",
    health.VENV_EMPTIED: "a tool emptied its store venv through the link",
    health.INTERPRETER_MISSING: "the Python its venv was made with is gone",
    health.PYTHON_MISMATCH: "a tool made its venv again with another Python, away from "
    "its packages",
    health.SCRIPTS_BROKEN: "console scripts of its venv name a Python that is gone",
    health.MARKS_MISSING: "its store venv lost its backup marks (a tool made it anew), so "
    "backups may copy it",
}


def examine(
    path: Optional[str] = None, *, fix: bool = False, store: Optional[Store] = None, wants: Wants
) -> list[Finding]:
    """Every finding about the project at or above ``path``, or (None) every registered
    project and the store; with ``fix``, each fixable one is fixed first."""
    store = store or Store()
    if path is not None:
        return _one(store, path, fix, wants)
    if not os.path.isdir(store.root):
        return []
    with Registry(store.ensure()) as registry:
        rows = registry.all()
        findings = _store(store, rows, fix)
    known = {row.key for row in rows}
    findings += [_interrupted(store, i, fix) for i in pending(store) if i["key"] not in known]
    for row in rows:
        findings += _project(store, row, fix, wants)
    return findings + _trash(store) + _service(store)


def _trash(store: Store) -> list[Finding]:
    """What the trash holds (a report, never a problem)."""
    from relocator.state import trash

    count, size = trash.size(store)
    if not count:
        return []
    days = trash.retention_days()
    message = (
        f"the trash holds {count} entr{'y' if count == 1 else 'ies'}, {size / 1e6:.1f} MB, each "
        f"kept {days:g} days (relocate trash lists them)"
    )
    return [Finding(None, "trash", health.OK, message)]


def _service(store: Store) -> list[Finding]:
    """What ``relocate service status`` shows: the watcher, and the sync daemons' CPU
    (a report, never a problem)."""
    from relocator.commands import watcher

    state = watcher.status(store, interval=0.2)
    if state["running"]:
        said = f"the watcher runs (pid {state['pid']}, adopted {state['adopted'] or 0})"
    else:
        said = "the watcher is not running (relocate service install starts it at login)"
    found = [Finding(None, "service", health.OK, said)]
    if state["daemons"]:
        each = ", ".join(f"{d['name']} {d['cpu_percent'] or 0:.1f}%" for d in state["daemons"])
        message = f"sync daemons use {state['daemons_cpu']:.1f}% CPU: {each}"
        found.append(Finding(None, "sync-daemons", health.OK, message))
    return found + _access(state["denied"])


def _access(recorded: list[dict[str, str]]) -> list[Finding]:
    """Sync roots the watcher said it may not read (on macOS its binary may lack the
    privacy grant the user's terminal has), then those this user may not read either."""
    from relocator.host import access, unitfile
    from relocator.state import settings

    said = "the watcher may not read this sync root, so it keeps nothing there clean"
    found = [Finding(d["root"], "access", PROBLEM, f"{said}: {d['message']}") for d in recorded]
    try:
        roots = settings.sync_roots(settings.load_config())
    except RelocatorError:  # a broken config: the service says so when it starts
        return found
    known = {d["root"] for d in recorded}
    for root in roots:
        reason = access.denied(root)
        if reason is None or root in known:
            continue
        binary = access.interpreter_of(unitfile.program())
        hint = access.hint({"root": root, "reason": reason, "binary": binary})
        message = f"this user may not read this sync root, so neither may the watcher: {hint}"
        found.append(Finding(root, "access", PROBLEM, message))
    return found


def _one(store: Store, path: str, fix: bool, wants: Wants) -> list[Finding]:
    store.ensure()
    root = resolver.resolve(find_root(path, store.venvs))
    with Registry(store) as registry:
        row = registry.get(root.key)
    if row is not None:
        return _project(store, row, fix, wants)
    # A first adopt (or an eject past its last step) interrupted: settled first; then the
    # project is judged as it is now, which may finish the user's adopt, never undo an eject.
    settled = [_interrupted(store, intent, fix) for intent in pending(store, root.key)]
    if settled and not fix:
        return settled
    with Registry(store) as registry:
        row, mark = registry.get(root.key), registry.ejected(root.key)
    if row is not None:
        return settled + _project(store, row, fix, wants)
    if mark is not None:  # the user's eject: no problem, and only the user's adopt undoes it
        return [*settled, Finding(root.path, "link", health.OK, mark.reason())]
    return settled + _unregistered(store, root, fix, wants)


def _unregistered(store: Store, root: resolver.Resolved, fix: bool, wants: Wants) -> list[Finding]:
    state = link.inspect(root.path, store.venvs)
    message = {
        link.DANGLING: ".venv leads to no venv on this machine (synced from another one?)",
        link.RELOCATED: ".venv leads to a store venv registered for another path (moved?)",
        link.IN_PROJECT: "its venv is inside the project, where the sync engine uploads it",
        link.ABSENT: "it has no venv",
    }.get(state.kind)
    if message is None or (state.kind == link.ABSENT and not fix):
        return [Finding(root.path, "link", state.kind, f"not relocated: .venv is {state.kind}")]
    found = Finding(root.path, "link", state.kind, message)
    gone = projectstatus.gone_here(store, root.path)  # this store's venv, deleted with the registry
    if gone is not None:
        message = f"{_WHAT[health.VENV_MISSING]} ({gone['detail']}); {gone['hint']}"
        found = Finding(root.path, "venv", health.VENV_MISSING, message)
    return [_fixing(store, found, fix=fix, wants=wants)]


def _project(store: Store, row: Row, fix: bool, wants: Wants) -> list[Finding]:
    found = [_interrupted(store, intent, fix) for intent in pending(store, row.key)]
    status, cause, detail = health.diagnosis(store, row)
    if status == health.PROJECT_MISSING:
        message = f"{_WHAT[status]}; {health.hint(status, cause, row.path)}"
        return [*found, Finding(row.path, "project", status, message)]
    if status != health.OK:
        why = health.hint(status, None, row.path) if cause is None else _cause(cause, row.path)
        message = f"{_WHAT[status]} ({detail}); {why}" if detail else f"{_WHAT[status]}; {why}"
        broken = Finding(row.path, _CHECKS[status], status, message)
        return [*found, _fixing(store, broken, fix=fix, wants=wants)]
    _remember(store, row)
    found += _hidden(row.path, store.venv_path(row.venv), fix)
    found += _trees(store, row, fix, wants)
    found += _unrecorded(row.path, store.venv_path(row.venv))
    return found or [Finding(row.path, "link", health.OK, "relocated and working")]


def _remember(store: Store, row: Row) -> None:
    """Read a healthy venv's packages again into the registry's record when its
    site-packages changed since (what ``status`` names if the venv is ever deleted)."""
    from relocator.state import remembered

    with Registry(store) as registry:
        remembered.refresh(registry, row.venv, store.venv_path(row.venv))


def _interrupted(store: Store, intent: Intent, fix: bool) -> Finding:
    """A pending journal record: work a killed relocate left; --fix finishes it forward
    where it is whole and moved, else rolls it back (never a new adopt on top)."""
    message = f"an interrupted {intent.op} ({intent.step}) left work to finish"
    if not fix:
        return Finding(intent["project"], "journal", PROBLEM, f"{message} (--fix finishes it)")
    try:
        notes = finish_pending(store, intent)
    except RelocatorError as e:
        return Finding(intent["project"], "journal", PROBLEM, f"{message}; the fix failed: {e}")
    said = "; ".join(notes) or "nothing was left to do"
    return Finding(intent["project"], "journal", PROBLEM, f"{message}; fixed: {said}", True)


def _cause(cause: str, project: str) -> str:
    return health.hint(cause, cause, project) or cause


def _fixing(
    store: Store, found: Finding, *, fix: bool, wants: Wants, what: Optional[str] = None
) -> Finding:
    """A finding that ``relocate adopt`` repairs: repaired with ``fix``, else said how;
    ``what`` says what the repair did (default: what became of ``.venv``)."""
    project = found.project or ""
    if not fix:
        return found._replace(message=f"{found.message} (--fix runs relocate adopt)")
    from relocator.commands import adoption

    try:
        done = adoption.adopt(project, store=store, wants=wants)
    except RelocatorError as e:
        return found._replace(message=f"{found.message}; the fix failed: {e}")
    if what is None and done.action == "unchanged":  # mended in place: what adopt said
        what = "; ".join(done.notes) or "nothing was left to do"
    what = what or f".venv {done.action}"
    if done.unrestored:  # a deleted venv rebuilt, but not with all it had: not called fixed
        lacks = "; ".join(done.unrestored)
        return found._replace(message=f"{found.message}; fixed: {what}, but {lacks}")
    if done.dropped:  # a working venv, but not what the user had: not called fixed
        return found._replace(
            message=f"{found.message}; fixed: {what}, but it lacks {', '.join(done.dropped)}, "
            "which the venv it replaced had; that one is in the trash (relocate restore "
            f"{shlex.quote(project)} puts it back)"
        )
    return found._replace(message=f"{found.message}; fixed: {what}", fixed=True)


def _unrecorded(project: str, venv: str) -> list[Finding]:
    """Distributions the venv holds and the project's lock file (or requirements) does not
    list: a rebuild or a second machine would lose them. Said with the command that adds
    them, as a note (the venv works; ``--fix`` could not change it, since that changes
    the project's recipe)."""
    from relocator.state import inventory
    from relocator.venv import unrecorded

    found = unrecorded.check(project, venv)
    if found is None:
        return []
    message = (
        f"the venv holds {inventory.spell(found.missing)}, which {found.recipe.files[0]} "
        f"lacks: a rebuild or a second machine would lose them; to keep them: {found.add()}"
        f" (relocate verify checks by building it)"
    )
    return [Finding(project, "recipe", NOTE, message)]


def _hidden(project: str, venv: str, fix: bool) -> list[Finding]:
    hidden = [p for p in venvs.pth_files(venv) if platform.current.is_hidden(p)]
    if not hidden:
        return []
    message = (
        f"{len(hidden)} .pth file(s) carry macOS's hidden flag, so Python skips them and "
        f"editable installs stop importing (first: {hidden[0]})"
    )
    if not fix:
        return [Finding(project, "hidden-pth", PROBLEM, f"{message} (--fix clears the flag)")]
    failed = unhide(venv)
    outcome = f"; {failed[0]}" if failed else "; fixed: cleared"
    return [Finding(project, "hidden-pth", PROBLEM, message + outcome, not failed)]


def _trees(store: Store, row: Row, fix: bool, wants: Wants) -> list[Finding]:
    """Relocated trees (``adopt --trees``) whose link leads nowhere (another machine's, a
    wiped store: mypy, ruff, tox and nox fail on it) or that a tool made a folder again,
    and a venv whose bytecode no longer goes to the store."""
    said = {trees.DANGLING: "leads nowhere", trees.IN_PROJECT: "is a folder in the project again"}
    bundle = bundles.of(store, row.key)
    described = trees.describe(store, row.path, bundle)
    off = [f"{t['name']} {said[t['state']]}" for t in described if t["state"] in said]
    venv = store.venv_path(row.venv)
    if bundle is not None and bytecode.prefix(venv) is None:
        off.append("the venv writes bytecode into the project again (it was made anew)")
    if not off:
        return []
    found = Finding(row.path, "trees", PROBLEM, "; ".join(off))
    return [_fixing(store, found, fix=fix, wants=wants, what="trees in the store again")]


def _store(store: Store, rows: list[Row], fix: bool) -> list[Finding]:
    """Owner records the registry lacks (a lost registry), and venvs no project links to."""
    found: list[Finding] = []
    registered = {row.venv for row in rows}
    owned: set[str] = set()
    for name, owner in store.owners():
        owned.add(name)
        if name in registered or not os.path.isdir(store.venv_path(name)):
            continue
        path = str(owner.get("path"))
        state = link.inspect(path, store.venvs) if os.path.isdir(path) else None
        if state and state.kind == link.RELOCATED and os.path.basename(state.target or "") == name:
            found.append(_register(store, path, fix))
            continue
        message = (
            f"{store.venv_path(name)} (of {path}) is linked from no project; "
            "relocate gc moves it to the trash once its project is gone"
        )
        found.append(Finding(path, "orphan", PROBLEM, message))
    for name in store.venv_names():  # each owner record was read above: read none twice
        if name not in owned and name not in registered:
            message = f"{store.venv_path(name)} has no owner record; relocate leaves it alone"
            found.append(Finding(None, "orphan", PROBLEM, message))
    return found


def _register(store: Store, path: str, fix: bool) -> Finding:
    message = "the registry had lost this project (its venv's owner record names it)"
    return _fixing(store, Finding(path, "registry", PROBLEM, message), fix=fix, wants=Wants())


def healthy(findings: list[Finding]) -> bool:
    """Whether doctor passes: every finding ok, a note, or fixed."""
    return all(f.status in (health.OK, NOTE) or f.fixed for f in findings)
