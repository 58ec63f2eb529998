"""``relocate info``: where everything of relocate's is, and every copy of it installed.

Part of the CLI: :mod:`relocator.cli.cli` calls :func:`register` to add it to its top-level
app (this module never imports :mod:`relocator.cli.cli`). The data comes from
:mod:`relocator.commands.whereabouts`.
"""

from __future__ import annotations

import typer

from relocator.cli import commands
from relocator.cli.cli_common import JsonOpt, done


def register(app: typer.Typer) -> None:
    """Add ``info`` to ``app``."""
    app.command(short_help="Show where relocate keeps everything, and how it is installed.")(info)


def info(as_json: bool = JsonOpt) -> None:
    """Show the store, config file, registry, rendered hooks, service unit, logs and
    trash, and every copy of relocate installed (scripts/install, uv tool, pipx, another
    venv) with the command that removes it. Changes nothing.

    Example: relocate info --json
    """
    done(commands.info(**locals()))
