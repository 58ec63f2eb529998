"""``relocate trash`` and ``relocate restore``: the typer commands about what relocator retired.

Part of the CLI: :mod:`relocator.cli.cli` calls :func:`register` to add them to its top-level
app (this module never imports :mod:`relocator.cli.cli`).
"""

from __future__ import annotations

from typing import Optional

import typer

from relocator.cli import commands
from relocator.cli.cli_common import JsonOpt, done


def register(app: typer.Typer) -> None:
    """Add ``trash`` then ``restore`` to ``app``, in that order."""
    app.command("trash", short_help="List what relocator retired, kept for a while.")(trash_)
    app.command(short_help="Put a venv or trees from the trash back into the project.")(restore)


def trash_(as_json: bool = JsonOpt) -> None:
    """List what relocator retired (replaced, rebuilt or gone projects' venvs and trees).

    Each entry stays restorable for 14 days (trash_days in the config file, or
    RELOCATOR_TRASH_DAYS); relocate gc deletes older ones, relocate gc --empty-trash
    all of them.

    Example: relocate trash --json
    """
    done(commands.trash_(**locals()))


def restore(
    path: str = typer.Argument(
        ".", metavar="PATH", help="A folder in the project (default: the current one)."
    ),
    entry_id: Optional[str] = typer.Option(
        None, "--id", metavar="ID", help="The trash entry (default: the project's newest venv)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Put a venv or trees from the trash back as the project's own.

    A venv takes the project's store path. What it replaces goes to the trash in
    turn, so restoring again undoes it.

    Example: relocate restore ~/Documents/myapp --id 20261207-101500-a1b2c3
    """
    done(commands.restore(**locals()))
