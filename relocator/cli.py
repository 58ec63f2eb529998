"""The typer CLI: adapts arguments, calls the core, renders what it returns.

The only module that imports typer. Errors are raised, never printed here:
:mod:`relocator.entry` maps them to one line and an exit code.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any, Optional

import typer

from relocator import (
    __version__,
    adoption,
    creation,
    ejection,
    health,
    lookup,
    relocation,
    render,
    resolver,
    shells,
)
from relocator import doctor as doctor_
from relocator import gc as gc_
from relocator import scan as scan_
from relocator.errors import EXIT_INTERRUPTED, UsageError, say

app = typer.Typer(
    name="relocate",
    help="Keep Python virtual environments out of cloud-synced folders.\n\n"
    "Each project's venv lives in a local store; the project keeps a .venv symlink "
    "so uv, poetry, pdm, pip and editors still find it.",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PathArg = typer.Argument(
    ".", metavar="PATH", help="A folder in the project (default: the current one)."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")


@app.callback()
def _main(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(2)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def _lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _outcome_json(outcome: relocation.Outcome) -> dict[str, Any]:
    return dict(outcome._asdict(), notes=list(outcome.notes))


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
    """What the user asked for, with progress on a terminal (cleared when done)."""
    progress = render.Progress() if sys.stderr.isatty() and not as_json else None
    try:
        yield relocation.Wants(python, not no_install, progress)
    finally:
        if progress is not None:
            progress.close()


@app.command()
def adopt(
    path: str = PathArg,
    python: Optional[str] = PythonOpt,
    no_install: bool = NoInstallOpt,
    name: str = typer.Option(
        ".venv",
        "--name",
        metavar="NAME",
        help="The venv folder to adopt when it is not .venv (venv, env); NAME stays, "
        "as a link to .venv.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Relocate the project's venv into the store; repair whatever state it is in.

    A real .venv moves to the store; with none, an empty one is made. A .venv that
    leads nowhere (a project synced from another machine, a wiped store) gets a venv
    built from the project's uv.lock, poetry.lock, pdm.lock, Pipfile.lock,
    requirements*.txt or pyproject.toml, with the tool the project uses.

    Example: relocate adopt ~/Documents/myapp --name venv
    """
    with _wanting(python, no_install, as_json) as wants:
        outcome = adoption.adopt(path, wants=wants._replace(name=name))
    _echo_json(_outcome_json(outcome)) if as_json else _lines(render.outcome(outcome))


@app.command()
def rebuild(
    path: str = PathArg, python: Optional[str] = PythonOpt, as_json: bool = JsonOpt
) -> None:
    """Make the project's venv again from its lock file, then drop the old one.

    What python -m venv --clear .venv, virtualenv --clear, pdm venv remove or
    pipenv --rm would do, for a relocated project (they refuse the link, or break it).

    Example: relocate rebuild --python 3.13
    """
    with _wanting(python, False, as_json) as wants:
        outcome = creation.rebuild(path, wants=wants)
    _echo_json(_outcome_json(outcome)) if as_json else _lines(render.outcome(outcome))


@app.command()
def doctor(
    path: Optional[str] = typer.Argument(
        None, metavar="[PATH]", help="One project (default: every registered one and the store)."
    ),
    fix: bool = typer.Option(False, "--fix", help="Repair what can be repaired."),
    no_install: bool = NoInstallOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Find what is wrong with relocated projects and the store; --fix repairs it.

    Checks each project's link, venv and interpreter, hidden .pth files, the backup
    marks, interrupted work, and store venvs the registry lost or no project links to.
    Exit 0 when all is well (or all was fixed), 1 otherwise.

    Example: relocate doctor --fix
    """
    with _wanting(None, no_install, as_json) as wants:
        findings = doctor_.examine(path, fix=fix, wants=wants)
    if as_json:
        _echo_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            where = f.project or "store"
            typer.echo(f"{f.status:<20} {f.check:<12} {where}\n{'':<33} {f.message}")
        if not findings:
            typer.echo("nothing relocated yet (relocate adopt PATH relocates a project)")
    if not doctor_.healthy(findings):
        raise typer.Exit(1)


@app.command()
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; remove nothing."),
    force: bool = typer.Option(False, "--force", help="Remove venvs a running process uses too."),
    as_json: bool = JsonOpt,
) -> None:
    """Remove store venvs whose project is gone or no longer links to them.

    A project counts as gone only when the folder that held it is there and readable:
    an unmounted volume or a missing sync root never makes it gone. A venv a running
    process uses is kept unless --force.

    Example: relocate gc --dry-run
    """
    result = gc_.collect(dry_run=dry_run, force=force)
    if as_json:
        _echo_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    for item in result["removed"]:
        typer.echo(f"{verb} {item['venv'] or 'registry row'} ({item['project']}): {item['reason']}")
    for item in result["spared"]:
        typer.echo(f"kept {item['venv']} ({item['project']}): {item['reason']}")
    if not result["removed"] and not result["spared"]:
        typer.echo("nothing to remove")
        return
    freed = f"{result['bytes_freed'] / 1e6:.1f} MB {'to free' if dry_run else 'freed'}"
    typer.echo(f"{len(result['removed'])} {verb}, {len(result['spared'])} kept, {freed}")


@app.command()
def eject(
    path: str = PathArg,
    all_: bool = typer.Option(False, "--all", help="Eject every registered project."),
    as_json: bool = JsonOpt,
) -> None:
    """Put the venv back into the project as a real .venv folder (undoes adopt).

    A project adopted with --name NAME gets its venv back as the folder NAME.
    """
    if not all_:
        outcome = ejection.eject(path)
        _echo_json(_outcome_json(outcome)) if as_json else _lines(render.outcome(outcome))
        return
    results = ejection.eject_all()
    if as_json:
        _echo_json([{"project": p, "ok": o is not None, "error": e or None} for p, o, e in results])
    for project, done, error in results:
        if done is None:
            say(f"{project}: {error}")
        elif not as_json:
            _lines(render.outcome(done))
    if any(done is None for _, done, _ in results):
        raise typer.Exit(1)


@app.command()
def python(
    path: str = PathArg,
    resolve: bool = typer.Option(False, "--resolve", help="Print the store path instead."),
    as_json: bool = JsonOpt,
) -> None:
    """Print the project's interpreter, for editors (exit 1 outside a relocated project).

    Prints PROJECT/.venv/bin/python of the nearest relocated project at or above PATH.
    --json prints project, executable, prefix, real_prefix, version, provider, valid, error.
    """
    args = [path, *(["--resolve"] if resolve else []), *(["--json"] if as_json else [])]
    code = lookup.main(args)
    if code:
        raise typer.Exit(code)


@app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List registered projects with their health, Python, size and file count."""
    rows = health.list_all()
    if as_json:
        _echo_json(rows)
    elif not rows:
        typer.echo("no relocated projects (relocate adopt PATH relocates one)")
    for row in rows if not as_json else []:
        typer.echo(render.project_row(row))


@app.command()
def status(path: str = PathArg, as_json: bool = JsonOpt) -> None:
    """Show the health of the relocated project at or above PATH.

    Status is one of: ok, project-missing (moved or deleted), link-missing (.venv or its
    .venv.nosync hop is gone, the venv is there), link-replaced (a tool put its own venv
    at .venv), venv-missing, venv-emptied (a tool cleared it through the link),
    interpreter-missing; each but ok comes with the command that repairs it. Exit 0
    whenever it reports, 1 when PATH is in no known project.
    """
    row = health.status(path)
    if as_json:
        _echo_json(row)
    else:
        typer.echo(render.project_row(row))
        typer.echo(f"{'':<20} venv: {row['venv']}")
        if row["hint"]:
            typer.echo(f"{'':<20} to repair: {row['hint']}")


RootsArg = typer.Argument(
    None, metavar="[ROOT]...", help="Folders to scan (default: the sync roots in your home)."
)


@app.command()
def scan(
    roots: Optional[list[str]] = RootsArg,
    adopt_: bool = typer.Option(False, "--adopt", help="Adopt every .venv found not relocated."),
    as_json: bool = JsonOpt,
) -> None:
    """Find what costs sync: venvs and other rebuildable trees, by file count.

    Looks for venvs (pyvenv.cfg), node_modules, __pycache__, .tox, .nox, .mypy_cache,
    .ruff_cache, .pytest_cache, build, dist and *.egg-info, never following a symlink.
    A relocated venv counts only the link entries left in the synced folder.

    Example: relocate scan ~/Documents --adopt
    """
    counting = render.Progress() if sys.stderr.isatty() and not as_json else None
    try:
        trees = scan_.scan(roots or None, progress=counting.files if counting else None)
    finally:
        if counting is not None:
            counting.close()
    adopted = scan_.adopt_found(trees) if adopt_ else []
    if adopted:
        trees = scan_.scan(roots or None)
    if as_json:
        _echo_json([t._asdict() for t in trees])
    else:
        _lines(render.scan_table(trees, scan_.fix_command))
    for path, done, error in adopted:
        if done is None:
            say(f"{path}: {error}")
        elif not as_json:
            _lines(render.outcome(done))
    if any(done is None for _, done, _ in adopted):
        raise typer.Exit(1)


@app.command()
def resolve(
    path: str = typer.Argument(..., metavar="PATH", help="Any path."), as_json: bool = JsonOpt
) -> None:
    """Show the canonical spelling, registry key and sync provider of PATH."""
    found = resolver.resolve(path)
    if as_json:
        _echo_json(found._asdict())
    else:
        typer.echo(f"path:     {found.path}\nkey:      {found.key}\nprovider: {found.provider}")


@app.command()
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
    """
    flags = (["--install"] if install else []) + (["--uninstall"] if uninstall else [])
    shells.main([shell, *flags])


service_app = typer.Typer(
    help="The background watcher that keeps sync roots clean without being asked.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(service_app, name="service")


@service_app.command("run")
def service_run(
    interval: float = typer.Option(
        2.0, "--interval", metavar="SECONDS", help="How often to look again (the poll's period)."
    ),
) -> None:
    """Watch in the foreground: adopt new venvs once quiet, repair links tools replaced.

    Ends on SIGTERM or Ctrl-C; logs to the store's logs/service.log; only one runs.

    Example: relocate service run --interval 5
    """
    from relocator import service

    raise typer.Exit(service.run(interval=interval))


@service_app.command("install")
def service_install(as_json: bool = JsonOpt) -> None:
    """Start the watcher at login: a launchd agent (macOS) or a systemd user unit (Linux).

    Example: relocate service install
    """
    from relocator import units

    result = units.install()
    if as_json:
        _echo_json(result)
        return
    typer.echo(result["message"])


@service_app.command("uninstall")
def service_uninstall(as_json: bool = JsonOpt) -> None:
    """Stop the watcher and remove what service install wrote (nothing else).

    Example: relocate service uninstall
    """
    from relocator import units

    result = units.uninstall()
    if as_json:
        _echo_json(result)
        return
    for path in result["removed"]:
        typer.echo(f"removed {path}")
    if not result["removed"]:
        typer.echo("no service was installed")
    for note in result["notes"]:
        typer.echo(f"  note: {note}")


@service_app.command("status")
def service_status(as_json: bool = JsonOpt) -> None:
    """Whether the watcher runs, what it did, and the CPU the sync daemons use.

    Example: relocate service status
    """
    from relocator import watcher

    result = watcher.status()
    if as_json:
        _echo_json(result)
        return
    _lines(render.service_status(result))


@app.command(hidden=True)
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _click_exceptions() -> Any:
    """The click exception classes typer raises (typer vendors click since 0.2x)."""
    try:
        from typer._click import exceptions  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        from click import exceptions  # type: ignore[no-redef,import-not-found,unused-ignore]
    return exceptions


def run(args: list[str]) -> int:
    """Run the CLI on ``args``; usage errors become :class:`UsageError`."""
    errors = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="relocate", standalone_mode=False)
    except errors.UsageError as e:
        path = e.ctx.command_path if e.ctx else "relocate"
        raise UsageError(f"{e.format_message()} (see {path} --help)") from None
    except errors.ClickException as e:
        raise UsageError(e.format_message()) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this code; entry reports it
        raise KeyboardInterrupt
    return code if isinstance(code, int) else 0
