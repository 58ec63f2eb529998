"""What the ``service`` commands do once their arguments are parsed (``relocate service
run|install|uninstall|status``): the watcher in the foreground, its unit, its status.

As in :mod:`relocator.cli.commands`: one plain function per command (``_`` for the space),
returning the exit code, importing the core modules it needs when it runs. The typer
commands of :mod:`relocator.cli.cli_service` call them.
"""

from __future__ import annotations

import sys

from relocator import errors
from relocator.cli.commands import colour, echo_json, echo_lines


def service_run(*, interval: float, unit: bool = False) -> int:
    import gc

    from relocator.commands import service

    gc.enable()  # it runs for days: entry.main turned the collector off for a command's start

    shown = sys.stderr.isatty() and not errors.quiet  # on a terminal: what the log says
    return service.run(interval=interval, echo=sys.stderr if shown else None, unit=unit)


def service_install(*, as_json: bool) -> int:
    from relocator.host import units

    result = units.install()
    echo_json(result) if as_json else echo_lines([result["message"]])
    return 0


def service_uninstall(*, as_json: bool) -> int:
    from relocator.host import units

    result = units.uninstall()
    if as_json:
        echo_json(result)
        return 0
    echo_lines([f"removed {path}" for path in result["removed"]])
    if not result["removed"]:
        echo_lines(["no service was installed"])
    echo_lines([] if errors.quiet else [f"  note: {note}" for note in result["notes"]])
    return 0


def service_status(*, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.commands import watcher

    result = watcher.status()
    echo_json(result) if as_json else echo_lines(render.service_status(result, colour()))
    return 0
