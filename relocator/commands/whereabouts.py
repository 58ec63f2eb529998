"""Where everything of relocate's is: its install(s), its store and the files in it, its
config, the service unit. Data for ``relocate info`` and the lines of ``relocate --version
-v`` (what a bug report needs), never a change: nothing is made, not even the store.
"""

from __future__ import annotations

import os
import platform
import sys

from relocator.host import installs
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def version_lines() -> list[str]:
    """``relocate --version -v``: the version, the running copy (how it was installed,
    its venv, its package folder), the Python running it and the store it uses."""
    import relocator

    method, prefix = installs.running()
    where = "run from" if method == installs.SOURCE else "venv"
    return [
        f"relocate {relocator.__version__}",
        f"installed: {method}, {where} {prefix}",
        f"package: {os.path.dirname(os.path.abspath(relocator.__file__))}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"platform: {sys.platform} {platform.machine()}",
        f"store: {Store().root}",
    ]


def info() -> dict[str, Any]:
    """Every place relocate reads or writes, and every copy of it found, as data."""
    import relocator
    from relocator.host import rcedits, unitfile
    from relocator.state import settings

    store = Store()
    try:
        unit: str = unitfile.unit_path()
    except Exception as e:  # a bad RELOCATOR_SERVICE_PLATFORM: say it in place of the path
        unit = f"unknown ({e})"
    return {
        "version": relocator.__version__,
        "python": sys.executable,
        "package": os.path.dirname(os.path.abspath(relocator.__file__)),
        "store": store.root,
        "config": settings.config_path(),
        "registry": store.registry_path,
        "hooks": os.path.join(store.root, rcedits.HOOKS),
        "service_unit": unit,
        "logs": store.logs,
        "trash": store.trash,
        "installs": [install.data() for install in installs.find()],
    }


def lines(data: dict[str, Any]) -> list[str]:
    """``relocate info`` as text: a label and a path a line, then each install with the
    command that removes it."""
    labels = [
        ("version", "version"),
        ("python", "python"),
        ("package", "package"),
        ("store", "store"),
        ("config file", "config"),
        ("registry", "registry"),
        ("rendered hooks", "hooks"),
        ("service unit", "service_unit"),
        ("logs", "logs"),
        ("trash", "trash"),
    ]
    width = max(len(label) for label, _ in labels)
    lines = [f"{label + ':':<{width + 1}} {data[key]}" for label, key in labels]
    found = data["installs"]
    lines.append(f"installed {len(found)} way{'' if len(found) == 1 else 's'}:")
    for each in found:
        install = installs.Install(**{k: v for k, v in each.items() if k != "ours"})
        running = " (this one)" if install.running else ""
        lines.append(f"  {installs.summary(install)}{running}")
        lines += [f"    command: {command}" for command in install.commands]
        lines.append(f"    remove: {install.remove}")
    return lines
