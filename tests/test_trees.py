"""``relocate adopt --trees``: the caches beyond the venv move into the store behind the
venv's link shape (``NAME -> NAME.nosync/NAME -> tree``), come back whole on eject,
survive kills, and go with gc.

The real tools running through the links are in ``test_trees_tools.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import helpers
from tests.helpers import (
    dir_paths,
    drop_hop,
    has_shape,
    hop_of,
    make_venv,
    relocate,
    relocate_json,
    relocate_ok,
    site_packages,
)

PYPROJECT = '[project]\nname = "p"\nversion = "0"\n[tool.mypy]\nstrict = true\n'


def _project(root: Path, *, mypy_files: int = 20, venv: Path | None = None) -> Path:
    """A project with a real venv (a hard-linked copy of ``venv`` when given: relocate
    replaces what it rewrites), a filled .mypy_cache and .tox, and a node_modules."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT + "[tool.pytest.ini_options]\n")
    if venv is None:
        make_venv(root / ".venv")
    else:
        subprocess.run(["cp", "-al", str(venv), str(root / ".venv")], check=True)
    cache = root / ".mypy_cache" / "3.11"
    cache.mkdir(parents=True)
    for i in range(mypy_files):
        (cache / f"m{i}.data.json").write_text(f'{{"i": {i}}}')
    (root / ".mypy_cache" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06\n")
    (root / ".tox" / "py" / "bin").mkdir(parents=True)
    (root / ".tox" / "py" / "bin" / "python").symlink_to("/usr/bin/python3")
    (root / ".tox" / "py" / "marker").write_text("tox env")
    (root / "node_modules" / "a").mkdir(parents=True)
    (root / "node_modules" / "a" / "index.js").write_text("module.exports = 1\n")
    return root


def _bundle(store: Path) -> Path:
    (found,) = [p for p in (store / "trees").glob("*") if p.is_dir()]
    return found


@pytest.fixture
def other_volume() -> Iterator[Path]:
    path = helpers.other_volume() / f"rt-{uuid.uuid4().hex}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("volumes", ["one", "two"])
def test_adopt_trees_moves_links_and_eject_puts_back(
    volumes: str, tmp_path: Path, other_volume: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = other_volume / "store" if volumes == "two" else tmp_path / "store"
    monkeypatch.setenv("RELOCATOR_HOME", str(store))
    root = _project(tmp_path / "p")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    before = {name: dir_paths(root / name) for name in (".mypy_cache", ".tox")}

    out = relocate_json("adopt", str(root), "--trees")
    assert ".mypy_cache moved into the store" in out["notes"], out
    assert ".tox moved into the store" in out["notes"], out
    why = ".pytest_cache linked ahead into the store (configured: [tool.pytest] in pyproject.toml)"
    assert why in out["notes"], out
    bundle = _bundle(store)
    for name in (".mypy_cache", ".tox", ".pytest_cache"):  # pytest's: linked ahead (configured)
        assert has_shape(root, name)
        assert os.readlink(hop_of(root, name)) == str(bundle / name)
    for name, paths in before.items():
        assert dir_paths(bundle / name) == paths, name
    assert not os.path.lexists(root / ".nox")  # no noxfile: nothing linked
    assert (root / "node_modules").is_dir() and not (root / "node_modules").is_symlink()
    git = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    assert not [line for line in git.stdout.splitlines() if ".venv" in line or "cache" in line]
    assert ".tox" not in git.stdout

    python = str(root / ".venv" / "bin" / "python")
    prefix = subprocess.run(
        [python, "-c", "import sys; print(sys.pycache_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert prefix == str(bundle / "bytecode")
    status = relocate_json("status", str(root))
    assert [t["name"] for t in status["trees"]] == [".mypy_cache", ".pytest_cache", ".tox"]
    assert {t["state"] for t in status["trees"]} == {"relocated"}
    assert status["bytecode"] == prefix
    assert ".mypy_cache, .pytest_cache, .tox" in relocate_ok("list")

    relocate_ok("eject", str(root))
    for name, paths in before.items():
        assert (root / name).is_dir() and not (root / name).is_symlink(), name
        assert dir_paths(root / name) == paths, name
    assert os.readlink(root / ".tox" / "py" / "bin" / "python") == "/usr/bin/python3"
    assert not os.path.lexists(root / ".pytest_cache")  # empty, never used: gone
    assert not [p for p in root.iterdir() if p.name.endswith(".nosync")]
    assert list((store / "trees").iterdir()) == []
    assert not list(site_packages(root / ".venv").glob("_relocator_bytecode*"))
    assert "relocator" not in (root / ".git" / "info" / "exclude").read_text()


def test_node_modules_only_on_request_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    (root / "package.json").write_text("{}")
    relocate_ok("adopt", str(root), "--trees")
    assert not (root / "node_modules").is_symlink()
    relocate_ok("adopt", str(root), "--node-modules")
    assert has_shape(root, "node_modules")
    assert (root / "node_modules" / "a" / "index.js").read_text() == "module.exports = 1\n"
    again = relocate_json("adopt", str(root), "--node-modules")
    assert not [n for n in again["notes"] if "store" in n], again
    assert len(list((tmp_path / "store" / "trees").glob("*.json"))) == 1


def test_a_tool_that_replaced_the_link_gets_its_new_folder_moved(tmp_path: Path) -> None:
    """``rm -rf .mypy_cache`` removes the link; mypy makes a real folder; adopt moves that
    one in, in place of the stale tree."""
    root = _project(tmp_path / "p")
    relocate_ok("adopt", str(root), "--trees")
    (root / ".mypy_cache").unlink()
    (root / ".mypy_cache").mkdir()
    (root / ".mypy_cache" / "new.json").write_text("{}")
    relocate_ok("adopt", str(root))  # no flag: the project's trees stay converged
    assert has_shape(root, ".mypy_cache")
    assert sorted(os.listdir(root / ".mypy_cache")) == ["new.json"]
    (root / ".mypy_cache").unlink()  # and again (npm install does this every time)
    (root / ".mypy_cache").mkdir()
    (root / ".mypy_cache" / "newer.json").write_text("{}")
    out = relocate_json("eject", str(root))
    assert any("kept the project's own .mypy_cache" in n for n in out["notes"]), out
    assert sorted(os.listdir(root / ".mypy_cache")) == ["newer.json"]
    assert not [p for p in root.iterdir() if p.name.endswith(".nosync")]
    assert list((tmp_path / "store" / "trees").iterdir()) == []


def test_second_machine_gets_new_empty_trees(tmp_path: Path) -> None:
    """The first hop syncs, the second does not: a plain adopt makes this machine's trees
    (mypy, ruff, tox and nox fail on a dangling cache link)."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name in (".venv", ".mypy_cache", ".tox"):
        (root / name).symlink_to(f"{name}.nosync/{name}")
    relocate_ok("adopt", str(root), "--no-install")
    bundle = _bundle(tmp_path / "store")
    for name in (".mypy_cache", ".tox"):
        assert os.path.realpath(root / name) == str(bundle / name)
        assert os.listdir(root / name) == []


def test_doctor_finds_and_fixes_trees_off_the_store(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    relocate_ok("adopt", str(root), "--trees")
    drop_hop(root, ".mypy_cache")  # as another machine has it
    shutil.rmtree(_bundle(tmp_path / "store") / ".tox")  # a wiped tree
    for f in site_packages(root / ".venv").glob("_relocator_bytecode*"):
        f.unlink()  # a venv recreated in place
    found = relocate("doctor", str(root), "--json")
    assert found.returncode == 1
    (finding,) = [f for f in json.loads(found.stdout) if f["check"] == "trees"]
    assert ".mypy_cache leads nowhere" in finding["message"]
    assert ".tox leads nowhere" in finding["message"]
    assert "bytecode" in finding["message"]
    fixed = relocate_json("doctor", str(root), "--fix")
    assert [f["fixed"] for f in fixed if f["check"] == "trees"] == [True]
    assert os.path.isdir(root / ".mypy_cache") and os.path.isdir(root / ".tox")
    assert list(site_packages(root / ".venv").glob("_relocator_bytecode*"))
    assert relocate("doctor", str(root)).returncode == 0


def test_settings_decide_when_no_flag_is_given(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("RELOCATOR_CONFIG", str(config))
    config.write_text('trees = [".tox"]\n')
    first = _project(tmp_path / "first")
    relocate_ok("adopt", str(first))
    assert (first / ".tox").is_symlink() and not (first / ".mypy_cache").is_symlink()

    mine = _project(tmp_path / "mine")  # the project's own setting wins over the config
    (mine / "pyproject.toml").write_text(PYPROJECT + "[tool.relocator]\ntrees = true\n")
    relocate_ok("adopt", str(mine))
    assert (mine / ".mypy_cache").is_symlink() and (mine / ".tox").is_symlink()

    refused = _project(tmp_path / "refused")
    relocate_ok("adopt", str(refused), "--no-trees")
    assert not (refused / ".tox").is_symlink()

    config.write_text('trees = "yes"\n')
    bad = _project(tmp_path / "bad")  # a broken config never stops adopt: a warning
    result = relocate("adopt", str(bad))
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("relocate: warning: trees in") and "true, false or a list" in line
    assert (bad / ".venv").is_symlink() and not (bad / ".tox").is_symlink()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[tool.relocator]\ntrees = true\n", {"trees": True}),
        ("[tool.'relocator']\ntrees = true\n", {"trees": True}),
        ('tool.relocator.trees = [".tox"]\n', {"trees": [".tox"]}),
        ('[tool."\\u0072elocator"]\ntrees = true\n', {"trees": True}),  # an escaped key
        ("[tool.ruff]\nline-length = 100\n", None),
        ("[tool.relocator\ntrees = true\n", None),  # not TOML
        ("", None),
    ],
)
def test_the_projects_own_setting_however_spelled(text: str, found: object, tmp_path: Path) -> None:
    from relocator.paths.project import pyproject_table

    (tmp_path / "pyproject.toml").write_text(text)
    assert pyproject_table(str(tmp_path), "tool", "relocator") == found


def test_what_is_not_a_cache_folder_is_left_alone(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    shutil.rmtree(root / ".mypy_cache")
    (root / ".mypy_cache").write_text("a file")
    (root / ".tox.nosync").mkdir()  # a folder of the user's where the hop would go
    (root / ".tox.nosync" / "notes.txt").write_text("mine")
    (root / ".ruff_cache").mkdir()
    (root / ".ruff_cache.nosync").symlink_to(tmp_path)  # a link of the user's, to a folder
    out = relocate_json("adopt", str(root), "--trees")
    notes = "\n".join(out["notes"])
    assert ".mypy_cache is a file: left alone" in notes
    assert ".tox stays where it is" in notes and "a folder that holds notes.txt" in notes
    assert (root / ".tox.nosync" / "notes.txt").read_text() == "mine"
    assert (root / ".mypy_cache").read_text() == "a file"
    assert (root / ".tox" / "py" / "marker").read_text() == "tox env"
    assert not (root / ".tox").is_symlink()
    assert ".ruff_cache stays where it is" in notes and "is a symlink to" in notes
    assert (root / ".ruff_cache").is_dir() and not (root / ".ruff_cache").is_symlink()
    assert os.readlink(root / ".ruff_cache.nosync") == str(tmp_path)
    assert has_shape(root, ".pytest_cache")  # the others went on


def test_gc_removes_the_trees_of_a_gone_project_only(tmp_path: Path) -> None:
    gone, kept = _project(tmp_path / "gone"), _project(tmp_path / "kept")
    for root in (gone, kept):
        relocate_ok("adopt", str(root), "--trees")
    shutil.rmtree(gone)
    report = relocate_json("gc")
    removed = [e for e in report["removed"] if e["kind"] == "trees"]
    assert [e["project"] for e in removed] == [str(gone)]
    assert removed[0]["bytes"] > 0
    (left,) = [json.loads(p.read_text()) for p in (tmp_path / "store" / "trees").glob("*.json")]
    assert left["path"] == str(kept)
    assert (kept / ".mypy_cache" / "3.11").is_dir()


def test_scan_gives_the_command_and_counts_only_links_after(tmp_path: Path) -> None:
    root = _project(tmp_path / "code" / "p")
    text = relocate_ok("scan", str(tmp_path / "code"))
    assert f"relocate adopt {root} --trees" in text
    assert f"relocate adopt {root} --node-modules" in text
    relocate_ok("adopt", str(root), "--trees")
    after = relocate_json("scan", str(tmp_path / "code"))
    (row,) = [t for t in after if t["relocated"]]
    assert row["files"] == 2 + 2 * 3  # .venv and its hop; each tree's link and hop
    assert {Path(t["path"]).name for t in after} == {".venv", "node_modules"}


def test_a_venv_made_anew_gets_its_bytecode_setting_back(tmp_path: Path) -> None:
    """uv recreates a venv in place, a rebuild makes a new one: the next adopt (or rebuild,
    or doctor --fix) writes the three files again."""
    root = _project(tmp_path / "p")
    relocate_ok("adopt", str(root), "--trees")
    files = sorted(site_packages(root / ".venv").glob("_relocator_bytecode*"))
    assert [f.name for f in files] == [
        "_relocator_bytecode.pth",
        "_relocator_bytecode.py",
        "_relocator_bytecode.start",
    ]
    for f in files:
        f.unlink()
    relocate_ok("adopt", str(root))
    assert sorted(site_packages(root / ".venv").glob("_relocator_bytecode*")) == files
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "mine")  # the user's own setting wins
    shown = subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-c", "import sys; print(sys.pycache_prefix)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert shown.stdout.strip() == str(tmp_path / "mine")


def test_no_bytecode_of_before_no_hint_to_remove_it(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    (root / ".venv" / "lib" / "__pycache__").mkdir()  # a venv's own is not the project's
    out = relocate_json("adopt", str(root), "--trees")
    assert "the venv's Python now writes bytecode to the store" in out["notes"], out
    assert not any("--remove-bytecode" in n for n in out["notes"]), out


def test_bytecode_of_before_goes_only_on_request(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    old = root / "pkg" / "__pycache__"
    old.mkdir(parents=True)
    (old / "m.cpython-311.pyc").write_bytes(b"\0")
    mixed = root / "docs" / "__pycache__"
    mixed.mkdir(parents=True)
    (mixed / "notes.txt").write_text("mine")
    out = relocate_json("adopt", str(root), "--trees")
    assert any("--remove-bytecode" in n for n in out["notes"]), out
    assert (old / "m.cpython-311.pyc").exists()  # adopt never deletes them
    assert str(old) in relocate_ok("scan", str(root))
    result = relocate("scan", str(root), "--remove-bytecode")
    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert (mixed / "notes.txt").read_text() == "mine"
    assert f"kept {mixed}: it holds notes.txt, which is not bytecode" in result.stderr


# -- killed at every step of a tree's move -----------------------------------------------

FILES = 1_000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "volumes"),
    [("adopt", "one"), ("adopt", "two"), ("eject", "one"), ("eject", "two")],
)
def test_killed_during_a_tree_move_loses_nothing(
    command: str, volumes: str, tmp_path: Path, other_volume: Path
) -> None:
    base = other_volume if volumes == "two" else tmp_path / "stores"
    template = make_venv(tmp_path / "template")

    def case(name: str) -> tuple[Path, dict[str, str]]:
        env = {**os.environ, "RELOCATOR_HOME": str(base / name)}
        root = _project(tmp_path / name, mypy_files=FILES, venv=template)
        relocate_ok("adopt", str(root), env=env)  # the venv first: its kills are elsewhere
        if command == "eject":
            relocate_ok("adopt", str(root), "--trees", env=env)
        return root, env

    reference = _project(tmp_path / "reference", mypy_files=FILES, venv=template)
    expected = dir_paths(reference / ".mypy_cache")
    args = ["--trees"] if command == "adopt" else []

    probe, env = case("probe")
    log = tmp_path / "points.log"
    relocate_ok(command, str(probe), *args, env={**env, "RELOCATOR_FAULT_LOG": str(log)})
    points = [p for p in dict.fromkeys(log.read_text().split()) if "-tree:" in p]
    if volumes == "two":
        points += ["copy:1", f"copy:{FILES // 2}"]
    assert len(points) >= 3, points  # begin, moved, done at least
    for i, point in enumerate(points):
        root, env = case(f"k{i}")
        label = f"{command} across {volumes} volume(s), killed at {point}"
        killed = relocate(command, str(root), *args, env={**env, "RELOCATOR_FAULT": point})
        assert killed.returncode == -9, f"{label}: not killed: {killed.stderr}"
        store = Path(env["RELOCATOR_HOME"])
        places = [root / ".mypy_cache", *root.glob(".venv.relocator-*"), *store.glob("tmp/*")]
        places += store.glob("trees/*/.mypy_cache")
        whole = [p for p in places if p.is_dir() and expected <= dir_paths(p)]
        assert whole, f"{label}: the cache is whole nowhere"
        finish = relocate(command, str(root), *args, env=env)
        assert finish.returncode == 0, f"{label}: {finish.stderr}"
        said = f"{label}: {finish.stdout}{finish.stderr}"
        if command == "adopt":
            assert (root / ".mypy_cache").is_symlink(), said
            assert has_shape(root, ".mypy_cache"), said
        else:
            assert not (root / ".mypy_cache").is_symlink(), label
        assert dir_paths(root / ".mypy_cache") == expected, label
        assert not list(root.glob(".venv.relocator-*")), label
        assert not list(store.glob("journal/*")), label
        assert not list(store.glob("tmp/*")), label
        shutil.rmtree(root)
        shutil.rmtree(store)
