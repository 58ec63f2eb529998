"""Paths for people (:mod:`relocator.cli.display`): ``~`` for the home however it is spelled,
a shell word that still pastes, the terminal's width, and middle shortening that keeps
the name. The commands' own text is tried in test_cli.py and test_doctor.py."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from relocator.cli import display
from tests.helpers import CLOUD_DOCS, mac_home

LONG = f"~/{CLOUD_DOCS}/Documents/app"


def test_a_path_under_the_home_reads_from_tilde(isolated: Path, tmp_path: Path) -> None:
    assert display.home(str(isolated / "code" / "app")) == "~/code/app"
    assert display.home(str(isolated)) == "~"
    assert display.home(str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
    assert display.home(str(isolated) + "-other/app") == str(isolated) + "-other/app"


@pytest.mark.parametrize("direction", ["documents-link", "clouddocs-link"])
def test_icloud_documents_read_by_their_short_name(isolated: Path, direction: str) -> None:
    spellings = mac_home(isolated, direction)
    (spellings["short"] / "app").mkdir()
    real = os.path.realpath(spellings["short"] / "app")
    assert display.home(real) == "~/Documents/app"
    assert display.home(str(spellings["long"] / "app")) == "~/Documents/app"


def test_a_symlinked_home_still_reads_from_tilde(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real-home"
    (real / "code").mkdir(parents=True)
    link = tmp_path / "home-link"
    link.symlink_to(real)
    monkeypatch.setenv("HOME", str(link))
    assert display.home(str(real / "code")) == "~/code"  # a real path, as relocate spells it
    assert display.home(str(link / "code")) == "~/code"  # as $HOME spells it


def test_a_shell_word_keeps_the_tilde_outside_the_quotes(isolated: Path, tmp_path: Path) -> None:
    spaced = isolated / "My Drive" / "it's"
    assert display.shell(str(spaced)) == "~/'My Drive/it'\"'\"'s'"
    assert display.shell(str(isolated / "plain")) == "~/plain"
    assert display.shell(str(tmp_path / "a b")) == shlex.quote(str(tmp_path / "a b"))
    spaced.mkdir(parents=True)
    word = display.shell(str(spaced))
    said = subprocess.run(["bash", "-c", f"cd {word} && pwd -P"], capture_output=True, text=True)
    assert said.stdout.strip() == str(spaced)  # what a person pastes reaches the folder
    command = f"relocate adopt {shlex.quote(str(spaced))} links it"
    assert display.commanded(command, str(spaced)) == f"relocate adopt {word} links it"


@pytest.mark.parametrize("room", [16, 20, 29, 40, 55])
def test_a_long_path_is_shortened_in_the_middle_keeping_its_name(room: int) -> None:
    shown = display.fit(LONG, room)
    assert len(shown) == room
    start, tail = shown.split(display.ELLIPSIS)
    assert LONG.startswith(start) and LONG.endswith(tail) and tail.endswith("/app")
    assert len(start) >= min(display.SHOWN_START, room - len(tail) - 1)


def test_the_brief_example() -> None:
    assert display.fit(LONG, 29) == "~/Library/Mobi…/Documents/app"


def test_a_name_is_never_cut_nor_a_path_that_fits() -> None:
    name = "a-project-name-longer-than-the-whole-room"
    assert display.fit(f"~/code/{name}", 20) == f"{display.ELLIPSIS}/{name}"
    assert display.fit(LONG, len(LONG)) == LONG
    assert display.fit(LONG, None) == LONG
    assert display.fit(name, 5) == name  # no folder to shorten


def test_width_comes_from_columns_else_a_terminal_else_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "57")
    assert display.width() == 57
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr("sys.stdout", io.StringIO())  # piped: whole paths for grep
    assert display.width() is None
    leader, follower = os.openpty()
    try:
        os.set_blocking(follower, True)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 93, 0, 0))
        with open(follower, "w", closefd=False) as tty:
            monkeypatch.setattr("sys.stdout", tty)
            assert display.width() == 93
    finally:
        os.close(leader)
        os.close(follower)
