"""The machine says no: permissions (as an unprivileged user, since root ignores them) and a
full volume (a real small tmpfs). Each is refused before anything moves, with one line,
or finished with a note; the venv is never lost and nothing half-made is left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    NOBODY,
    as_nobody,
    dir_paths,
    env_without_uv,
    linux_only,
    nobody_env,
    one_clean_error_line,
    other_volume,
    relocate,
    relocate_json,
    relocate_ok,
    shared_base,
    site_packages,
    store_venvs,
)

# -- permissions, as uid 65534 -------------------------------------------------------------


@pytest.fixture
def base() -> Iterator[Path]:
    where = shared_base()
    yield where
    shutil.rmtree(where, ignore_errors=True)


def _nobody_project(base: Path, name: str = "P", *, venv: bool = True) -> Path:
    """A project owned by the unprivileged user, its venv made by /usr/bin/python3."""
    project = base / name
    project.mkdir()
    (project / "setup.py").write_text("")
    if venv:
        cmd = ["/usr/bin/python3", "-m", "venv", "--without-pip", str(project / ".venv")]
        subprocess.run(cmd, check=True)
        (site_packages(project / ".venv") / "handmade.py").write_text("VALUE = 42\n")
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(project)], check=True)
    return project


def _state(project: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(project)): (p.lstat().st_mode, p.lstat().st_size)
        for p in project.rglob("*")
    }


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_read_only_venv_bin_is_refused_before_anything_moves(base: Path) -> None:
    env = nobody_env(base)
    project = _nobody_project(base)
    (project / ".venv" / "bin").chmod(0o555)
    before = _state(project)
    line = one_clean_error_line(as_nobody(["relocate", "adopt", str(project)], env))
    assert "cannot write in" in line and "bin" in line
    assert _state(project) == before
    assert store_venvs(base / "store") == []


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_read_only_project_is_refused_before_a_venv_is_made(base: Path) -> None:
    env = nobody_env(base)
    project = _nobody_project(base, venv=False)
    project.chmod(0o555)
    line = one_clean_error_line(as_nobody(["relocate", "adopt", str(project)], env))
    assert "cannot write in" in line and str(project) in line
    assert store_venvs(base / "store") == []
    assert not list((base / "store" / "journal").glob("*"))


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_read_only_project_with_a_venv_keeps_it(base: Path) -> None:
    env = nobody_env(base)
    project = _nobody_project(base)
    before = _state(project)
    project.chmod(0o555)
    one_clean_error_line(as_nobody(["relocate", "adopt", str(project)], env))
    project.chmod(0o755)
    assert _state(project) == before
    assert store_venvs(base / "store") == []


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_root_owned_git_folder_is_a_note_not_a_failure(base: Path) -> None:
    env = nobody_env(base)
    project = _nobody_project(base)
    subprocess.run(["git", "init", "-q", str(project)], check=True)  # as root: root owns .git
    result = as_nobody(["relocate", "adopt", "--json", str(project)], env)
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert notes == [
        f"could not add .venv to {project}/.git ({project}/.git belongs to another "
        "user); add it yourself"
    ]
    check = as_nobody([str(project / ".venv" / "bin" / "python"), "-c", "import handmade"], env)
    assert check.returncode == 0, check.stderr
    result = as_nobody(["relocate", "eject", str(project)], env)
    assert result.returncode == 0, result.stderr
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_read_only_folder_inside_the_venv_is_refused_across_volumes(base: Path) -> None:
    shm = other_volume() / base.name
    shm.mkdir()
    os.chown(shm, NOBODY, NOBODY)
    try:
        env = nobody_env(base, RELOCATOR_HOME=str(shm / "store"))
        project = _nobody_project(base)
        locked = site_packages(project / ".venv") / "locked"
        locked.mkdir()
        (locked / "m.py").write_text("")
        os.chown(locked, NOBODY, NOBODY)
        locked.chmod(0o555)  # the source could not be removed after the copy
        before = _state(project)
        line = one_clean_error_line(as_nobody(["relocate", "adopt", str(project)], env))
        assert "locked" in line
        assert _state(project) == before
        assert store_venvs(shm / "store") == []
    finally:
        shutil.rmtree(shm, ignore_errors=True)


# -- out of space, on a real small file system ------------------------------------------------


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[callable]:
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        if os.getuid() != 0:
            if os.environ.get("CI"):
                pytest.fail("the out-of-space tests mount a tmpfs: CI runs as root")
            pytest.skip("mounting a small tmpfs needs root")
        where = tmp_path / name
        where.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _big_project(where: Path, *, files: int = 0, big: int = 0) -> Path:
    project = where / "P"
    project.mkdir()
    (project / "setup.py").write_text("")
    venv = project / ".venv"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    sp = site_packages(venv)
    (sp / "handmade.py").write_text("VALUE = 42\n")
    if big:
        (sp / "big.bin").write_bytes(os.urandom(big))
    for i in range(files):
        (sp / f"m{i}.py").write_text("X = 1\n")
    return project


@linux_only("mounts a small tmpfs (as root)")
def test_a_store_too_small_is_refused_before_copying(tmp_path: Path, small_volume) -> None:
    store = small_volume("store", "size=2m") / "store"
    env = {**env_without_uv(tmp_path), "RELOCATOR_HOME": str(store)}
    project = _big_project(tmp_path, big=5 * 1024 * 1024)
    before = dir_paths(project / ".venv")
    line = one_clean_error_line(relocate("adopt", str(project), env=env))
    assert "not enough space" in line
    assert dir_paths(project / ".venv") == before and not (project / ".venv").is_symlink()
    assert not list((store / "tmp").iterdir()) and store_venvs(store) == []


@linux_only("mounts a small tmpfs (as root)")
def test_running_out_of_space_mid_copy_leaves_the_source_and_no_partial_copy(
    tmp_path: Path, small_volume
) -> None:
    # Room for the bytes, not for the entries: the copy fails part-way with ENOSPC.
    store = small_volume("store", "size=64m,nr_inodes=400") / "store"
    env = {**env_without_uv(tmp_path), "RELOCATOR_HOME": str(store)}
    project = _big_project(tmp_path, files=1500)
    before = dir_paths(project / ".venv")
    line = one_clean_error_line(relocate("adopt", str(project), env=env))
    assert "not enough space" in line and "nothing moved" in line
    assert dir_paths(project / ".venv") == before and not (project / ".venv").is_symlink()
    assert not list((store / "tmp").iterdir()) and store_venvs(store) == []
    assert not list((store / "journal").iterdir())
    check = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "import handmade"])
    assert check.returncode == 0


@linux_only("mounts a small tmpfs (as root)")
def test_eject_into_a_full_project_volume_keeps_the_venv_relocated(
    tmp_path: Path, small_volume, store: Path
) -> None:
    volume = small_volume("projects", "size=40m")
    env = env_without_uv(tmp_path)
    project = _big_project(volume, big=12 * 1024 * 1024)
    relocate_ok("adopt", str(project), env=env)  # across volumes, into the store
    (volume / "filler").write_bytes(b"\0" * (30 * 1024 * 1024))
    line = one_clean_error_line(relocate("eject", str(project), env=env))
    assert "not enough space" in line
    assert relocate_json("status", str(project), env=env)["status"] == "ok"
    assert not os.path.lexists(project / ".venv.relocator-partial")
    check = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "import handmade"])
    assert check.returncode == 0


# -- a venv in use while it is copied ----------------------------------------------------------

WRITER = """
import os, sys, time
folder, stop, mode = sys.argv[1], sys.argv[2], sys.argv[3]
i = 0
while not os.path.exists(stop):
    i += 1
    name = f"written_{i}.py" if mode == "new" else "same_size.py"
    with open(os.path.join(folder, name), "w") as f:
        f.write(f"X = {i % 10}\\n")  # same size every time in "same" mode
    time.sleep(0.001)
"""


@pytest.mark.parametrize("mode", ["new", "same"])
def test_a_venv_written_to_while_it_is_copied_stays_where_it_is(tmp_path: Path, mode: str) -> None:
    store = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    env = {**env_without_uv(tmp_path), "RELOCATOR_HOME": str(store)}
    try:
        project = _big_project(tmp_path, files=3000)
        sp = site_packages(project / ".venv")
        stop = tmp_path / "stop"
        writer = subprocess.Popen(["python3", "-c", WRITER, str(sp), str(stop), mode])
        try:
            deadline = time.monotonic() + 30
            while not list(sp.glob("written_*.py")) and not (sp / "same_size.py").exists():
                assert time.monotonic() < deadline, "the writer never started"
            result = relocate("adopt", str(project), env=env)
        finally:
            stop.touch()
            writer.wait(timeout=30)
        line = one_clean_error_line(result)
        assert "changed while it was copied" in line and "nothing moved" in line
        assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
        assert store_venvs(store) == [] and not list((store / "tmp").iterdir())
        written = {p.name for p in sp.glob("*.py")}

        relocate_ok("adopt", str(project), env=env)  # idle now: it moves, with every file
        moved = {p.name for p in site_packages(project / ".venv").glob("*.py")}
        assert written <= moved
    finally:
        shutil.rmtree(store, ignore_errors=True)


@linux_only("runs as uid 65534 through setpriv (as root)")
def test_a_second_user_is_told_the_venv_is_in_another_users_store(base: Path) -> None:
    """A project root adopted, seen by another user: the venv is there, in root's store,
    which that user cannot enter (a store is 0700) or can read but does not own."""
    project = base / "shared"
    project.mkdir()
    (project / "setup.py").write_text("")
    root_env = {**env_without_uv(base), "RELOCATOR_HOME": str(base / "rootstore")}
    venv = relocate_json("adopt", str(project), env=root_env)["venv"]
    env = nobody_env(base)
    dotvenv = f"{project}/.venv"
    for readable in (False, True):
        if readable:
            for folder in (base / "rootstore", base / "rootstore" / "venvs"):
                folder.chmod(0o755)
        why = f"{base / 'rootstore'} belongs to root" if readable else "cannot enter"
        for command in (["status"], ["python"], ["python", "--resolve"]):
            result = as_nobody(["relocate", *command, str(project)], env)
            assert result.returncode == 1, result
            line = one_clean_error_line(result)
            assert line.startswith(f"relocate: {dotvenv} leads to {venv}, in root's store"), line
            assert why in line and "run relocate as root" in line
            assert "does not exist" not in line and "no venv on this machine" not in line
        found = json.loads(as_nobody(["relocate", "python", "--json", str(project)], env).stdout)
        assert found["valid"] is False and "in root's store, not this user's" in found["error"]
        refused = one_clean_error_line(as_nobody(["relocate", "adopt", str(project)], env))
        assert "adopt leaves another user's venv linked" in refused
        assert os.path.realpath(project / ".venv") == venv  # as root sees it: untouched
    assert relocate_json("status", str(project), env=root_env)["status"] == "ok"
