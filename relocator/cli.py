"""The typer CLI: adapts arguments, calls the core, renders what it returns.

With :mod:`relocator.cli_scan` (``scan``, ``excludes``), :mod:`relocator.cli_service`
(the ``service`` commands) and :mod:`relocator.cli_common` (what they share), the only
modules that import typer. Errors are raised, never printed here: :mod:`relocator.entry`
maps them to one line and an exit code. Text comes from :mod:`relocator.render`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Optional

import typer

from relocator import (
    adoption,
    cli_info,
    cli_scan,
    cli_service,
    cli_trash,
    creation,
    ejection,
    entry,
    errors,
    health,
    lookup,
    relocation,
    render,
    resolver,
    shells,
)
from relocator import doctor as doctor_
from relocator import gc as gc_
from relocator.cli_common import JsonOpt, colour, each, echo_json, echo_lines, showing
from relocator.errors import EXIT_INTERRUPTED, RelocatorError, UsageError

app = typer.Typer(
    name="relocate",
    help="Keep Python virtual environments out of cloud-synced folders.\n\n"
    "Each project's venv lives in a local store; the project keeps a .venv symlink "
    "so uv, poetry, pdm, pip and editors still find it.\n\n"
    "Example: relocate adopt ~/Documents/myapp",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PathArg = typer.Argument(
    ".", metavar="PATH", help="A folder in the project (default: the current one)."
)
YesOpt = typer.Option(False, "--yes", "-y", help="Do not ask first (needed without a terminal).")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"relocate {entry.version()}")
        raise typer.Exit(0)


@app.callback()
def _main(
    ctx: typer.Context,
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="Show no progress and no notes (errors still show)."
    ),
    version: bool = typer.Option(
        False,
        "-V",
        "--version",
        is_eager=True,
        callback=_show_version,
        help="Print relocate's version and exit.",
    ),
) -> None:
    errors.quiet = quiet
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(2)


def _show(outcome: relocation.Outcome, as_json: bool) -> None:
    if as_json:
        echo_json(dict(outcome._asdict(), notes=list(outcome.notes)))
    else:
        echo_lines(render.outcome(outcome, notes=not errors.quiet))


PythonOpt = typer.Option(
    None,
    "--python",
    metavar="VERSION|PATH",
    help="Interpreter for a new venv (3.12, or a path); ignored if one exists.",
)
NoInstallOpt = typer.Option(
    False,
    "--no-install",
    help="Leave a venv made again empty instead of installing from the lock file.",
)


@contextlib.contextmanager
def _wanting(python: Optional[str], no_install: bool, as_json: bool) -> Iterator[relocation.Wants]:
    """What the user asked for, with progress on a terminal."""
    with showing(as_json) as progress:
        yield relocation.Wants(python, not no_install, progress)


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

    A real .venv moves to the store; with none, an empty one is made. A .venv that
    leads nowhere (a project synced from another machine, a wiped store) gets a venv
    built from the project's uv.lock, poetry.lock, pdm.lock, Pipfile.lock,
    requirements*.txt or pyproject.toml, with the tool the project uses. A relocated
    project is healed as relocate status names it (a venv a tool made again with another
    Python is rebuilt, console scripts whose Python is gone are mended), marked again for
    backups and sync clients, and reported with the Python its venv runs now.

    With --trees, the caches of mypy, ruff, pytest, tox and nox move too, each
    behind a link like .venv's (one not there yet is linked when the project
    configures its tool or the venv has it installed), and the venv's Python
    writes bytecode to the store at once.

    Example: relocate adopt ~/Documents/myapp --name venv
    """
    if with_trees and no_trees:
        raise UsageError("--trees and --no-trees contradict each other: pass one of them")
    trees_asked = False if no_trees else True if with_trees or node_modules else None
    with _wanting(python, no_install, as_json) as wants:
        outcome = adoption.adopt(
            path, wants=wants._replace(name=name, trees=trees_asked, node_modules=node_modules)
        )
    _show(outcome, as_json)


@app.command(short_help="Make the project's venv again from its lock file.")
def rebuild(
    path: str = PathArg, python: Optional[str] = PythonOpt, as_json: bool = JsonOpt
) -> None:
    """Make the project's venv again from its lock file, at the same store path.

    The old venv goes to the trash (relocate restore puts it back); every path a
    tool recorded (a pre-commit hook, a Jupyter kernel) keeps working.

    What python -m venv --clear .venv, virtualenv --clear, pdm venv remove or
    pipenv --rm would do, for a relocated project (they refuse the link, or break it).

    Example: relocate rebuild --python 3.13
    """
    with _wanting(python, False, as_json) as wants:
        outcome = creation.rebuild(path, wants=wants)
    _show(outcome, as_json)


@app.command(short_help="Find what is wrong with projects and the store; --fix repairs it.")
def doctor(
    path: Optional[str] = typer.Argument(
        None, metavar="[PATH]", help="One project (default: every registered one and the store)."
    ),
    fix: bool = typer.Option(False, "--fix", help="Repair what can be repaired."),
    no_install: bool = NoInstallOpt,
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Show every project and report, not only problems."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Find what is wrong with relocated projects and the store; --fix repairs it.

    Checks each project's link, venv, interpreter (the Python pyvenv.cfg names, reading
    the site-packages where the packages are), console scripts, backup marks, hidden .pth
    files, interrupted work, and store venvs the registry lost or no project links to.
    Prints one line per problem (and what --fix did), then a summary; -v (or a PATH)
    shows each healthy project too, and the trash and the watcher. Exit 0 when all is
    well (or all was fixed), 1 otherwise.

    Example: relocate doctor --fix
    """
    with _wanting(None, no_install, as_json) as wants:
        findings = doctor_.examine(path, fix=fix, wants=wants)
    if as_json:
        echo_json([f.as_dict() for f in findings])
    else:
        shown = render.findings(  # one project asked about: what was found about it
            findings,
            colour(),
            verbose=verbose or errors.verbose or path is not None,
            trash=_trash() if path is None else None,
        )
        echo_lines(shown)
    if not doctor_.healthy(findings):
        raise typer.Exit(1)


def _trash() -> tuple[int, int]:
    """The trash's entries and bytes."""
    from relocator import trash
    from relocator.store import Store

    return trash.size(Store())


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
    if empty_trash and not dry_run:
        from relocator import trash
        from relocator.store import Store

        count, size = trash.size(Store())
        refusal = "gc --empty-trash asks first, and there is no terminal: pass --yes"
        if count and render.must_ask(yes, refusal):
            entries = f"{count} trash entr{'y' if count == 1 else 'ies'}"
            if not render.ask(f"delete {entries} for good, freeing {size / 1e6:.1f} MB?"):
                raise RelocatorError("nothing deleted")
    result = gc_.collect(dry_run=dry_run, force=force, empty_trash=empty_trash)
    echo_json(result) if as_json else echo_lines(render.collected(result, dry_run))


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
    if not all_:
        with showing(as_json):
            outcome = ejection.eject(path)
        _show(outcome, as_json)
        return
    refusal = "eject --all asks first, and there is no terminal: pass --yes to eject every project"
    if render.must_ask(yes, refusal):
        from relocator import removal
        from relocator.store import Store

        count = len(removal.registered(Store()))
        projects = f"{count} relocated project{'s' if count != 1 else ''}"
        if count and not render.ask(
            f"eject all {projects} (each venv goes back into its project)?"
        ):
            raise RelocatorError("nothing ejected")
    with showing(as_json):
        results = ejection.eject_all()
    if as_json:
        echo_json([{"project": p, "ok": o is not None, "error": e or None} for p, o, e in results])
    elif not results:
        typer.echo("no relocated projects: nothing to eject")
    each(results, as_json)


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
    refusal = "uninstall asks first, and there is no terminal: pass --yes to uninstall"
    asking = render.must_ask(yes, refusal)
    from relocator import installs, removal
    from relocator.store import Store

    store, found = Store(), installs.find()
    if asking:
        for line in [*removal.plan(store), *([removal.self_plan(found)] if self_ else [])]:
            typer.echo(line, err=True)
        if not render.ask("do all of the above?"):
            raise RelocatorError("nothing removed")
    with showing(as_json):
        done = removal.uninstall(store)
    if self_:  # last: this process may run from the venv it removes
        done.append(removal.remove_self(found))
        found = [i for i in found if not (i.ours and done[-1].ok)]
    hint, ok = removal.tool_hint(found), all(step.ok for step in done)
    if as_json:
        steps = [step._asdict() for step in done]
        installed = [i.data() for i in found]
        echo_json({"ok": ok, "steps": steps, "tool": hint, "installs": installed})
    else:
        echo_lines([*render.steps(done, colour()), *hint])
    if not ok:
        raise typer.Exit(1)


@app.command(short_help="Print the project's interpreter, for editors.")
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
    args = [path, *(["--resolve"] if resolve else []), *(["--json"] if as_json else [])]
    code = lookup.main(args)
    if code:
        raise typer.Exit(code)


@app.command("list", short_help="List relocated projects: health, Python, size, file count.")
def list_(as_json: bool = JsonOpt) -> None:
    """List registered projects with their health, Python, size and file count, and what
    the trash holds.

    A project that is not ok comes with the command that repairs it; a project whose
    adopt or eject was interrupted shows as interrupted (relocate doctor --fix finishes it).

    Example: relocate list --json
    """
    rows = health.list_all()
    if as_json:
        echo_json(rows)
        return
    lines = render.project_table(rows, colour())
    count, size = _trash()
    echo_lines([*lines, render.trash_line(count, size)] if count else lines)


@app.command(short_help="Show the health of one project, and the command that repairs it.")
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
    row = health.status(path)
    echo_json(row) if as_json else echo_lines(render.project_status(row, colour()))


cli_scan.register(app)  # scan, excludes
cli_trash.register(app)  # trash, restore
cli_info.register(app)  # info


@app.command(short_help="Show PATH's canonical spelling, registry key and sync provider.")
def resolve(
    path: str = typer.Argument(".", metavar="PATH", help="Any path (default: the current folder)."),
    as_json: bool = JsonOpt,
) -> None:
    """Show the canonical spelling, registry key and sync provider of PATH.

    Example: relocate resolve ~/Documents/myapp --json
    """
    found = resolver.resolve(path)
    echo_json(found._asdict()) if as_json else echo_lines(render.resolved(found))


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
    flags = (["--install"] if install else []) + (["--uninstall"] if uninstall else [])
    shells.main([shell, *flags])


app.add_typer(
    cli_service.app,
    name="service",
    short_help="Run or install the watcher that adopts new venvs in sync roots.",
)


@app.command("version", hidden=True)
def version_() -> None:
    """Print the version."""
    typer.echo(f"relocate {entry.version()}")


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
        raise UsageError(f"{e.format_message()} (see {path} --help)") from None
    except click.ClickException as e:
        raise UsageError(e.format_message()) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this code; entry reports it
        raise KeyboardInterrupt
    return code if isinstance(code, int) else 0
