"""Trees: a project's rebuildable trees beyond the venv, kept in the store behind links.

``relocate adopt --trees`` moves the project's ``.mypy_cache``, ``.nox``,
``.pytest_cache``, ``.ruff_cache`` and ``.tox`` (``node_modules`` only when asked)
into the store, each behind the venv's shape (:mod:`relocator.paths.hops`)::

    NAME -> NAME.nosync/NAME -> <store>/trees/<bundle>/NAME

A project's trees share one folder of the store, its *bundle* (:mod:`relocator.state.bundles`),
whose owner record ``<bundle>.json`` beside it names the project: the ownership
rule of store venvs, applied to trees. Each move is journaled like a venv's
(``adopt-tree``, ``eject-tree``: :mod:`relocator.venv.transfer` moves, :func:`resume`
finishes or rolls back), one tree at a time.

A tree that is absent is linked ahead when the project configures its tool
(``[tool.mypy]``, ``tox.ini``, ``noxfile.py``, ``package.json``...) or has it
installed in its venv (:mod:`relocator.state.treechoice`), so the tool creates its
contents in the store. A dangling tree link (a second machine, a
wiped store) gets a new empty tree: every tree here is rebuildable. A link of the
old shape (``NAME -> NAME.nosync -> tree``) is converted to the shape.

Bytecode goes to the bundle's ``bytecode/`` folder (:mod:`relocator.venv.bytecode`), from
the first adopt that asks for trees, whether or not a tree is there to link.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex

from relocator.errors import RelocatorError
from relocator.paths import hops, resolver
from relocator.records import NamedTuple
from relocator.state import bundles, venvs
from relocator.state.journal import Intent
from relocator.state.store import Store
from relocator.system import faults
from relocator.system.files import is_under
from relocator.venv import bytecode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

ABSENT = "absent"
RELOCATED = "relocated"  # leads to a tree in one of the project's bundles
OLD_SHAPE = "old-shape"  # relocated, through a link of the old shape (builds ship the tree)
DANGLING = "dangling"  # relocator's link, leading nowhere (a second machine, a wiped store)
IN_PROJECT = "in-project"  # a real folder
OTHER = "other"  # a file, or a symlink elsewhere: never touched

Notes = list[str]


class TreeState(NamedTuple):
    kind: str
    target: Optional[str]  # the real path the link leads to (RELOCATED, DANGLING)


# -- a tree's state ---------------------------------------------------------------------


def state(store: Store, root: str, name: str) -> TreeState:
    path = os.path.join(root, name)
    if not os.path.lexists(path):
        return TreeState(ABSENT, None)
    if not os.path.islink(path):
        return TreeState(IN_PROJECT if os.path.isdir(path) else OTHER, None)
    real, trees = os.path.realpath(path), os.path.realpath(store.trees)
    if os.path.isdir(real) and is_under(real, trees):
        return TreeState(OLD_SHAPE if hops.outdated(root, [name]) else RELOCATED, real)
    shaped = hops.shape(root, name) is not None
    if (shaped or is_under(real, trees)) and not os.path.exists(path):
        return TreeState(DANGLING, real)
    if shaped and hops.is_ours(root, name, _ours(store)):
        return TreeState(DANGLING, real)  # the old shape's link, into a folder of the shape
    return TreeState(OTHER, real)


def _ours(store: Store) -> hops.Ours:
    """What a machine-local tree link of relocator's may lead to: a folder of the store's
    ``trees/``."""
    trees = os.path.realpath(store.trees)
    return lambda real: is_under(real, trees)


def _bundle_of_path(store: Store, real: str) -> str:
    return os.path.relpath(real, os.path.realpath(store.trees)).split("/", 1)[0]


def describe(store: Store, root: str, bundle: Optional[str]) -> list[dict[str, Any]]:
    """The relocated trees of the project at ``root`` (links in it, or trees in its bundle
    ``bundle``): ``{name, state, path}`` each, ``path`` where the tree is in the store."""
    names = set(hops.tree_links(root))
    if bundle is not None:
        with contextlib.suppress(OSError):
            names |= {n for n in os.listdir(bundles.path(store, bundle)) if n in hops.TREES}
    found = []
    for name in sorted(names):
        kind, target = state(store, root, name)
        where = target or (os.path.join(bundles.path(store, bundle), name) if bundle else None)
        found.append({"name": name, "state": kind, "path": where})
    return found


# -- converging -------------------------------------------------------------------------


def converge(
    store: Store, project: resolver.Resolved, names: tuple[str, ...], venv: Optional[str]
) -> Notes:
    """Bring each tree of ``names`` in the locked project to relocated; bytecode of the
    store venv ``venv`` (when given) to the bundle, which exists as soon as any tree is
    asked for, linked or not. Returns notes, one line for each tree that changed and
    why; a tree that cannot move is a note (the others and the venv stay relocated)."""
    from relocator.paths import relinking

    from relocator.state import treechoice

    root, notes = project.path, Notes()
    bundle = had = bundles.of(store, project.key)
    tools = treechoice.installed(venv)
    for name in hops.tree_links(root):  # the old shape goes, whichever trees are wanted
        found = state(store, root, name)
        if found.kind == OLD_SHAPE and _bundle_of_path(store, found.target or "") == bundle:
            try:
                relinking.update(root, name, _ours(store))
                notes.append(f"{name} link updated to the current shape")
            except (RelocatorError, OSError) as e:
                notes.append(f"{name} keeps its old link: {e}")
    for name in names:
        found = state(store, root, name)
        if found.kind == RELOCATED and _bundle_of_path(store, found.target or "") == bundle:
            continue
        if found.kind == OTHER:
            what = "a symlink elsewhere" if os.path.islink(os.path.join(root, name)) else "a file"
            notes.append(f"{os.path.join(root, name)} is {what}: left alone")
            continue
        why = treechoice.ahead(root, name, tools) if found.kind == ABSENT else None
        if found.kind == ABSENT and why is None:
            continue
        bundle = bundle or bundles.new(store, project)
        try:
            if found.kind == IN_PROJECT:
                notes += [f"{name} moved into the store", *_move_in(store, project, bundle, name)]
                continue
            # absent, dangling, or another project's tree (a copied project): a new one
            tree = os.path.join(bundles.path(store, bundle), name)
            os.makedirs(tree, exist_ok=True)
            _link(store, root, name, tree)
            if found.kind == ABSENT:
                notes.append(f"{name} linked ahead into the store ({why})")
            else:
                led = "nowhere" if found.kind == DANGLING else "to another project's trees"
                notes.append(f"{name} made anew in the store (its link led {led})")
        except (RelocatorError, OSError) as e:
            notes.append(f"{name} stays where it is: {e}")
    if names and bundle is None:  # asked for: bytecode goes to the store with no tree yet
        bundle = bundles.new(store, project)
    if had is None and bundle is not None and venv is not None:  # the project's first trees
        note = "the venv's Python now writes bytecode to the store"
        if bytecode.left_in(root):
            note += (
                f"; `relocate scan {shlex.quote(root)} --remove-bytecode` deletes the "
                "__pycache__ folders of before"
            )
        notes.append(note)
    return notes + _bytecode_to(store, bundle, venv)


def keep_bytecode(store: Store, project: resolver.Resolved, venv: Optional[str]) -> Notes:
    """Send the bytecode of the store venv ``venv`` to the project's bundle, when the
    project has one: a venv made anew (a rebuild, a repair) starts without it."""
    return _bytecode_to(store, bundles.of(store, project.key), venv)


def _bytecode_to(store: Store, bundle: Optional[str], venv: Optional[str]) -> Notes:
    if bundle is None or venv is None or not os.path.isdir(venv):
        return []
    return bytecode.on(venv, os.path.join(bundles.path(store, bundle), bytecode.FOLDER))


def _check_free(
    store: Store, root: str, name: str, moving_away: Optional[str] = None, others: bool = False
) -> None:
    """Refuse when the tree ``name``'s link or hop holds something that is not relocator's
    nor a dead link of its shape (:func:`hops.in_the_way`; ``others`` as there)."""
    reason = hops.in_the_way(root, name, _ours(store), moving_away=moving_away, others=others)
    if reason:
        raise RelocatorError(reason)


def _link(store: Store, root: str, name: str, tree: str, others: bool = False) -> None:
    """``root/name -> name.nosync/name -> tree``; only relocator's links or dead ones are
    replaced."""
    from relocator.paths import relinking

    _check_free(store, root, name, others=others)
    relinking.two_hop(root, name, tree)


def _move_in(store: Store, project: resolver.Resolved, bundle: str, name: str) -> Notes:
    from relocator.venv import settling, transfer

    root = project.path
    where = transfer.places(store, "adopt", root, bundle, tree=name)
    if not os.access(where.src, os.W_OK | os.X_OK):
        raise RelocatorError(f"cannot write in {where.src} (permission denied)")
    cross = not venvs.same_volume(where.src, store.trees)
    before = venvs.check_copyable(where.src, store.tmp) if cross else None
    _check_free(store, root, name, where.src)  # before the move: it must link
    if os.path.lexists(where.aside):
        raise RelocatorError(f"{where.aside} is in the way (left by an earlier relocate?)")
    if os.path.lexists(where.dest):  # the tree of before a tool replaced the link: stale
        _to_trash(
            store, project, bundle, name, f"replaced: {name} was a folder in the project again"
        )
    intent = _begin(store, "adopt-tree", project, bundle, name, cross=cross)
    settling.move(intent, where, store, before, lambda: None, undo=intent.done)
    return _finish_adopt(store, intent)


def _to_trash(store: Store, project: resolver.Resolved, bundle: str, name: str, why: str) -> str:
    """Put the store's copy of tree ``name`` (stale: the project has a newer one) in the
    trash; return the entry's id."""
    from relocator.state import trash

    tree = os.path.join(bundles.path(store, bundle), name)
    entry = trash.put(
        store,
        tree,
        kind=trash.TREE,
        key=project.key,
        project=project.path,
        name=bundle,
        tree=name,
        why=why,
    )
    return entry.id


def _begin(
    store: Store, op: str, project: resolver.Resolved, bundle: str, name: str, *, cross: bool
) -> Intent:
    """Journal the move of tree ``name`` (``venv`` names the bundle, as recovery expects)."""
    mode = "copy" if cross else "rename"
    record = {"key": project.key, "project": project.path, "venv": bundle, "tree": name}
    return Intent.begin(store, op=op, mode=mode, **record)


def _finish_adopt(store: Store, intent: Intent) -> Notes:
    from relocator.venv import settling, transfer

    root, bundle, name = intent["project"], intent["venv"], intent["tree"]
    where = transfer.places(store, "adopt", root, bundle, tree=name)
    bundles.claim(store, bundle, intent["key"], root)
    notes: Notes = []
    try:
        _link(store, root, name, where.dest)
    except (RelocatorError, OSError) as e:  # past the move: a note, the tree is whole
        notes.append(f"{name} is in the store at {where.dest} but not linked: {e}")
    intent.advance("linked")
    note = transfer.drop_aside(where, store)
    intent.done()
    return notes + ([note] if note else [])


# -- ejecting -----------------------------------------------------------------------------


def eject(store: Store, project: resolver.Resolved, venv: Optional[str]) -> Notes:
    """Put every tree of the locked project back as a folder (an empty one, never used,
    just goes), let the store venv ``venv`` write bytecode beside the sources again, and
    remove the bundle."""
    root, notes = project.path, Notes()
    bundle = bundles.of(store, project.key)
    if bundle is None:
        for name in hops.tree_links(root):  # a second machine's links that never had a tree
            notes += _unlinked(root, name)
        return notes
    bundles.claim(store, bundle, project.key, root)
    if venv is not None:
        bytecode.off(venv)
    folder = bundles.path(store, bundle)
    for name in hops.TREES:
        tree = os.path.join(folder, name)
        linked = name in hops.tree_links(root)
        if not os.path.isdir(tree) or os.path.islink(tree):
            if linked:
                notes += _unlinked(root, name)
            continue
        if not os.listdir(tree):
            if linked:
                notes += _unlinked(root, name)
            store.discard(tree)
            continue
        if os.path.lexists(os.path.join(root, name)) and not linked:
            # A tool replaced the link with a folder of its own (npm does): that one is
            # current, the store's copy is stale.
            notes += _unlinked(root, name)
            why = f"ejected: the project has a {name} of its own"
            entry = _to_trash(store, project, bundle, name, why)
            notes.append(
                f"kept the project's own {name}; the store's older copy is in the trash "
                f"(relocate restore --id {entry} puts it back)"
            )
            continue
        notes += _move_out(store, project, bundle, name)
    leftover = [n for n in os.listdir(folder) if n in hops.TREES]
    if leftover:
        notes.append(f"kept {folder}: it still holds {', '.join(leftover)}")
        return notes
    bundles.discard(store, bundle)
    return notes


def _unlinked(root: str, name: str) -> Notes:
    """Remove the link of tree ``name`` (:func:`relinking.remove_two_hop`); a note when its
    ``name.nosync`` folder stays because it holds what relocator did not put there."""
    from relocator.paths import relinking

    note = relinking.remove_two_hop(root, name, hops.tree_ours(name))
    return [note] if note else []


def _move_out(store: Store, project: resolver.Resolved, bundle: str, name: str) -> Notes:
    from relocator.paths import relinking

    from relocator.venv import settling, transfer

    root = project.path
    where = transfer.places(store, "eject", root, bundle, tree=name)
    if os.path.lexists(where.staging):
        raise RelocatorError(f"{where.staging} is in the way (left by an earlier relocate?)")
    cross = not venvs.same_volume(where.src, root)
    before = venvs.check_copyable(where.src, root) if cross else None
    intent = _begin(store, "eject-tree", project, bundle, name, cross=cross)
    clear = functools.partial(relinking.remove_two_hop, root, name, hops.tree_ours(name))
    settling.move(intent, where, store, before, clear, undo=lambda: _undo_eject(store, intent))
    return _finish_eject(store, intent)


def _finish_eject(store: Store, intent: Intent) -> Notes:
    from relocator.venv import settling, transfer

    root, name = intent["project"], intent["tree"]
    where = transfer.places(store, "eject", root, intent["venv"], tree=name)
    notes = _unlinked(root, name)  # the hop: name is the tree again
    note = transfer.drop_aside(where, store)
    intent.done()
    return notes + ([note] if note else [])


def _undo_eject(store: Store, intent: Intent) -> None:
    from relocator.venv import settling, transfer

    root, name = intent["project"], intent["tree"]
    where = transfer.places(store, "eject", root, intent["venv"], tree=name)
    if os.path.isdir(where.src) and not os.path.lexists(os.path.join(root, name)):
        _link(store, root, name, where.src, others=True)
    intent.done()


# -- recovery ----------------------------------------------------------------------------


def resume(store: Store, intent: Intent) -> tuple[bool, Notes]:
    """Settle an interrupted tree move: finished forward when the tree is whole at its
    destination, else rolled back. Raises :class:`NotOwner` for another project's bundle."""
    from relocator.venv import settling, transfer

    op, root, bundle, name = intent.op, intent["project"], intent["venv"], intent["tree"]
    bundles.claim(store, bundle, intent["key"], root)
    where = transfer.places(store, op, root, bundle, tree=name)
    clear = (lambda: _unlinked(root, name)) if op == "eject-tree" else (lambda: None)
    if settling.settle(intent, where, store, clear) == settling.FORWARD:
        finish = _finish_adopt if op == "adopt-tree" else _finish_eject
        return True, [*finish(store, intent), f"finished an interrupted {op} of {name}"]
    if op == "eject-tree":
        _undo_eject(store, intent)
    else:
        intent.done()
    faults.point(f"{op}:undone")
    return False, [f"rolled back an interrupted {op} of {name}: it is where it was"]
