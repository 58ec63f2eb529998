"""Nothing is lost: adopt and eject killed at any instant leave the venv whole in one place,
and the next run finishes the job. Real processes, real SIGKILL, a real second volume."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import env_without_uv, make_venv, other_volume, relocate, site_packages

FILES = 3000


def _project(where: Path) -> Path:
    where.mkdir(parents=True)
    (where / "setup.py").write_text("")
    venv = make_venv(where / ".venv")
    sp = site_packages(venv)
    (sp / "handmade.py").write_text("VALUE = 42\n")
    for i in range(FILES):
        folder = sp / f"pkg{i // 100}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i}.py").write_bytes(b"x = 1\n" * 600)
    (venv / "bin" / "tool").write_text(f"#!{venv}/bin/python\nprint('tool')\n")
    (venv / "bin" / "tool").chmod(0o755)
    return where


def _paths(top: Path) -> set[str]:
    """Relative paths below a venv, without what relocate itself adds."""
    return {str(p.relative_to(top)) for p in top.rglob("*")} - {"CACHEDIR.TAG"}


def _whole_places(project: Path, store: Path, reference: set[str]) -> list[Path]:
    """Where the venv is whole: its old place, its new one, or (killed between the two
    renames of a move across volumes) its verified copy and its source set aside, which
    the next run settles."""
    candidates = [project / ".venv"] if (project / ".venv").is_dir() else []
    if (project / ".venv").is_symlink():
        candidates = []
    candidates += [p for p in store.glob("venvs/*") if p.is_dir()]
    candidates += [p for p in project.glob(".venv.relocator-*") if p.is_dir()]
    candidates += [p for p in store.glob("tmp/*") if p.is_dir() and not p.is_symlink()]
    return [c for c in candidates if reference <= _paths(c)]


def _timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = relocate(*args, env=env)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - start


def _killed(args: list[str], env: dict[str, str], delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "relocator", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture(params=["one-volume", "two-volumes"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if request.param == "one-volume":
        store = tmp_path / "store"
    else:
        store = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(store))
    yield store
    shutil.rmtree(store, ignore_errors=True)


@pytest.mark.slow
def test_adopt_killed_at_any_instant_loses_nothing(tmp_path: Path, store_at: Path) -> None:
    env = env_without_uv(tmp_path)
    probe = _project(tmp_path / "probe")
    reference = _paths(probe / ".venv")
    duration = _timed(["adopt", str(probe)], env)
    outcomes = set()
    for i, fraction in enumerate((0.1, 0.3, 0.5, 0.7, 0.85, 1.0)):
        project = _project(tmp_path / f"p{i}")
        _killed(["adopt", str(project)], env, duration * fraction)
        whole = _whole_places(project, store_at, reference)
        assert whole, f"killed at {fraction:.0%}: the venv is whole nowhere"
        outcomes.add("store" if store_at in whole[0].parents else "project")

        result = relocate("adopt", str(project), env=env)
        assert result.returncode == 0, result.stderr
        assert (project / ".venv").is_symlink()
        target = Path(os.path.realpath(project / ".venv"))
        assert reference <= _paths(target)
        assert not list(store_at.glob("journal/*")) and not list(store_at.glob("tmp/*"))
        check = subprocess.run(
            [str(project / ".venv/bin/python"), "-c", "import handmade, pkg0.m1"], env=env
        )
        assert check.returncode == 0
        tool = subprocess.run([str(project / ".venv/bin/tool")], capture_output=True, text=True)
        assert tool.stdout == "tool\n"
    # Every owner record has its venv, every venv its owner.
    venv_dirs = {p.name for p in store_at.glob("venvs/*") if p.is_dir()}
    owners = {p.stem for p in store_at.glob("venvs/*.json")}
    assert venv_dirs == owners
    assert outcomes  # at least one kill landed somewhere observable


@pytest.mark.slow
def test_eject_killed_at_any_instant_loses_nothing(tmp_path: Path, store_at: Path) -> None:
    env = env_without_uv(tmp_path)
    probe = _project(tmp_path / "probe")
    reference = _paths(probe / ".venv")
    assert relocate("adopt", str(probe), env=env).returncode == 0
    duration = _timed(["eject", str(probe)], env)
    for i, fraction in enumerate((0.1, 0.3, 0.5, 0.7, 0.9, 1.0)):
        project = _project(tmp_path / f"p{i}")
        assert relocate("adopt", str(project), env=env).returncode == 0
        _killed(["eject", str(project)], env, duration * fraction)
        assert _whole_places(project, store_at, reference), f"killed at {fraction:.0%}"

        result = relocate("eject", str(project), env=env)
        # A kill after the eject finished leaves nothing to do: that is reported, not hidden.
        assert result.returncode == 0 or "is not relocated" in result.stderr, result.stderr
        dotvenv = project / ".venv"
        assert dotvenv.is_dir() and not dotvenv.is_symlink()
        assert reference <= _paths(dotvenv)
        assert not os.path.lexists(project / ".venv.nosync")
        assert not list(project.glob(".venv.relocator-*"))
        assert not list(store_at.glob("journal/*"))
        check = subprocess.run([str(dotvenv / "bin/python"), "-c", "import handmade"], env=env)
        assert check.returncode == 0
    assert not [p for p in store_at.glob("venvs/*") if p.name.startswith("p")]


@pytest.mark.slow
def test_ctrl_c_exits_130_and_the_next_adopt_finishes(tmp_path: Path, store_at: Path) -> None:
    env = env_without_uv(tmp_path)
    probe = _project(tmp_path / "probe")
    duration = _timed(["adopt", str(probe)], env)
    project = _project(tmp_path / "p")
    reference = _paths(project / ".venv")
    proc = subprocess.Popen(
        [sys.executable, "-m", "relocator", "adopt", str(project)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupted once its work has begun (its journal record is written), not while
    # Python itself starts, which a loaded machine can stretch past any fixed delay.
    deadline = time.monotonic() + max(60.0, duration * 20)
    while proc.poll() is None and not list(store_at.glob("journal/*.json")):
        assert time.monotonic() < deadline, "adopt wrote no journal record"
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # 0, or killed by the signal: it finished first (Python restores the default
    # SIGINT handler while it shuts down). Otherwise our one line and 130.
    if proc.returncode not in (0, -signal.SIGINT):
        assert proc.returncode == 130, err
        assert err.strip() == "relocate: interrupted"
    assert _whole_places(project, store_at, reference)
    assert relocate("adopt", str(project), env=env).returncode == 0
    assert reference <= _paths(Path(os.path.realpath(project / ".venv")))
