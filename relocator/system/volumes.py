"""The volume a path is on: its mount point, device and file system id, read now; an owner
record written with its project's volume, which :func:`relocator.state.evidence.presence`
needs to prove a project gone."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


def mount_point(path: str) -> str:
    """The mount point of the volume that holds ``path`` (which exists)."""
    path, table = os.path.realpath(path), _mount_table()
    while not is_mount(path, table):
        path = os.path.dirname(path)
    return path


def is_mount(path: str, table: Optional[frozenset[str]] = None) -> bool:
    """Whether ``path`` is a mount point: a volume's root, or a bind mount (Linux), which
    is on the same device as its parent, so :func:`os.path.ismount` does not see it."""
    return os.path.ismount(path) or path in (_mount_table() if table is None else table)


def _mount_table() -> frozenset[str]:
    """The mount points the system lists (``/proc/self/mountinfo``; none elsewhere)."""
    import re

    try:
        with open("/proc/self/mountinfo", "rb") as f:
            lines = f.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return frozenset()
    points = set()
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:  # the fifth field, with space, tab, newline and \\ escaped
            points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4]))
    return frozenset(points)


def volume(path: str) -> Optional[dict[str, Any]]:
    """``{"dev", "fsid", "mount"}`` of the volume that holds ``path``; None when it cannot be
    read. The device number alone can be reused by another volume mounted later (a new
    tmpfs, another USB disk at the same node): the file system id tells those apart where
    the system gives one (Linux derives it from the file system's UUID, or at random for a
    tmpfs)."""
    try:
        mount = mount_point(path)
        return {"dev": os.stat(path).st_dev, "fsid": fsid(mount), "mount": mount}
    except OSError:
        return None


def with_volume(record: dict[str, Any]) -> dict[str, Any]:
    """An owner record (venv or bundle) with ``volume``: the device and mount point of the
    project it names, read now (kept as it was when the project cannot be read)."""
    path = record.get("path")
    found = volume(path) if isinstance(path, str) and os.path.isabs(path) else None
    return {**record, "volume": found} if found is not None else record


def fsid(path: str) -> Optional[int]:
    fsid = getattr(os.statvfs(path), "f_fsid", None)
    return fsid if isinstance(fsid, int) and fsid else None
