"""A real uv project: uv keeps the link and installs into the store venv."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import relocate_json, run


@pytest.mark.slow
def test_uv_init_adopt_sync_run(tmp_path: Path, store: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv must be installed for the tests (scripts/test installs it)")
    init = run([uv, "init", "--package", "--name", "app", "--vcs", "none", "app"], cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    project = tmp_path / "app"

    out = relocate_json("adopt", str(project))
    assert out["action"] == "built from pyproject.toml (uv pip install -e .)"  # as uv sync would
    store_venv = Path(out["venv"])
    assert store_venv.parent == store / "venvs"
    link = project / ".venv"
    link_before = (os.readlink(link), os.lstat(link).st_ino)

    sync = run([uv, "sync"], cwd=project)
    assert sync.returncode == 0, sync.stderr
    assert (os.readlink(link), os.lstat(link).st_ino) == link_before
    assert os.path.realpath(link) == str(store_venv)
    installed = list(store_venv.glob("lib/python*/site-packages/app-*.dist-info"))
    assert installed, "uv sync did not install into the store venv"
    assert (store_venv / "CACHEDIR.TAG").exists()

    result = run([uv, "run", "app"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Hello from app!" in result.stdout
    assert relocate_json("status", str(project))["status"] == "ok"
    # a second sync changes nothing and keeps the link
    assert run([uv, "sync"], cwd=project).returncode == 0
    assert (os.readlink(link), os.lstat(link).st_ino) == link_before
