"""What each command does once its arguments are parsed: call the core, print what it returns.

One plain function per command (named as in :data:`relocator.cli.cmdline.COMMANDS`, with
``_`` for a clash with a builtin), returning the exit code; the ``service`` commands' are in
:mod:`relocator.cli.servicecommands`, and :func:`relocator.cli.entry.function` finds each.
Both ways in call them: the fast path of :mod:`relocator.cli.entry` and the typer commands
of :mod:`relocator.cli.cli`. Standard library only here; each function imports the core
modules it needs when it runs, so a command loads only its own. Errors are raised,
never printed: :mod:`relocator.cli.entry` maps them to one line and an exit code.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from relocator import errors
from relocator.errors import RelocatorError, UsageError, say

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from relocator.cli import terminal
    from relocator.moves import relocation


def echo_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def echo_lines(lines: list[str]) -> None:
    if lines:
        sys.stdout.write("".join(f"{line}\n" for line in lines))


def colour() -> bool:
    return errors.coloured(sys.stdout)


def showing(as_json: bool) -> contextlib.AbstractContextManager[Optional[terminal.Progress]]:
    """Progress on stderr while the block runs: on a terminal, without --json or -q."""
    from relocator.cli import terminal

    return terminal.showing(sys.stderr.isatty() and not as_json and not errors.quiet)


def _show(outcome: relocation.Outcome, as_json: bool) -> int:
    from relocator.cli import render

    if as_json:
        echo_json(dict(outcome._asdict(), notes=list(outcome.notes)))
    else:
        echo_lines(render.outcome(outcome, notes=not errors.quiet))
    return 0


def _each(results: list[tuple[str, Optional[relocation.Outcome], str]], as_json: bool) -> int:
    """What each of several adopts or ejects did (failures on stderr): 1 if one failed."""
    from relocator.cli import render

    for path, done, error in results:
        if done is None:
            say(f"{path}: {error}")
        elif not as_json:
            echo_lines(render.outcome(done, notes=not errors.quiet))
    return 1 if any(done is None for _, done, _ in results) else 0


@contextlib.contextmanager
def _wanting(python: Optional[str], no_install: bool, as_json: bool) -> Iterator[Any]:
    """What the user asked for (a :class:`relocation.Wants`), with progress on a terminal."""
    from relocator.moves import relocation

    with showing(as_json) as progress:
        yield relocation.Wants(python, not no_install, progress)


def adopt(
    *,
    path: str,
    python: Optional[str],
    no_install: bool,
    name: str,
    with_trees: bool,
    no_trees: bool,
    node_modules: bool,
    as_json: bool,
) -> int:
    if with_trees and no_trees:
        raise UsageError("--trees and --no-trees contradict each other: pass one of them")
    from relocator.commands import adoption

    trees_asked = False if no_trees else True if with_trees or node_modules else None
    with _wanting(python, no_install, as_json) as wants:
        outcome = adoption.adopt(
            path, wants=wants._replace(name=name, trees=trees_asked, node_modules=node_modules)
        )
    return _show(outcome, as_json)


def rebuild(*, path: str, python: Optional[str], as_json: bool) -> int:
    from relocator.moves import creation

    with _wanting(python, False, as_json) as wants:
        outcome = creation.rebuild(path, wants=wants)
    return _show(outcome, as_json)


def verify(*, path: str, run: Optional[str], as_json: bool) -> int:
    from relocator.cli import render_verify
    from relocator.moves import verification

    with showing(as_json) as progress:
        result = verification.verify(path, run=run, progress=progress)
    if as_json:
        echo_json(result.as_dict())
    else:
        echo_lines(render_verify.verified(result, colour(), notes=not errors.quiet))
    return 0 if result.ok else 1


def doctor(*, path: Optional[str], fix: bool, no_install: bool, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.commands import doctor

    with _wanting(None, no_install, as_json) as wants:
        findings = doctor.examine(path, fix=fix, wants=wants)
    if as_json:
        echo_json([f.as_dict() for f in findings])
    else:
        shown = render.findings(  # one project asked about: what was found about it
            findings,
            colour(),
            verbose=errors.verbose or path is not None,
            trash=_trash() if path is None else None,
        )
        echo_lines(shown)
    return 0 if doctor.healthy(findings) else 1


def _trash() -> tuple[int, int]:
    """The trash's entries and bytes."""
    from relocator.state import trash
    from relocator.state.store import Store

    return trash.size(Store())


def gc(*, dry_run: bool, force: bool, empty_trash: bool, yes: bool, as_json: bool) -> int:
    from relocator.cli import render, terminal
    from relocator.commands import gc

    if empty_trash and not dry_run:
        count, size = _trash()
        refusal = "gc --empty-trash asks first, and there is no terminal: pass --yes"
        if count and terminal.must_ask(yes, refusal):
            entries = f"{count} trash entr{'y' if count == 1 else 'ies'}"
            if not terminal.ask(f"delete {entries} for good, freeing {size / 1e6:.1f} MB?"):
                raise RelocatorError("nothing deleted")
    result = gc.collect(dry_run=dry_run, force=force, empty_trash=empty_trash)
    echo_json(result) if as_json else echo_lines(render.collected(result, dry_run))
    return 0


def eject(*, path: str, all_: bool, yes: bool, as_json: bool) -> int:
    from relocator.cli import terminal
    from relocator.commands import ejection

    if not all_:
        with showing(as_json):
            outcome = ejection.eject(path)
        return _show(outcome, as_json)
    refusal = "eject --all asks first, and there is no terminal: pass --yes to eject every project"
    if terminal.must_ask(yes, refusal):
        from relocator.commands import removal
        from relocator.state.store import Store

        count = len(removal.registered(Store()))
        projects = f"{count} relocated project{'s' if count != 1 else ''}"
        if count and not terminal.ask(
            f"eject all {projects} (each venv goes back into its project)?"
        ):
            raise RelocatorError("nothing ejected")
    with showing(as_json):
        results = ejection.eject_all()
    if as_json:
        echo_json([{"project": p, "ok": o is not None, "error": e or None} for p, o, e in results])
    elif not results:
        echo_lines(["no relocated projects: nothing to eject"])
    return _each(results, as_json)


def uninstall(*, yes: bool, self_: bool, as_json: bool) -> int:
    from relocator.cli import render, terminal
    from relocator.commands import removal
    from relocator.host import installs
    from relocator.state.store import Store

    refusal = "uninstall asks first, and there is no terminal: pass --yes to uninstall"
    asking = terminal.must_ask(yes, refusal)
    store, found = Store(), installs.find()
    if asking:
        for line in [*removal.plan(store), *([removal.self_plan(found)] if self_ else [])]:
            sys.stderr.write(f"{line}\n")
        if not terminal.ask("do all of the above?"):
            raise RelocatorError("nothing removed")
    with showing(as_json):
        done = removal.uninstall(store)
    if self_ and not all(step.ok for step in done):  # relocate is needed to finish
        done.append(removal.Step("remove relocate itself", False, removal.SELF_KEPT))
    elif self_:  # last: this process may run from the venv it removes
        done.append(removal.remove_self(found))
        found = [i for i in found if not (i.ours and done[-1].ok)]
    hint, ok = removal.tool_hint(found), all(step.ok for step in done)
    if as_json:
        steps = [step._asdict() for step in done]
        installed = [i.data() for i in found]
        echo_json({"ok": ok, "steps": steps, "tool": hint, "installs": installed})
    else:
        echo_lines([*render.steps(done, colour()), *hint])
    return 0 if ok else 1


def python(*, path: str, resolve: bool, as_json: bool) -> int:
    from relocator.commands import lookup

    return lookup.main(
        [path, *(["--resolve"] if resolve else []), *(["--json"] if as_json else [])]
    )


def list_(*, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.venv import health

    rows = health.list_all()
    if as_json:
        echo_json(rows)
        return 0
    lines = render.project_table(rows, colour())
    count, size = _trash()
    echo_lines([*lines, render.trash_line(count, size)] if count else lines)
    return 0


def status(*, path: str, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.venv import projectstatus

    row = projectstatus.status(path)
    echo_json(row) if as_json else echo_lines(render.project_status(row, colour()))
    return 0


def scan(*, roots: Optional[list[str]], adopt_: bool, remove_bytecode: bool, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.commands import scan as scan_
    from relocator.venv import bytecode

    with showing(as_json) as counting:
        trees = scan_.scan(roots or None, progress=counting.files if counting else None)
        if counting is not None:
            counting.close()
        adopted = scan_.adopt_found(trees) if adopt_ else []
    if remove_bytecode:
        for tree in trees:
            if tree.kind == scan_.PYCACHE:
                _, why = bytecode.remove_pycache(tree.path)
                if why is not None:
                    errors.warn(f"kept {tree.path}: {why}")
    if adopted or remove_bytecode:
        trees = scan_.scan(roots or None)
    code = _each(adopted, as_json)  # what was done, then the table of how things are now
    if as_json:
        echo_json([t._asdict() for t in trees])
    else:
        echo_lines(render.scan_table(trees, scan_.fix_command))
    return code


def excludes(*, fmt: str) -> int:
    from relocator.commands import excludes

    if fmt not in excludes.FORMATS:
        raise UsageError(f"--format {fmt!r}: give one of {', '.join(excludes.FORMATS)}")
    echo_lines(excludes.rules(fmt))
    return 0


def trash_(*, as_json: bool) -> int:
    from relocator.cli import render
    from relocator.state import trash
    from relocator.state.store import Store

    found = trash.entries(Store())
    days = trash.retention_days()
    if as_json:
        echo_json([{**e.data(), "expires": trash.expires(e, days)} for e in found])
    else:
        echo_lines(render.trash_table(found, days, colour()))
    return 0


def restore(*, path: str, entry_id: Optional[str], as_json: bool) -> int:
    from relocator.moves import restoring

    with showing(as_json):
        done = restoring.restore(path, entry_id)
    return _show(done, as_json)


def resolve(*, path: str, as_json: bool) -> int:
    """A path that does not exist is still spelled, then said not to exist (--json:
    ``"exists": false``), with exit 1."""
    import os

    from relocator.cli import render
    from relocator.paths import resolver
    from relocator.paths.project import missing

    found = resolver.resolve(path)
    exists = os.path.lexists(found.path)
    if as_json:
        echo_json({**found._asdict(), "exists": exists})
        return 0 if exists else 1
    echo_lines(render.resolved(found))
    if not exists:
        raise missing(path)
    return 0


def hook(*, shell: str, install: bool, uninstall: bool) -> int:
    from relocator.host import shells

    flags = (["--install"] if install else []) + (["--uninstall"] if uninstall else [])
    return shells.main([shell, *flags])


def completion(*, shell: str) -> int:
    from relocator.cli import completion

    sys.stdout.write(completion.script(shell))
    return 0


def version() -> int:
    """relocator's version: ``relocator.__version__``, the one place it is written (the
    package metadata takes it from there)."""
    import relocator

    sys.stdout.write(f"relocate {relocator.__version__}\n")
    return 0


def info(*, as_json: bool) -> int:
    from relocator.commands import whereabouts

    data = whereabouts.info()
    echo_json(data) if as_json else echo_lines(whereabouts.lines(data))
    return 0
