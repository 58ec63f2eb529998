"""``relocate service run|install|uninstall|status``: the typer commands of the watcher.

Part of the CLI (:mod:`relocator.cli.cli` adds this app as ``service``); the
modules behind each command are imported only when it runs.
"""

from __future__ import annotations

import typer

from relocator.cli import servicecommands
from relocator.cli.cli_common import JsonOpt, done

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
    unit: bool = typer.Option(
        False,
        "--unit",
        hidden=True,
        help="Started by the login unit: another watcher already running is no failure.",
    ),
) -> None:
    """Watch in the foreground: adopt new venvs once quiet, repair links tools replaced.

    Ends on SIGTERM or Ctrl-C; logs to the store's logs/service.log, and on a terminal
    shows each line there too (not with -q); only one runs.

    Example: relocate service run --interval 5
    """
    done(servicecommands.service_run(**locals()))


@app.command("install", short_help="Start the watcher at login (launchd agent or systemd unit).")
def service_install(as_json: bool = JsonOpt) -> None:
    """Start the watcher at login: a launchd agent (macOS) or a systemd user unit (Linux).

    Example: relocate service install
    """
    done(servicecommands.service_install(**locals()))


@app.command("uninstall", short_help="Stop the watcher and remove what service install wrote.")
def service_uninstall(as_json: bool = JsonOpt) -> None:
    """Stop the watcher and remove what service install wrote (nothing else).

    Example: relocate service uninstall
    """
    done(servicecommands.service_uninstall(**locals()))


@app.command("status", short_help="Whether the watcher runs, and the CPU the sync daemons use.")
def service_status(as_json: bool = JsonOpt) -> None:
    """Whether the watcher runs, what it did, and the CPU the sync daemons use.

    Example: relocate service status
    """
    done(servicecommands.service_status(**locals()))
