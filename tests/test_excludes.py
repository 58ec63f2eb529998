"""``relocate excludes``: the rules, fed to the real rsync, tar, restic, borg and git, keep
the project's own files and the relative ``.venv`` link and leave out every rebuildable
tree and the machine-local ``.venv.nosync`` (a folder, or in the old shape a link)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relocator.commands import excludes
from tests.helpers import (
    link_by_hand,
    old_shape,
    one_clean_error_line,
    relocate,
    relocate_ok,
    require_tool,
    run,
)

#: The project's own entries: what every tool must keep (``build`` is the user's too).
KEPT = {
    "pyproject.toml",
    "app.py",
    "build",
    "build/keep.txt",
    "data",
    "data/notes.txt",
    "pkg",
    "pkg/m.py",
    "src",
    "web",
    "web/index.js",
    ".venv",
}
#: Rebuildable trees and the hop: what every tool must leave out.
LEFT_OUT = [
    "__pycache__/app.cpython-311.pyc",
    "pkg/__pycache__/m.cpython-311.pyc",
    ".mypy_cache/3.11/app.data.json",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/0.6.9/123",
    ".tox/py311/pyvenv.cfg",
    ".nox/tests/pyvenv.cfg",
    "node_modules/a/index.js",
    "web/node_modules/b/index.js",
    "src/app.egg-info/PKG-INFO",
]


@pytest.fixture(params=["new", "old"])
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = tmp_path / "proj"
    for rel in [*KEPT - {"build", "data", "pkg", "src", "web", ".venv"}, *LEFT_OUT]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel + "\n")
    link_by_hand(root, tmp_path / "store" / "venvs" / "proj-0000")
    if request.param == "old":
        old_shape(root)
    return root


def _rules(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"rules.{fmt}"
    path.write_text(relocate_ok("excludes", "--format", fmt))
    return path


def _kept(paths: set[str]) -> set[str]:
    return {p for p in paths if p not in ("", ".")}


def test_rsync(project: Path, tmp_path: Path) -> None:
    rsync = require_tool("rsync")
    dest = tmp_path / "mirror"
    rules = _rules(tmp_path, "rsync")
    run([rsync, "-a", f"--exclude-from={rules}", f"{project}/", f"{dest}/"], check=True)
    found = {str(p.relative_to(dest)) for p in dest.rglob("*")}
    assert found == KEPT
    assert os.readlink(dest / ".venv") == os.readlink(project / ".venv")


def test_tar(project: Path, tmp_path: Path) -> None:
    tar = require_tool("tar")
    rules, out = _rules(tmp_path, "tar"), tmp_path / "out.tar"
    run([tar, "-c", "-X", str(rules), "-f", str(out), "-C", str(project), "."], check=True)
    listed = run([tar, "-tf", str(out)], check=True).stdout.split("\n")
    assert _kept({line.removeprefix("./").rstrip("/") for line in listed}) == KEPT


def test_restic(project: Path, tmp_path: Path) -> None:
    restic = require_tool("restic")
    env = {**os.environ, "RESTIC_REPOSITORY": str(tmp_path / "repo"), "RESTIC_PASSWORD": "x"}
    env["RESTIC_CACHE_DIR"] = str(tmp_path / "restic-cache")
    run([restic, "init", "-q"], env=env, check=True)
    rules = _rules(tmp_path, "restic")
    backup = [restic, "backup", "-q", f"--exclude-file={rules}", str(project)]
    run(backup, env=env, check=True)
    listed = run([restic, "ls", "-q", "latest"], env=env, check=True).stdout.split("\n")
    inside = {line.removeprefix(f"{project}/") for line in listed if line.startswith(f"{project}/")}
    assert inside == KEPT


def test_borg(project: Path, tmp_path: Path) -> None:
    borg = require_tool("borg")
    env = {**os.environ, "BORG_BASE_DIR": str(tmp_path / "borg-home"), "BORG_PASSPHRASE": ""}
    repo = tmp_path / "repo"
    run([borg, "init", "-e", "none", str(repo)], env=env, check=True)
    rules = _rules(tmp_path, "borg")
    create = [borg, "create", "--exclude-from", str(rules), f"{repo}::a", "proj"]
    run(create, env=env, cwd=project.parent, check=True)
    listed = run([borg, "list", "--short", f"{repo}::a"], env=env, check=True).stdout
    inside = {line.removeprefix("proj/") for line in listed.split("\n") if line.startswith("proj/")}
    assert inside == KEPT


def test_gitignore(project: Path) -> None:
    git = require_tool("git")
    (project / ".gitignore").write_text(relocate_ok("excludes", "--format", "gitignore"))
    run([git, "init", "-q", str(project)], check=True)
    run([git, "-C", str(project), "add", "-A"], check=True)
    tracked = set(run([git, "-C", str(project), "ls-files"], check=True).stdout.split("\n"))
    folders = {p for p in KEPT if (project / p).is_dir() and not (project / p).is_symlink()}
    assert _kept(tracked) == (KEPT - folders) | {".gitignore"}


def test_the_rules_come_from_scans_list() -> None:
    for fmt in excludes.FORMATS:
        lines = excludes.rules(fmt)
        patterns = "\n".join(line for line in lines if not line.startswith("#"))
        for name in ("__pycache__", ".mypy_cache", "node_modules", ".egg-info", ".venv.nosync"):
            assert name in patterns, (fmt, name)
        assert "build" not in patterns and "dist" not in patterns  # often the user's own
        assert any(line.startswith("#") for line in lines) == (fmt != "tar")  # tar -X: none


def test_an_unknown_format_is_one_clean_line() -> None:
    line = one_clean_error_line(relocate("excludes", "--format", "zip"))
    assert "give one of rsync, tar, restic, borg, gitignore" in line
