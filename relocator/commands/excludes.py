"""``relocate excludes``: exclude rules for backup and mirror tools.

For people who copy their projects with rsync, tar, restic or borg, or keep a
``.gitignore``: the rules leave out the rebuildable trees still in a project, where
``adopt --trees`` has not moved them (the names ``relocate scan`` reports, from
:mod:`relocator.commands.scan`), and the
links' machine-local hops, ``.venv.nosync`` and ``.mypy_cache.nosync`` and the
like, which lead into this machine's store. A relocated ``.venv`` (or tree) is a
relative link and stays: on another machine ``relocate adopt`` repairs it.

Only trees known by their name are listed. ``build`` and ``dist`` count as
trees only beside a project marker, which no pattern can say, and a folder of
that name is often the user's own: they are left to the user.
"""

from __future__ import annotations

from relocator.commands import scan
from relocator.paths import link
from relocator.paths.hops import NOSYNC, TREES

FORMATS = ("rsync", "tar", "restic", "borg", "gitignore")
#: Formats whose files take ``#`` comments (GNU tar's ``-X`` reads every line as a pattern).
_COMMENTED = {"rsync", "restic", "borg", "gitignore"}


def folders() -> list[str]:
    """Names (and one glob) of the rebuildable folders, as scan knows them."""
    return [*sorted(scan.BY_NAME), "*" + scan.EGG_INFO_SUFFIX]


def rules(fmt: str) -> list[str]:
    """The lines of an exclude file in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    hops = [link.HOP, *(tree + NOSYNC for tree in TREES)]
    if fmt in ("rsync", "gitignore"):
        # A trailing slash matches folders only: a hop is a folder, or (the old shape) a
        # symlink, so it has none.
        patterns = [f"{name}/" for name in folders()] + hops
    elif fmt == "borg":
        patterns = [f"sh:**/{name}" for name in [*folders(), *hops]]
    else:  # tar and restic match a name at any depth
        patterns = [*folders(), *hops]
    if fmt not in _COMMENTED:
        return patterns
    head = [
        "# relocator: rebuildable trees and the machine-local links (.venv.nosync...)",
        "# (`relocate excludes --format " + fmt + "`; relocated venvs live in the store)",
    ]
    return head + patterns
