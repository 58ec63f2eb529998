"""A move across volumes raced by a real installer, and moves across a bind mount.

An adopt across volumes copies, checks, renames the source aside and renames the copy
into place. ``RELOCATOR_FAULT_PAUSE`` holds it at one point while a real ``pip
install`` runs into the project's ``.venv``; kills (``RELOCATOR_FAULT``) at the points
of the rollback are each followed by a plain ``relocate adopt`` (or ``doctor --fix``,
or ``eject``) that finishes or rolls back with nothing lost. The second volume is
``/dev/shm`` (tmpfs) on Linux, an APFS disk image on macOS (``helpers.other_volume``);
the bind mount is a real one (Linux, root only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    dir_paths,
    has_shape,
    linux_only,
    make_venv,
    one_clean_error_line,
    other_volume,
    paused,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    site_packages,
)

PKG = "relocdemo"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-module wheel, built here: pip installs it offline."""
    where = tmp_path_factory.mktemp("wheel") / f"{PKG}-0.1-py3-none-any.whl"
    dist = f"{PKG}-0.1.dist-info"
    files = {
        f"{PKG}/__init__.py": "VALUE = 'installed'\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PKG}\nVersion: 0.1\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(where, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return where


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with pip (ensurepip costs seconds: made once, copied for each test)."""
    venv = make_venv(tmp_path_factory.mktemp("template") / "venv", pip=True)
    (site_packages(venv) / "handmade.py").write_text("VALUE = 42\n")
    return venv


@pytest.fixture
def shm_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The store on another volume (tmpfs; the projects are on the disk)."""
    store = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(store))
    yield store
    shutil.rmtree(store, ignore_errors=True)


def _project(where: Path, template: Path) -> Path:
    where.mkdir(parents=True)
    (where / "setup.py").write_text("")
    subprocess.run(["cp", "-a", str(template), str(where / ".venv")], check=True)
    return where


def _pip(python: Path | str, wheel: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index"]
    return run([str(python), *args, "--no-deps", *extra, str(wheel)])


def _imports(venv: Path, module: str) -> bool:
    check = run([str(venv / "bin" / "python"), "-c", f"import {module}"])
    return check.returncode == 0


def _clean(project: Path, store: Path) -> None:
    """Nothing of a move left: no journal record, staging or set-aside copy."""
    assert not list(store.glob("journal/*.json"))
    assert not [p for p in store.glob("tmp/*") if ".stub-" not in p.name]
    assert not [p for p in project.glob(".venv.relocator-*") if "-stub" not in p.name]


# -- a real installer during the copy ---------------------------------------------------


@pytest.mark.parametrize("point", ["copy:10", "adopt:checked"])
def test_a_pip_install_during_the_copy_aborts_the_move_and_the_install_stays(
    point: str, tmp_path: Path, template: Path, wheel: Path, shm_store: Path
) -> None:
    """During the copy (``copy:10``), or after the last check and before the rename aside
    (``adopt:checked``): pip writes into the source, adopt stops, nothing moved."""
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    with paused(["adopt", str(project)], point, tmp_path) as held:
        installed = _pip(dotvenv / "bin" / "python", wheel)
        assert installed.returncode == 0, installed.stderr
        result = held.resume()
    line = one_clean_error_line(result)
    assert "changed while it was copied" in line and "nothing moved" in line, line
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert _imports(dotvenv, PKG) and _imports(dotvenv, "handmade")
    assert not list(shm_store.glob("venvs/*"))
    _clean(project, shm_store)

    relocate_ok("adopt", str(project))
    assert dotvenv.is_symlink() and shm_store in Path(os.path.realpath(dotvenv)).parents
    assert _imports(dotvenv, PKG) and _imports(dotvenv, "handmade")
    _clean(project, shm_store)


def test_a_process_using_the_venv_when_the_copy_ends_stops_the_move(
    tmp_path: Path, template: Path, shm_store: Path
) -> None:
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    waiter = (
        "import os, sys, time\n"
        "open(sys.argv[1], 'w').close()\n"
        "deadline = time.monotonic() + 120\n"
        "while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
    )
    with paused(["adopt", str(project)], "copy:10", tmp_path) as held:
        user = subprocess.Popen([str(dotvenv / "bin" / "python"), "-c", waiter, ready, stop])
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                assert time.monotonic() < deadline, "the venv's python never started"
                time.sleep(0.01)
            result = held.resume()
        finally:
            stop.touch()
            user.wait(timeout=60)
    line = one_clean_error_line(result)
    assert f"pid {user.pid}" in line and "nothing moved" in line, line
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    _clean(project, shm_store)
    relocate_ok("adopt", str(project))
    assert dotvenv.is_symlink() and _imports(dotvenv, "handmade")


def test_an_activated_shell_does_not_stop_the_move(
    tmp_path: Path, template: Path, shm_store: Path
) -> None:
    """A process whose only tie is ``VIRTUAL_ENV`` (a shell after ``source .venv/bin/activate``)
    writes nothing into the venv: the move goes on, and its path keeps working."""
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "VIRTUAL_ENV": str(dotvenv)}
    shell = subprocess.Popen(["sleep", "120"], cwd=elsewhere, env=env, stdin=subprocess.DEVNULL)
    try:
        out = relocate_ok("adopt", str(project), "--json")
    finally:
        shell.kill()
        shell.wait()
    assert '"copied"' in out
    assert dotvenv.is_symlink() and _imports(dotvenv, "handmade")


def test_a_stub_pip_makes_after_the_rename_aside_is_kept_and_the_move_undone(
    tmp_path: Path, template: Path, wheel: Path, shm_store: Path
) -> None:
    """pip (a real one, told the venv's path as its prefix) writes through ``.venv`` once
    the source is set aside: its makedirs makes a stub folder there. adopt puts the venv
    back and keeps the stub under a name of its own."""
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    reference = dir_paths(dotvenv)
    with paused(["adopt", str(project)], "adopt:aside", tmp_path) as held:
        assert not os.path.lexists(dotvenv)
        stubbed = _pip(sys.executable, wheel, "--prefix", str(dotvenv))
        assert stubbed.returncode == 0, stubbed.stderr
        assert dotvenv.is_dir()  # the stub
        result = held.resume()
    line = one_clean_error_line(result)
    assert "a process wrote to" in line and "nothing moved" in line, line
    (stub,) = project.glob(".venv.relocator-stub-*")
    assert str(stub) in line
    assert list(stub.rglob(f"{PKG}/__init__.py")), "what pip wrote is kept"
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    _clean(project, shm_store)

    relocate_ok("adopt", str(project))
    assert dotvenv.is_symlink() and _imports(dotvenv, "handmade")
    assert list(stub.rglob(f"{PKG}/__init__.py")), "a later adopt leaves the stub alone"
    _clean(project, shm_store)


# -- kills at the new points, then the next run --------------------------------------------


def _makedirs_through(dotvenv: Path) -> Path:
    """What pip does to install a package: os.makedirs of its folder, then a file in it."""
    folder = dotvenv / "lib" / "python3" / "site-packages" / PKG
    os.makedirs(folder)
    (folder / "__init__.py").write_text("VALUE = 'installed'\n")
    return folder


@pytest.mark.parametrize("then", ["adopt", "doctor --fix"])
@pytest.mark.parametrize(
    "case", ["adopt:checked", "adopt:checked+write", "adopt:aside", "adopt:aside+stub"]
)
def test_killed_around_the_rename_aside_then_the_next_run_finishes(
    case: str, then: str, tmp_path: Path, template: Path, shm_store: Path
) -> None:
    """Killed after the last check (a write into the source follows), or after the rename
    aside (pip's makedirs through ``.venv`` follows: a stub)."""
    killed_at, _, what = case.partition("+")
    stub = bool(what)
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    reference = dir_paths(dotvenv)
    killed = relocate("adopt", str(project), env={**os.environ, "RELOCATOR_FAULT": killed_at})
    assert killed.returncode == -9, killed.stderr
    if stub:
        if killed_at == "adopt:aside":
            _makedirs_through(dotvenv)  # the source is set aside: this makes a stub
        else:
            (site_packages(dotvenv) / "late.py").write_text("X = 1\n")  # into the source
    finish = relocate(*then.split(), str(project))
    assert finish.returncode == 0, finish.stderr
    assert "Traceback" not in finish.stderr
    assert dotvenv.is_symlink(), finish.stderr
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    stubs = list(project.glob(".venv.relocator-stub-*"))
    if stub and killed_at == "adopt:aside":
        assert len(stubs) == 1 and (stubs[0] / "lib/python3/site-packages" / PKG).is_dir()
        assert "kept in" in finish.stderr and str(stubs[0]) in finish.stderr
    else:
        assert stubs == []
    if stub and killed_at == "adopt:checked":
        assert _imports(dotvenv, "late")  # written before the move began again
    _clean(project, shm_store)


@pytest.mark.parametrize("killed_at", ["adopt:stub", "adopt:back"])
def test_killed_while_a_stub_is_put_aside_then_the_next_adopt_finishes(
    killed_at: str, tmp_path: Path, template: Path, shm_store: Path
) -> None:
    """Held after the rename aside while a stub appears, then killed in the rollback: after
    the stub was kept (the source still aside), or after the source went back."""
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    reference = dir_paths(dotvenv)
    extra = {"RELOCATOR_FAULT": killed_at}
    with paused(["adopt", str(project)], "adopt:aside", tmp_path, **extra) as held:
        _makedirs_through(dotvenv)
        result = held.resume()
    assert result.returncode == -9, result.stderr
    (stub,) = project.glob(".venv.relocator-stub-*")
    finish = relocate("adopt", str(project))
    assert finish.returncode == 0, finish.stderr
    assert dotvenv.is_symlink()
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    assert (stub / "lib/python3/site-packages" / PKG / "__init__.py").is_file()
    _clean(project, shm_store)


@pytest.mark.parametrize("where", ["dest", "src", "none"])
def test_eject_killed_after_the_rename_aside_then_the_next_eject_finishes(
    where: str, tmp_path: Path, template: Path, shm_store: Path
) -> None:
    """Across volumes the store venv is set aside; then a tool makes a folder at ``.venv``
    (in place of the link), or something writes at the store venv's own name, or an
    installer writes through the link, which leads nowhere (pip fails: nothing is made)."""
    project = _project(tmp_path / "p", template)
    dotvenv = project / ".venv"
    reference = dir_paths(dotvenv)
    relocate_ok("adopt", str(project))
    store_venv = Path(os.path.realpath(dotvenv))
    killed = relocate("eject", str(project), env={**os.environ, "RELOCATOR_FAULT": "eject:aside"})
    assert killed.returncode == -9, killed.stderr
    if where == "dest":
        dotvenv.unlink()
        _makedirs_through(dotvenv)
    elif where == "src":
        _makedirs_through(store_venv)
    else:
        with pytest.raises(FileNotFoundError):
            _makedirs_through(dotvenv)
    finish = relocate("eject", str(project))
    assert finish.returncode == 0, finish.stderr
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    assert not os.path.lexists(project / ".venv.nosync")
    assert not list(shm_store.glob("venvs/*"))
    kept = [*project.glob(".venv.relocator-stub-*"), *shm_store.glob("tmp/*.stub-*")]
    if where == "none":
        assert kept == []
    else:
        (stub,) = kept
        assert (stub / "lib/python3/site-packages" / PKG / "__init__.py").is_file()
        assert str(stub) in finish.stderr
    _clean(project, shm_store)


def test_a_tree_killed_after_its_rename_aside_keeps_a_stub_and_finishes(
    tmp_path: Path, template: Path, shm_store: Path
) -> None:
    project = _project(tmp_path / "p", template)
    cache = project / ".mypy_cache" / "3.11"
    cache.mkdir(parents=True)
    (cache / "m.data.json").write_text("{}")
    relocate_ok("adopt", str(project))
    env = {**os.environ, "RELOCATOR_FAULT": "adopt-tree:aside"}
    killed = relocate("adopt", str(project), "--trees", env=env)
    assert killed.returncode == -9, killed.stderr
    os.makedirs(project / ".mypy_cache" / "3.12")  # mypy, run meanwhile
    finish = relocate("adopt", str(project), "--trees")
    assert finish.returncode == 0, finish.stderr
    assert has_shape(project, ".mypy_cache")
    assert (project / ".mypy_cache" / "3.11" / "m.data.json").is_file()
    (stub,) = project.glob(".venv.relocator-stub@.mypy_cache-*")
    assert (stub / "3.12").is_dir()
    _clean(project, shm_store)


# -- bind mounts ----------------------------------------------------------------------------


def _refused(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"bind mount tests must run in CI: {why}")
    pytest.skip(why)


@pytest.fixture
def bind_mount(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/mnt``, a bind mount of ``tmp_path/real``: one device number with the
    store (``tmp_path/store``), yet a rename between them fails with EXDEV."""
    if os.getuid() != 0 or shutil.which("mount") is None:
        _refused("a bind mount needs root and mount(8)")
    real, mnt = tmp_path / "real", tmp_path / "mnt"
    real.mkdir()
    mnt.mkdir()
    mounted = run(["mount", "--bind", str(real), str(mnt)])
    if mounted.returncode != 0:
        _refused(f"mount --bind was refused: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        run(["umount", "-l", str(mnt)])


@linux_only("mount --bind (as root)")
def test_adopt_and_eject_across_a_bind_mount(
    tmp_path: Path, template: Path, store: Path, bind_mount: Path
) -> None:
    project = _project(bind_mount / "p", template)
    dotvenv = project / ".venv"
    cache = project / ".mypy_cache" / "3.11"
    cache.mkdir(parents=True)
    (cache / "m.data.json").write_text("{}")
    reference = dir_paths(dotvenv)
    store.mkdir()
    assert os.stat(project).st_dev == os.stat(store).st_dev

    adopted = relocate_json("adopt", str(project), "--trees")
    assert adopted["action"] == "copied", adopted
    assert dotvenv.is_symlink() and store in Path(os.path.realpath(dotvenv)).parents
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    assert store in Path(os.path.realpath(project / ".mypy_cache")).parents
    assert (project / ".mypy_cache" / "3.11" / "m.data.json").is_file()
    _clean(project, store)

    relocate_ok("eject", str(project))
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    assert (project / ".mypy_cache").is_dir() and not (project / ".mypy_cache").is_symlink()
    assert (project / ".mypy_cache" / "3.11" / "m.data.json").is_file()
    assert not [p for p in store.glob("venvs/*") if p.is_dir()]
    _clean(project, store)


@linux_only("mount --bind (as root)")
@pytest.mark.parametrize("point", ["adopt:copying", "copy:1", "adopt:aside"])
def test_a_bind_mount_adopt_killed_then_the_next_adopt_finishes(
    point: str, tmp_path: Path, template: Path, store: Path, bind_mount: Path
) -> None:
    """The record says ``copy`` before the copy starts, so recovery reads the right states."""
    project = _project(bind_mount / "p", template)
    dotvenv = project / ".venv"
    reference = dir_paths(dotvenv)
    killed = relocate("adopt", str(project), env={**os.environ, "RELOCATOR_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    (record,) = store.glob("journal/*.json")
    assert json.loads(record.read_text())["mode"] == "copy"
    relocate_ok("adopt", str(project))
    assert dotvenv.is_symlink()
    assert reference <= dir_paths(dotvenv) and _imports(dotvenv, "handmade")
    _clean(project, store)
