"""What only macOS can do is faked here: the callers must ask for the right things.

The real calls (setxattr through ctypes, chflags, F_GETPATH) cannot run on
Linux; a recording stand-in for ``relocator.platform.current`` shows that
adopt marks the store venv for Time Machine, the .venv.nosync folder for sync
clients, clears UF_HIDDEN on what it moved, and that the resolver takes the
volume's own spelling of a path when the system can tell it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pytest

from relocator import adoption, platform, resolver
from relocator.store import Store
from tests.helpers import env_without_uv, venv_project


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


def test_the_portable_platform_does_nothing(tmp_path: Path) -> None:
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
    assert isinstance(platform.current, platform.Platform)
