"""The command line's shape: every command, its arguments and options, and the global options.

Standard library only, and cheap to import: :mod:`relocator.cli.entry` parses the common
forms with it and calls :mod:`relocator.cli.commands` directly, without loading typer;
whatever it does not fully understand (``--help``, an unknown option, a value that
looks like an option) goes to the typer app in :mod:`relocator.cli.cli`, which prints
the proper usage error. The shell completion (:mod:`relocator.cli.completion`) is made
from it too. tests/test_cli.py checks that this table and the typer app agree on
every command, argument and option (flags, whether it takes a value, default).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    #: An argument: (name, how many: "?" one or none, "1" exactly one, "*" any, default).
    Arg = tuple[str, str, Any]
    #: An option: (name, its flags, whether it takes a value, default).
    Opt = tuple[str, tuple[str, ...], bool, Any]

PATH: Arg = ("path", "?", ".")
JSON: Opt = ("as_json", ("--json",), False, False)
YES: Opt = ("yes", ("--yes", "-y"), False, False)
PYTHON: Opt = ("python", ("--python",), True, None)
NO_INSTALL: Opt = ("no_install", ("--no-install",), False, False)
SHELL: Arg = ("shell", "1", None)


def _flag(name: str, flag: str) -> Opt:
    return (name, (flag,), False, False)


#: Every command as typed after ``relocate`` -> (its arguments, its options).
COMMANDS: dict[str, tuple[tuple[Arg, ...], tuple[Opt, ...]]] = {
    "adopt": (
        (PATH,),
        (
            PYTHON,
            NO_INSTALL,
            ("name", ("--name",), True, ".venv"),
            _flag("with_trees", "--trees"),
            _flag("no_trees", "--no-trees"),
            _flag("node_modules", "--node-modules"),
            JSON,
        ),
    ),
    "rebuild": ((PATH,), (PYTHON, JSON)),
    "verify": ((PATH,), (("run", ("--run",), True, None), JSON)),
    "doctor": ((("path", "?", None),), (_flag("fix", "--fix"), NO_INSTALL, JSON)),
    "gc": (
        (),
        (
            _flag("dry_run", "--dry-run"),
            _flag("force", "--force"),
            _flag("empty_trash", "--empty-trash"),
            YES,
            JSON,
        ),
    ),
    "eject": ((PATH,), (_flag("all_", "--all"), YES, JSON)),
    "uninstall": ((), (YES, _flag("self_", "--self"), JSON)),
    "python": ((PATH,), (_flag("resolve", "--resolve"), JSON)),
    "list": ((), (JSON,)),
    "status": ((PATH,), (JSON,)),
    "scan": (
        (("roots", "*", None),),
        (_flag("adopt_", "--adopt"), _flag("remove_bytecode", "--remove-bytecode"), JSON),
    ),
    "excludes": ((), (("fmt", ("--format",), True, "rsync"),)),
    "trash": ((), (JSON,)),
    "restore": ((PATH,), (("entry_id", ("--id",), True, None), JSON)),
    "resolve": ((PATH,), (JSON,)),
    "hook": ((SHELL,), (_flag("install", "--install"), _flag("uninstall", "--uninstall"))),
    "completion": ((SHELL,), ()),
    "info": ((), (JSON,)),
    "service run": ((), (("interval", ("--interval",), True, 2.0), _flag("unit", "--unit"))),
    "service install": ((), (JSON,)),
    "service uninstall": ((), (JSON,)),
    "service status": ((), (JSON,)),
    "version": ((), ()),
}
GROUPS = ("service",)  # a word that is not a command but the first of one
HIDDEN = ("version",)

#: The global options: typed before or after the command; cli/entry.py takes them out.
QUIET, VERBOSE, COLOR = ("-q", "--quiet"), ("-v", "--verbose"), "--color"
COLORS = ("auto", "always", "never")
SHELLS = ("bash", "zsh", "fish")
FORMATS = ("rsync", "tar", "restic", "borg", "gitignore")  # excludes --format


class Globals:
    """The global options found on a command line."""

    __slots__ = ("color", "json", "problem", "quiet", "verbose")

    def __init__(self) -> None:
        self.quiet = self.verbose = self.json = False
        self.color = "auto"
        self.problem = ""  # a usage error, said once the command is known


def takes_json(command: Optional[str]) -> bool:
    return command is not None and JSON in COMMANDS[command][1]


def split(args: list[str]) -> tuple[Globals, Optional[str], list[str]]:
    """The global options anywhere before ``--`` (never an option's value), the command
    (None when there is none or it is unknown), and the rest, the command's words first.

    ``--json`` goes back after the command when the command takes it. A command that
    does not, a bad ``--color`` or ``-q`` with ``-v`` is a usage error, left in
    ``problem`` (the caller raises it, knowing whether to report it as JSON).
    """
    found, rest, command = Globals(), [], None
    values: set[str] = set()  # the command's flags that take a value
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            rest += args[i - 1 :]
            break
        if word in QUIET:
            found.quiet = True
        elif word in VERBOSE:
            found.verbose = True
        elif word == "--json":
            found.json = True
        elif word == COLOR or word.startswith(COLOR + "="):
            value = word.partition("=")[2] if "=" in word else args[i] if i < len(args) else ""
            i += "=" not in word
            if value in COLORS:
                found.color = value
            else:
                found.problem = f"--color {value!r}: give one of auto, always, never"
        else:
            rest.append(word)
            if word in values and i < len(args):
                rest.append(args[i])
                i += 1
            elif not word.startswith("-") and (command is None or command in GROUPS):
                typed = f"{command} {word}" if command else word
                if typed in COMMANDS or (command is None and typed in GROUPS):
                    command = typed
                    if typed in COMMANDS:
                        values = {f for o in COMMANDS[typed][1] if o[2] for f in o[1]}
                elif command is None:
                    command = ""  # an unknown command: typer says so
    if found.quiet and found.verbose:
        found.problem = "-q/--quiet and -v/--verbose contradict each other: pass one of them"
    command = command if command in COMMANDS else None
    if found.json and not takes_json(command):
        what = f"relocate {command}" if command else "this command"
        found.problem = found.problem or f"--json: {what} prints no JSON"
    elif found.json:
        at = rest.index("--") if "--" in rest else len(rest)
        rest.insert(at, "--json")
    return found, command, rest


def parse(command: str, rest: list[str]) -> Optional[dict[str, Any]]:
    """The values of ``command``'s arguments and options in ``rest`` (its words and
    what follows), defaults filled in; None for anything this parser does not fully
    understand (help, an unknown option, a missing value, a surplus argument)."""
    arguments, options = COMMANDS[command]
    flags = {flag: opt for opt in options for flag in opt[1]}
    values: dict[str, Any] = {opt[0]: opt[3] for opt in options}
    positional: list[str] = []
    words = rest[len(command.split()) :]
    i, dashes = 0, False
    while i < len(words):
        word = words[i]
        i += 1
        if dashes or word == "-" or not word.startswith("-"):
            positional.append(word)
        elif word == "--":
            dashes = True
        else:
            name, eq, value = word.partition("=")
            opt = flags.get(name if name.startswith("--") else word)
            if opt is None or (eq and not opt[2]):
                return None
            if opt[2] and not eq:
                if i >= len(words) or words[i].startswith("-"):
                    return None
                value, i = words[i], i + 1
            values[opt[0]] = value if opt[2] else True
    for name, count, default in arguments:
        if count == "*":
            values[name], positional = positional or default, []
        elif positional:
            values[name] = positional.pop(0)
        elif count == "1":
            return None
        else:
            values[name] = default
    return None if positional else values
