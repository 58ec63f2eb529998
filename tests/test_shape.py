"""The link's shape: ``NAME -> NAME.nosync/NAME -> <store>``, for the venv and each tree.

The machine-local link carries the tree's own name, so that what skips ``.venv`` or
``.tox`` by name (hatchling, a user's ``.venv/`` ignore pattern) skips it too. The
old shape (``NAME -> NAME.nosync``, the hop itself a link) is named by status and
doctor and converted by adopt, changing nothing else; a second machine repairs the
shape without touching what syncs; a ``NAME.nosync`` folder holding anything of the
user's is never taken. The builds at the end are real: hatch and uv on a relocated
hatchling project, and the same builds on the old shape, which ship the store.
"""

from __future__ import annotations

import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import (
    drop_hop,
    has_shape,
    hop_of,
    link_by_hand,
    make_venv,
    old_shape,
    one_clean_error_line,
    relocate,
    relocate_json,
    relocate_ok,
    require_tool,
    run,
    site_packages,
    store_venvs,
)
from tests.tools import tool

TREES = (".mypy_cache", ".pytest_cache", ".tox")
PYPROJECT = """\
[project]
name = "app"
version = "0.1"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.mypy]
strict = true
"""


def _project(root: Path) -> Path:
    """A hatchling project with a venv (a module placed by hand in it) and filled caches."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    venv = make_venv(root / ".venv")
    (site_packages(venv) / "handmade.py").write_text("VALUE = 42\n")
    for name in TREES:
        (root / name / "inner").mkdir(parents=True)
        (root / name / "inner" / "cached.json").write_text("{}")
    return root


def _works(project: Path) -> bool:
    python = project / ".venv" / "bin" / "python"
    return python.exists() and run([str(python), "-c", "import handmade"]).returncode == 0


def _doctor(project: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = relocate("doctor", str(project), *args, "--json")
    return result.returncode, json.loads(result.stdout)


def _entries(project: Path) -> dict[str, str]:
    """Every entry below ``project`` (never through a link): path -> link target or kind."""
    found = {}
    for folder, dirs, files in os.walk(project):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(project))
            found[rel] = os.readlink(path) if path.is_symlink() else str(path.lstat().st_mode)
    return found


# -- the shape ------------------------------------------------------------------------------


def test_adopt_makes_the_shape_for_the_venv_and_each_tree(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "p")
    out = relocate_json("adopt", str(project), "--trees")
    for name in (".venv", *TREES):
        assert has_shape(project, name), name
        assert os.listdir(project / f"{name}.nosync") == [name]  # nothing but the link
    assert os.readlink(hop_of(project)) == out["venv"]
    assert _works(project)
    assert relocate_json("status", str(project))["status"] == "ok"
    assert not [p for p in project.iterdir() if ".relocator-" in p.name]


def test_eject_removes_the_folder_only_when_it_is_empty(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project), "--trees")
    (project / ".venv.nosync" / "notes.txt").write_text("mine\n")  # the user's, in the folder
    out = relocate_json("eject", str(project))
    assert any("kept" in n and "notes.txt" in n for n in out["notes"]), out["notes"]
    assert (project / ".venv.nosync" / "notes.txt").read_text() == "mine\n"
    assert os.listdir(project / ".venv.nosync") == ["notes.txt"]  # the link in it is gone
    venv = project / ".venv"
    assert venv.is_dir() and not venv.is_symlink() and _works(project)
    for name in TREES:
        assert (project / name).is_dir() and not (project / name).is_symlink(), name
        assert not os.path.lexists(project / f"{name}.nosync"), name  # empty: gone
    assert store_venvs(store) == []


def test_a_nosync_folder_of_the_users_is_refused_and_kept(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "p")
    (project / ".venv.nosync").mkdir()
    (project / ".venv.nosync" / "notes.txt").write_text("mine\n")
    (project / ".tox.nosync").mkdir()
    (project / ".tox.nosync" / "keep").write_text("mine\n")
    before = _entries(project)
    line = one_clean_error_line(relocate("adopt", str(project), "--trees"))
    assert ".venv.nosync is a folder that holds notes.txt, not relocator's link" in line
    assert _entries(project) == before and store_venvs(store) == []
    (project / ".venv.nosync" / "notes.txt").rename(project / "notes.txt")  # the venv's way
    # is free now; .tox's is not
    out = relocate_json("adopt", str(project), "--trees")
    assert has_shape(project) and has_shape(project, ".mypy_cache")
    assert any(".tox stays where it is" in n and "holds keep" in n for n in out["notes"])
    assert (project / ".tox.nosync" / "keep").read_text() == "mine\n"
    assert (project / ".tox").is_dir() and not (project / ".tox").is_symlink()


def _tricks(project: Path) -> dict[str, str]:
    return {k: v for k, v in _entries(project).items() if k.startswith(("node_modules", ".tox"))}


def test_the_users_own_nosync_folder_link_is_never_taken_for_relocators(
    tmp_path: Path, store: Path
) -> None:
    """``mkdir node_modules.nosync; ln -s node_modules.nosync node_modules``, the hand-made
    iCloud trick, reads like relocator's old shape, but its hop is a folder: the user's.
    Status does not call it the old shape, doctor --fix makes no bundle of it, eject
    leaves it as it was."""
    project = _project(tmp_path / "p")
    (project / ".tox").rename(project / ".tox.nosync")
    (project / ".tox").symlink_to(".tox.nosync")
    (project / "node_modules.nosync" / "a").mkdir(parents=True)
    (project / "node_modules.nosync" / "a" / "index.js").write_text("module.exports = 1\n")
    (project / "node_modules").symlink_to("node_modules.nosync")
    before = _tricks(project)
    relocate_ok("adopt", str(project))
    status = relocate_json("status", str(project))
    assert status["status"] == "ok", status
    assert not [t for t in status["trees"] if t["state"] == "old-shape"], status
    _, findings = _doctor(project, "--fix")
    assert not [f for f in findings if f["status"] == "link-old-shape"], findings
    assert not list((store / "trees").glob("*"))  # no bundle made of them
    relocate_json("eject", str(project))
    assert _tricks(project) == before
    assert (project / "node_modules" / "a" / "index.js").read_text() == "module.exports = 1\n"
    assert (project / ".tox" / "inner" / "cached.json").read_text() == "{}"
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()


def test_eject_keeps_a_link_of_the_users_in_the_nosync_folder(tmp_path: Path, store: Path) -> None:
    """``ln -sfn ~/myvenv .venv.nosync/.venv``: eject keeps that venv, as it says, and lets
    the store's go; the user's link and its folder stay, so .venv still leads there."""
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    mine = os.path.realpath(make_venv(tmp_path / "myvenv"))
    os.symlink(mine, project / ".venv.nosync" / "mine")
    os.replace(project / ".venv.nosync" / "mine", project / ".venv.nosync" / ".venv")
    out = relocate_json("eject", str(project))
    assert out["notes"][0] == f"kept the project's own .venv (it leads to {mine})", out
    assert os.readlink(project / ".venv.nosync" / ".venv") == mine
    assert os.path.realpath(project / ".venv") == mine
    assert store_venvs(store) == []


# -- the old shape ------------------------------------------------------------------------


def test_the_old_shape_is_named_then_converted_changing_nothing_else(
    tmp_path: Path, store: Path
) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project), "--trees")
    targets = {name: old_shape(project, name) for name in (".venv", *TREES)}
    (venv,) = store_venvs(store)
    assert _works(project)

    status = relocate_json("status", str(project))
    assert status["status"] == "link-old-shape"
    assert "builds would ship the venv" in status["hint"] and "relocate adopt" in status["hint"]
    assert {t["name"]: t["state"] for t in status["trees"]} == dict.fromkeys(TREES, "old-shape")
    code, findings = _doctor(project)
    (found,) = [f for f in findings if f["check"] == "link"]
    assert code == 1 and found["status"] == "link-old-shape" and not found["fixed"]

    out = relocate_json("adopt", str(project))  # no --trees: the trees' links are updated too
    assert out["action"] == "relinked" and out["venv"] == str(venv)
    assert any("new shape" in n for n in out["notes"]), out["notes"]
    for name, target in targets.items():
        assert has_shape(project, name), name
        assert os.readlink(hop_of(project, name)) == target, name
    assert store_venvs(store) == [venv] and _works(project)
    assert relocate_json("status", str(project))["status"] == "ok"
    assert relocate_json("adopt", str(project))["action"] == "unchanged"


def test_doctor_fix_converts_the_old_shape(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    old_shape(project)
    code, findings = _doctor(project, "--fix")
    (found,) = [f for f in findings if f["check"] == "link"]
    assert code == 0 and found["status"] == "link-old-shape" and found["fixed"], found
    assert has_shape(project) and _works(project)
    assert relocate("doctor", str(project)).returncode == 0


@pytest.mark.parametrize("point", ["link:staged", "link:through-staging", "link:hop", "link:done"])
def test_a_conversion_killed_at_any_step_still_works_and_is_finished(
    tmp_path: Path, store: Path, point: str
) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    target = old_shape(project)
    killed = relocate("adopt", str(project), env={**os.environ, "RELOCATOR_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    assert _works(project)  # the link works at every step
    assert relocate_json("status", str(project))["status"] == "link-old-shape"
    relocate_ok("adopt", str(project))
    assert has_shape(project) and os.readlink(hop_of(project)) == target and _works(project)
    assert sorted(os.listdir(project)) == [
        ".mypy_cache",
        ".pytest_cache",
        ".tox",
        ".venv",
        ".venv.nosync",
        "app",
        "pyproject.toml",
    ]
    assert relocate_json("status", str(project))["status"] == "ok"


def test_a_conversion_never_takes_a_folder_of_the_users(tmp_path: Path, store: Path) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    old_shape(project)
    env = {**os.environ, "RELOCATOR_FAULT": "link:through-staging"}
    assert relocate("adopt", str(project), env=env).returncode == -9
    (project / ".venv.nosync").unlink()  # the old hop, made a folder of the user's meanwhile
    (project / ".venv.nosync").mkdir()
    (project / ".venv.nosync" / "notes.txt").write_text("mine\n")
    before = _entries(project)
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert ".venv.nosync is a folder that holds notes.txt, not relocator's link" in line
    assert _entries(project) == before and _works(project)  # through the staging folder
    assert relocate_json("status", str(project))["status"] == "link-old-shape"


# -- other machines -----------------------------------------------------------------------


def test_a_second_machine_repairs_the_shape_without_touching_what_syncs(
    tmp_path: Path, store: Path
) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project), "--trees")
    for name in (".venv", *TREES):
        drop_hop(project, name)  # what iCloud delivers: every .nosync name left behind
    synced = {n: os.lstat(project / n) for n in (".venv", *TREES)}
    assert relocate_json("status", str(project))["status"] == "link-missing"
    out = relocate_json("adopt", str(project))
    assert out["action"] == "relinked"
    for name, before in synced.items():
        after = os.lstat(project / name)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), name
        assert has_shape(project, name), name
    assert _works(project)
    assert relocate_json("status", str(project))["status"] == "ok"


@pytest.mark.parametrize("mix", ["new-link-old-hop", "old-link-new-folder"])
def test_machines_on_two_shapes_meet(tmp_path: Path, store: Path, mix: str) -> None:
    """One machine converted, the other not yet: the link that syncs has one shape, the
    machine-local part the other. The project is repaired into the shape."""
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    (venv,) = store_venvs(store)
    if mix == "new-link-old-hop":  # the other machine converted; this one has the old hop
        old_shape(project)
        (project / ".venv").unlink()
        (project / ".venv").symlink_to(".venv.nosync/.venv")
    else:  # the other machine has an older relocator; this one has the folder
        (project / ".venv").unlink()
        (project / ".venv").symlink_to(".venv.nosync")
    assert not _works(project)
    assert relocate_json("status", str(project))["status"] == "link-missing"
    assert relocate_json("adopt", str(project))["action"] == "relinked"
    assert has_shape(project) and os.path.realpath(project / ".venv") == str(venv)
    assert _works(project)


def test_another_machines_inner_link_is_replaced(tmp_path: Path, store: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text("")
    link_by_hand(project, "/Users/other/Library/Caches/relocator/venvs/p-0a1b2c3d")
    out = relocate_json("adopt", str(project), "--no-install")
    assert out["action"] == "created"
    assert has_shape(project) and os.readlink(hop_of(project)) == out["venv"]


# -- builds -------------------------------------------------------------------------------


def _archive_names(path: Path) -> list[str]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    with tarfile.open(path) as t:
        return t.getnames()


def _shipped(names: list[str]) -> list[str]:
    """What of the store an archive ships: entries under a ``*.nosync`` folder, a venv's
    ``pyvenv.cfg``, a relocated cache's files."""
    return [
        n
        for n in names
        if any(part.endswith(".nosync") for part in n.split("/"))
        or n.endswith("pyvenv.cfg")
        or "cached.json" in n
        or "handmade.py" in n
    ]


def _build(front: str, project: Path, out: Path, *args: str):
    if front == "hatch":
        return run([tool("hatch"), "build", "-t", "sdist", str(out)], cwd=project)
    return run([require_tool("uv"), "build", "-o", str(out), *args], cwd=project)


@pytest.mark.slow
@pytest.mark.parametrize("front", ["hatch", "uv"])
@pytest.mark.parametrize("trees", [False, True], ids=["venv", "trees"])
def test_builds_ship_nothing_of_the_store_and_did_with_the_old_shape(
    tmp_path: Path, store: Path, front: str, trees: bool
) -> None:
    project = _project(tmp_path / "p")
    relocate_ok("adopt", str(project), *(["--trees"] if trees else []))
    links = (".venv", *(TREES if trees else ()))
    assert all(has_shape(project, name) for name in links)

    built = _build(front, project, tmp_path / "new")
    assert built.returncode == 0, built.stdout + built.stderr
    archives = sorted((tmp_path / "new").glob("app-0.1*"))
    assert sorted(a.suffix for a in archives) == ([".gz"] if front == "hatch" else [".gz", ".whl"])
    for archive in archives:
        names = _archive_names(archive)
        assert "app-0.1/app/__init__.py" in names or "app/__init__.py" in names, names
        assert _shipped(names) == [], archive

    # The same project with the old shape: hatchling follows NAME.nosync into the store.
    for name in links:
        old_shape(project, name)
    if front == "uv":
        failed = _build(front, project, tmp_path / "old-both")
        assert failed.returncode != 0, "uv build of the old shape succeeded"
        said = failed.stdout + failed.stderr
        assert "symbolic-link" in said or "must be excluded" in said, said
    built = _build(front, project, tmp_path / "old", *(["--sdist"] if front == "uv" else []))
    assert built.returncode == 0, built.stdout + built.stderr
    (sdist,) = (tmp_path / "old").glob("app-0.1*.tar.gz")
    shipped = _shipped(_archive_names(sdist))
    assert any("/.venv.nosync/" in n for n in shipped), shipped
    if trees:
        assert any("/.mypy_cache.nosync/" in n for n in shipped), shipped
