"""The typer CLI: adapts arguments, calls the core, renders what it returns.

With :mod:`relocator.cli.cli_scan` (``scan``, ``excludes``), :mod:`relocator.cli.cli_service`
(the ``service`` commands) and :mod:`relocator.cli.cli_common` (what they share), the only
modules that import typer. Errors are raised, never printed here: :mod:`relocator.cli.entry`
maps them to one line and an exit code. Text comes from :mod:`relocator.cli.render`.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from relocator.cli import cli_info, cli_scan, cli_service, cli_status, cli_trash, commands
from relocator.cli.cli_common import JsonOpt, PathArg, done
from relocator.errors import EXIT_INTERRUPTED, UsageError

app = typer.Typer(
    name="relocate",
    help="Keep Python virtual environments out of cloud-synced folders.\n\n"
    "Each project's venv lives in a local store; the project keeps a .venv symlink "
    "so uv, poetry, pdm, pip and editors still find it.\n\n"
    "The options below go before or after the command (relocate eject -q).\n\n"
    "Example: relocate adopt ~/Documents/myapp",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

YesOpt = typer.Option(False, "--yes", "-y", help="Do not ask first (needed without a terminal).")


@app.callback()
def _main(
    ctx: typer.Context,
    *,
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="Show no progress and no notes (errors still show)."
    ),
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Say more: what was checked, a crash's traceback."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON instead of text (commands that report), errors too."
    ),
    color: str = typer.Option(
        "auto",
        "--color",
        metavar="auto|always|never",
        help="Colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.",
    ),
    version: bool = typer.Option(
        False, "-V", "--version", help="Print relocate's version and exit."
    ),
) -> None:
    """Global options go before or after the command (relocate eject -q); relocator.cli.entry
    takes them out of the command line before this runs, so they only show here."""
    if version:
        done(commands.version())
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(2)


PythonOpt = typer.Option(
    None,
    "--python",
    metavar="VERSION|PATH",
    help="Interpreter for a new venv (3.12, or a path); ignored if one exists.",
)
NoInstallOpt = typer.Option(
    False,
    "--no-install",
    help="Leave a venv relocate makes empty: install nothing from the project's lock file "
    "or requirements.",
)


@app.command(short_help="Move the project's venv into the store, or repair its link.")
def adopt(
    path: str = PathArg,
    *,
    python: Optional[str] = PythonOpt,
    no_install: bool = NoInstallOpt,
    name: str = typer.Option(
        ".venv",
        "--name",
        metavar="NAME",
        help="The venv folder to adopt when it is not .venv (venv, env); NAME stays, "
        "as a link to .venv.",
    ),
    with_trees: bool = typer.Option(
        False,
        "--trees",
        help="Also relocate .mypy_cache, .nox, .pytest_cache, .ruff_cache and .tox, and "
        "keep bytecode out of the project. [default: the project's or config's setting]",
    ),
    no_trees: bool = typer.Option(
        False, "--no-trees", help="Relocate no tree this time, whatever the settings say."
    ),
    node_modules: bool = typer.Option(
        False, "--node-modules", help="Relocate node_modules too (implies --trees)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Relocate the project's venv into the store; repair whatever state it is in.

    A real .venv moves to the store. With none, or one that leads nowhere (a project
    synced from another machine, a wiped store), a venv is made in the store and the
    project's packages are installed from its uv.lock, poetry.lock, pdm.lock,
    Pipfile.lock, requirements*.txt or pyproject.toml with the tool the project uses,
    as uv sync would (--no-install leaves it empty). A relocated
    project is healed as relocate status names it (a venv a tool made again with another
    Python is rebuilt, console scripts whose Python is gone are mended), marked again for
    backups and sync clients, and reported with the Python its venv runs now.

    With --trees, the caches of mypy, ruff, pytest, tox and nox move too, each
    behind a link like .venv's (one not there yet is linked when the project
    configures its tool or the venv has it installed), and the venv's Python
    writes bytecode to the store at once.

    Example: relocate adopt ~/Documents/myapp --name venv
    """
    done(commands.adopt(**locals()))


@app.command(short_help="Make the project's venv again from its lock file.")
def rebuild(
    path: str = PathArg,
    python: Optional[str] = typer.Option(
        None,
        "--python",
        metavar="VERSION|PATH",
        help="Interpreter of the new venv (3.12, or a path) [default: the one the project's "
        ".python-version or requires-python asks for, else the default python3].",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Make the project's venv again from its lock file, at the same store path.

    The old venv goes to the trash (relocate restore puts it back); every path a
    tool recorded (a pre-commit hook, a Jupyter kernel) keeps working.

    What python -m venv --clear .venv, virtualenv --clear, pdm venv remove or
    pipenv --rm would do, for a relocated project (they refuse the link, or break it).

    Example: relocate rebuild --python 3.13
    """
    done(commands.rebuild(**locals()))


@app.command(short_help="Check that the lock file gives back the venv you work with.")
def verify(
    path: str = PathArg,
    run: Optional[str] = typer.Option(
        None,
        "--run",
        metavar="CMD",
        help="A shell command to run in the new venv from the project's folder "
        '(e.g. "pytest -q") [default: import each module the recipe installs].',
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Build a scratch venv from the project's lock file and compare it with the live one.

    The recipe (uv.lock, poetry.lock, pdm.lock, Pipfile.lock, requirements*.txt or
    pyproject.toml) is installed with the tool the project uses, as a rebuild or a
    second machine would, with the live venv's Python minor, into a scratch venv in
    the store. Then it says what the live venv has that the recipe does not give
    (installed by hand: a rebuild would lose it), what the recipe gives that the live
    venv lacks, and which versions differ; and it imports each module the recipe
    installs, or with --run runs CMD in the scratch venv (activated; uv run, poetry run
    and pdm run use it too) from the project's folder. The live venv, the project's
    files and the registry are not changed; the scratch venv is removed at the end
    (after a kill, by relocate gc).
    Exit 0 when the recipe gives back the live venv and the imports (or CMD) pass,
    1 otherwise.

    Example: relocate verify --run "pytest -q"
    """
    done(commands.verify(**locals()))


@app.command(short_help="Find what is wrong with projects and the store; --fix repairs it.")
def doctor(
    path: Optional[str] = typer.Argument(
        None, metavar="[PATH]", help="One project (default: every registered one and the store)."
    ),
    fix: bool = typer.Option(False, "--fix", help="Repair what can be repaired."),
    no_install: bool = NoInstallOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Find what is wrong with relocated projects and the store; --fix repairs it.

    Checks each project's link, venv, interpreter (the Python pyvenv.cfg names, reading
    the site-packages where the packages are), console scripts, backup marks, hidden .pth
    files, interrupted work, and store venvs the registry lost or no project links to.
    Prints one line per problem or note (and what --fix did), then a summary; -v (or a
    PATH) shows each healthy project too, and the trash and the watcher. Exit 0 when all
    is well (or all was fixed) but for notes (packages installed by hand, which the
    recipe lacks), 1 otherwise.

    Example: relocate doctor --fix
    """
    done(commands.doctor(**locals()))


@app.command(short_help="Move venvs whose project is gone to the trash; empty old trash.")
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; change nothing."),
    force: bool = typer.Option(False, "--force", help="Retire venvs a running process uses too."),
    empty_trash: bool = typer.Option(
        False, "--empty-trash", help="Delete everything in the trash, not only old entries."
    ),
    yes: bool = YesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Move store venvs whose project is gone (or no longer links to them) to the trash,
    and delete trash entries past their age.

    A project counts as gone only when relocate can show that the volume it was on is
    here and the project is not: an unmounted volume or a missing sync root never makes
    it gone. A venv a running process uses is kept unless --force. What goes to the
    trash stays restorable (relocate restore) for 14 days; --empty-trash deletes all of
    it (asking first on a terminal).

    Example: relocate gc --dry-run
    """
    done(commands.gc(**locals()))


@app.command(short_help="Put the venv back into the project as a real folder.")
def eject(
    path: str = PathArg,
    all_: bool = typer.Option(
        False, "--all", help="Eject every registered project (asks first on a terminal)."
    ),
    yes: bool = YesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Put the venv back into the project as a real .venv folder (undoes adopt).

    A project adopted with --name NAME gets its venv back as the folder NAME. With
    --all, every registered project does; on a terminal it asks first (--yes does
    not), and without one it needs --yes.

    Example: relocate eject ~/Documents/myapp
    """
    done(commands.eject(**locals()))


@app.command(short_help="Undo what relocate set up on this machine; say how to remove it.")
def uninstall(
    yes: bool = YesOpt,
    self_: bool = typer.Option(
        False,
        "--self",
        help="Also remove relocate itself when scripts/install installed it (its venv "
        "and its ~/.local/bin link), last.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Undo what relocate set up on this machine, then say how to remove relocate itself.

    On a terminal it shows what it will do and asks first (--yes does not); without
    one it needs --yes. Each step is reported as ok or failed, with what it did or
    why it failed. It ends with every copy of relocate found (scripts/install, uv tool,
    pipx, another venv) and the command that removes each; --self removes the copy
    scripts/install made. Exit 1 when a step failed.

    Example: relocate uninstall --yes --self
    """
    done(commands.uninstall(**locals()))


cli_status.register(app)  # python, list, status
cli_scan.register(app)  # scan, excludes
cli_trash.register(app)  # trash, restore
cli_info.register(app)  # info


@app.command(short_help="Show PATH's canonical spelling, registry key and sync provider.")
def resolve(
    path: str = typer.Argument(".", metavar="PATH", help="Any path (default: the current folder)."),
    as_json: bool = JsonOpt,
) -> None:
    """Show the canonical spelling, registry key and sync provider of PATH.

    A PATH that does not exist is still spelled as relocate would write it (--json:
    "exists": false), then said not to exist, with exit 1 (as realpath -e fails).

    Example: relocate resolve ~/Documents/myapp --json
    """
    done(commands.resolve(**locals()))


@app.command(short_help="Print the shell hook that activates a project's venv on cd.")
def hook(
    shell: str = typer.Argument(..., metavar="SHELL", help="bash, zsh or fish."),
    install: bool = typer.Option(False, "--install", help="Add the loading line to the rc file."),
    uninstall: bool = typer.Option(False, "--uninstall", help="Remove that line again."),
) -> None:
    """Print the hook that activates a relocated project's venv on cd.

    Load it with eval "$(relocate hook zsh)" (fish: relocate hook fish | source), or let
    --install add one marked line to ~/.bashrc (and a login profile that skips it),
    ${ZDOTDIR:-~}/.zshrc, or fish's conf.d/relocator.fish. The line does nothing once
    relocate is uninstalled; --uninstall removes it. Completion comes with the hook.

    Example: relocate hook zsh --install
    """
    done(commands.hook(**locals()))


app.add_typer(
    cli_service.app,
    name="service",
    short_help="Run or install the watcher that adopts new venvs in sync roots.",
)


@app.command(short_help="Print the shell completion script (the hook loads it too).")
def completion(
    shell: str = typer.Argument(..., metavar="SHELL", help="bash, zsh or fish."),
) -> None:
    """Print the completion script of relocate's commands and options for SHELL.

    The hook (relocate hook) loads it already; without the hook, load it in the rc file
    with eval "$(relocate completion bash)" (zsh alike; fish: relocate completion fish |
    source).

    Example: relocate completion zsh > ~/.zfunc/_relocate
    """
    done(commands.completion(**locals()))


@app.command("version", hidden=True)
def version_() -> None:
    """Print the version."""
    done(commands.version())


GLOBAL_HELP = (
    "Global options, before or after the command: -q/--quiet, -v/--verbose, "
    "--color auto|always|never (relocate --help)."
)
for _info in [*app.registered_commands, *cli_service.app.registered_commands]:
    _info.epilog = _info.epilog or GLOBAL_HELP


def _click_exceptions() -> Any:
    """The click exception classes typer raises (typer vendors click since 0.2x)."""
    try:
        from typer._click import exceptions  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        from click import exceptions  # type: ignore[no-redef,import-not-found,unused-ignore]
    return exceptions


def run(args: list[str]) -> int:
    """Run the CLI on ``args``; usage errors become :class:`UsageError`."""
    click = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="relocate", standalone_mode=False)
    except click.UsageError as e:
        path = e.ctx.command_path if e.ctx else "relocate"
        raise UsageError(
            f"{e.format_message()} (see {path} --help)", hint=f"{path} --help"
        ) from None
    except click.ClickException as e:
        raise UsageError(e.format_message()) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this code; entry reports it
        raise KeyboardInterrupt
    return code if isinstance(code, int) else 0
