"""Health of registered projects: what ``relocate list``, ``status`` and ``doctor`` report.

A project's status is one word; each one but ``ok`` comes with the one
command that repairs it (``relocate adopt`` converges every state it can).
"""

from __future__ import annotations

import os
import shlex

from relocator.errors import NotFound
from relocator.paths import hops, link, resolver
from relocator.paths.project import missing, start_folder
from relocator.records import NamedTuple
from relocator.state import bundles, inventory, venvs
from relocator.state.journal import Intent, pending
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from relocator.system.files import is_under
from relocator.venv import bytecode, trees, venvcheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from relocator.state.remembered import Record

OK = "ok"
PROJECT_MISSING = "project-missing"  # moved, renamed or deleted
LINK_MISSING = "link-missing"  # .venv or its hop (.venv.nosync/.venv) is gone; the venv is there
LINK_REPLACED = "link-replaced"  # a real .venv came back (`poetry env use`, `rm -rf .venv`...)
VENV_MISSING = "venv-missing"  # the store venv is gone (a wiped store, `hatch env remove`)
VENV_EMPTIED = "venv-emptied"  # a tool cleared it through the link (`python -m venv --clear`)
INTERPRETER_MISSING = "interpreter-missing"  # its base Python was removed or upgraded
#: A tool made the venv again in place with another Python (`virtualenv -p 3.12 .venv`):
#: pyvenv.cfg and bin/python say one Python, the packages are where another one looks.
PYTHON_MISMATCH = "python-mismatch"
SCRIPTS_BROKEN = "scripts-broken"  # a console script's shebang names a Python that is gone
MARKS_MISSING = "marks-missing"  # no valid CACHEDIR.TAG (or Time Machine's exclusion)
INTERRUPTED = "interrupted"  # a move of relocate's was killed half-way: the journal says so
OLD_SHAPE = "link-old-shape"  # works, through relocator's old link (builds ship the venv)
STATUSES = (
    OK,
    INTERRUPTED,
    PROJECT_MISSING,
    LINK_MISSING,
    LINK_REPLACED,
    OLD_SHAPE,
    VENV_MISSING,
    VENV_EMPTIED,
    INTERPRETER_MISSING,
    PYTHON_MISMATCH,
    SCRIPTS_BROKEN,
    MARKS_MISSING,
)
#: The venv's conditions that a relink leaves to the repair after it (adopt does both).
_LINK_FIRST = (OK, SCRIPTS_BROKEN, MARKS_MISSING)
UV_CENTRAL = "uv-central-env"  # the cause of a link-replaced: uv's centralized-project-envs
NOT_A_VENV = "not-a-venv"  # the cause of a link-replaced: .venv leads to no venv
BROKEN_LINK = "broken-link"  # the cause of a link-replaced: a dead link relocator did not make
SHIPPED = "not-made-here"  # the cause of a link-replaced: a .venv git tracks, or no interpreter

#: What to do, for each state ({project} is the project's path).
HINTS = {
    INTERRUPTED: "relocate doctor --fix finishes it (or rolls back what never became usable)",
    PROJECT_MISSING: "moved? relocate adopt NEWPATH takes the venv along; "
    "deleted? relocate gc moves its venv to the trash",
    LINK_MISSING: "relocate adopt {project} links the venv again",
    OLD_SHAPE: "old link shape (NAME -> NAME.nosync): builds would ship the venv; "
    "relocate adopt {project} updates it",
    LINK_REPLACED: "relocate adopt {project} moves the new .venv into the store "
    "and then retires the old one",
    VENV_MISSING: "relocate adopt {project} builds it again from the project's lock or "
    "requirements, and names what they do not give back",
    VENV_EMPTIED: "relocate adopt {project} rebuilds it from the project's lock or requirements",
    INTERPRETER_MISSING: "relocate adopt {project} recreates it on the same Python minor "
    "version, or rebuilds it from the project's lock or requirements",
    PYTHON_MISMATCH: "relocate adopt {project} rebuilds it from the project's lock or "
    "requirements, on the Python pyvenv.cfg names (relocate rebuild {project} --python X "
    "for another); with nothing to rebuild from it keeps the venv: reinstall its packages",
    SCRIPTS_BROKEN: "relocate adopt {project} points those scripts at the venv's own Python",
    MARKS_MISSING: "relocate adopt {project} marks it again (CACHEDIR.TAG, the backup "
    "exclusion, the sync-ignore mark)",
    NOT_A_VENV: "what {project}/.venv leads to is no venv (a file, or a sync client's "
    "conflict copy at .venv.nosync): move it away, then relocate adopt {project} links "
    "the venv again",
    BROKEN_LINK: "{project}/.venv is a symlink that leads nowhere and is not relocator's (a "
    "loop, or a link made by hand): remove it, then relocate adopt {project} links the venv "
    "again",
    SHIPPED: "{project}/.venv is not a venv this machine made (git tracks it: a checked-out "
    "branch that tracks .venv took the link's place; or its bin/python is no interpreter): "
    "check out your branch again (or move it away), then relocate adopt {project} links "
    "the venv again",
    UV_CENTRAL: "uv's centralized-project-envs preview replaced the link: keep it off for this "
    "project (export UV_PROJECT_ENVIRONMENT=.venv, or drop it from UV_PREVIEW_FEATURES or "
    "preview-features), then relocate adopt {project} moves uv's env into the store",
}


class Condition(NamedTuple):
    """A store venv's condition: a status word, and what exactly is wrong, in words."""

    status: str
    detail: Optional[str] = None


def venv_condition(store: Store, name: str) -> Condition:
    """Whether the store venv ``name`` works (OK), else the first thing that stops it:
    VENV_MISSING, VENV_EMPTIED, INTERPRETER_MISSING, PYTHON_MISMATCH, SCRIPTS_BROKEN,
    MARKS_MISSING. Judged by reading (:mod:`relocator.venv.venvcheck`), never by running."""
    venv = store.venv_path(name)
    if not os.path.isdir(venv):
        return Condition(VENV_MISSING)
    if not os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
        return Condition(VENV_EMPTIED)  # `python -m venv --clear` empties it, then fails
    if not store.tagged(name) and not inventory.has_packages(venv):
        return Condition(VENV_EMPTIED)  # made anew in place (`uv venv --clear`), empty
    if not os.path.exists(venvs.interpreter(venv)):
        return Condition(INTERPRETER_MISSING)
    mismatch = venvcheck.python_mismatch(venv)
    if mismatch:
        return Condition(PYTHON_MISMATCH, mismatch)
    dead = venvcheck.dead_scripts(venv)
    if dead:
        return Condition(SCRIPTS_BROKEN, venvcheck.describe_dead(dead))
    unmarked = store.unmarked(name)
    if unmarked:
        return Condition(MARKS_MISSING, unmarked)
    return Condition(OK)


def link_cause(state: link.LinkState, root: str) -> Optional[str]:
    """What replaced relocator's link in the project ``root``, when it can tell."""
    target = state.target or ""
    if state.kind == link.BROKEN:
        return BROKEN_LINK
    if state.kind == link.IN_PROJECT:
        from relocator.state import evidence

        if evidence.foreign_venv(root, target):
            return SHIPPED
    if state.kind == link.FOREIGN and link.uv_central(target):
        return UV_CENTRAL
    if state.kind in (link.FOREIGN, link.FILE, link.NOT_VENV) and not link.is_venv(target):
        return NOT_A_VENV
    return None


class Diagnosis(NamedTuple):
    """A registered project's status, its cause when one is known (a word that has a hint
    of its own), and what exactly is wrong, in words."""

    status: str
    cause: Optional[str] = None
    detail: Optional[str] = None


def diagnosis(store: Store, row: Row) -> Diagnosis:
    """The health of a registered project."""
    if not os.path.isdir(row.path):
        return Diagnosis(PROJECT_MISSING)
    state = link.inspect(row.path, store.venvs)
    if state.kind not in (link.ABSENT, link.DANGLING) and (
        state.kind != link.RELOCATED or os.path.basename(state.target or "") != row.venv
    ):
        return Diagnosis(LINK_REPLACED, link_cause(state, row.path))
    condition, venv = venv_condition(store, row.venv), store.venv_path(row.venv)
    if state.kind in (link.ABSENT, link.DANGLING) and condition.status in _LINK_FIRST:
        return Diagnosis(LINK_MISSING)  # the link, or its .venv.nosync/.venv hop, is gone
    if condition.status == OK and old_shape(row.path):
        return Diagnosis(OLD_SHAPE)
    if condition.status == VENV_MISSING:  # what it held: the registry's record, if any
        from relocator.state import remembered

        return Diagnosis(VENV_MISSING, None, remembered.gone(store, venv, recorded(store, row.venv)))
    return Diagnosis(condition.status, None, condition.detail)


def diagnose(store: Store, row: Row) -> tuple[str, Optional[str]]:
    """The status of a registered project, and the cause when one is known."""
    found = diagnosis(store, row)
    return found.status, found.cause


def old_shape(root: str) -> list[str]:
    """The links of ``root`` (``.venv``, its trees') that have relocator's old shape, or a
    conversion to the shape that was killed: ``relocate adopt`` updates them."""
    return hops.outdated(root, (link.LINK, *hops.tree_links(root)))


def hint(status: str, cause: Optional[str], project: str) -> Optional[str]:
    text = HINTS.get(cause or status)
    return text.replace("{project}", shlex.quote(project)) if text else None


def report(
    store: Store,
    row: Row,
    index: Optional[dict[str, str]] = None,
    busy: Optional[set[str]] = None,
) -> dict[str, Any]:
    """One project's row of ``list`` and ``status``; ``index`` is :func:`bundles.index` and
    ``busy`` the keys with pending journal records, when the caller has read them already."""
    bundle = (index if index is not None else bundles.index(store)).get(row.key)
    venv = store.venv_path(row.venv)
    files, size = venvs.usage(venv)
    busy = busy if busy is not None else {i["key"] for i in pending(store)}
    status, cause, detail = Diagnosis(INTERRUPTED) if row.key in busy else diagnosis(store, row)
    return {
        "project": row.path,
        "venv": venv,
        "python": venvs.python_version(venv) or row.python,
        "provider": row.provider,
        "status": status,
        "cause": cause,
        "detail": detail,
        "hint": hint(status, cause, row.path),
        "files": files,
        "bytes": size,
        "trees": trees.describe(store, row.path, bundle),
        "bytecode": bytecode.prefix(venv),
        "held": held(store, row.venv) if status == VENV_MISSING else None,
    }


def held(store: Store, name: str) -> Optional[dict[str, str]]:
    """What the store venv ``name``, which is gone, held: ``{name: version}``, or None
    when that is not known."""
    record = recorded(store, name)
    return None if record is None else inventory.to_pairs(record.packages)


def recorded(store: Store, name: str) -> Optional[Record]:
    """The registry's record of what the store venv ``name`` held
    (:func:`relocator.state.remembered.recall`), with a registry of its own; None when the
    store has no registry (it went with the venvs)."""
    if not os.path.isfile(store.registry_path):
        return None
    from relocator.state import remembered

    with Registry(store) as registry:
        return remembered.recall(registry, name)


def list_all(store: Optional[Store] = None) -> list[dict[str, Any]]:
    """Every registered project's report, then one for each project that is not registered
    and has interrupted work in the journal (a first adopt killed half-way)."""
    store = store or Store()
    if not os.path.isdir(store.root):
        return []
    with Registry(store.ensure()) as registry:
        index = bundles.index(store)  # read once for every row
        intents = pending(store)
        busy = {i["key"] for i in intents}
        rows = registry.all()
        found = [report(store, row, index, busy) for row in rows]
    known = {row.key for row in rows}
    return found + [unfinished(i) for i in by_project(intents) if i["key"] not in known]


def by_project(intents: list[Intent]) -> list[Intent]:
    """The oldest intent of each project."""
    first: dict[str, Intent] = {}
    for intent in intents:
        first.setdefault(intent["key"], intent)
    return list(first.values())


def unfinished(intent: Intent) -> dict[str, Any]:
    """The report of a project that is not registered and whose ``intent`` is pending."""
    what = f"an interrupted {intent.op} ({intent.step})"
    return {
        "project": intent["project"],
        "venv": None,
        "python": None,
        "provider": None,
        "status": INTERRUPTED,
        "cause": what,
        "detail": None,
        "hint": HINTS[INTERRUPTED],
        "files": 0,
        "bytes": 0,
        "trees": [],
        "bytecode": None,
        "held": None,
    }
