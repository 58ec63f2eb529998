"""``relocate python``, ``list`` and ``status``: where a project's interpreter is, and how
each relocated project is.

Part of the CLI: :mod:`relocator.cli.cli` calls :func:`register` to add them to its
top-level app, in its place among the other commands (this module never imports
:mod:`relocator.cli.cli`).
"""

from __future__ import annotations

import typer

from relocator.cli import commands
from relocator.cli.cli_common import JsonOpt, PathArg, done


def register(app: typer.Typer) -> None:
    """Add ``python``, ``list`` and ``status`` to ``app``."""
    app.command(short_help="Print the project's interpreter, for editors.")(python)
    app.command("list", short_help="List relocated projects: health, Python, size, file count.")(
        list_
    )
    app.command(short_help="Show the health of one project, and the command that repairs it.")(
        status
    )


def python(
    path: str = PathArg,
    resolve: bool = typer.Option(False, "--resolve", help="Print the store path instead."),
    as_json: bool = JsonOpt,
) -> None:
    """Print the project's interpreter, for editors (exit 1 outside a relocated project).

    Prints PROJECT/.venv/bin/python of the nearest relocated project at or above PATH.
    --json prints project, executable, prefix, real_prefix, version, provider, valid, error.

    Example: relocate python ~/Documents/myapp --resolve
    """
    done(commands.python(**locals()))


def list_(as_json: bool = JsonOpt) -> None:
    """List registered projects with their health, Python, size and file count, and what
    the trash holds.

    A project that is not ok comes with the command that repairs it; a project whose
    adopt or eject was interrupted shows as interrupted (relocate doctor --fix finishes it).

    Example: relocate list --json
    """
    done(commands.list_(**locals()))


def status(path: str = PathArg, as_json: bool = JsonOpt) -> None:
    """Show the health of the relocated project at or above PATH.

    Status is one of: ok (a venv that works), project-missing (moved or deleted),
    link-missing (.venv or its .venv.nosync/.venv hop is gone, the venv is there),
    link-replaced (a tool put its own venv at .venv), link-old-shape (works, through
    relocator's old .venv -> .venv.nosync link, which builds follow into the store),
    venv-missing, venv-emptied (a tool cleared it through the link), interpreter-missing,
    python-mismatch (a tool made the venv again with another Python, away from its
    packages), scripts-broken (a console script's Python is gone), marks-missing (backups
    no longer skip it), interrupted; each but ok comes with what was found and the command
    that repairs it. Exit 0 whenever it reports, 1 when PATH is in no known project.

    Example: relocate status ~/Documents/myapp
    """
    done(commands.status(**locals()))
