"""``relocate adopt``: converge a project to relocated, registered, working.

Whatever state the project is in, adopt brings it to one store venv with the
user's packages, linked and registered:

========================  ==============================================================
``.venv`` is              adopt
========================  ==============================================================
relocated, ours           marked again, its Python read again (registered again from
                          the owner record if needed); a venv a tool broke is healed
                          (:mod:`relocator.moves.healing`): mended in place, or rebuilt from
                          the recipe; a link of the old shape is updated
                          (:func:`relinking.update`)
relocated, moved here     the venv follows the project (:mod:`relocator.moves.moved`)
relocated, copied here    a copy of the original's venv, made the copy's own
a real venv               moved into the store; when it replaced the project's store
                          venv, it takes that venv's name and the old one goes to the
                          trash (:mod:`relocator.moves.takeover`)
uv's central env          moved into the store the same way (``uv cache clean`` would
                          delete it where it was)
gone, or dangling         this machine's registered venv is linked again; with none,
                          one is built from the recipe (a new project, a second machine,
                          a wiped store), under the name this machine registered, if any
========================  ==============================================================
"""

from __future__ import annotations

import os
import time

from relocator.errors import NotFound, RelocatorError
from relocator.moves.healing import heal, python_note
from relocator.moves.recovery import locked
from relocator.moves.relocation import (
    Outcome,
    Wants,
    finish_adopt,
    new_row,
    notes_of,
    undo_adopt,
)
from relocator.paths import hops, link, relinking, resolver
from relocator.paths.git import add_git_exclude
from relocator.paths.project import check_new, check_store
from relocator.state import remembered, treechoice, venvs
from relocator.state.journal import Intent
from relocator.state.registry import Registry
from relocator.state.rows import row_from_record
from relocator.state.store import Store
from relocator.system.files import is_under
from relocator.venv import trees

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Seconds after which a no-op adopt records again that it saw the project (last_seen).
SEEN_AGAIN = 3600.0


def adopt(
    path: str,
    python: Optional[str] = None,
    store: Optional[Store] = None,
    wants: Optional[Wants] = None,
) -> Outcome:
    """Converge the project at or above ``path`` to relocated and registered."""
    store = store or Store()
    wants = wants or Wants(python)
    wants = wants._replace(name=os.path.normpath(wants.name or "."))  # venv/ and ./venv: venv
    named = wants.name if wants.name != link.LINK else None
    with locked(path, store, named) as (project, registry, recovered):
        mark = registry.ejected(project.key)  # the user's eject holds until the user adopts
        if mark is not None and wants.by_service:
            raise RelocatorError(mark.reason())
        if mark is not None:
            registry.unmark_ejected(project.key)
        names = treechoice.wanted(
            store, project, wants.trees, wants.node_modules, _setting(wants, project)
        )
        if named is None:
            done = converge(store, registry, project, wants)
        else:
            done = _converge_named(store, registry, project, wants)
        # Also with no trees wanted: a project with trees keeps its bytecode in the store,
        # whichever venv it ends with.
        moved = trees.converge(store, project, names, done.venv)
        if names:
            moved += notes_of(add_git_exclude(project.path))
        return done._replace(notes=(*recovered.notes, *done.notes, *moved))


def _setting(wants: Wants, project: resolver.Resolved) -> object:
    """The config's ``trees``, read only when it decides: not with ``--trees`` or
    ``--no-trees``, nor when the project's ``[tool.relocator]`` says. A config that
    cannot be read is a warning, and adopt goes on without it: the user can still adopt."""
    from relocator.errors import warn
    from relocator.paths.project import pyproject_table
    from relocator.state import settings

    mine = pyproject_table(project.path, "tool", "relocator") or {}
    if wants.trees is not None or "trees" in mine:
        return None
    try:
        return settings.load_config().trees
    except RelocatorError as e:
        warn(f"{e} (adopt goes on without the config's trees setting)")
        return None


def _converge_named(
    store: Store, registry: Registry, project: resolver.Resolved, wants: Wants
) -> Outcome:
    """``adopt --name NAME``: the venv is the folder NAME (``venv``, ``env``), which
    becomes an alias ``NAME -> .venv`` once it is moved into the store (made in
    :func:`relocation.finish_adopt`, so that recovery makes it too). Run again, or on a
    project relocated without it, converges as adopt does and adds the alias."""
    root, name = project.path, wants.name
    if not link.valid_alias(name):
        raise RelocatorError(f"--name {name!r}: give the name of a folder in the project")
    named = os.path.join(root, name)
    state = link.inspect(root, store.venvs)
    if link.is_alias(root, name) or (state.kind == link.RELOCATED and not os.path.lexists(named)):
        done = converge(store, registry, project, wants)
        return done._replace(notes=(*done.notes, *notes_of(link.make_alias(root, name))))
    if not os.path.lexists(named):
        raise NotFound(f"{named}: no such venv")
    if os.path.islink(named) or not link.is_venv(named):
        what = "a symlink" if os.path.islink(named) else "not a venv (no pyvenv.cfg)"
        raise RelocatorError(f"{named} is {what}; --name takes a venv folder in the project")
    if state.kind not in (link.ABSENT, link.DANGLING):
        raise RelocatorError(
            f"{root} has a .venv ({state.kind}) besides {name}: a project has one venv; "
            f"remove the one you do not use and run again"
        )
    done = converge(store, registry, project, wants, found=link.LinkState(link.IN_PROJECT, named))
    if link.is_alias(root, name):
        note = f"{name} is now a link to .venv (relocate eject makes it a folder again)"
        done = done._replace(notes=(note, *done.notes))
    return done


def converge(
    store: Store,
    registry: Registry,
    project: resolver.Resolved,
    wants: Wants,
    found: Optional[link.LinkState] = None,
) -> Outcome:
    """Adopt's work on the venv of a locked project; ``found`` is the venv to take instead
    of what ``.venv`` is."""
    root = project.path
    state = found or link.inspect(root, store.venvs)
    dotvenv = os.path.join(root, link.LINK)
    if state.kind == link.RELOCATED:
        return _relocated(store, registry, project, state.target or "", wants)
    # here on, not the no-op path: what it alone needs is imported here
    from relocator.moves import naming, takeover
    from relocator.state import evidence

    check_new(root)
    check_store(store.venvs)
    if state.kind == link.FILE:
        raise RelocatorError(f"{dotvenv} is a file, not a venv; move it away and run again")
    if state.kind == link.NOT_VENV:
        raise RelocatorError(
            f"{dotvenv} is a folder without pyvenv.cfg, not a venv; move it away and run again"
        )
    if state.kind == link.BROKEN:
        raise RelocatorError(
            f"{dotvenv} is a symlink that leads nowhere (to {state.target}), and not relocator's "
            "link; remove it (or mend it) and run again"
        )
    target = state.target or dotvenv
    theirs = link.anothers(target) if state.kind in (link.DANGLING, link.FOREIGN) else None
    if theirs:
        raise RelocatorError(
            f"{dotvenv} leads to {target}, {theirs}; adopt leaves another user's venv linked "
            f"(remove {os.path.join(root, link.HOP)} to give this user a venv of its own)"
        )
    if state.kind == link.IN_PROJECT and target != dotvenv:
        _check_top_level(root, dotvenv, target)
    if state.kind == link.FOREIGN and target == os.path.join(root, link.HOP):
        raise RelocatorError(
            link.problem(root, store.venvs)
            or f"{dotvenv} leads to {target}, which is not a venv; move it away and run again"
        )
    if state.kind == link.FOREIGN and not link.uv_central(target):
        if is_under(target, os.path.realpath(store.root)):
            where = "into relocator's store, but not to the root of a venv there"
        else:
            where = "outside relocator's store"
        raise RelocatorError(
            f"{dotvenv} is a symlink to {target}, {where}; "
            "remove the link (or undo it with the tool that made it) and run again"
        )
    if state.kind in (link.IN_PROJECT, link.FOREIGN):
        why = evidence.foreign_venv(root, target)
        if why:
            raise RelocatorError(
                f"{target} is not a venv relocate adopts: {why}; it is left as it is "
                "(move it away and run relocate adopt to make one)"
            )
        replaced = registry.get(project.key)
        if replaced is not None and naming.keeps(store, project, replaced.venv):
            done = takeover.take_over(
                store,
                registry,
                project,
                replaced.venv,
                target=target,
                wants=wants,
                move_in=lambda name: _move_in(store, registry, project, target, name),
            )
        else:
            done = _move_in(store, registry, project, target, store.new_venv_name(root))
        return done._replace(notes=(*python_note(wants.python), *done.notes))
    if state.kind == link.DANGLING:
        why = evidence.shipped_link(root)
        if why:
            raise RelocatorError(f"{dotvenv} is not relocator's link: {why}")
    return _relink_or_create(store, registry, project, wants, dangling=state.kind == link.DANGLING)


def _check_top_level(root: str, dotvenv: str, target: str) -> None:
    """A ``.venv`` that links to a venv folder of the project: only one at its top level
    moves (it stays as an alias, ``NAME -> .venv``, as ``--name`` leaves it); a deeper one
    would vanish from its path."""
    name = os.path.relpath(target, root)
    if not link.valid_alias(name):
        raise RelocatorError(
            f"{dotvenv} links to {target}, a venv deeper in the project: relocate moves only "
            "a venv folder at the project's top (.venv, or --name NAME); move it there, or "
            "remove the link, and run again"
        )


def _relink_or_create(
    store: Store, registry: Registry, project: resolver.Resolved, wants: Wants, *, dangling: bool
) -> Outcome:
    """No usable .venv: link this machine's registered venv, or make one.

    A dangling link is a project synced from another machine, a wiped store, or
    a removed ``.venv.nosync/.venv``; a missing one, a tool that deleted the link, or
    a project that never had a venv. A venv made here is built from the project's
    recipe, as ``uv sync`` would (``--no-install``: left empty; the service never
    installs); where a venv existed and is gone here, under the name it had here
    (:func:`naming.current_name`).
    """
    from relocator.moves import creation, naming

    row = registry.get(project.key)
    if row is not None and os.path.isdir(store.venv_path(row.venv)):
        venv = store.venv_path(row.venv)
        store.claim(row.venv, project.key, project.path)
        link.create(project.path, venv, store.venvs)
        notes = notes_of(add_git_exclude(project.path))
        relinked = Outcome(project.path, venv, "relinked", row.python, row.provider, tuple(notes))
        return heal(store, registry, project, name=row.venv, wants=wants, done=relinked)
    name = naming.current_name(store, registry, project, link.inspect(project.path, store.venvs))
    if row is not None and name != row.venv:  # a name another project's record holds
        registry.remove(project.key)
    before = remembered.recall(registry, name) if name else None  # read before it is replaced
    created = creation.create(
        store, registry, project, wants, again=dangling or row is not None, replaces=name
    )
    if row is None and not dangling:
        return created
    if name is None:
        note = "the venv .venv led to is not on this machine: made a new one"
        return created._replace(notes=(note, *created.notes))
    note = "the store venv was gone (the system or a tool deleted it): made it again"
    source = created.action.replace("built from ", "", 1).split(" (", 1)[0]
    if source == created.action:
        source = "the new, empty venv"
    lost = () if before is None else tuple(remembered.lost_note(before, created.venv, source))
    return created._replace(notes=(note, *created.notes, *lost), unrestored=lost)


def _relocated(
    store: Store, registry: Registry, project: resolver.Resolved, target: str, wants: Wants
) -> Outcome:
    name = os.path.basename(target)
    owner = store.read_owner(name)
    theirs = owner is not None and owner.get("key") != project.key
    if theirs:  # another project's venv: this project moved here, or is a copy
        from relocator.moves import creation, moved

    if owner is not None and theirs and moved.moved_away(store, name, owner):
        row, notes = moved.follow(store, registry, project, name, owner)
        done = Outcome(project.path, target, "moved along", row.python, row.provider, tuple(notes))
    elif owner is not None and theirs and _copied(project.path):
        return creation.copy_for(store, registry, project, name, str(owner.get("path")))
    else:
        done = _already(store, registry, project, target, wants.python)
    if relinking.update(  # the venv is the project's now: its link may be updated
        project.path,
        link.LINK,
        link.ours(store.venvs),
        faults_as="link",
    ):
        note = "the link has the new shape (.venv -> .venv.nosync/.venv): builds skip it"
        action = "relinked" if done.action == "unchanged" else done.action
        done = done._replace(action=action, notes=(note, *done.notes))
    return heal(store, registry, project, name=name, wants=wants, done=done)


def _copied(root: str) -> bool:
    """Whether ``root`` holds relocator's own link, as a copied project does (a monorepo
    member's ``.venv -> ../../.venv`` shares its root's venv on purpose)."""
    return hops.shape(root, link.LINK) is not None


def _already(
    store: Store, registry: Registry, project: resolver.Resolved, target: str, python: Optional[str]
) -> Outcome:
    name = os.path.basename(target)
    notes = list(python_note(python))
    row = registry.get(project.key)
    if row is None or row.venv != name:
        owner = store.claim(name, project.key, project.path)
        row = row_from_record(name, owner) or new_row(project, name, venvs.python_version(target))
        registry.put(row)
        remembered.remember(registry, name, target)
        notes.append("registered again from the store's owner record")
    if time.time() - row.last_seen > SEEN_AGAIN:  # a write (and an fsync) at most hourly
        registry.touch(project.key)
        remembered.refresh(registry, name, target)
    notes += notes_of(add_git_exclude(project.path))
    return Outcome(project.path, target, "unchanged", row.python, row.provider, tuple(notes))


def _move_in(
    store: Store, registry: Registry, project: resolver.Resolved, src: str, name: str
) -> Outcome:
    """Move the venv ``src`` into the store as ``name``, linked and registered."""
    from relocator.venv import settling, transfer

    root = project.path
    cross = not venvs.same_volume(src, store.venvs)
    before = venvs.check_movable(src, store.tmp, cross_volume=cross)
    reason = link.problem(root, store.venvs, moving_away=src)
    where = transfer.places(store, "adopt", root, name, src)
    if reason is None and os.path.lexists(where.aside):
        reason = (
            f"{where.aside} is in the way (left by an earlier relocate?); "
            "move it away and run again"
        )
    if reason:
        raise RelocatorError(reason)
    mode = "copy" if cross else "rename"
    intent = Intent.begin(
        store, op="adopt", key=project.key, project=root, venv=name, src=src, mode=mode
    )
    store.write_owner(name, new_row(project, name, venvs.python_version(src)).owner_record())
    settling.move(
        intent, where, store, before, lambda: None, undo=lambda: undo_adopt(store, intent)
    )
    row, notes = finish_adopt(store, registry, intent)
    action = "copied" if intent.get("mode") == "copy" else "moved"  # a bind mount copies too
    return Outcome(root, where.dest, action, row.python, row.provider, tuple(notes))
