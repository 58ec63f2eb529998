"""The typer CLI: adapts arguments, calls the core, renders what it returns.

The only module that imports typer. Errors are raised, never printed here:
:mod:`relocator.entry` maps them to one line and an exit code.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from relocator import __version__, adoption, ejection, health, lookup, relocation, resolver, shells
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


def _outcome_json(outcome: relocation.Outcome) -> dict[str, Any]:
    return dict(outcome._asdict(), notes=list(outcome.notes))


def _render(outcome: relocation.Outcome) -> None:
    python = f"Python {outcome.python}" if outcome.python else "Python unknown"
    if outcome.action == "unchanged":
        typer.echo(f"{outcome.project}: already relocated to {outcome.venv} ({python})")
    elif outcome.action.startswith("ejected"):
        typer.echo(f"{outcome.project}: venv back in {outcome.venv} ({python})")
    else:
        typer.echo(f"{outcome.project}: .venv {outcome.action} into {outcome.venv} ({python})")
    for note in outcome.notes:
        typer.echo(f"  note: {note}")


@app.command()
def adopt(
    path: str = PathArg,
    python: Optional[str] = typer.Option(
        None,
        "--python",
        help="Interpreter for a new venv (3.12, or a path); ignored if one exists.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Relocate the project's venv into the store (create one if there is none)."""
    outcome = adoption.adopt(path, python)
    _echo_json(_outcome_json(outcome)) if as_json else _render(outcome)


@app.command()
def eject(
    path: str = PathArg,
    all_: bool = typer.Option(False, "--all", help="Eject every registered project."),
    as_json: bool = JsonOpt,
) -> None:
    """Put the venv back into the project as a real .venv folder (undoes adopt)."""
    if not all_:
        outcome = ejection.eject(path)
        _echo_json(_outcome_json(outcome)) if as_json else _render(outcome)
        return
    results = ejection.eject_all()
    if as_json:
        _echo_json([{"project": p, "ok": o is not None, "error": e or None} for p, o, e in results])
    for project, done, error in results:
        if done is None:
            say(f"{project}: {error}")
        elif not as_json:
            _render(done)
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
        typer.echo(_line(row))


def _line(row: dict[str, Any]) -> str:
    size = f"{row['bytes'] / 1e6:.1f} MB"
    python = row["python"] or "?"
    return f"{row['status']:<20} {python:<8} {row['files']:>7} files {size:>10}  {row['project']}"


@app.command()
def status(path: str = PathArg, as_json: bool = JsonOpt) -> None:
    """Show the health of the relocated project at or above PATH.

    Status is one of: ok, project-missing, link-missing (.venv or its .venv.nosync hop is
    gone, the venv is there), link-replaced (something else took the .venv name),
    venv-missing, interpreter-missing. Exit 0 whenever it reports, 1 when PATH is in no
    known project.
    """
    row = health.status(path)
    if as_json:
        _echo_json(row)
    else:
        typer.echo(_line(row))
        typer.echo(f"{'':<20} venv: {row['venv']}")
        if row["hint"]:
            typer.echo(f"{'':<20} to repair: {row['hint']}")


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
