"""What only macOS can do is faked here: the callers must ask for the right things.

The real calls (setxattr through ctypes, chflags, F_GETPATH) cannot run on
Linux; a recording stand-in for ``relocator.system.platform.current`` shows that
adopt marks the store venv for Time Machine, the .venv.nosync folder for sync
clients, clears UF_HIDDEN on what it moved, and that the resolver takes the
volume's own spelling of a path when the system can tell it. Durability: on
macOS every flush is F_FULLFSYNC (fsync where refused) and SQLite is asked for
the same; elsewhere fsync. Linux's one mark (Dropbox's) and Python 3.9's missing
os.O_SYMLINK are checked here too.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import Optional

import pytest

from relocator.commands import adoption
from relocator.paths import resolver
from relocator.state import journal
from relocator.state.registry import Registry
from relocator.state.store import Store
from relocator.system import files, platform
from tests.helpers import env_without_uv, linux_only, venv_project


class Recording(platform.Platform):
    def __init__(self, spellings: Optional[dict[str, str]] = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.spellings = spellings or {}

    def exclude_from_backup(self, path: str) -> None:
        self.calls.append(("exclude_from_backup", path))

    def mark_sync_ignored(self, path: str) -> None:
        self.calls.append(("mark_sync_ignored", path))

    def clear_hidden(self, path: str) -> bool:
        self.calls.append(("clear_hidden", path))
        return False

    def on_disk_path(self, path: str) -> Optional[str]:
        return self.spellings.get(path)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Recording:
    fake = Recording()
    monkeypatch.setattr(platform, "current", fake)
    # no uv: python -m venv where one is created
    monkeypatch.setenv("PATH", env_without_uv(tmp_path)["PATH"])
    return fake


def test_adopt_marks_what_it_moved(tmp_path: Path, store: Path, recording: Recording) -> None:
    project = venv_project(tmp_path / "p")
    (sp,) = (project / ".venv").glob("lib/python*/site-packages")
    (sp / "__editable__.p-0.1.pth").write_text(str(project) + "\n")
    (sp / "module.py").write_text("")
    outcome = adoption.adopt(str(project), store=Store(str(store)))
    venv, hop = outcome.venv, str(project / ".venv.nosync")
    pth = os.path.join(venv, sp.relative_to(project / ".venv"), "__editable__.p-0.1.pth")
    assert ("exclude_from_backup", venv) in recording.calls
    assert ("mark_sync_ignored", hop) in recording.calls
    # only the .pth files, which site skips when hidden, and before anything else
    assert [c for c in recording.calls if c[0] == "clear_hidden"] == [("clear_hidden", pth)]
    assert recording.calls.index(("clear_hidden", pth)) == 0


def test_adopt_marks_a_created_venv(tmp_path: Path, store: Path, recording: Recording) -> None:
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "fresh"\nversion = "0"\n')
    outcome = adoption.adopt(str(project), store=Store(str(store)))
    assert ("exclude_from_backup", outcome.venv) in recording.calls
    assert ("mark_sync_ignored", str(project / ".venv.nosync")) in recording.calls
    assert not [c for c in recording.calls if c[0] == "clear_hidden"]  # nothing was moved


def test_spelling_takes_the_volumes_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As APFS answers F_GETPATH: the name as stored, whatever case it was typed in.
    (tmp_path / "code" / "proj").mkdir(parents=True)
    typed = str(tmp_path / "code" / "proj")
    stored = str(tmp_path / "Code" / "Proj")
    monkeypatch.setattr(platform, "current", Recording({typed: stored}))
    assert resolver.spelling(typed) == stored
    assert resolver.spelling(typed + "/missing/tail") == stored + "/missing/tail"


@linux_only("reads user xattrs with os.listxattr")
def test_the_portable_platform_does_nothing(tmp_path: Path) -> None:
    # (Linux's differs in one mark: test_linux_marks_the_hop_for_dropbox_for_real)
    portable = platform.Platform()
    target = tmp_path / "x"
    target.mkdir()
    before = os.stat(target)
    portable.exclude_from_backup(str(target))
    portable.mark_sync_ignored(str(target))
    assert portable.clear_hidden(str(target)) is False
    assert portable.is_hidden(str(target)) is False
    assert portable.on_disk_path(str(target)) is None
    assert os.stat(target).st_mtime == before.st_mtime
    assert not _user_xattrs(target)
    assert isinstance(platform.current, platform.Platform)


# -- durability: F_FULLFSYNC on macOS, fsync elsewhere ---------------------


class Syncs:
    """Records fcntl.fcntl and os.fsync calls; fcntl refuses with ``refuse`` when set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, refuse: Optional[int] = None) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.refuse = refuse
        monkeypatch.setattr(fcntl, "fcntl", self.fcntl)
        monkeypatch.setattr(os, "fsync", self.fsync)

    def fcntl(self, fd: int, cmd: int, arg: int = 0) -> int:
        self.calls.append(("fcntl", fd, cmd))
        if self.refuse is not None:
            raise OSError(self.refuse, os.strerror(self.refuse))
        return 0

    def fsync(self, fd: int) -> None:
        self.calls.append(("fsync", fd, 0))


def test_darwin_flushes_with_f_fullfsync(monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = Syncs(monkeypatch)
    platform.Darwin().full_sync(7)
    assert syncs.calls == [("fcntl", 7, platform.F_FULLFSYNC)]
    assert platform.F_FULLFSYNC == 51  # XNU's sys/fcntl.h


@pytest.mark.parametrize("refusal", [errno.ENOTSUP, errno.EINVAL])
def test_darwin_falls_back_to_fsync_where_f_fullfsync_fails(
    monkeypatch: pytest.MonkeyPatch, refusal: int
) -> None:
    syncs = Syncs(monkeypatch, refuse=refusal)
    platform.Darwin().full_sync(7)
    assert syncs.calls == [("fcntl", 7, platform.F_FULLFSYNC), ("fsync", 7, 0)]


def test_elsewhere_fsync_is_the_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = Syncs(monkeypatch)
    platform.Platform().full_sync(7)
    assert syncs.calls == [("fsync", 7, 0)]


class Flushes(platform.Platform):
    def __init__(self) -> None:
        self.flushed: list[str] = []

    def full_sync(self, fd: int) -> None:
        self.flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        os.fsync(fd)


def test_a_journal_record_is_flushed_then_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = Flushes()
    monkeypatch.setattr(platform, "current", fake)
    store = Store(str(tmp_path / "store"))
    intent = journal.Intent.begin(store, op="adopt", key="k", project="/p", venv="v-1")
    record, folder = os.path.realpath(intent.path), os.path.realpath(store.journal)
    # the data under its temporary name, then the folder that the rename changed
    assert len(fake.flushed) == 2
    assert fake.flushed[0].startswith(record + ".") and fake.flushed[0].endswith(".tmp")
    assert fake.flushed[1] == folder
    fake.flushed.clear()
    files.write_atomic(str(tmp_path / "x"), "x", sync=False)
    assert fake.flushed == []


def test_the_registry_asks_sqlite_for_f_fullfsync_on_darwin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Linux's SQLite keeps both flags (it has no F_FULLFSYNC to use them on): they can be read.
    def flags(path: str) -> tuple[int, int]:
        with Registry(Store(path).ensure()) as registry:
            (full,) = registry.db.execute("PRAGMA fullfsync").fetchone()
            (checkpoint,) = registry.db.execute("PRAGMA checkpoint_fullfsync").fetchone()
        return full, checkpoint

    monkeypatch.setattr(platform, "current", platform.Linux())
    assert flags(str(tmp_path / "linux")) == (0, 0)
    monkeypatch.setattr(platform, "current", platform.Darwin())
    assert flags(str(tmp_path / "darwin")) == (1, 1)


# -- marks: File Provider's and the legacy Dropbox client's ------------------


def test_darwin_marks_the_hop_for_both_dropbox_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    set_: list[tuple[str, str, bytes, bool]] = []

    def setxattr(path: str, name: str, value: bytes, *, follow: bool) -> None:
        set_.append((path, name, value, follow))

    monkeypatch.setattr(platform, "_setxattr", setxattr)
    platform.Darwin().mark_sync_ignored("/p/.venv.nosync")
    assert set_ == [
        ("/p/.venv.nosync", "com.apple.fileprovider.ignore#P", b"1", False),
        ("/p/.venv.nosync", "com.dropbox.ignored", b"1", False),
    ]


@linux_only("Dropbox for Linux's user xattr on a Linux file system")
def test_linux_marks_the_hop_for_dropbox_for_real(tmp_path: Path, store: Path) -> None:
    # Dropbox for Linux reads user.com.dropbox.ignored; ext4, xfs, btrfs and tmpfs (6.6+)
    # keep user attributes. Linux keeps none on a symlink (xattr(7)): the old shape's
    # link-hop is left alone.
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{tmp_path} keeps no user xattrs here ({e.strerror})")
    assert isinstance(platform.current, platform.Linux)
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "fresh"\nversion = "0"\n')
    adoption.adopt(str(project), store=Store(str(store)))
    hop = project / ".venv.nosync"
    assert os.getxattr(hop, "user.com.dropbox.ignored") == b"1"
    assert not _user_xattrs(project)  # only the hop, nothing that syncs
    old_shape = tmp_path / "old.nosync"
    old_shape.symlink_to(probe)
    platform.current.mark_sync_ignored(str(old_shape))
    assert _user_xattrs(probe) == ["user.probe"]


def _user_xattrs(path: Path) -> list[str]:
    return [name for name in os.listxattr(path) if name.startswith("user.")]


# -- Python 3.9: no os.O_SYMLINK ----------------------------------------------


def test_on_disk_path_opens_the_link_itself_without_os_o_symlink(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[int] = []

    def open_(path: str, flags: int, mode: int = 0o777) -> int:
        opened.append(flags)
        raise FileNotFoundError(path)

    monkeypatch.delattr(os, "O_SYMLINK", raising=False)  # as on 3.9
    monkeypatch.setattr(os, "open", open_)
    answer = platform.Darwin().on_disk_path("/p/.venv")
    assert answer is None
    assert opened and opened[0] & platform.O_SYMLINK == 0x00200000
