"""Replacing a project's store venv: the new one takes the old one's name.

A project's store venv keeps its path for the project's whole life. Tools record
it: the shell hook puts ``<store>/venvs/<name>/bin`` on ``PATH``, so ``pre-commit
install`` writes it into ``.git/hooks/pre-commit``, ``ipykernel install`` into a
kernel spec, pip into the shebang of every script it installs. A new name is given
only to a new project (a first adopt, a copy that gets a venv of its own); every
venv that replaces a project's venv (a rebuild, a repair, a venv a tool put at
``.venv``, a restore from the trash) takes the project's current name.

The new venv is first whole under a staging name, then swapped in (journaled,
``swap``):

1. ``begin``: the record is written before anything is made. Where the new venv
   comes from (``source``): ``new``, made and filled at ``<store>/tmp/<name>.new``
   (never linked, never used: dropped when a kill leaves it half made); ``store``,
   a venv a tool put at ``.venv``, which adopt moved into the store under a name of
   its own (``staged``) and linked meanwhile; ``trash``, the trash entry ``staged``.
2. ``staged``: whole and checked. From here on the swap finishes forward.
3. The old venv is renamed into the trash (:mod:`relocator.state.trash`: restorable) and
   at once the new one renamed to the project's name. ``.venv`` leads nowhere only
   between these two renames: nothing else happens there. (After a takeover the
   hop still names the adopted venv's own name until it is made again, right after.)
   First the name is checked to be still the project's: when another project's owner
   record holds it (a copy took it along while the swap was pending), nothing there is
   touched and the new venv takes a name of its own (``into``, step ``rehomed``). When
   the second rename fails, the old venv is renamed back and the swap dropped.
4. ``renamed``: the link made where it does not already lead there, the paths in the
   venv rewritten from its staging place to its name (:func:`rewrite.relocate_venv`,
   as after a move), registered, marked: ``done``.

A live process that runs from the old venv keeps running from the trash (a rename
moves no file it has open); the next one it starts from the old path gets the new
venv. Recovery (:func:`resume`) reads the state, not the record: a staged venv still
there is renamed in (what is at the name first going to the trash), whatever is at
the name is finished. Swaps settle after the project's other records
(:func:`relocator.state.journal.pending`), so the adopt that moved a tool's venv in is
settled first.
"""

from __future__ import annotations

import os

from relocator.errors import RelocatorError
from relocator.moves.naming import owned_by
from relocator.moves.relocation import Notes, marks, new_row, notes_of, register, shortfall, unhide
from relocator.paths import link, resolver
from relocator.paths.git import add_git_exclude
from relocator.state import trash, venvs
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system import faults
from relocator.venv import rewrite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

NEW = "new"  # made and filled at <store>/tmp/<name>.new
STORE = "store"  # a store venv of its own name: a tool's venv that adopt moved in
TRASH = "trash"  # a trash entry


class NotSwapped(RelocatorError):
    """The old venv could not go to the trash, or the new one not to its name (the old one
    then renamed back): nothing was swapped, the project's venv is what it was (after a
    takeover: the venv adopt moved in, under its own name)."""


def begin(
    store: Store,
    project: resolver.Resolved,
    name: str,
    *,
    source: str,
    why: str,
    staged: Optional[str] = None,
    was: Optional[str] = None,
    fill: bool = False,
) -> Intent:
    """Journal a swap into the project's venv ``name``; ``why`` goes into the trash's
    record of the old venv; ``was`` is the name a venv from the trash had (its paths
    name it); ``fill``: a takeover whose new venv is to be filled before the swap."""
    record: dict[str, object] = {"source": source, "why": why}
    if staged:
        record["staged"] = staged
    if was and was != name:
        record["was"] = was
    if fill:
        record["fill"] = True
    intent = Intent.begin(
        store, op="swap", key=project.key, project=project.path, venv=name, **record
    )
    if store.read_owner(name) is None:  # a venv that went missing: the name stays the project's
        store.write_owner(name, new_row(project, name, None).owner_record())
    return intent


def made(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    name: str,
    fill: Callable[[str], Notes],
    *,
    why: str,
) -> tuple[Row, Notes, tuple[str, ...]]:
    """A new venv for ``project`` in place of its venv ``name``, made by ``fill(path)`` at the
    staging place; returns its row, notes, and what the old venv had that it lacks (said
    before the swap: :func:`relocator.moves.relocation.shortfall`).

    A failure while it is made drops it and changes nothing else.
    """
    intent = begin(store, project, name, source=NEW, why=why)
    staging = _staged(store, intent)
    try:
        if os.path.lexists(staging):  # a killed run's, whose record is gone
            store.discard(staging)
        notes = fill(staging)
        _check(store, intent, staging)
    except BaseException:
        _abandon(store, intent)
        raise
    lost = shortfall(store.venv_path(name), staging, project.path)
    row, swapped = finish(store, registry, intent)
    return row, notes + swapped, lost


def finish(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    """Swap the staged venv in and finish: the record's steps from ``begin`` (checked
    first, then past the point of no return) or ``staged`` to ``done``.

    Raises :class:`NotSwapped` when the old venv cannot go to the trash (nothing swapped).
    """
    if intent.step == "begin":
        _check(store, intent, _staged(store, intent))
        intent.advance("staged")
    notes = _exchange(store, intent)
    row, more = _complete(store, registry, intent)
    return row, notes + more


# -- the swap itself ---------------------------------------------------------------------


def _staged(store: Store, intent: Intent) -> str:
    """Where the new venv waits: derived from the record's names, never a path read."""
    source = intent.get("source")
    if source == NEW:
        return os.path.join(store.tmp, intent["venv"] + ".new")
    if source == STORE:
        return store.venv_path(str(intent["staged"]))
    return trash.path(store, str(intent["staged"]))


def _target(intent: Intent) -> str:
    """The name the new venv takes: the project's, or a name of its own when the project's
    name became another project's meanwhile (:func:`_rehome`)."""
    return str(intent.get("into") or intent["venv"])


def _real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _check(store: Store, intent: Intent, staged: str) -> None:
    """Refuse (dropping the record and what was made) a staged venv that is not whole."""
    problem = None
    if not _real_dir(staged):
        problem = f"{staged} is gone"
    elif intent.get("source") == NEW:
        if not link.is_venv(staged):
            problem = f"{staged} is not a venv (no pyvenv.cfg)"
        elif not os.path.exists(venvs.interpreter(staged)):
            problem = f"{staged} has no interpreter"
    elif intent.get("source") == STORE:
        record = store.read_owner(str(intent["staged"])) or {}
        if record.get("key") != intent["key"]:
            problem = f"{staged} is not {intent['project']}'s venv"
    if problem:
        _abandon(store, intent)
        raise RelocatorError(f"{problem}; nothing was replaced: {store.venv_path(intent['venv'])}")


def _abandon(store: Store, intent: Intent) -> None:
    """Forget a swap that did not happen; a venv made for it is dropped (never linked),
    and so is an owner record :func:`begin` wrote for a name that holds no venv."""
    staging = _staged(store, intent)
    if intent.get("source") == NEW and os.path.lexists(staging):
        store.discard(staging)
    for name in {intent["venv"], _target(intent)}:
        if not os.path.lexists(store.venv_path(name)):
            _drop_record(store.owner_path(name), intent["key"])
    intent.done()


def _exchange(store: Store, intent: Intent) -> Notes:
    """The old venv into the trash and the staged one to the project's name: two renames,
    nothing between them. Nothing to do when the staged venv is not there (renamed
    already). The name is checked first to be still the project's (its owner record):
    when it is not, nothing there is touched and the new venv keeps a name of its own."""
    staged = _staged(store, intent)
    if not _real_dir(staged):
        return []
    notes: Notes = []
    if not intent.get("into") and not owned_by(store, intent["venv"], intent["key"]):
        notes.append(_rehome(store, intent))
    name, root = _target(intent), intent["project"]
    venv = store.venv_path(name)
    if intent.get("into") and store.read_owner(name) is None:  # the new name, the project's
        project = resolver.Resolved(root, intent["key"], resolver.provider(root))
        store.write_owner(name, new_row(project, name, None).owner_record())
    if venv == staged:  # a takeover's venv, kept under the name adopt gave it
        intent.advance("renamed")
        return notes
    retiring = None
    if os.path.lexists(venv) and not intent.get("into"):
        notes += _users(venv)
        try:
            retiring = trash.begin(
                store,
                venv,
                kind=trash.VENV,
                key=intent["key"],
                project=root,
                name=name,
                why=str(intent.get("why") or "replaced"),
            )
            trash.rename_in(retiring, venv)
        except RelocatorError as e:
            _abandon(store, intent)
            raise NotSwapped(f"could not put the old venv in the trash: {e}") from None
    faults.point("swap:retired")
    try:
        os.rename(staged, venv)
    except OSError as e:
        problem = f"cannot move {staged} to {venv} ({e.strerror})"
        raise _put_back(store, intent, retiring, problem) from None
    if retiring is not None:
        entry = trash.finish(store, retiring)
        notes.append(
            f"the replaced venv is in the trash: relocate restore --id {entry.id} puts it back"
        )
    intent.advance("renamed")
    return notes


def _rehome(store: Store, intent: Intent) -> str:
    """The name is another project's now: the new venv becomes the project's own under a
    new name (a takeover's: the name adopt gave it), recorded before anything moves."""
    name, root = intent["venv"], intent["project"]
    owner = store.read_owner(name)
    into = str(intent["staged"]) if intent.get("source") == STORE else store.new_venv_name(root)
    intent.record["into"] = into
    intent.advance("rehomed")
    whose = f"{owner.get('path')}'s venv" if owner else "a venv without an owner record"
    return (
        f"{store.venv_path(name)} is {whose} now, so it is left alone: "
        f"this project's new venv has a name of its own, {store.venv_path(into)}"
    )


def _put_back(
    store: Store, intent: Intent, retiring: Optional[Intent], problem: str
) -> RelocatorError:
    """The old venv renamed back from the trash, the swap dropped (a rebuild's new venv too)."""
    venv, staged = store.venv_path(_target(intent)), _staged(store, intent)
    if retiring is not None:
        try:
            os.rename(trash.path(store, retiring["venv"]), venv)
        except OSError as e:
            return RelocatorError(
                f"{problem}, nor the old venv back from the trash ({e.strerror}); "
                f"relocate adopt {intent['project']} finishes the replacement"
            )
        retiring.done()
    kept = "" if intent.get("source") == NEW else f"; the new venv stays at {staged}"
    _abandon(store, intent)
    return NotSwapped(f"{problem}; nothing was replaced: {venv} is as it was{kept}")


def _users(venv: str) -> Notes:
    """A note naming a process that runs from the old venv (an activated shell does not
    count: its PATH names the store path, which the new venv takes)."""
    from relocator.system import processes

    users = [u for u in processes.users([venv]).get(venv, []) if not u.weak]
    if not users:
        return []
    return [
        f"pid {users[0].pid} ({users[0].name}) runs from the replaced venv: it goes on from the "
        "trash; restart it to use the new one"
    ]


def _complete(store: Store, registry: Registry, intent: Intent) -> tuple[Row, Notes]:
    """The new venv is at the project's name: linked (where ``.venv`` does not already
    lead there), its paths rewritten, registered, marked."""
    name, root = _target(intent), intent["project"]
    project = resolver.Resolved(root, intent["key"], resolver.provider(root))
    venv, staged = store.venv_path(name), _staged(store, intent)
    if os.path.realpath(os.path.join(root, link.LINK)) != os.path.realpath(venv):
        link.create(root, venv, store.venvs)  # first: after a takeover the hop leads nowhere
    notes = unhide(venv)
    olds = [staged] + ([store.venv_path(str(intent["was"]))] if intent.get("was") else [])
    notes += rewrite.relocate_venv(venv, [old for old in olds if old != venv])
    faults.point("swap:rewritten")
    row = register(store, registry, project, name)
    notes += marks(store, name)
    if intent.get("source") == STORE and name != intent["staged"]:
        _drop_record(store.owner_path(str(intent["staged"])), intent["key"])
    elif intent.get("source") == TRASH and not os.path.lexists(staged):
        _drop_record(staged + ".json", None)
    notes += notes_of(add_git_exclude(root))
    intent.done()
    return row, notes


def _drop_record(path: str, key: Optional[str]) -> None:
    """Remove the record of the staged venv's old place (its owner record, or its trash
    record), when it names ``key`` (None: any)."""
    import contextlib

    from relocator.system.files import read_record

    record = read_record(path)
    if record is not None and key is not None and record.get("key") != key:
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# -- recovery ------------------------------------------------------------------------------


def adopted(store: Store, intent: Intent) -> bool:
    """Whether a takeover's swap, still at ``begin``, has the venv adopt moved in: the staged
    store venv is there and its owner record names the project."""
    if intent.step != "begin" or intent.get("source") != STORE:
        return False
    owner = store.read_owner(str(intent.get("staged"))) or {}
    return _real_dir(_staged(store, intent)) and owner.get("key") == intent["key"]


def resume(store: Store, registry: Registry, intent: Intent) -> tuple[bool, Notes]:
    """Settle an interrupted swap: finished forward from ``staged`` on; before that, rolled
    back, except a takeover whose adopt finished (it goes on as it would have). A takeover
    killed while its venv was filled is not this function's: recovery gives it to
    :func:`relocator.moves.takeover.keep_old`."""
    name, source = intent["venv"], intent.get("source")
    if intent.step == "begin":
        if adopted(store, intent):  # the adopt that moved a tool's venv in finished: go on
            try:
                notes = finish(store, registry, intent)[1]
            except NotSwapped as e:
                return False, [f"{e}; the project's venv keeps the name {intent['staged']}"]
            return True, [*notes, "finished an interrupted takeover of a tool's venv"]
        _abandon(store, intent)
        what = {NEW: "the unfinished venv of an interrupted rebuild is removed"}.get(
            str(source), "an interrupted replacement changed nothing"
        )
        return False, [f"{what} ({store.venv_path(name)} is as it was)"]
    try:
        notes = _exchange(store, intent)
    except NotSwapped as e:
        return False, [str(e)]
    name = _target(intent)
    if not _real_dir(store.venv_path(name)):
        intent.done()  # neither the staged venv nor one at the name: nothing to finish
        return False, [f"an interrupted replacement left no venv at {store.venv_path(name)}"]
    if not owned_by(store, name, intent["key"]):  # renamed in, then taken along: not ours
        intent.done()
        return False, [f"an interrupted replacement left {store.venv_path(name)} to its owner"]
    notes += _complete(store, registry, intent)[1]
    return True, [*notes, f"finished an interrupted replacement of {store.venv_path(name)}"]
