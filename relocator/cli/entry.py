"""The ``relocate`` entry point: the global options, the fast path, and the one place errors
become exit codes (and, under ``--json``, a JSON object on stdout).

The global options (``-q``, ``-v``, ``--json``, ``--color``) are taken from anywhere on
the command line (:func:`relocator.cli.cmdline.split`). A command line the table in
:mod:`relocator.cli.cmdline` fully understands runs its :mod:`relocator.cli.commands` function
(:func:`function`) straight away, on the standard library and the core modules that command
needs; anything else (``--help``, an unknown option, a bad value) goes through the typer CLI
in :mod:`relocator.cli.cli`, which runs the same functions or says what is wrong.
"""

from __future__ import annotations

import gc
import os
import sys

from relocator import errors
from relocator.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USER,
    RelocatorError,
    UsageError,
    say,
    say_output,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


#: The commands whose function's name is not the command's (a clash with a builtin).
_NAMES = {"list": "list_", "trash": "trash_"}


def function(command: str) -> Any:
    """The function that runs ``command`` (as typed after ``relocate``): in
    :mod:`relocator.cli.servicecommands` for a ``service`` command, else in
    :mod:`relocator.cli.commands`; each imported only here, when it is asked for."""
    name = _NAMES.get(command, command.replace(" ", "_"))
    if command.startswith("service "):
        from relocator.cli import servicecommands

        return getattr(servicecommands, name)
    from relocator.cli import commands

    return getattr(commands, name)


def main(argv: Optional[list[str]] = None) -> int:
    # The modules a command loads are tens of thousands of objects that live as long as it
    # does: the cyclic collector, run every few hundred allocations, would walk them again
    # and again for nothing (a tenth of what a command with nothing to do may take). A
    # command ends soon and leaves little cyclic garbage; `service run`, which does not end,
    # turns it on again (servicecommands.service_run).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    finally:
        if collecting:
            gc.enable()


def _main(args: list[str]) -> int:
    # A path that is not UTF-8 is printed as the bytes it is, never a UnicodeEncodeError
    # (stderr is written by errors.say, which escapes what it cannot encode).
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")
    as_json = False
    try:
        from relocator.cli import cmdline

        found, command, rest = cmdline.split(args)
        as_json = found.json and cmdline.takes_json(command)
        if found.problem:
            raise UsageError(found.problem)
        errors.quiet, errors.verbose = found.quiet, found.verbose
        errors.colour = {"always": True, "never": False}.get(found.color)
        if rest in (["--version"], ["-V"]):
            if errors.verbose:  # where it is installed, and the store it uses
                from relocator.commands import whereabouts

                lines = whereabouts.version_lines()
            else:
                import relocator

                lines = [f"relocate {relocator.__version__}"]
            sys.stdout.write("".join(f"{line}\n" for line in lines))
            return 0
        # the service's commands take numbers, and run for long: typer parses them
        values = cmdline.parse(command, rest) if command and " " not in command else None
        if command is not None and values is not None:
            return int(function(command)(**values))
        from relocator.cli import cli

        return cli.run(rest)
    except RelocatorError as e:
        output = getattr(e, "output", None)  # what a tool (uv, pip, poetry...) printed as it failed
        log = _write_log(f"{output}\n") if output else None
        message = f"{e} (its whole output: {log})" if log else str(e)
        _fail(message, as_json, e.hint)
        if output:
            say_output(output)
        return e.exit_code
    except KeyboardInterrupt:
        _fail("interrupted", as_json)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 1
    except OSError as e:  # the machine said no (permissions, space, a vanished folder)
        _write_log()
        _fail(_describe(e), as_json)
        return EXIT_USER
    except Exception as e:  # the last resort: a short line, details in a log
        log = _write_log()
        where = f"; details in {log}" if log else ""
        if errors.verbose:
            import traceback

            traceback.print_exc()
        _fail(f"internal error: {type(e).__name__}: {e}{where}", as_json)
        return EXIT_INTERNAL


def _fail(message: str, as_json: bool, hint: Optional[str] = None) -> None:
    """Say ``message`` on stderr; under ``--json``, print it on stdout as a JSON object too."""
    say(message)
    if as_json:
        import json

        data = {"error": message, **({"hint": hint} if hint else {})}
        try:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def _describe(e: OSError) -> str:
    try:
        os.getcwd()
    except FileNotFoundError:
        return "the current folder no longer exists; cd to an existing folder and run again"
    where = f": {e.filename}" if e.filename else ""
    return f"{e.strerror or type(e).__name__}{where}"


def _write_log(text: Optional[str] = None) -> Optional[str]:
    """Write ``text`` (else the traceback) into the store's logs (only a store that is
    there and ours)."""
    import traceback

    from relocator.state.store import Store

    try:
        store = Store()
        if not os.path.isfile(os.path.join(store.root, "README")):
            return None
        os.makedirs(store.logs, exist_ok=True)
        path = store.log_path()
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"relocate {' '.join(sys.argv[1:])}\n{text or traceback.format_exc()}\n")
    except (OSError, RelocatorError):
        return None
    return path
