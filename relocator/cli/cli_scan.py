"""``relocate scan`` and ``relocate excludes``: the typer commands about what costs sync.

Part of the CLI: :mod:`relocator.cli.cli` calls :func:`register` to add them to its top-level
app, between ``status`` and ``resolve`` (this module never imports :mod:`relocator.cli.cli`).
"""

from __future__ import annotations

from typing import Optional

import typer

from relocator.cli import commands
from relocator.cli.cli_common import JsonOpt, done

RootsArg = typer.Argument(
    None, metavar="[ROOT]...", help="Folders to scan (default: the sync roots in your home)."
)


def register(app: typer.Typer) -> None:
    """Add ``scan`` then ``excludes`` to ``app``, in that order."""
    app.command(short_help="Find venvs and other trees that cost sync, by file count.")(scan)
    app.command(short_help="Print exclude rules for rsync, tar, restic, borg or .gitignore.")(
        excludes
    )


def scan(
    roots: Optional[list[str]] = RootsArg,
    adopt_: bool = typer.Option(False, "--adopt", help="Adopt every .venv found not relocated."),
    remove_bytecode: bool = typer.Option(
        False,
        "--remove-bytecode",
        help="Delete the __pycache__ folders found that hold nothing but .pyc files.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Find what costs sync: venvs and other rebuildable trees, by file count.

    Looks for venvs (pyvenv.cfg), node_modules, __pycache__, .tox, .nox, .mypy_cache,
    .ruff_cache, .pytest_cache, build, dist and *.egg-info, never following a symlink.
    A relocated venv counts only the link entries left in the synced folder.

    Example: relocate scan ~/Documents --adopt
    """
    done(commands.scan(**locals()))


def excludes(
    fmt: str = typer.Option(
        "rsync", "--format", metavar="rsync|tar|restic|borg|gitignore", help="The rules' syntax."
    ),
) -> None:
    """Print exclude rules for the rebuildable trees still in projects.

    __pycache__, .mypy_cache, .pytest_cache, .ruff_cache, .tox, .nox, node_modules
    and *.egg-info (the trees relocate scan reports by name) where they are folders in
    a project, not yet moved by adopt --trees, and the machine-local .venv.nosync,
    .mypy_cache.nosync... folders of the links. Hand them to rsync --exclude-from,
    tar -X, restic backup --exclude-file or borg create --exclude-from, or add them to
    .gitignore.

    Example: relocate excludes > ~/.rsync-excludes; rsync -a --exclude-from ~/.rsync-excludes
    """
    done(commands.excludes(**locals()))
