"""The link: ``<project>/.venv`` leading into the store.

``.venv -> .venv.nosync/.venv -> <store venv>``: the shape of every link of
relocator's, and the rule for what it may replace, live in :mod:`relocator.paths.hops`;
here is what the venv's link adds: which state ``.venv`` is in
(:func:`inspect`), what may stand in its way (:func:`problem`), and aliases.

A project whose venv was a folder of another name (``venv``, ``env``: ``relocate
adopt --name venv``) keeps that name as an *alias*, ``venv -> .venv``: relative,
so it syncs like ``.venv``, and every script or editor setting that names
``venv/bin/python`` still works. An alias is found by its shape alone (a symlink
in the project whose target is exactly ``.venv``), so every machine sees it.
"""

from __future__ import annotations

import os

from relocator.errors import RelocatorError
from relocator.paths import hops
from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

LINK = ".venv"
HOP = LINK + hops.NOSYNC  # the machine-local folder beside .venv (in the old shape, a link)
NAMES = (LINK, HOP)
UV_ENVIRONMENTS = "environments-v2"  # uv's cache folder of centralized project envs

ABSENT = "absent"  # no .venv
RELOCATED = "relocated"  # resolves to the root of a store venv that is there
DANGLING = "dangling"  # relocator's shape, leading nowhere: a missing hop, another
# machine's store, a wiped store
BROKEN = "broken"  # a link that leads nowhere (or round in a loop) and is not relocator's
IN_PROJECT = "in-project"  # a real venv inside the project (.venv, or what .venv links to)
NOT_VENV = "not-a-venv"  # a real folder without pyvenv.cfg
FILE = "file"  # a regular file (or a pipe, a socket...)
FOREIGN = "foreign"  # a symlink to something that exists elsewhere (or in the store, not a
# venv), or relocator's shape whose hop is something else (a file, a folder of the user's)


class LinkState(NamedTuple):
    kind: str
    target: Optional[str]  # the real path .venv leads to


def inspect(root: str, store_venvs: str) -> LinkState:
    link = os.path.join(root, LINK)
    if not os.path.lexists(link):
        return LinkState(ABSENT, None)
    if not os.path.islink(link):
        if os.path.isdir(link):
            return LinkState(IN_PROJECT if is_venv(link) else NOT_VENV, link)
        return LinkState(FILE, link)
    real = os.path.realpath(link)
    if is_store_venv(real, store_venvs):
        return LinkState(RELOCATED if os.path.isdir(real) else DANGLING, real)
    if hops.is_ours(root, LINK, lambda found: is_store_venv(found, store_venvs)):
        return LinkState(DANGLING, real)  # relocator's shape, leading to no venv here
    if not os.path.exists(link):  # leads nowhere, or round in a loop
        hop = os.path.join(root, HOP)
        if hops.shape(root, LINK) and os.path.lexists(hop) and not os.path.islink(hop):
            return LinkState(FOREIGN, hop)  # a file, or a folder of someone else's, at the hop
        return LinkState(BROKEN, real)
    inside = real.startswith(root.rstrip("/") + "/")
    if inside and is_venv(real):
        return LinkState(IN_PROJECT, real)
    return LinkState(FOREIGN, real)


def is_venv(path: str) -> bool:
    """Whether ``path`` is a venv's root: it holds ``pyvenv.cfg``."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def is_store_venv(real: str, store_venvs: str) -> bool:
    """Whether the real path ``real`` names the root of a store venv (there or not)."""
    folder, name = os.path.split(real)
    return (
        folder == os.path.realpath(store_venvs)
        and not name.endswith(".json")
        and (os.path.isdir(real) or not os.path.lexists(real))
    )


def anothers(real: str) -> Optional[str]:
    """Where ``real`` (what a ``.venv`` leads to, outside this user's store) is another
    user's store venv: ``in root's store, not this user's (...)``, to follow the words
    ``.venv leads to <real>,``; None when it is not (a missing path: another machine's
    store, or a wiped one).

    The proof is read, never guessed from a name: a folder on the way that this user
    may not enter and another user owns (a store is made 0700), or a store (relocator's
    README at the venv's ``../..``) that another user owns.
    """
    folder, blocked = "/", False
    for part in real.strip("/").split("/"):
        try:
            os.lstat(os.path.join(folder, part))
        except PermissionError:  # ``folder`` may not be entered
            blocked = True
            break
        except OSError:
            return None
        folder = os.path.join(folder, part)
    if not blocked:
        folder = os.path.dirname(os.path.dirname(real))
        if not _is_store(folder):
            return None
    try:
        uid = os.stat(folder).st_uid
    except OSError:
        return None
    if uid == os.geteuid():
        return None
    who = _user(uid)
    why = f"this user cannot enter {folder}, which" if blocked else f"{folder}"
    return f"in {who}'s store, not this user's ({why} belongs to {who}): run relocate as {who}"


def _is_store(folder: str) -> bool:
    from relocator.paths.storeroot import README

    if not os.path.isfile(os.path.join(folder, "README")):  # never wait on a pipe
        return False
    try:
        with open(os.path.join(folder, "README"), encoding="utf-8") as f:
            return f.readline() == README.split("\n", 1)[0] + "\n"
    except (OSError, UnicodeDecodeError):
        return False


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def uv_central(real: str) -> bool:
    """Whether ``real`` is an environment in uv's cache (``<cache>/environments-v2/<name>``),
    where uv's ``centralized-project-envs`` preview keeps a project's venv."""
    return os.path.basename(os.path.dirname(real)) == UV_ENVIRONMENTS and is_venv(real)


def valid_alias(name: str) -> bool:
    """Whether ``name`` can be an alias: one plain entry name that is none of the
    link's own names nor one of relocator's temporary names."""
    return (
        name not in ("", ".", "..", *NAMES)
        and "/" not in name
        and "\0" not in name
        and not name.startswith(LINK + ".relocator-")
    )


def aliases(root: str) -> list[str]:
    """The aliases in ``root``: symlinks whose target is exactly ``.venv``."""
    try:
        with os.scandir(root) as entries:
            links = [e.name for e in entries if e.is_symlink() and valid_alias(e.name)]
    except OSError:
        return []
    return sorted(n for n in links if _reads(os.path.join(root, n)) == LINK)


def is_alias(root: str, name: str) -> bool:
    return valid_alias(name) and _reads(os.path.join(root, name)) == LINK


def _reads(path: str) -> Optional[str]:
    try:
        return os.readlink(path)
    except OSError:
        return None


def make_alias(root: str, name: str) -> Optional[str]:
    """Make ``root/name -> .venv`` unless it is there; None, or a note saying why not."""
    path = os.path.join(root, name)
    if is_alias(root, name):
        return None
    if os.path.lexists(path):
        return f"{path} is in the way, so the venv is reachable only as .venv"
    try:
        os.symlink(LINK, path)
    except OSError as e:
        return f"could not link {path} to .venv ({e.strerror}); the venv is reachable as .venv"
    return None


# -- making and removing ------------------------------------------------------------------


def problem(
    root: str, store_venvs: str, *, moving_away: Optional[str] = None, others: bool = False
) -> Optional[str]:
    """Why relocator may not link ``root`` (None when it may).

    ``.venv`` and ``.venv.nosync`` must each be absent, relocator's own, or a dead link
    of its shape (:func:`hops.in_the_way`); ``moving_away`` is the real path of a venv
    about to leave one of those names; ``others`` lets the ``.venv.nosync`` folder hold
    more than relocator's link (an eject, and its undoing, keep it). The project folder
    must be writable.
    """
    found = hops.in_the_way(
        root,
        LINK,
        ours(store_venvs),
        moving_away=moving_away,
        others=others,
    )
    if found:
        return found
    if not os.access(root, os.W_OK):
        return f"cannot write in {root} (permission denied): the .venv link goes there"
    return None


def create(
    root: str,
    venv: str,
    store_venvs: str,
    *,
    moved_from: Optional[str] = None,
    others: bool = False,
) -> None:
    """Point ``root/.venv`` at ``venv`` through ``.venv.nosync/.venv``.

    Raises :class:`RelocatorError` (changing nothing) when either name holds something
    that is not relocator's own link or a dead one of its shape; ``moved_from`` is where
    the venv was before it moved into the store (a ``.venv -> venv`` that led there is
    replaced too); ``others``: as :func:`problem`.
    """
    reason = problem(root, store_venvs, moving_away=moved_from, others=others)
    if reason:
        raise RelocatorError(reason)
    from relocator.paths import relinking  # only a command that links loads it

    relinking.two_hop(root, LINK, venv, faults_as="link")


def remove(root: str, store_venvs: str, alias: Optional[str] = None) -> Optional[str]:
    """Remove the venv's link (:func:`relinking.remove_two_hop`: only relocator's, into
    ``store_venvs``) and the alias ``alias`` where it is one; None, or a note saying what
    stayed."""
    from relocator.paths import relinking

    note = relinking.remove_two_hop(root, LINK, ours(store_venvs))
    if alias is not None and is_alias(root, alias):
        os.unlink(os.path.join(root, alias))
    return note


def ours(store_venvs: str) -> hops.Ours:
    """What a machine-local link of relocator's may lead to: a venv of ``store_venvs``."""
    return lambda found: is_store_venv(found, store_venvs)
