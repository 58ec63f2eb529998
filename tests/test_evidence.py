"""Evidence before action: relocator acts only on what it can prove, by reading.

An empty mount point does not make a project gone; a folder with a ``pyvenv.cfg`` that
git tracks, or whose ``bin/python`` is a script, is not a venv this machine made; a dead
link is relocator's only in relocator's shape and untracked; a venv deeper in the project
is not moved out of its path; interrupted work is shown and finished; a replacement says
what it drops and keeps the old venv. Real mounts (as root), real git, real pip."""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from relocator.state import trash
from relocator.state.store import Store
from tests.helpers import (
    bare_project,
    drop_hop,
    has_shape,
    link_by_hand,
    linux_only,
    make_venv,
    one_clean_error_line,
    other_volume,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    site_packages,
    store_venvs,
    venv_project,
)
from tests.test_health import python_of


def _git(*args: str, cwd: Path) -> None:
    result = run(["git", *args], cwd=cwd)
    assert result.returncode == 0, result.stderr


def _repo(root: Path) -> Path:
    root.mkdir(parents=True)
    _git("init", "-q", cwd=root)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    return root


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A folder with a real tmpfs mounted on it (as root): a volume that can go away."""
    point = tmp_path / "volume"
    point.mkdir()
    yield from _mounted(point, "-t", "tmpfs", "-o", "size=64m", "tmpfs")


def _mounted(point: Path, *how: str):
    """Mount ``how`` on ``point`` for the test (as root; a refusal fails in CI, skips
    elsewhere), and unmount it after."""
    if os.getuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the mount tests need root in CI")
        pytest.skip("mounting needs root")
    result = run(["mount", *how, str(point)])
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"mount refused: {result.stderr}")
        pytest.skip(f"mount refused: {result.stderr}")
    try:
        yield point
    finally:
        run(["umount", "-l", str(point)])


# -- 1. a project is gone only on proof -------------------------------------------------------


@linux_only("mounts a tmpfs (as root)")
def test_an_unmounted_volume_never_makes_its_projects_gone(tmpfs: Path, store: Path):
    project = venv_project(tmpfs / "proj")
    (site_packages(project / ".venv") / "handmade.py").write_text("")
    relocate_ok("adopt", str(project))
    venv = Path(os.path.realpath(project / ".venv"))
    assert run(["umount", str(tmpfs)]).returncode == 0  # the mount point stays, empty

    result = relocate_json("gc")

    assert result["removed"] == []
    (spared,) = result["spared"]
    assert "not mounted" in spared["reason"]
    assert (venv / "pyvenv.cfg").is_file()

    # Mounted again, but another volume (a new tmpfs: not the one the project was on).
    assert run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(tmpfs)]).returncode == 0
    result = relocate_json("gc")
    assert result["removed"] == [] and "another volume" in result["spared"][0]["reason"]
    assert venv.is_dir()


def test_without_a_recorded_volume_an_empty_folder_proves_nothing(tmp_path: Path, store: Path):
    project = venv_project(tmp_path / "mnt" / "proj")
    relocate_ok("adopt", str(project))
    venv = Path(os.path.realpath(project / ".venv"))
    record = store / "venvs" / f"{venv.name}.json"
    data = json.loads(record.read_text())
    del data["volume"]  # a record written before volumes were recorded
    record.write_text(json.dumps(data))
    shutil.rmtree(project)  # /mnt is now empty, as an unmounted volume's mount point is

    assert "is empty" in relocate_json("gc")["spared"][0]["reason"]
    (tmp_path / "mnt" / "other").mkdir()  # a folder with something in it: proof enough
    assert relocate_json("gc")["removed"][0]["venv"] == venv.name


@pytest.mark.parametrize(
    "volume", [{}, {"dev": "1", "mount": 5}, {"fsid": 1}, {"mount": "mnt", "dev": True}]
)
def test_a_volume_record_that_checks_nothing_is_no_record(
    tmp_path: Path, store: Path, volume: object
):
    """An owner record's volume that is not what relocator writes (a field missing, of the
    wrong type) proves nothing: an empty folder is still no proof that the project is gone."""
    project = venv_project(tmp_path / "mnt" / "proj")
    relocate_ok("adopt", str(project))
    venv = Path(os.path.realpath(project / ".venv"))
    record = store / "venvs" / f"{venv.name}.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "volume": volume}))
    shutil.rmtree(project)

    result = relocate_json("gc")

    assert result["removed"] == [] and len(result["spared"]) == 1
    assert (venv / "pyvenv.cfg").is_file()


# -- 3. trees follow a renamed project ----------------------------------------------------------


def test_a_renamed_project_keeps_its_trees(tmp_path: Path, store: Path):
    app = venv_project(tmp_path / "app")
    (app / ".tox" / "py").mkdir(parents=True)
    (app / ".tox" / "py" / "state").write_text("built")
    (app / "node_modules" / "leftpad").mkdir(parents=True)
    (app / "package.json").write_text("{}")
    relocate_ok("adopt", str(app), "--trees", "--node-modules")
    tool = tmp_path / "tool"
    app.rename(tool)

    result = relocate_json("gc")

    assert result["removed"] == []
    assert {s["kind"] for s in result["spared"]} == {"venv", "trees"}
    assert all("moved to" in s["reason"] for s in result["spared"])
    out = relocate_json("adopt", str(tool))
    assert any("trees follow it" in n for n in out["notes"])
    assert (tool / ".tox" / "py" / "state").read_text() == "built"
    assert (tool / "node_modules" / "leftpad").is_dir()
    assert relocate_json("gc")["removed"] == []
    assert {t["state"] for t in relocate_json("status", str(tool))["trees"]} == {"relocated"}


# -- 6. a venv the repository ships is never adopted ----------------------------------------------


def _shipped_venv(root: Path) -> Path:
    """A repository that commits ``.venv/pyvenv.cfg`` and an executable ``.venv/bin/git``
    (and ``bin/python`` as a script) that would leave a marker if it ever ran."""
    _repo(root)
    bindir = root / ".venv" / "bin"
    bindir.mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n")
    marker = root.parent / "ran"
    for name in ("git", "python"):
        (bindir / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (bindir / name).chmod(0o755)
    _git("add", "-f", ".", cwd=root)
    _git("commit", "-qm", "ship a venv", cwd=root)
    return marker


def test_a_committed_venv_is_not_adopted(tmp_path: Path, store: Path):
    root = tmp_path / "tool"
    marker = _shipped_venv(root)
    for args in (["adopt", str(root)], ["scan", str(tmp_path), "--adopt"]):
        result = relocate(*args)
        assert result.returncode == 1
        assert "git tracks .venv/" in result.stderr and "Traceback" not in result.stderr
    assert (root / ".venv").is_dir() and not (root / ".venv").is_symlink()
    assert not marker.exists() and store_venvs(store) == []


@pytest.mark.parametrize("shape", ["script", "link-into-project", "none"])
def test_a_venv_whose_python_is_no_interpreter_is_not_adopted(
    tmp_path: Path, store: Path, shape: str
):
    root = venv_project(tmp_path / "p")
    python = root / ".venv" / "bin" / "python"
    for name in ("python", "python3"):
        (root / ".venv" / "bin" / name).unlink()
    if shape == "script":
        python.write_text("#!/bin/sh\necho hi\n")
        python.chmod(0o755)
    elif shape == "link-into-project":
        (root / "fake").write_bytes(b"\x7fELF" + b"\0" * 60)
        (root / "fake").chmod(0o755)
        python.symlink_to(root / "fake")

    line = one_clean_error_line(relocate("adopt", str(root)))

    assert "not a venv relocate adopts" in line
    assert (root / ".venv" / "pyvenv.cfg").is_file() and store_venvs(store) == []


def test_a_copied_interpreter_is_this_machines(tmp_path: Path, store: Path):
    root = bare_project(tmp_path / "p")
    run([sys.executable, "-m", "venv", "--copies", "--without-pip", str(root / ".venv")])
    assert not (root / ".venv" / "bin" / "python").is_symlink()
    out = relocate_json("adopt", str(root))
    assert out["action"] == "moved"


# -- 7 and 11. links relocator did not make -----------------------------------------------------


def test_a_committed_dangling_link_runs_nothing_from_the_repository(tmp_path: Path, store: Path):
    root = _repo(tmp_path / "clone")
    marker = tmp_path / "backend-ran"
    (root / "backend.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def build_editable(*a, **k): raise SystemExit(1)\n"
        "build_wheel = get_requires_for_build_wheel = build_editable\n"
    )
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "demo"\nversion = "0"\n'
    )
    (root / ".venv").symlink_to(".venv.nosync/.venv")
    _git("add", ".", cwd=root)
    _git("commit", "-qm", "ship the link", cwd=root)

    line = one_clean_error_line(relocate("adopt", str(root)))

    assert "git tracks .venv" in line
    assert not marker.exists() and store_venvs(store) == []
    assert os.readlink(root / ".venv") == ".venv.nosync/.venv"
    assert not os.path.lexists(root / ".venv.nosync")


@pytest.mark.parametrize("loop", [".venv", "old-hop", "inner"])
def test_a_link_loop_is_refused(tmp_path: Path, store: Path, loop: str):
    root = bare_project(tmp_path / "p", "pyproject.toml")
    if loop == ".venv":
        (root / ".venv").symlink_to(".venv")
    elif loop == "old-hop":
        (root / ".venv").symlink_to(".venv.nosync")
        (root / ".venv.nosync").symlink_to(".venv")
    else:
        link_by_hand(root, "../.venv")
    before = {str(p): os.readlink(p) for p in root.rglob("*") if p.is_symlink()}

    for args in (["adopt", str(root)], ["doctor", str(root), "--fix"]):
        result = relocate(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not relocator's link" in one_clean_error_line(relocate("adopt", str(root)))
    assert {str(p): os.readlink(p) for p in root.rglob("*") if p.is_symlink()} == before
    assert store_venvs(store) == []


@pytest.mark.parametrize("shape", ["new", "old"])
def test_another_machines_link_is_still_repaired(tmp_path: Path, store: Path, shape: str):
    root = bare_project(tmp_path / "p", "pyproject.toml")
    theirs = "/Users/other/Library/Caches/relocator/venvs/p-0a1b2c3d"
    if shape == "new":
        link_by_hand(root, theirs)
    else:
        (root / ".venv").symlink_to(".venv.nosync")
        (root / ".venv.nosync").symlink_to(theirs)
    out = relocate_json("adopt", str(root), "--no-install")
    assert out["action"] == "created"
    assert os.path.realpath(root / ".venv") == out["venv"]
    assert has_shape(root)


# -- 12. a venv deeper in the project ------------------------------------------------------------


def test_a_link_to_a_venv_deeper_in_the_project_is_refused(tmp_path: Path, store: Path):
    root = bare_project(tmp_path / "p")
    make_venv(root / "envs" / "py311")
    (root / ".venv").symlink_to("envs/py311")
    line = one_clean_error_line(relocate("adopt", str(root)))
    assert "deeper in the project" in line
    assert (root / "envs" / "py311" / "pyvenv.cfg").is_file() and store_venvs(store) == []


def test_a_link_to_a_top_level_venv_keeps_its_name(tmp_path: Path, store: Path):
    root = bare_project(tmp_path / "p")
    make_venv(root / "venv")
    (root / ".venv").symlink_to("venv")
    relocate_ok("adopt", str(root))
    assert os.readlink(root / "venv") == ".venv"
    assert (root / "venv" / "bin" / "python").exists()
    relocate_ok("eject", str(root))
    assert (root / "venv" / "pyvenv.cfg").is_file() and not (root / "venv").is_symlink()


# -- 10. interrupted work is shown and finished ------------------------------------------------


def test_an_interrupted_first_adopt_is_shown_and_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shm = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(shm))
    try:
        root = venv_project(tmp_path / "p")
        (site_packages(root / ".venv") / "handmade.py").write_text("")
        env = {**os.environ, "RELOCATOR_FAULT": "adopt:aside"}
        killed = relocate("adopt", str(root), env=env)
        assert killed.returncode == -9
        assert not (root / ".venv").exists() and (root / ".venv.relocator-old").is_dir()

        status = relocate_json("status", str(root))
        assert status["status"] == "interrupted" and "doctor --fix" in status["hint"]
        assert [r["status"] for r in relocate_json("list")] == ["interrupted"]
        assert relocate("doctor").returncode == 1
        assert "would" not in relocate_ok("gc", "--dry-run")

        fixed = [f for f in relocate_json("doctor", "--fix") if f["check"] == "journal"]
        assert len(fixed) == 1 and fixed[0]["fixed"]

        assert not (root / ".venv.relocator-old").exists()
        assert (site_packages(root / ".venv") / "handmade.py").is_file()
        assert list((shm / "journal").iterdir()) == []
    finally:
        shutil.rmtree(shm, ignore_errors=True)


# -- 2. a replacement says what it drops, and keeps the old venv ------------------------------


@pytest.mark.slow
def test_a_rebuild_for_a_gone_python_names_what_it_drops(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    base = python_of("3.10")
    own = tmp_path / "own-python" / "bin"
    own.mkdir(parents=True)
    (own / "python3.10").symlink_to(base)  # a Python of its own, that can go away
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    run([str(own / "python3.10"), "-m", "venv", "--without-pip", str(project / ".venv")])
    sp = site_packages(project / ".venv")
    for name in ("six", "idna", "app"):  # two installed by hand, the project's own editable
        (sp / f"{name}-1.0.dist-info").mkdir()
        (sp / f"{name}-1.0.dist-info" / "METADATA").write_text(f"Name: {name}\n")
    relocate_ok("adopt", str(project))
    old = Path(os.path.realpath(project / ".venv"))
    shutil.rmtree(tmp_path / "own-python")  # the Python is uninstalled
    bindir = Path(shutil.which("uv") or "").parent
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")  # no other 3.10 to mend it with
    assert relocate_json("status", str(project))["status"] == "interpreter-missing"

    fix = relocate("doctor", str(project), "--fix", "--json")

    assert fix.returncode == 1  # not silently "fixed": two packages are gone from the venv
    (finding,) = [f for f in json.loads(fix.stdout) if f["check"] == "interpreter"]
    assert "idna 1.0, six 1.0" in finding["message"] and "trash" in finding["message"]
    (entry,) = trash.entries(Store(str(store)))
    assert entry.name == old.name and {"six", "idna", "app"} <= set(entry.packages)
    assert (store / "trash" / entry.id / "pyvenv.cfg").is_file()
    assert relocate_json("status", str(project))["status"] == "ok"


# -- 8. a branch that tracks .venv ----------------------------------------------------------------


def test_status_and_doctor_name_a_branch_that_tracks_the_venv(tmp_path: Path, store: Path):
    root = _repo(tmp_path / "app")
    _git("commit", "-qm", "start", "--allow-empty", cwd=root)
    _git("checkout", "-qb", "evil", cwd=root)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / ".venv" / "bin" / "ls").write_text("#!/bin/sh\ntouch /tmp/never\n")
    (root / ".venv" / "bin" / "ls").chmod(0o755)
    _git("add", "-f", ".venv", cwd=root)
    _git("commit", "-qm", "track a venv", cwd=root)
    _git("checkout", "-q", "-", cwd=root)
    assert not (root / ".venv").exists()
    make_venv(root / ".venv")
    relocate_ok("adopt", str(root))
    assert relocate_json("status", str(root)).get("tracked") == []

    (root / ".venv").unlink()
    drop_hop(root)
    _git("checkout", "-q", "evil", cwd=root)  # the branch's files take the link's place

    status = relocate_json("status", str(root))
    assert (status["status"], status["cause"]) == ("link-replaced", "not-made-here")
    assert "check out your branch again" in status["hint"]
    assert ".venv/bin/ls" in status["tracked"] and "git tracks" in status["warning"]
    assert "warning: git tracks" in relocate_ok("status", str(root))
    doctor = relocate("doctor", str(root), "--fix", "--json")
    assert doctor.returncode == 1
    (fix,) = [f for f in json.loads(doctor.stdout) if f["check"] == "link"]
    assert not fix["fixed"] and "the repository ships it" in fix["message"]
    assert not (root / ".venv").is_symlink() and len(store_venvs(store)) == 1


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_index_answers_where_git_does_not(tmp_path: Path, object_format: str, version: str):
    """Where git is missing or refuses (another user's repository), relocator reads the index
    file itself: every index version and object format git writes, compared with git."""
    from relocator.paths import git

    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "-q", f"--object-format={object_format}", ".", cwd=repo)
    names = ["sub/.venv/pyvenv.cfg", "sub/.venv/bin/git", "sub/a/" + "x" * 200, "sub/.venvx"]
    for name in [*names, "top.txt", "sub/zz"]:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x")
    _git("add", "-f", ".", cwd=repo)
    if version == "3":  # an extended flag: only versions 3 and 4 have them
        _git("update-index", "--skip-worktree", "sub/zz", cwd=repo)
    _git("update-index", f"--index-version={version}", cwd=repo)

    read = git._from_index(str(repo / "sub"), [".venv", ".venv.nosync"])

    assert sorted(read or []) == [".venv/bin/git", ".venv/pyvenv.cfg"]
    assert read == git.tracked(str(repo / "sub"), [".venv", ".venv.nosync"])
    assert git._from_index(str(repo), ["top.txt"]) == ["top.txt"]
    assert git._from_index(str(tmp_path), [".venv"]) == []  # no repository there


@pytest.fixture
def bind_mount(tmp_path: Path):
    """A folder with a bind mount of another folder of the same file system on it (as
    root): a volume that can go away, on the same device as its mount point."""
    source, point = tmp_path / "source", tmp_path / "bound"
    source.mkdir()
    point.mkdir()
    yield from _mounted(point, "--bind", str(source))


@linux_only("mount --bind (as root)")
def test_an_unmounted_bind_mount_never_makes_its_projects_gone(bind_mount: Path, store: Path):
    """A bind mount is on the same device as the folder it is mounted on: only the system's
    mount table says it is one. Unmounted, it leaves an empty folder that proves nothing."""
    project = venv_project(bind_mount / "proj")
    relocate_ok("adopt", str(project))
    venv = Path(os.path.realpath(project / ".venv"))
    assert run(["umount", str(bind_mount)]).returncode == 0

    result = relocate_json("gc")

    assert result["removed"] == []
    (spared,) = result["spared"]
    assert "not mounted" in spared["reason"]
    assert (venv / "pyvenv.cfg").is_file()
    assert (
        run(["mount", "--bind", str(bind_mount.parent / "source"), str(bind_mount)]).returncode == 0
    )
    assert relocate_json("status", str(project))["status"] == "ok"
