"""The real tools: ``tests/tools.py``'s pinned installs, and a CPython 3.12."""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import sys
from types import ModuleType
from typing import Optional

from harness.isolation import REPO


def tools_module() -> ModuleType:
    """``tests/tools.py``, which installs the pinned tools into ``.test-tools/``."""
    path = os.path.join(REPO, "tests", "tools.py")
    spec = importlib.util.spec_from_file_location("relocator_test_tools", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find_tool(tools: ModuleType, name: str) -> tuple[Optional[str], str]:
    """``name``'s executable from ``tests/tools.py`` (installed on first use), or why not.

    ``tool()`` skips (or, with ``CI`` set, fails) the calling test when the tool
    cannot be installed: here both become a note. Without pytest (or filelock)
    it cannot run: then an executable installed earlier is used if it answers.
    """
    try:
        return str(tools.tool(name)), ""
    except ImportError as e:
        exe = tools.tools_dir() / name / "bin" / getattr(tools, "EXES", {}).get(name, name)
        if exe.is_file() and tools._answers(exe):
            return str(exe), ""
        return None, f"not installed in {exe.parent.parent}, and installing needs {e.name}"
    except BaseException as e:  # pytest.skip / pytest.fail raise outcomes, not Exceptions
        pytest = sys.modules.get("pytest")
        if pytest is not None and isinstance(e, (pytest.skip.Exception, pytest.fail.Exception)):
            return None, str(getattr(e, "msg", None) or e)
        raise


def python312() -> Optional[str]:
    """CPython 3.12 on this machine (pyenv's, else one on PATH)."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    found += sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python3.12"))
    return found[-1] if found else shutil.which("python3.12")
