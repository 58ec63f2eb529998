"""``relocate info``: where everything of relocate's is, and every copy of it installed.

Part of the CLI: :mod:`relocator.cli` calls :func:`register` to add it to its top-level
app (this module never imports :mod:`relocator.cli`). The data comes from
:mod:`relocator.whereabouts`.
"""

from __future__ import annotations

from typing import Any

import typer

from relocator import installs
from relocator.cli_common import JsonOpt, echo_json, echo_lines


def register(app: typer.Typer) -> None:
    """Add ``info`` to ``app``."""
    app.command(short_help="Show where relocate keeps everything, and how it is installed.")(info)


def info(as_json: bool = JsonOpt) -> None:
    """Show the store, config file, registry, rendered hooks, service unit, logs and
    trash, and every copy of relocate installed (scripts/install, uv tool, pipx, another
    venv) with the command that removes it. Changes nothing.

    Example: relocate info --json
    """
    from relocator import whereabouts

    data = whereabouts.info()
    echo_json(data) if as_json else echo_lines(info_lines(data))


def info_lines(data: dict[str, Any]) -> list[str]:
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
