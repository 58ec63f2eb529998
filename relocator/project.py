"""Projects: finding the root from any folder inside."""

from __future__ import annotations

import glob
import os
import sys
from typing import Any, Optional

from relocator import resolver
from relocator.errors import NotFound

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".venv")


def is_project(folder: str) -> bool:
    if any(os.path.lexists(os.path.join(folder, m)) for m in MARKERS):
        return True
    return bool(glob.glob(os.path.join(glob.escape(folder), "requirements*.txt")))


def find_root(path: str) -> str:
    """The spelling of the project root at or above ``path``.

    The nearest folder with a project marker; for a uv workspace member, the
    workspace root (uv keeps one ``.venv`` there).
    """
    start = resolver.spelling(path)
    if not os.path.exists(start):
        raise NotFound(f"{path}: no such file or directory")
    folder = start if os.path.isdir(start) else os.path.dirname(start)
    while not is_project(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            raise NotFound(
                f"{start} is in no Python project (looked for pyproject.toml, setup.py, "
                "setup.cfg, requirements*.txt or .venv up to /); pass the project folder"
            )
        folder = parent
    return workspace_root(folder) or folder


def workspace_root(member: str) -> Optional[str]:
    """The uv workspace root that lists ``member`` as a member, if any."""
    folder = os.path.dirname(member)
    while folder != os.path.dirname(folder):
        workspace = _uv_workspace(os.path.join(folder, "pyproject.toml"))
        if workspace is not None:
            if _matches(folder, member, workspace.get("members", [])) and not _matches(
                folder, member, workspace.get("exclude", [])
            ):
                return folder
            return None
        folder = os.path.dirname(folder)
    return None


def _uv_workspace(pyproject: str) -> Optional[dict[str, Any]]:
    if not os.path.isfile(pyproject):
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with open(pyproject, "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError):
        return None
    workspace = data.get("tool", {}).get("uv", {}).get("workspace")
    return workspace if isinstance(workspace, dict) else None


def _matches(root: str, member: str, patterns: Any) -> bool:
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        for hit in glob.glob(os.path.join(glob.escape(root), pattern)):
            if os.path.realpath(hit) == member:
                return True
    return False
