"""Every command against odd project states: never a traceback or an internal error, errors
on one line, and nothing outside the store deleted or written (a sentinel folder that odd
links point at must come through unchanged).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import bare_project, make_venv, relocate, site_packages

COMMANDS = (["adopt"], ["status"], ["python"], ["python", "--json"], ["eject"], ["adopt"])


def _venv(p: Path) -> Path:
    return make_venv(p / ".venv")


def _sp(p: Path) -> Path:
    return site_packages(_venv(p))


def _sock(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def _replace(path: Path, link_to: Path) -> None:
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    path.symlink_to(link_to)


def _shaped(p: Path, folder: str, target: Path) -> None:
    """``.venv -> folder/.venv -> target``: relocator's shape (or its halfway one)."""
    (p / folder).mkdir()
    (p / folder / ".venv").symlink_to(target)
    (p / ".venv").symlink_to(f"{folder}/.venv")


# Each state is built in project p, with the store at st and a sentinel folder sen.
STATES: dict[str, Callable[[Path, Path, Path], object]] = {
    "venv-without-cfg": lambda p, st, sen: (p / ".venv" / "bin").mkdir(parents=True),
    "venv-a-file": lambda p, st, sen: (p / ".venv").write_text("x"),
    "venv-a-fifo": lambda p, st, sen: os.mkfifo(p / ".venv"),
    "venv-a-socket": lambda p, st, sen: _sock(p / ".venv"),
    "venv-link-to-itself": lambda p, st, sen: (p / ".venv").symlink_to(".venv"),
    "venv-link-to-root": lambda p, st, sen: (p / ".venv").symlink_to("/"),
    "venv-link-to-dev-null": lambda p, st, sen: (p / ".venv").symlink_to("/dev/null"),
    "venv-link-to-the-store": lambda p, st, sen: (p / ".venv").symlink_to(st),
    "venv-link-to-store-venvs": lambda p, st, sen: (p / ".venv").symlink_to(st / "venvs"),
    "venv-link-to-the-sentinel": lambda p, st, sen: (p / ".venv").symlink_to(sen),
    "cfg-a-folder": lambda p, st, sen: (p / ".venv" / "pyvenv.cfg" / "x").mkdir(parents=True),
    "cfg-a-fifo": lambda p, st, sen: (
        (p / ".venv" / "bin").mkdir(parents=True),
        os.mkfifo(p / ".venv" / "pyvenv.cfg"),
    ),
    "bin-a-file": lambda p, st, sen: _replace(_venv(p) / "bin", sen / "keep"),
    "lib-linked-out": lambda p, st, sen: _replace(_venv(p) / "lib", sen),
    "site-packages-linked-out": lambda p, st, sen: _replace(_sp(p), sen),
    "dist-info-linked-out": lambda p, st, sen: (_sp(p) / "x-1.dist-info").symlink_to(sen),
    "pth-linked-out": lambda p, st, sen: (_sp(p) / "x.pth").symlink_to(sen / "keep"),
    "activate-linked-out": lambda p, st, sen: _replace(_venv(p) / "bin" / "activate", sen / "keep"),
    "hop-a-file": lambda p, st, sen: (_venv(p), (p / ".venv.nosync").write_text("x")),
    "hop-a-fifo": lambda p, st, sen: (_venv(p), os.mkfifo(p / ".venv.nosync")),
    "hop-linked-to-the-sentinel": lambda p, st, sen: (
        _venv(p),
        (p / ".venv.nosync").symlink_to(sen),
    ),
    "hop-a-folder-of-the-users": lambda p, st, sen: (
        _venv(p),
        (p / ".venv.nosync").mkdir(),
        (p / ".venv.nosync" / "notes.txt").write_text("x"),
    ),
    "inner-linked-to-the-sentinel": lambda p, st, sen: _shaped(p, ".venv.nosync", sen),
    "inner-a-fifo": lambda p, st, sen: (
        (p / ".venv.nosync").mkdir(),
        os.mkfifo(p / ".venv.nosync" / ".venv"),
        (p / ".venv").symlink_to(".venv.nosync/.venv"),
    ),
    "old-link-into-a-hop-folder": lambda p, st, sen: (
        (p / ".venv.nosync").mkdir(),
        (p / ".venv.nosync" / ".venv").symlink_to(st / "venvs" / "p-00000000"),
        (p / ".venv").symlink_to(".venv.nosync"),
    ),
    "halfway-to-the-sentinel": lambda p, st, sen: _shaped(p, ".venv.relocator-1.nosync", sen),
    "a-leftover-aside": lambda p, st, sen: (_venv(p), (p / ".venv.relocator-old").mkdir()),
    "a-leftover-partial": lambda p, st, sen: (_venv(p), (p / ".venv.relocator-partial").mkdir()),
    "an-ordinary-venv": lambda p, st, sen: _venv(p),
}


@pytest.mark.parametrize("state", list(STATES))
def test_every_command_in_an_odd_state(tmp_path: Path, store: Path, state: str) -> None:
    from relocator.state.store import Store

    Store(str(store)).ensure()
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep").write_text("x")
    (sentinel / "direct_url.json").write_text('{"url": "file:///tmp"}')
    before = {p.name: p.read_bytes() for p in sentinel.iterdir()}
    project = bare_project(tmp_path / "P")
    STATES[state](project, store, sentinel)

    for command in COMMANDS:
        result = relocate(*command, str(project))
        label = f"{state}: relocate {' '.join(command)}"
        assert result.returncode in (0, 1), f"{label}: exit {result.returncode}\n{result.stderr}"
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, label
        if "--json" in command:  # the answer, valid or not, is JSON on stdout
            assert json.loads(result.stdout)["valid"] is (result.returncode == 0), label
        elif result.returncode:
            assert len(result.stderr.strip().splitlines()) == 1, f"{label}: {result.stderr}"
    assert {p.name: p.read_bytes() for p in sentinel.iterdir()} == before
    assert relocate("list").returncode == 0
