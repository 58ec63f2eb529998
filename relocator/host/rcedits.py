"""Editing a user's rc files byte for byte: relocator's one line (marked :data:`MARKER`)
added, replaced or removed, every other byte kept, the file's owner and mode kept (or the file
left alone when they could not be), a symlinked rc file edited where it leads; and the rc
files an install created, which uninstall deletes once they are blank again.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable

from relocator.records import NamedTuple
from relocator.state.store import Store
from relocator.system.files import bare_line, read_regular, split_lines, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

MARKER = "# relocator-hook"  # on every line relocator writes into a user's file
HOOKS = "hooks"  # in the store: each shell's rendered hook, and the rc files install made
CREATED = "created-rc-files"  # in HOOKS: rc files that did not exist before an install


class Edits(NamedTuple):
    """What ``install`` or ``uninstall`` did: files changed, and a note for each it could not."""

    changed: list[str]
    notes: list[str]


class Created:
    """The rc files install created (one path per line in the store): those uninstall may
    delete once they are blank again."""

    def __init__(self, store: Store) -> None:
        self.path = os.path.join(store.root, HOOKS, CREATED)
        try:
            data = read_regular(self.path) or b""
        except OSError:
            data = b""
        self.paths = {os.fsdecode(x) for x in data.split(b"\n") if x}
        self.before = set(self.paths)

    def save(self) -> None:
        if self.paths == self.before:
            return
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            write_atomic(self.path, b"".join(os.fsencode(p) + b"\n" for p in sorted(self.paths)))


def edit(
    path: str, change: Callable[[bytes], bytes], edits: Edits, created: Created, *, create: bool
) -> None:
    target = path
    if os.path.islink(path):
        target = os.path.realpath(path)
        if os.path.islink(target) or not os.path.lexists(target):
            if create:  # uninstall: nothing of ours can be behind it
                edits.notes.append(
                    f"{path} is a symlink to {target}, which does not exist; "
                    "not changed: create that file, then run this again"
                )
            return
    try:
        try:
            st: Optional[os.stat_result] = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is None:
            if not create:
                return
            data = b""
        else:
            read = read_regular(target) if stat.S_ISREG(st.st_mode) else None
            if read is None:  # never opened, if a FIFO; nothing of ours is in it
                if create:
                    edits.notes.append(f"{path} is not a regular file; not changed")
                return
            data = read
        new = change(data)
        if st is not None and new == data:
            return
        if st is not None and not _can_keep_owner(st):
            edits.notes.append(
                f"{path} belongs to another user or group; not changed: edit it yourself"
            )
            return
        ours_alone = target == path and (
            os.path.basename(path) == "relocator.fish" or path in created.paths
        )
        if st is None or new.strip() or not ours_alone:
            write_atomic(target, new)
            if st is None:
                created.paths.add(path)
        else:
            os.unlink(target)  # the conf.d file, or a file the install created: ours alone
            created.paths.discard(path)
    except OSError as e:
        edits.notes.append(f"could not change {path} ({e.strerror or e}); not changed")
        return
    edits.changed.append(path)


def _can_keep_owner(st: os.stat_result) -> bool:
    if os.geteuid() == 0:
        return True
    return st.st_uid == os.geteuid() and st.st_gid in {os.getegid(), *os.getgroups()}


def with_line(data: bytes, line: bytes) -> bytes:
    lines = split_lines(data)
    ours = _our_lines(lines)
    if len(ours) == 1 and bare_line(lines[ours[0]]) == line:
        return data
    if ours:
        return _replace(lines, ours, line + b"\n")
    if data and not data.endswith(b"\n"):
        return data + b"\n" + line
    return data + line + b"\n"


def without_lines(data: bytes) -> bytes:
    lines = split_lines(data)
    ours = _our_lines(lines)
    return _replace(lines, ours, b"") if ours else data


def _replace(lines: list[bytes], ours: list[int], new: bytes) -> bytes:
    """``lines`` with the first of ``ours`` replaced by ``new`` and the others dropped.

    When the last of ours ended the file without a newline, the result ends
    without one too: the newline before it was written with it.
    """
    out = [new if i == ours[0] else x for i, x in enumerate(lines) if i == ours[0] or i not in ours]
    text = b"".join(out)
    bare_end = ours[-1] == len(lines) - 1 and not lines[-1].endswith(b"\n")
    return text[:-1] if bare_end and text.endswith(b"\n") else text


def _our_lines(lines: list[bytes]) -> list[int]:
    marker = MARKER.encode()
    return [i for i, x in enumerate(lines) if bare_line(x).endswith(marker)]
