"""``relocator.commands.scan`` on real files: a fake iCloud home with every kind of tree, exact
counts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from relocator.commands import scan as scan_module
from relocator.commands.scan import Tree, adopt_found, fix_command, scan, scan_roots
from relocator.errors import NotFound
from tests.helpers import (
    NOBODY,
    as_nobody,
    drop_hop,
    hop_of,
    linux_only,
    mac_home,
    make_venv,
    nobody_env,
    old_shape,
    relocate_ok,
    shared_base,
)

NODE_FILES = 37  # regular files written into node_modules, besides one symlink


class World(NamedTuple):
    docs: Path  # the real Documents folder (inside the iCloud Drive folder)
    short: Path  # ~/Documents, a symlink to it
    icloud: Path  # ~/Library/Mobile Documents: the sync root that holds both
    plain: Path  # a project with an unrelocated .venv, and most other kinds
    moved: Path  # a project whose .venv was adopted
    web: Path  # a project with node_modules
    legacy: Path  # a project whose venv is a folder named venv, and no .venv
    expected: dict[str, tuple[str, int, int, bool]]  # path -> kind, files, bytes, relocated


def tree_size(top: Path) -> tuple[int, int]:
    """Files (non-folders: files and symlinks, a link to a folder too) and lstat bytes."""
    files = size = 0
    for folder, dirs, names in os.walk(top):  # never follows links; lists links to folders in dirs
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            files += 1
            size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


def write(path: Path, size: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return size


def build_node_modules(top: Path) -> int:
    """37 files of known sizes in nested folders (a nested node_modules among them) and a
    symlink in ``.bin``; returns their bytes."""
    size = 0
    for i in range(NODE_FILES):
        if i < 30:
            sub = top / f"pkg{i % 5}" / ("lib" if i % 2 else "dist")
        else:
            sub = top / "pkg1" / "node_modules" / "dep" / "lib"
        size += write(sub / f"f{i}.js", 10 + i)
    (top / ".bin").mkdir()
    target = "../pkg0/dist/f0.js"
    (top / ".bin" / "tool").symlink_to(target)
    return size + len(target)


@pytest.fixture
def world(isolated: Path, tmp_path: Path) -> World:
    """A fake macOS home (``~/Documents -> iCloud Drive/Documents``) with every kind of tree."""
    spellings = mac_home(isolated, "documents-link")
    docs = Path(os.path.realpath(spellings["long"]))
    expected: dict[str, tuple[str, int, int, bool]] = {}

    def expect(path: Path, kind: str, relocated: bool = False) -> None:
        expected[str(path)] = (kind, *tree_size(path), relocated)

    code = docs / "code dir"
    plain = code / "plain"
    (plain / "src" / "pkg").mkdir(parents=True)
    (plain / "pyproject.toml").write_text("[project]\nname = 'plain'\n")
    make_venv(plain / ".venv")
    expect(plain / ".venv", "venv")
    pycache = plain / "src" / "pkg" / "__pycache__"
    for i in range(3):
        write(pycache / f"m{i}.cpython-311.pyc", 100 + i)
    expected[str(pycache)] = ("pycache", 3, 303, False)
    make_venv(plain / ".tox" / "py311")
    write(plain / ".tox" / "py311" / "lib" / "__pycache__" / "x.pyc", 5)
    expect(plain / ".tox", "tox")
    write(plain / "build" / "lib" / "pkg" / "__init__.py", 7)
    expect(plain / "build", "build")
    write(plain / "src" / "plain.egg-info" / "PKG-INFO", 20)
    write(plain / "src" / "plain.egg-info" / "SOURCES.txt", 30)
    expect(plain / "src" / "plain.egg-info", "egg-info")
    write(plain / ".ruff_cache" / "0.6" / "123", 9)
    expect(plain / ".ruff_cache", "ruff_cache")
    make_venv(plain / "venv")  # a second venv beside .venv: found, never adopted
    expect(plain / "venv", "venv")
    make_venv(plain / "tools" / "virtualenv")  # a venv of a name adopt does not guess
    expect(plain / "tools" / "virtualenv", "venv")

    legacy = code / "legacy"
    legacy.mkdir()
    (legacy / "requirements.txt").write_text("")
    make_venv(legacy / "venv")
    expect(legacy / "venv", "venv")

    notes = code / "notes"
    write(notes / "build" / "index.html", 50)  # no project marker beside it: not a tree
    write(notes / "dist" / "out.pdf", 50)
    outside = tmp_path / "outside"
    write(outside / "node_modules" / "big.js", 1000)
    write(outside / "__pycache__" / "big.pyc", 1000)
    (notes / "linked").symlink_to(outside)  # a link to a folder outside: never followed
    (notes / "node_modules").symlink_to(outside / "node_modules")  # a link is no tree

    web = code / "web"
    web.mkdir()
    (web / "package.json").write_text("{}")
    node_bytes = build_node_modules(web / "node_modules")
    expected[str(web / "node_modules")] = ("node_modules", NODE_FILES + 1, node_bytes, False)

    moved = code / "moved"
    moved.mkdir()
    (moved / "setup.py").write_text("")
    make_venv(moved / ".venv")
    relocate_ok("adopt", str(moved))
    links = [moved / ".venv", hop_of(moved)]
    expected[str(moved / ".venv")] = ("venv", 2, sum(p.lstat().st_size for p in links), True)

    icloud = Path(os.path.realpath(isolated / "Library" / "Mobile Documents"))
    return World(docs, spellings["short"], icloud, plain, moved, web, legacy, expected)


def rows(trees: list[Tree]) -> dict[str, tuple[str, int, int, bool]]:
    return {t.path: (t.kind, t.files, t.bytes, t.relocated) for t in trees}


def test_the_default_roots_find_every_tree_with_exact_counts(world: World) -> None:
    found = scan()  # HOME is the fake home: its sync roots
    assert rows(found) == world.expected
    assert [t.files for t in found] == sorted((t.files for t in found), reverse=True)
    assert not [t for t in found if "outside" in t.path or "notes" in t.path]


def test_roots_nested_in_one_another_or_reached_twice_are_walked_once(world: World) -> None:
    # ~/Documents is iCloud's Documents (found twice by the sync roots), inside Mobile Documents
    assert scan_roots() == [str(world.icloud)]
    given = [str(world.short), str(world.docs), str(world.plain / "src"), str(world.docs)]
    assert scan_roots(given) == [str(world.docs)]
    assert rows(scan(given)) == world.expected


def test_a_root_may_be_a_tree_itself(world: World) -> None:
    assert rows(scan([str(world.web / "node_modules")])) == {
        str(world.web / "node_modules"): world.expected[str(world.web / "node_modules")]
    }
    venv = str(world.plain / ".venv")
    assert rows(scan([venv])) == {venv: world.expected[venv]}


def test_the_store_is_never_walked(world: World, tmp_path: Path, store: Path) -> None:
    top = Path(os.path.realpath(tmp_path))  # holds the home, the store and the outside folder
    assert (store / "venvs").is_dir()
    outside = top / "outside"
    assert rows(scan([str(top)])) == {
        **world.expected,
        str(outside / "node_modules"): ("node_modules", 1, 1000, False),
        str(outside / "__pycache__"): ("pycache", 1, 1000, False),
    }


def test_a_root_that_is_missing_or_not_a_folder_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(NotFound, match="does not exist") as caught:
        scan([str(missing)])
    assert str(missing) in str(caught.value) and "\n" not in str(caught.value)
    (tmp_path / "a file").write_text("")
    with pytest.raises(NotFound, match="is not a folder"):
        scan([str(tmp_path / "a file")])
    assert scan() == []  # a home without sync roots: nothing to walk


def test_progress_reports_growing_counts_at_most_every_interval(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: list[int] = []
    monkeypatch.setattr(scan_module, "PROGRESS_INTERVAL", 0.0)
    found = scan([str(world.docs)], progress=counts.append)
    assert len(counts) > 5
    assert all(a < b for a, b in zip(counts, counts[1:]))
    assert counts[-1] <= sum(t.files for t in found) + 10  # plus the few files outside trees


def test_progress_is_called_at_most_once_an_interval(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]

    def tick() -> float:  # a clock that moves 10 ms each time the scan reads it
        clock[0] += 0.01
        return clock[0]

    monkeypatch.setattr(scan_module, "time", SimpleNamespace(monotonic=tick))
    stamps: list[float] = []
    scan([str(world.docs)], progress=lambda _: stamps.append(clock[0]))
    assert len(stamps) >= 2
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= scan_module.PROGRESS_INTERVAL - 1e-9


def test_a_tree_vanishing_during_the_scan_is_no_crash(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "PROGRESS_INTERVAL", 0.0)
    doomed = [world.web, world.plain, world.moved]

    def remove_one(_: int) -> None:
        if doomed:
            shutil.rmtree(doomed.pop(), ignore_errors=True)

    found = scan([str(world.docs)], progress=remove_one)
    assert not doomed
    assert all(t.path.startswith(str(world.docs)) for t in found)


def test_fix_commands(world: World) -> None:
    commands = {t.path: fix_command(t) for t in scan([str(world.docs)])}
    assert commands.pop(str(world.plain / ".venv")) == f"relocate adopt '{world.plain}'"
    named = f"relocate adopt '{world.legacy}' --name venv"
    assert commands.pop(str(world.legacy / "venv")) == named
    caches = {path: c for path, c in commands.items() if c is not None}  # beside a .venv
    adopt_trees = f"relocate adopt '{world.plain}' --trees"
    assert caches == {str(world.plain / n): adopt_trees for n in (".tox", ".ruff_cache")}
    # the others have none: relocated, plain/venv, pycache, build, ...


def test_adopt_found_adopts_the_unrelocated_venvs_a_project_can_have(world: World) -> None:
    blocked = world.docs / "blocked"
    blocked.mkdir()
    (blocked / "setup.py").write_text("")
    make_venv(blocked / ".venv")
    (blocked / ".venv.nosync").write_text("not relocator's")  # adopt refuses to replace it
    done = {path: (outcome, error) for path, outcome, error in adopt_found(scan())}
    assert set(done) == {str(world.plain), str(blocked), str(world.legacy)}
    outcome, error = done[str(world.plain)]
    assert outcome is not None and outcome.action == "moved" and error == ""
    outcome, error = done[str(blocked)]
    assert outcome is None and ".venv.nosync is a file" in error

    after = rows(scan())
    dotvenv = world.plain / ".venv"
    links = [dotvenv, hop_of(world.plain)]
    assert after[str(dotvenv)] == ("venv", 2, sum(p.lstat().st_size for p in links), True)
    assert after[str(world.plain / ".tox")] == world.expected[str(world.plain / ".tox")]
    assert after[str(world.plain / "venv")] == world.expected[str(world.plain / "venv")]
    assert after[str(blocked / ".venv")][3] is False
    outcome, error = done[str(world.legacy)]
    assert outcome is not None and outcome.action == "moved" and error == ""
    assert os.readlink(world.legacy / "venv") == ".venv"
    links = [world.legacy / ".venv", hop_of(world.legacy), world.legacy / "venv"]
    assert after[str(world.legacy / ".venv")] == (
        "venv",
        3,
        sum(p.lstat().st_size for p in links),
        True,
    )
    assert str(world.legacy / "venv") not in after  # the alias is a link: never walked
    tools = world.plain / "tools" / "virtualenv"
    assert after[str(tools)] == world.expected[str(tools)]


def test_a_second_machines_dangling_link_counts_as_relocated(world: World) -> None:
    drop_hop(world.moved)  # as iCloud delivers the project elsewhere
    dotvenv = str(world.moved / ".venv")
    assert rows(scan([str(world.moved)])) == {
        dotvenv: ("venv", 1, len(".venv.nosync/.venv"), True),
    }


def test_an_old_shaped_link_counts_its_hop(world: World) -> None:
    old_shape(world.moved)
    dotvenv = world.moved / ".venv"
    links = [dotvenv, world.moved / ".venv.nosync"]
    assert rows(scan([str(world.moved)])) == {
        str(dotvenv): ("venv", 2, sum(p.lstat().st_size for p in links), True),
    }


def test_a_hand_made_nosync_venv_is_found(world: World) -> None:
    """``mv .venv .venv.nosync && ln -s .venv.nosync/ .venv``: iCloud skips the folder, but
    Dropbox and OneDrive sync it, so the venv in it is a row of its own (it is not
    relocator's hop, which holds only the inner link)."""
    project = world.docs / "handmade"
    make_venv(project / ".venv.nosync")
    (project / ".venv").symlink_to(".venv.nosync")
    found = rows(scan([str(project)]))
    row = found[str(project / ".venv.nosync")]
    assert row[0] == "venv" and row[1] == tree_size(project / ".venv.nosync")[0]
    assert row[3] is False


# -- a folder that cannot be read ---------------------------------------------------------


@pytest.fixture
def base() -> Iterator[Path]:
    where = shared_base()
    yield where
    shutil.rmtree(where, ignore_errors=True)


SCAN_AS_JSON = (
    "import json, sys; from relocator.commands.scan import scan; "
    "print(json.dumps([t._asdict() for t in scan([sys.argv[1]])]))"
)


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_unreadable_folders_are_skipped_and_the_rest_counted(base: Path) -> None:
    """As an unprivileged user (root reads everything): a closed folder counts as empty."""
    root = base / "home" / "Documents"
    nm = root / "web" / "node_modules"
    write(nm / "open" / "a.js", 11)
    write(nm / "closed" / "b.js", 13)
    write(root / "secret" / "node_modules" / "c.js", 17)
    write(root / "app" / "__pycache__" / "d.pyc", 19)
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(root)], check=True)
    (nm / "closed").chmod(0)
    (root / "secret").chmod(0)
    result = as_nobody(["/usr/bin/python3", "-c", SCAN_AS_JSON, str(root)], nobody_env(base))
    assert result.returncode == 0, result.stderr
    found = {t["path"]: (t["kind"], t["files"], t["bytes"]) for t in json.loads(result.stdout)}
    assert found == {
        str(nm): ("node_modules", 1, 11),
        str(root / "app" / "__pycache__"): ("pycache", 1, 19),
    }


@linux_only("counts open files in /proc/self/fd")
def test_the_scan_leaves_no_descriptor_open(world: World) -> None:
    before = len(os.listdir("/proc/self/fd"))
    scan([str(world.docs)])
    assert len(os.listdir("/proc/self/fd")) == before


def test_the_command(world: World) -> None:
    found = json.loads(relocate_ok("scan", "--json"))
    assert {r["path"]: (r["kind"], r["files"], r["bytes"], r["relocated"]) for r in found} == (
        world.expected
    )
    assert [r["files"] for r in found] == sorted((r["files"] for r in found), reverse=True)
    text = relocate_ok("scan")
    # iCloud's long spelling, shown from ~ by its short one, quoted so that it pastes
    assert "fix: relocate adopt ~/'Documents/code dir/plain'\n" in text and "total in" in text
    lines = relocate_ok("scan", "--adopt").splitlines()
    # what it did first, then the table of how things are now (the venvs relocated)
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["files", "size"])
    moves = [i for i, line in enumerate(lines) if ": .venv moved into " in line]
    assert moves and max(moves) < header, lines
    table = lines[header:]
    assert any("relocated" in line and line.endswith("plain/.venv") for line in table), table
    assert (world.plain / ".venv").is_symlink()
    assert os.readlink(world.legacy / "venv") == ".venv"
    again = {r["path"]: r["relocated"] for r in json.loads(relocate_ok("scan", "--json"))}
    assert again[str(world.plain / ".venv")] is True
    assert again[str(world.plain / ".tox")] is False  # never adopted
