"""Evidence before action: what relocator must prove before it moves, deletes, installs
or activates, decided by reading, never by running a file a project ships.

- A project is *gone* only when the volume it was on is here and the project is not
  (:func:`presence`). Its volume (device and mount point) is recorded beside its venv
  when it is adopted (:func:`relocator.system.volumes.volume`); an empty mount point, an
  unmounted sync root or a folder now on another device proves nothing.
- A venv in a project is one *this machine made* only when git tracks none of it and its
  ``bin/python`` is an interpreter outside the project (:func:`foreign_venv`): never a
  script, a link into the project, or a binary that matches no interpreter it names.
- A link is *relocator's* only when it has relocator's shape (:mod:`relocator.paths.link`) and
  git does not track it (:func:`shipped_link`).

Each function answers with the reason it refuses (None: proven), in words for the user.
"""

from __future__ import annotations

import os
import stat

from relocator.system import volumes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

THERE = "there"
GONE = "gone"
UNKNOWN = "unknown"

#: The first bytes of an executable binary: ELF, Mach-O (32 and 64 bits, both byte
#: orders) and a universal (fat) Mach-O.
_BINARY = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xca\xfe\xba\xbf",
)


# -- is the project gone? -------------------------------------------------------------------


def presence(path: str, recorded: object = None) -> tuple[str, str]:
    """THERE, GONE or UNKNOWN for the project ``path``, and why (for GONE and UNKNOWN).

    GONE needs proof: ``path`` is absent while the folder that held it is there and can
    be listed, that folder is on the volume the project was on (``recorded``, from
    :func:`relocator.system.volumes.volume` at adopt: its mount point mounted, the same
    device and file system id), and nothing
    suggests a volume that is not here (without a record: the folder is not empty, as an
    unmounted volume's mount point is).
    """
    try:
        os.lstat(path)
        return THERE, ""
    except FileNotFoundError:
        pass
    except OSError as e:
        return UNKNOWN, f"cannot look at {path} ({e.strerror})"
    parent = os.path.dirname(path)
    try:
        st = os.stat(parent)
        with os.scandir(parent) as entries:
            empty = next(entries, None) is None
    except OSError:
        return UNKNOWN, (
            f"its project {path} is not there, nor is its folder {parent} (or it cannot be "
            "read): an unmounted volume, or a sync root that is not present?"
        )
    if isinstance(recorded, dict):
        mount, dev = recorded.get("mount"), recorded.get("dev")
        if isinstance(mount, str) and mount != "/" and not volumes.is_mount(mount):
            return UNKNOWN, f"the volume its project was on ({mount}) is not mounted"
        fsid = recorded.get("fsid")
        if (isinstance(dev, int) and st.st_dev != dev) or (
            isinstance(fsid, int) and volumes.fsid(parent) != fsid
        ):
            return UNKNOWN, (
                f"{parent} is on another volume than its project was: the project's volume "
                "is not the one mounted there now?"
            )
    if empty and not _well_formed(recorded):  # a record that checks nothing is none
        return UNKNOWN, (
            f"its project {path} is not there and {parent} is empty: an unmounted volume's "
            "mount point?"
        )
    return GONE, f"its project {path} is gone"


def _well_formed(recorded: object) -> bool:
    """Whether ``recorded`` is what :func:`relocator.system.volumes.volume` writes: an
    absolute mount point, a device number, and a file system id or None."""
    if not isinstance(recorded, dict):
        return False
    mount, dev, fsid = recorded.get("mount"), recorded.get("dev"), recorded.get("fsid")

    def number(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    good = isinstance(mount, str) and os.path.isabs(mount) and number(dev)
    return good and (fsid is None or number(fsid))


# -- did this machine make the venv? ----------------------------------------------------------


def foreign_venv(root: str, venv: str) -> Optional[str]:
    """Why the venv folder ``venv`` (in project ``root``, or uv's cache) is not one to adopt
    as this user's own: None when it is."""
    from relocator.paths import git

    if _inside(venv, root):
        shipped = git.tracked(root, [os.path.relpath(venv, root)])
        if shipped is None:
            return "relocate cannot tell whether git tracks it (git is missing or refused)"
        if shipped:
            more = f" and {len(shipped) - 1} more" if len(shipped) > 1 else ""
            return f"git tracks {shipped[0]}{more}: the repository ships it, no tool made it here"
    return _interpreter_problem(root, venv)


def _interpreter_problem(root: str, venv: str) -> Optional[str]:
    from relocator.state.venvs import read_cfg

    home = read_cfg(venv).get("home", "")
    if home and _inside(os.path.realpath(home), root):
        return f"its pyvenv.cfg names a Python inside the project ({home})"
    names = [n for n in ("python", "python3") if os.path.lexists(os.path.join(venv, "bin", n))]
    if not names and os.path.isdir(os.path.join(venv, "Scripts")):
        return "it is a Windows venv (Scripts\\, no bin/), which cannot run here"
    if not names:
        return "it has no bin/python"
    python = os.path.join(venv, "bin", names[0])
    real = os.path.realpath(python)
    if _inside(real, root) and real != python:
        return f"bin/{names[0]} leads into the project ({real})"
    if not _is_binary(real):
        return f"bin/{names[0]} is not a Python interpreter (a script, or nothing runnable)"
    if real == python and not _matches_home(real, home):  # a copy (venv --copies)
        return f"bin/{names[0]} is a program that matches no Python its pyvenv.cfg names"
    return None


def _is_binary(path: str) -> bool:
    """Whether ``path`` is an executable regular file that starts as a binary does."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o111:
            return False
        with open(path, "rb") as f:
            return f.read(4) in _BINARY
    except OSError:
        return False


def _matches_home(copy: str, home: str) -> bool:
    """Whether the binary ``copy`` is byte for byte an interpreter in the folder ``home``."""
    import filecmp

    if not home or not os.path.isdir(home):
        return False
    size = os.path.getsize(copy)
    for name in sorted(os.listdir(home)):
        candidate = os.path.realpath(os.path.join(home, name))
        if not name.startswith("python") or not os.path.isfile(candidate):
            continue
        if os.path.getsize(candidate) == size and filecmp.cmp(copy, candidate, shallow=False):
            return True
    return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# -- is the link relocator's? ---------------------------------------------------------------


def shipped_link(root: str) -> Optional[str]:
    """Why ``root``'s ``.venv`` link is the repository's and not relocator's (git tracks it,
    or its hop); None when git tracks neither."""
    from relocator.paths import git
    from relocator.paths.link import HOP, LINK

    shipped = git.tracked(root, [LINK, HOP])
    if shipped is None:
        return "relocate cannot tell whether git tracks it (git is missing or refused)"
    if shipped:
        return (
            f"git tracks {shipped[0]}: the repository shipped this link, relocator did not "
            f"make it here (git rm --cached {shipped[0]} if it should not be tracked)"
        )
    return None
