"""Tools that record the interpreter they ran with keep working through every replacement
of the project's venv: its store path never changes.

Real pre-commit and ipykernel, dev dependencies of a uv project (installed from its
``uv.lock``, so every rebuild installs them again). ``pre-commit install`` run from the
relocated venv writes the store path into ``.git/hooks/pre-commit``; ``python -m ipykernel
install --user`` run as the shell hook leaves it (the store venv's ``bin`` first on
``PATH``) writes it into a kernel spec. After a rebuild, ``doctor --fix`` of a venv a tool
emptied, a venv a tool put at ``.venv`` taken over, and a renamed project adopted at its
new place, a real ``git commit`` runs the hook and the kernel's interpreter imports
ipykernel.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import relocate_json, relocate_ok, run

pytestmark = pytest.mark.slow

PYPROJECT = """\
[project]
name = "app"
version = "0.1"
requires-python = ">=3.11"

[dependency-groups]
dev = ["pre-commit==4.7.0", "ipykernel==7.4.0"]
"""

HOOKS = """\
repos:
  - repo: local
    hooks:
      - id: mark
        name: mark
        entry: sh -c 'echo ran >> "$0"' {log}
        language: system
        pass_filenames: false
        always_run: true
"""


def _uv() -> str:
    found = shutil.which("uv")
    assert found, "uv must be installed for the tests (scripts/test installs it)"
    return found


class Project:
    """A git project whose pre-commit hook and kernel spec name its store venv."""

    def __init__(self, root: Path, home: Path, log: Path) -> None:
        self.root, self.log = root, log
        self.kernel = home / ".local/share/jupyter/kernels/app/kernel.json"
        root.mkdir()
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / ".pre-commit-config.yaml").write_text(HOOKS.format(log=log))
        for cmd in (["lock", "-q"], ["sync", "-q"]):
            result = run([_uv(), *cmd], cwd=root)
            assert result.returncode == 0, result.stderr
        assert run(["git", "init", "-q"], cwd=root).returncode == 0
        self.venv = Path(relocate_json("adopt", str(root))["venv"])
        assert run([str(root / ".venv/bin/pre-commit"), "install"], cwd=root).returncode == 0
        hook = (root / ".git/hooks/pre-commit").read_text()
        assert f"INSTALL_PYTHON={self.venv}/bin/python" in hook  # the store path
        active = {  # what the shell hook sets in the project
            **os.environ,
            "PATH": f"{self.venv}/bin:{os.environ['PATH']}",
            "VIRTUAL_ENV": str(self.venv),
            "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
        }
        install = ["python", "-m", "ipykernel", "install", "--user", "--name", "app"]
        result = run(install, cwd=root, env=active)
        assert result.returncode == 0, result.stderr
        assert self.interpreter() == f"{self.venv}/bin/python"  # the store path too
        self.commits = 0

    def interpreter(self) -> str:
        return str(json.loads(self.kernel.read_text())["argv"][0])

    def works(self, step: str) -> None:
        """The venv kept its store path; a commit runs the hook; the kernel starts."""
        assert os.path.realpath(self.root / ".venv") == str(self.venv), step
        assert relocate_json("status", str(self.root))["status"] == "ok", step
        bare = {**os.environ, "PATH": "/usr/bin:/bin"}  # no pre-commit to fall back on
        commit = run(["git", "commit", "-q", "--allow-empty", "-m", step], cwd=self.root, env=bare)
        assert commit.returncode == 0, f"{step}: {commit.stdout}{commit.stderr}"
        self.commits += 1
        assert self.log.read_text().split() == ["ran"] * self.commits, step
        kernel = run([self.interpreter(), "-c", "import ipykernel"])
        assert kernel.returncode == 0, f"{step}: {kernel.stderr}"


def test_what_tools_recorded_survives_every_replacement(tmp_path: Path, isolated: Path) -> None:
    project = Project(tmp_path / "app", isolated, tmp_path / "hook.log")
    project.works("adopted")

    rebuilt = relocate_json("rebuild", str(project.root))
    assert rebuilt["venv"] == str(project.venv)
    project.works("rebuilt")

    # CPython empties the store venv through the link, then refuses the symlinked target.
    run([sys.executable, "-m", "venv", "--clear", ".venv"], cwd=project.root)
    assert relocate_json("status", str(project.root))["status"] == "venv-emptied"
    relocate_ok("doctor", str(project.root), "--fix")
    project.works("emptied, then doctor --fix")

    (project.root / ".venv").unlink()
    assert run([_uv(), "sync", "-q"], cwd=project.root).returncode == 0  # a real .venv
    assert relocate_json("status", str(project.root))["status"] == "link-replaced"
    relocate_ok("adopt", str(project.root))
    project.works("taken over")

    renamed = tmp_path / "renamed"
    project.root.rename(renamed)
    project.root = renamed
    relocate_ok("adopt", str(renamed))
    project.works("renamed")
    trashed = [p for p in (isolated.parent / "store/trash").iterdir() if p.is_dir()]
    assert len(trashed) == 3  # what the rebuild, the repair and the takeover replaced
