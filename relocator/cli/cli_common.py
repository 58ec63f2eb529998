"""What the typer command modules share: the ``--json`` option, the ``PATH`` argument, and
how a command ends.

Used by :mod:`relocator.cli.cli`, :mod:`relocator.cli.cli_scan`,
:mod:`relocator.cli.cli_service` and :mod:`relocator.cli.cli_trash`; like them, part of the
CLI (it imports typer). What the commands do is in :mod:`relocator.cli.commands`, shared
with the fast path of :mod:`relocator.cli.entry`.
"""

from __future__ import annotations

from typing import NoReturn

import typer

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")
PathArg = typer.Argument(
    ".", metavar="PATH", help="A folder in the project (default: the current one)."
)


def done(code: int) -> NoReturn:
    """End a typer command with the exit code its :mod:`relocator.cli.commands` function
    returned."""
    raise typer.Exit(code)
