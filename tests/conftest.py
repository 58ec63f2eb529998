from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``linux_only(reason=...)`` skips on any other system, in CI too:
    on macOS it is not a failure that Linux's machinery is missing."""
    mark = item.get_closest_marker("linux_only")
    if mark is not None and not sys.platform.startswith("linux"):
        pytest.skip(f"Linux only: {mark.kwargs['reason']}")


def pytest_configure(config: pytest.Config) -> None:
    """Write relocator's bytecode once, before any test runs: the suite starts relocate
    thousands of times, and where PYTHONDONTWRITEBYTECODE is set (or in a fresh clone
    until some import writes it) each start would compile every module it imports again
    (``relocate list``: 126 ms instead of 65). The workers of pytest-xdist find it written."""
    if hasattr(config, "workerinput"):
        return
    import compileall

    import relocator

    compileall.compile_dir(os.path.dirname(relocator.__file__), quiet=1)


#: Test modules one pytest-xdist worker runs whole: a module fixture of theirs makes what
#: every test of theirs judges (test_builds.py: every build), too costly to make twice.
WHOLE_MODULES = ("tests/test_builds.py",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (scripts/test: ``-n auto``), each test goes to whichever worker
    is free, but each of :data:`WHOLE_MODULES` goes to one worker whole. (xdist's own
    ``--dist loadgroup`` marks a group in the node ids, which pytest 9.2 no longer reads.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return Scheduling(config, log)


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every process of this run shares: the run's own base folder,
    or under pytest-xdist (scripts/test runs one worker per core) the folder that holds
    each worker's (``.../pytest-N/gw0``)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def made_once(folder: Path) -> Iterator[bool]:
    """Make ``folder`` once for the whole run, whichever worker asks first: yields whether
    the caller must fill it (under a lock the other workers wait on), and marks it done
    when the block ends without an error."""
    from filelock import FileLock

    done = folder.with_name(folder.name + ".done")
    with FileLock(str(folder) + ".lock", timeout=900):
        if done.exists():
            yield False
            return
        shutil.rmtree(folder, ignore_errors=True)  # a worker's failed attempt
        folder.mkdir(parents=True)
        yield True
        done.touch()


@pytest.fixture(scope="session")
def shared_caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Package caches shared by all tests of the run, all workers (uv and pip lock their
    own caches), never the real home's: a package is downloaded once per run."""
    base = run_dir(tmp_path_factory) / "caches"
    return {"UV_CACHE_DIR": str(base / "uv"), "PIP_CACHE_DIR": str(base / "pip")}


def _real_store_state() -> object:
    """The user's store (as the environment the suite started in names it): its entries
    and their mtimes, or None when there is none."""
    from relocator.paths.storeroot import default_root

    root = Path(default_root())
    if not root.is_dir():
        return None
    busy = {root / "logs", root / "locks"}  # what the user's own relocate may touch meanwhile
    entries = [p for p in root.rglob("*") if p not in busy and p.parent not in busy]
    return sorted((str(p), p.lstat().st_mtime_ns) for p in entries)


@pytest.fixture(scope="session", autouse=True)
def real_store_untouched() -> Iterator[None]:
    """No test may touch the real store: the suite fails if it changed while it ran."""
    before = _real_store_state()
    yield
    assert _real_store_state() == before, "the tests changed the real store"


def _system_pythons() -> list[tuple[str, int, str]]:
    """The machine's own interpreters: what relocate runs and repairs venvs with."""
    import glob

    found = []
    for path in sorted(glob.glob("/usr/bin/python3*") + glob.glob("/usr/local/bin/python3*")):
        st = os.lstat(path)
        found.append((path, st.st_mtime_ns, os.readlink(path) if os.path.islink(path) else ""))
    return found


@pytest.fixture(autouse=True)
def system_pythons_untouched() -> Iterator[None]:
    """No test may change the machine's interpreters (one run replaced /usr/bin/python3.11
    by a dangling link): the test that did fails (a few lstat calls each)."""
    before = _system_pythons()
    yield
    assert _system_pythons() == before, "the tests changed the machine's Python"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_caches: dict[str, str]):
    """Each test gets its own HOME and store; nothing touches the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RELOCATOR_HOME", str(tmp_path / "store"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_NO_PROGRESS", "1")
    monkeypatch.setenv("RELOCATOR_LOCK_TIMEOUT", "20")
    for name, value in shared_caches.items():
        monkeypatch.setenv(name, value)
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "RELOCATOR_CONFIG", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name in ("PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "PYTHONPYCACHEPREFIX"):
        monkeypatch.delenv(name, raising=False)
    # Once imported, readline exports the terminal's size into the process's environment
    # (not os.environ), which relocate inherits: its tables would fit 80 columns. Set and
    # deleted through os.environ, the names are unset there too.
    for name in ("COLUMNS", "LINES"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "t")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "t")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "t@example.invalid")
    if sys.platform == "darwin":
        _shadow_launchctl(tmp_path / "no-launchctl", monkeypatch)
    return home


def _shadow_launchctl(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a Mac launchctl is real: a test's ``service install`` would load an agent into
    the user's own gui domain. A stand-in that refuses goes first on PATH (a test's own
    recording launchctl goes before it); scripts/macos-check runs the real one."""
    bindir.mkdir()
    stand_in = bindir / "launchctl"
    stand_in.write_text('#!/bin/sh\necho "launchctl: not run by the tests" >&2\nexit 1\n')
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ.get('PATH', '')}")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``wheel`` and a recent setuptools, downloaded once per run, for offline editable
    installs."""
    where = run_dir(tmp_path_factory) / "wheelhouse"
    with made_once(where) as empty:
        if empty:
            _download(where)
    return where


def _download(where: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "-d",
            str(where),
            "wheel",
            "setuptools>=64",
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


@pytest.fixture
def docs(isolated: Path) -> Path:
    """~/Documents of a fake macOS home with iCloud Desktop & Documents."""
    from tests.helpers import mac_home

    return mac_home(isolated, "documents-link")["short"]


@pytest.fixture
def start(tmp_path: Path, store: Path) -> Iterator[Callable[..., Any]]:
    """``start(mode, quiet, interval, unit, **config)``: a ``relocate service run`` process
    (:class:`tests.test_service.Service`, not waited for; ``--unit`` with ``unit``) over a
    config file of ``config``; every one started is killed at the end of the test."""
    from tests.test_service import Service

    started: list[Service] = []

    def start_service(
        mode: str = "auto",
        quiet: float = 1,
        interval: float = 1,
        unit: bool = False,
        **config: Any,
    ) -> Service:
        path = tmp_path / "service.toml"
        lines = [f'mode = "{mode}"'] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
        path.write_text("\n".join(lines) + "\n")
        env = {
            **os.environ,
            "RELOCATOR_CONFIG": str(path),
            "RELOCATOR_SERVICE_QUIET": str(quiet),
        }
        started.append(Service(tmp_path, store, env, interval=interval, unit=unit))
        return started[-1]

    yield start_service
    for svc in started:
        if svc.proc.poll() is None:
            svc.proc.kill()
            svc.proc.wait()
