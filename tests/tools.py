"""Package managers from PyPI for the tests, each in a venv of its own.

PDM breaks when it shares a venv with Poetry (they pin different versions of
the same libraries), so every tool gets ``<repo>/.test-tools/<name>/`` (or
``$RELOCATOR_TEST_TOOLS/<name>/``), made with the test env's uv on first use
and reused while it was made from today's pin and still answers ``--version``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

#: The pinned versions: what the recipes were measured against. PDM's ``locked`` extra pins
#: its own dependencies too (2.29.3 fails with hishel 2, which its plain requirements allow).
PINS = {
    "poetry": "poetry==2.5.1",
    "pdm": "pdm[locked]==2.29.3",
    "hatch": "hatch==1.18.2",
    "pipenv": "pipenv==2026.10.3",
    "virtualenv": "virtualenv==21.15.8",
    "pipx": "pipx==1.18.4",
    "tox": "tox==4.67.15",
    "nox": "nox==2026.10.20",
    # for benchmarks/tools_matrix.py and tests/test_builds.py
    "build": "build==1.6.1",  # pypa/build, run as pyproject-build
    "pyright": "pyright==1.1.414",
    "basedpyright": "basedpyright==1.40.2",
    "python-lsp-server": "python-lsp-server==1.15.0",
    "flit": "flit==4.2.0",
    # for tests/test_packaging.py: what PyPI would say of the sdist and wheel
    "twine": "twine==7.0.0",
    # tox that makes its envs and installs with uv (test_builds.py runs it 32 times)
    "tox-uv": "tox-uv==1.36.1 tox==4.67.15",
}
#: A tool whose executable is not named after its package.
EXES = {"build": "pyproject-build", "python-lsp-server": "pylsp", "tox-uv": "tox"}
PIN_FILE = "relocator-test-pin"
#: How each tool is installed, part of what the pin file records: with its bytecode written
#: (uv writes none by default, and where PYTHONDONTWRITEBYTECODE is set nothing ever would:
#: Poetry would compile 1,400 modules at each start, 1.3 s instead of 0.5 s).
INSTALL_OPTIONS = ("--compile-bytecode",)
#: The executables this process found installed and answering: asked again, no ``--version``.
_READY: dict[str, str] = {}


def tools_dir() -> Path:
    override = os.environ.get("RELOCATOR_TEST_TOOLS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / ".test-tools"


def tool(name: str) -> str:
    """The absolute path of ``name``'s executable, installed on first use.

    A failed install fails the test in CI (which must have the tools) and skips
    it elsewhere (offline, say).
    """
    import pytest
    from filelock import FileLock

    if name in _READY:
        return _READY[name]
    venv = tools_dir() / name
    exe = venv / "bin" / EXES.get(name, name)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Test runs in parallel, and the workers of one run, share the tools: one installs.
    with FileLock(str(venv) + ".lock", timeout=900):
        if _pinned(venv, name) and _answers(exe):
            _READY[name] = str(exe)
            return str(exe)
        problem = _install(name, venv)
        if problem is None and _answers(exe):
            _READY[name] = str(exe)
            return str(exe)
    reason = f"{name} could not be installed into {venv}: {problem or 'no --version'}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def tool_path_env(*names: str) -> dict[str, str]:
    """``os.environ`` with the bin folders of ``names`` first on PATH."""
    bins = [str(Path(tool(name)).parent) for name in names]
    return {**os.environ, "PATH": os.pathsep.join([*bins, os.environ.get("PATH", "")])}


def _pin(name: str) -> str:
    """What the pin file of ``name``'s venv says: its requirements and how they were installed."""
    return " ".join([PINS[name], *INSTALL_OPTIONS])


def _pinned(venv: Path, name: str) -> bool:
    """Whether ``venv`` was installed from today's pin (a changed pin reinstalls)."""
    try:
        return name in PINS and (venv / PIN_FILE).read_text() == _pin(name)
    except OSError:
        return False


def _answers(exe: Path) -> bool:
    if not exe.is_file():
        return False
    try:
        result = subprocess.run(
            [str(exe), "--version"], capture_output=True, timeout=60, env=_clean_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _install(name: str, venv: Path) -> str | None:
    """Install the pinned ``name`` into ``venv`` (replacing a broken one); the problem, or None."""
    uv = shutil.which("uv")
    if uv is None:
        return "uv is not on PATH"
    if name not in PINS:
        return f"no pinned version for {name}"
    shutil.rmtree(venv, ignore_errors=True)
    env = _clean_env()
    steps = [
        [uv, "venv", "--quiet", "--no-config", "--python", _python(), str(venv)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            *INSTALL_OPTIONS,
            "--python",
            str(venv),
            *PINS[name].split(),
        ],
    ]
    for cmd in steps:
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        if result.returncode != 0:
            return (result.stderr.strip().splitlines() or ["failed"])[-1]
    (venv / PIN_FILE).write_text(_pin(name))
    return None


def _python() -> str:
    """The interpreter the test env runs on: no download, the same everywhere here."""
    import sys

    return sys.executable


def _clean_env() -> dict[str, str]:
    """The environment without an active venv: the tool must not see the test env."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX", "PYTHONPATH"):
        env.pop(name, None)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env
