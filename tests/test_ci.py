"""CI itself: the workflow lints clean and runs the README's command, the scripts pass
shellcheck, scripts/test installs with Homebrew (never apt) on macOS, and a
``linux_only`` test skips on another system even in CI."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import pytest_runtest_setup
from tests.helpers import linux_only, require_tool, run

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
SCRIPTS = ["scripts/test", "scripts/macos-check", "scripts/install", ".ci/run"]


def test_the_workflow_passes_actionlint() -> None:
    """actionlint (from the test extras) checks the workflow's syntax, its expressions,
    the runner labels GitHub offers, the actions' versions, and each ``run:`` script
    with shellcheck when shellcheck is on PATH (scripts/test installs it)."""
    actionlint = Path(sys.executable).parent / "actionlint"
    if not actionlint.exists():
        actionlint = Path(require_tool("actionlint"))
    result = run([str(actionlint), str(WORKFLOW)], cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_scripts_pass_shellcheck(script: str) -> None:
    result = run([require_tool("shellcheck"), str(REPO / script)], cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.access(REPO / script, os.X_OK)


def test_the_workflow_runs_the_readmes_command() -> None:
    """README: ``scripts/test``; .ci/run: ``scripts/test``; the workflow: ``.ci/run``,
    on Linux and on both kinds of Mac, under the oldest Python supported and the newest."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Run the tests", 1)[1]
    (block,) = re.findall(r"```sh\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    assert block.strip() == "scripts/test"
    ci_run = (REPO / ".ci" / "run").read_text().splitlines()
    assert ci_run[-1] == 'exec scripts/test "$@"'
    workflow = WORKFLOW.read_text()
    assert re.findall(r"^ +run: (.*)$", workflow, re.M) == [".ci/run", "scripts/macos-check"]
    assert "os: [ubuntu-latest, macos-15, macos-15-intel]" in workflow
    assert 'python: ["3.9", "3.13"]' in workflow
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.9"' in pyproject
    assert "if: ${{ !cancelled() && runner.os == 'macOS'" in workflow


def _fake(bindir: Path, name: str, body: str) -> None:
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_scripts_test_installs_with_brew_on_macos_and_never_apt(tmp_path: Path) -> None:
    """On a Mac (uname says Darwin), what is missing comes from Homebrew, GNU tar as
    gnu-tar and bash 5 when ``bash`` is 3.2, and /bin/bash is the suite's bash 3.2;
    apt-get and sudo are never called. The stand-in Python ends the run after that."""
    log = tmp_path / "calls"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake(bindir, "uname", "echo Darwin")
    _fake(bindir, "brew", f'echo "brew $*" >> "{log}"')
    _fake(bindir, "apt-get", f'echo "apt-get $*" >> "{log}"')
    _fake(bindir, "sudo", f'echo "sudo $*" >> "{log}"')
    _fake(bindir, "bash", "echo 3")  # what `bash -c 'echo ${BASH_VERSINFO[0]}'` prints
    _fake(bindir, "zsh", "")  # present: not asked for
    for tool in ("sort", "dirname"):
        (bindir / tool).symlink_to(require_tool(tool))
    env_dir = tmp_path / "env"
    (env_dir / "bin").mkdir(parents=True)
    _fake(env_dir / "bin", "python", f'echo "python $RELOCATOR_TEST_BASH32" >> "{log}"; exit 7')
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "RELOCATOR_TEST_ENV": str(env_dir)}
    result = run(["/bin/bash", str(REPO / "scripts" / "test")], env=env, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    calls = log.read_text().splitlines()
    installed = sorted(c.split()[-1] for c in calls if c.startswith("brew install"))
    assert installed == sorted(
        ["bash", "fish", "git", "shellcheck", "gnu-tar", "rsync", "restic", "borgbackup", "node"]
    )
    assert not [c for c in calls if c.startswith(("apt-get", "sudo"))]
    assert calls[-1] == "python /bin/bash"


@pytest.mark.parametrize("fsync", ["", "1"])
def test_scripts_test_runs_pytest_under_eatmydata_on_linux_unless_asked(
    tmp_path: Path, fsync: str
) -> None:
    """On Linux with every tool present, nothing is installed with apt, and pytest (only
    pytest, not the linters) runs under eatmydata; ``RELOCATOR_TEST_FSYNC=1`` runs it
    with the disk's own fsync."""
    log = tmp_path / "calls"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake(bindir, "uname", "echo Linux")
    present = "bash zsh fish git shellcheck tar rsync restic borg node npm apt-get sudo"
    for name in present.split():
        _fake(bindir, name, f'echo "{name} $*" >> "{log}"')
    _fake(bindir, "python3", "exit 0")  # ensurepip is there
    _fake(bindir, "eatmydata", f'echo "eatmydata $1" >> "{log}"; exec "$@"')
    for tool in ("dirname", "id"):
        (bindir / tool).symlink_to(require_tool(tool))
    env_dir = tmp_path / "env"
    (env_dir / "bin").mkdir(parents=True)
    pytest_run = f'echo "python $*" >> "{log}"; exit 7'
    _fake(env_dir / "bin", "python", f'[ "$2" = pytest ] && {{ {pytest_run}; }}; exit 0')
    for linter in ("ruff", "mypy"):
        _fake(env_dir / "bin", linter, f'echo "{linter}" >> "{log}"')
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "RELOCATOR_TEST_ENV": str(env_dir)}
    if fsync:
        env["RELOCATOR_TEST_FSYNC"] = fsync
    result = run(["/bin/bash", str(REPO / "scripts" / "test"), "-k", "x"], env=env, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    calls = log.read_text().splitlines()
    assert calls[:3] == ["ruff", "ruff", "mypy"]
    wrapped = [] if fsync else ["eatmydata python"]
    assert calls[3:] == [*wrapped, "python -m pytest -n auto -k x"]


@pytest.mark.parametrize("system", ["darwin", "linux"])
def test_a_linux_only_test_skips_elsewhere_even_in_ci(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Item:  # what the hook reads of a collected test
        def get_closest_marker(self, name: str):
            return linux_only("mounts a tmpfs").mark if name == "linux_only" else None

    item = Item()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(sys, "platform", system)
    if system == "linux":
        pytest_runtest_setup(item)  # runs: on Linux a missing tool fails in CI
        return
    with pytest.raises(pytest.skip.Exception, match="Linux only: mounts a tmpfs"):
        pytest_runtest_setup(item)
