"""What ``relocate verify`` shows: the verdict, what differs, and how the scratch venv ran.

Plain functions from :class:`relocator.moves.verification.Verified` to lines, in the manner
of :mod:`relocator.cli.render` (paths from ``~``, colour only when the CLI asks).
"""

from __future__ import annotations

from relocator.cli import display
from relocator.cli.render import GREEN, RED, paint
from relocator.state.inventory import spell
from relocator.venv.unrecorded import OPTIONAL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from relocator.moves.verification import Verified


def verified(result: Verified, colour: bool = False, *, notes: bool = True) -> list[str]:
    """A head line (the verdict, the recipe, the Python, the time), then one line per kind
    of difference, the imports or the command's exit code and last lines, and notes."""
    word = paint("ok", GREEN, colour) if result.ok else paint("differs", RED, colour)
    if result.ok:
        verdict = "the recipe gives back the venv"
    elif result.difference:
        verdict = "the recipe does not give back the venv"
    else:
        verdict = "the recipe gives back the venv's packages, but the check failed"
    how = f"{result.recipe}, Python {result.python}, {result.seconds:.1f} s"
    lines = [f"{word} {display.home(result.project)}: {verdict} ({how})"]
    diff = result.difference
    by_hand = [d for d in diff.lost if d not in result.optional]
    if by_hand:
        lost = spell(by_hand)
        lines.append(f"  installed by hand, not in the recipe (a rebuild loses them): {lost}")
    if result.optional:
        lines.append(f"  {OPTIONAL} (a rebuild loses them): {spell(result.optional)}")
    if diff.gained:
        lines.append(f"  in the recipe, not in the venv: {spell(diff.gained)}")
    if diff.changed:
        each = ", ".join(f"{o.name} {o.version} (recipe {n.version})" for o, n in diff.changed)
        lines.append(f"  other versions in the recipe: {each}")
    if result.run is not None:
        ran = result.run
        lines.append(f"  ran {ran.command!r} in the new venv: exit {ran.exit_code}")
        lines += [f"    | {line}" for line in ran.tail] if ran.exit_code else []
    else:
        failed = result.failed_imports
        said = f"imported {result.imported - len(failed)} of {result.imported} modules"
        lines.append(f"  {said}" + (":" if failed else ""))
        lines += [f"    {module}: {error}" for module, error in failed]
    return lines + [f"  note: {note}" for note in (result.notes if notes else ())]
