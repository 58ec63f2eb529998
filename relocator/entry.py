"""The ``relocate`` entry point: fast paths first, and the one place errors become exit codes.

``relocate python``, ``relocate hook`` and ``relocate --version`` run on the
standard library alone (editors and every shell start call them); everything
else goes through the typer CLI in :mod:`relocator.cli`.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from relocator.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USER,
    RelocatorError,
    say,
    say_output,
)

FAST = {"python": "relocator.lookup", "hook": "relocator.shells"}


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    # A path that is not UTF-8 is printed as the bytes it is, never a UnicodeEncodeError
    # (stderr is written by errors.say, which escapes what it cannot encode).
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")
    try:
        if args in (["--version"], ["-V"]):
            sys.stdout.write(f"relocate {version()}\n")
            return 0
        if len(args) == 2 and {"--version", "-V"} & set(args) and {"-v", "--verbose"} & set(args):
            from relocator import whereabouts

            sys.stdout.write("".join(f"{line}\n" for line in whereabouts.version_lines()))
            return 0
        if args and args[0] in FAST and not {"-h", "--help"} & set(args):
            import importlib

            fast = importlib.import_module(FAST[args[0]])
            return int(fast.main(args[1:]))
        from relocator import cli

        return cli.run(args)
    except RelocatorError as e:
        output = getattr(e, "output", None)  # what a tool (uv, pip, poetry...) printed as it failed
        log = _write_log(f"{output}\n") if output else None
        say(f"{e} (its whole output: {log})" if log else str(e))
        if output:
            say_output(output)
        return e.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 1
    except OSError as e:  # the machine said no (permissions, space, a vanished folder)
        _write_log()
        say(_describe(e))
        return EXIT_USER
    except Exception as e:  # the last resort: a short line, details in a log
        log = _write_log()
        where = f"; details in {log}" if log else ""
        say(f"internal error: {type(e).__name__}: {e}{where}")
        return EXIT_INTERNAL


def version() -> str:
    """relocator's version: ``relocator.__version__``, the one place it is written (the
    package metadata takes it from there)."""
    import relocator

    return relocator.__version__


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

    from relocator.store import Store

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
