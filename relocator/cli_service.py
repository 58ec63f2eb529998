"""``relocate service run|install|uninstall|status``: the typer commands of the watcher.

Part of the CLI (:mod:`relocator.cli` adds this app as ``service``); the
modules behind each command are imported only when it runs.
"""

from __future__ import annotations

import typer

from relocator import errors, render
from relocator.cli_common import JsonOpt, colour, echo_json, echo_lines

app = typer.Typer(
    help="The background watcher that keeps sync roots clean without being asked.\n\n"
    "Example: relocate service install",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command("run", short_help="Watch in the foreground: adopt new venvs, repair replaced links.")
def service_run(
    interval: float = typer.Option(
        2.0, "--interval", metavar="SECONDS", help="How often to look again (the poll's period)."
    ),
) -> None:
    """Watch in the foreground: adopt new venvs once quiet, repair links tools replaced.

    Ends on SIGTERM or Ctrl-C; logs to the store's logs/service.log, and on a terminal
    shows each line there too (not with -q); only one runs.

    Example: relocate service run --interval 5
    """
    import sys

    from relocator import service

    shown = sys.stderr.isatty() and not errors.quiet
    raise typer.Exit(service.run(interval=interval, echo=sys.stderr if shown else None))


@app.command("install", short_help="Start the watcher at login (launchd agent or systemd unit).")
def service_install(as_json: bool = JsonOpt) -> None:
    """Start the watcher at login: a launchd agent (macOS) or a systemd user unit (Linux).

    Example: relocate service install
    """
    from relocator import units

    result = units.install()
    if as_json:
        echo_json(result)
        return
    typer.echo(result["message"])


@app.command("uninstall", short_help="Stop the watcher and remove what service install wrote.")
def service_uninstall(as_json: bool = JsonOpt) -> None:
    """Stop the watcher and remove what service install wrote (nothing else).

    Example: relocate service uninstall
    """
    from relocator import units

    result = units.uninstall()
    if as_json:
        echo_json(result)
        return
    for path in result["removed"]:
        typer.echo(f"removed {path}")
    if not result["removed"]:
        typer.echo("no service was installed")
    for note in [] if errors.quiet else result["notes"]:
        typer.echo(f"  note: {note}")


@app.command("status", short_help="Whether the watcher runs, and the CPU the sync daemons use.")
def service_status(as_json: bool = JsonOpt) -> None:
    """Whether the watcher runs, what it did, and the CPU the sync daemons use.

    Example: relocate service status
    """
    from relocator import watcher

    result = watcher.status()
    if as_json:
        echo_json(result)
        return
    echo_lines(render.service_status(result, colour()))
