"""What the typer command modules share: the ``--json`` option and how results are printed.

Used by :mod:`relocator.cli`, :mod:`relocator.cli_scan` and :mod:`relocator.cli_service`;
like them, part of the CLI (it imports typer).
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Optional

import typer

from relocator import errors, relocation, render
from relocator.errors import say

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def colour() -> bool:
    return errors.coloured(sys.stdout)


def showing(as_json: bool) -> contextlib.AbstractContextManager[Optional[render.Progress]]:
    """Progress on stderr while the block runs: on a terminal, without --json or -q."""
    return render.showing(sys.stderr.isatty() and not as_json and not errors.quiet)


Results = list[tuple[str, Optional[relocation.Outcome], str]]


def each(results: Results, as_json: bool) -> None:
    """What each of several adopts or ejects did (failures on stderr): exit 1 if one failed."""
    if not tell_each(results, as_json):
        raise typer.Exit(1)


def tell_each(results: Results, as_json: bool) -> bool:
    """What each of several adopts or ejects did (failures on stderr); whether all did."""
    for path, done, error in results:
        if done is None:
            say(f"{path}: {error}")
        elif not as_json:
            echo_lines(render.outcome(done, notes=not errors.quiet))
    return all(done is not None for _, done, _ in results)
