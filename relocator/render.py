"""What the CLI shows: the text of each command's result, colour, questions, and progress.

Plain functions from the core's data to lines; :mod:`relocator.cli` prints them.
Colour is plain ANSI, and only where the CLI asks for it (a terminal, no
``NO_COLOR``: :func:`relocator.errors.coloured`). Progress goes to stderr as
one line rewritten in place, only when stderr is a terminal (the CLI decides),
and is cleared when the work ends. Python's ``None`` is never shown: a value
that is not known reads ``unknown``, or is left out.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

from relocator.errors import UsageError

if TYPE_CHECKING:  # imported when used: a command that shows no outcome never loads them
    from relocator.relocation import Outcome

GREEN, YELLOW, RED, BOLD = "32", "33", "31", "1"
OK = "ok"
#: Least time between two rewrites of a copy's progress line, in seconds.
_TICK = 0.1


def paint(text: str, code: str, on: bool) -> str:
    """``text`` in the ANSI colour ``code`` when ``on``."""
    return f"\033[{code}m{text}\033[0m" if on and text else text


def status_word(status: str, width: int, on: bool, *, fixed: bool = False) -> str:
    """A health or finding word padded to ``width``: ok green, a fixed problem yellow,
    any other problem red (the padding stays outside the colour, so columns align)."""
    code = GREEN if status == OK else YELLOW if fixed else RED
    return paint(status, code, on) + " " * max(0, width - len(status))


def outcome(done: Outcome, *, notes: bool = True) -> list[str]:
    """What an adopt, rebuild or eject did; ``notes=False`` (``-q``) leaves its notes out."""
    python = f"Python {done.python}" if done.python else "Python unknown"
    if done.action == "unchanged":
        head = f"{done.project}: already relocated to {done.venv} ({python})"
    elif done.action == "ejected trees":
        head = f"{done.project}: trees back in the project (its .venv was not relocated)"
    elif done.action.startswith("ejected"):
        head = f"{done.project}: venv back in {done.venv} ({python})"
    else:
        head = f"{done.project}: .venv {done.action} into {done.venv} ({python})"
    return [head, *(f"  note: {note}" for note in (done.notes if notes else ()))]


_ROW = "{status} {python:<8} {files:>9} {size:>10}  {project}"


def project_header() -> str:
    """The header of ``list``'s table, aligned with :func:`project_row`."""
    return _ROW.format(
        status=f"{'status':<20}", python="python", files="files", size="size", project="project"
    )


def project_row(row: dict[str, Any], colour: bool = False) -> str:
    """One row of ``list`` and the first line of ``status``."""
    return _ROW.format(
        status=status_word(str(row["status"]), 20, colour),
        python=row["python"] or "unknown",
        files=f"{row['files']:,}",
        size=f"{row['bytes'] / 1e6:.1f} MB",
        project=row["project"],
    )


def project_table(rows: list[dict[str, Any]], colour: bool = False) -> list[str]:
    """``list``: a header, then a row per project, each problem followed by its repair."""
    if not rows:
        return ["no relocated projects (relocate adopt PATH relocates one)"]
    lines = [project_header()]
    for row in rows:
        lines.append(project_row(row, colour))
        if row.get("trees"):
            lines.append(f"{'':<20} trees: {_trees(row['trees'])}")
        if row.get("detail"):
            lines.append(f"{'':<20} found: {row['detail']}")
        if row.get("hint"):
            lines.append(f"{'':<20} to repair: {row['hint']}")
    return lines


def _trees(found: list[dict[str, Any]]) -> str:
    return ", ".join(
        t["name"] + ("" if t["state"] == "relocated" else f" ({t['state']})") for t in found
    )


def project_status(row: dict[str, Any], colour: bool = False) -> list[str]:
    """``status``: the project's row, its venv, and the command that repairs it."""
    venv = row["venv"] or row.get("cause") or "none"
    lines = [project_header(), project_row(row, colour), f"{'':<20} venv: {venv}"]
    for tree in row.get("trees") or []:
        state = "" if tree["state"] == "relocated" else f" ({tree['state']})"
        lines.append(f"{'':<20} {tree['name']}{state}: {tree['path']}")
    if row.get("bytecode"):
        lines.append(f"{'':<20} bytecode: {row['bytecode']}")
    if row.get("warning"):
        lines.append(f"{'':<20} warning: {row['warning']}")
    if row.get("detail"):
        lines.append(f"{'':<20} found: {row['detail']}")
    if row.get("hint"):
        lines.append(f"{'':<20} to repair: {row['hint']}")
    return lines


def findings(found: list[Any], colour: bool = False) -> list[str]:
    """``doctor``: each finding's status, check and project, then what it says."""
    if not found:
        return ["nothing relocated yet (relocate adopt PATH relocates a project)"]
    lines = []
    for f in found:
        word = status_word(f.status, 20, colour, fixed=f.fixed)
        lines.append(f"{word} {f.check:<12} {f.project or 'store'}\n{'':<33} {f.message}")
    return lines


def collected(result: dict[str, Any], dry_run: bool) -> list[str]:
    """``gc``: what went to the trash (or would), what was kept and why, what the trash's
    sweep deleted for good, and the room freed."""
    lines = []
    for item in result["removed"]:
        what, whose = item["venv"] or "registry row", item["project"] or "no project"
        if item["kind"] in ("row", "record", "leftover"):
            verb = "would remove" if dry_run else "removed"
        else:
            verb = "would move to the trash" if dry_run else "moved to the trash"
        where = f" [{item['trash_id']}]" if item.get("trash_id") else ""
        lines.append(f"{verb} {what} ({whose}){where}: {item['reason']}")
    for item in result["spared"]:
        what, whose = item["venv"] or "registry row", item["project"] or "no project"
        lines.append(f"kept {what} ({whose}): {item['reason']}")
    for entry in result.get("swept", []):
        verb = "would delete" if dry_run else "deleted"
        what = f"{entry['name']} ({entry['project'] or 'no project'})"
        lines.append(f"{verb} trash entry {entry['id']}, {what}, {entry['bytes'] / 1e6:.1f} MB")
    if not lines:
        return ["nothing to remove"]
    freed = f"{result['bytes_freed'] / 1e6:.1f} MB {'to free' if dry_run else 'freed'}"
    moved = sum(item["kind"] in ("venv", "trees") for item in result["removed"])
    swept = len(result.get("swept", []))
    lines.append(
        f"{moved} {'to move' if dry_run else 'moved'} to the trash, {len(result['spared'])} kept, "
        f"{swept} trash entr{'y' if swept == 1 else 'ies'} {'to delete' if dry_run else 'deleted'}"
        f", {freed}"
    )
    return lines


def trash_table(entries: list[Any], days: float, colour: bool = False) -> list[str]:
    """``trash``: each entry (id, age, size, what and whose), then why it went there."""
    if not entries:
        return ["the trash is empty"]
    now = time.time()
    lines = [f"{'id':<22} {'age':>6} {'size':>10}  {'what':<8} project"]
    for e in entries:
        age = _age(now - e.when)
        what = e.kind if e.kind != "tree" else f"{e.tree}"
        lines.append(f"{e.id:<22} {age:>6} {e.bytes / 1e6:>7.1f} MB  {what:<8} {e.project or '?'}")
        python = f"Python {e.python}, {len(e.packages)} packages; " if e.kind == "venv" else ""
        left = max(0.0, e.when + days * 86400 - now)
        lines.append(f"{'':<22} {python}{e.why}; deleted in {_age(left)}")
    total = sum(e.bytes for e in entries)
    lines.append(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {total / 1e6:.1f} MB")
    lines.append(
        "relocate restore PATH --id ID puts one back; relocate gc --empty-trash deletes all"
    )
    return lines


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def resolved(found: Any) -> list[str]:
    """``resolve``: the spelling, the key, and the sync provider (or that none is known)."""
    provider = found.provider or "none (no known sync engine syncs it)"
    return [f"path:     {found.path}", f"key:      {found.key}", f"provider: {provider}"]


def steps(done: list[Any], colour: bool = False) -> list[str]:
    """``uninstall``: each step, ok or failed, with what it did or why it failed."""
    lines = []
    for step in done:
        word = paint(f"{'ok' if step.ok else 'failed':<6}", GREEN if step.ok else RED, colour)
        lines.append(f"{word} {step.what}" + (f": {step.detail}" if step.detail else ""))
    return lines


def scan_table(trees: list[Any], fix_command: Any) -> list[str]:
    """``scan``'s table: the trees by file count, the command that fixes each, totals."""
    if not trees:
        return ["nothing found that costs sync"]
    lines = [f"{'files':>9} {'size':>10}  {'kind':<13} path"]
    for t in trees:
        where = "relocated" if t.relocated else t.kind
        lines.append(f"{t.files:>9,} {t.bytes / 1e6:>7.1f} MB  {where:<13} {t.path}")
        fix: Optional[str] = fix_command(t)
        if fix:
            lines.append(f"{'':>33} fix: {fix}")
    files, size = sum(t.files for t in trees), sum(t.bytes for t in trees)
    lines.append(f"{files:>9,} {size / 1e6:>7.1f} MB  total in {len(trees)} trees")
    return lines


def service_status(s: dict[str, Any], colour: bool = False) -> list[str]:
    lines = []
    if s["running"]:
        uptime = f", up {s['uptime']:.0f} s" if s["uptime"] is not None else ""
        running = paint("running", GREEN, colour)
        lines.append(f"watcher: {running}, pid {s['pid']}{uptime} ({s['mode'] or 'starting'})")
        for what in ("last_event", "last_scan"):
            if isinstance(s.get(what), (int, float)):
                lines.append(f"  {what.replace('_', ' ')}: {time.ctime(s[what])}")
        lines.append(f"  adopted {s['adopted'] or 0}, repaired {s['repaired'] or 0}")
    else:
        stopped = paint("not running", YELLOW, colour)
        lines.append(f"watcher: {stopped} (relocate service install starts it at login)")
    installed = "installed" if s["unit_installed"] else "not installed"
    lines.append(f"unit: {shlex.quote(s['unit'])} ({installed})")
    lines += [daemon(d) for d in s["daemons"]]
    lines.append(f"sync daemons: {s['daemons_cpu']:.1f}% CPU in all")
    lines.append(trash_line(s["trash"]["entries"], s["trash"]["bytes"]))
    return lines


def trash_line(count: int, size: int) -> str:
    """What the trash holds, in one line (``list``, ``service status``)."""
    if not count:
        return "trash: empty"
    return (
        f"trash: {count} entr{'y' if count == 1 else 'ies'}, {size / 1e6:.1f} MB (relocate trash)"
    )


def daemon(d: dict[str, Any]) -> str:
    cpu = "?" if d["cpu_percent"] is None else f"{d['cpu_percent']:.1f}"
    return f"  {d['name']} (pid {d['pid']}): {cpu}% CPU"


def must_ask(yes: bool, refusal: str) -> bool:
    """Whether to ask before acting: not with ``--yes``; on a terminal (stdin and
    stderr), yes; without one, a usage error saying ``refusal``."""
    if yes:
        return False
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(refusal)
    return True


def ask(question: str) -> bool:
    """Ask ``question`` on stderr and read the answer from stdin: True only for y or yes
    (Enter, anything else, or the end of input is no)."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


class Progress:
    """One line on stderr, rewritten as long work goes on; cleared by :meth:`close`."""

    def __init__(self) -> None:
        import shutil

        self.width = max(20, shutil.get_terminal_size().columns - 1)
        self.shown = False
        self.last = 0.0

    def show(self, text: str) -> None:
        text = " ".join(text.split())[: self.width]
        if text:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()
            self.shown = True

    __call__ = show  # a long install's lines

    def files(self, count: int) -> None:
        """A scan's files counted so far."""
        self.show(f"{count:,} files counted")

    def copied(self, count: int, total: int) -> None:
        """A copy to another volume: ``count`` of its ``total`` files written so far
        (shown at most every tenth of a second, and at the end)."""
        now = time.monotonic()
        if count < total and now - self.last < _TICK:
            return
        self.last = now
        self.show(f"copying {count:,} of {total:,} files")

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


@contextlib.contextmanager
def showing(shown: bool) -> Iterator[Optional[Progress]]:
    """A :class:`Progress` while the block runs when ``shown`` (else None), which copies
    across volumes report to too; cleared when the block ends."""
    from relocator import transfer

    progress = Progress() if shown else None
    try:
        with transfer.copying_shown(progress.copied if progress else None):
            yield progress
    finally:
        if progress is not None:
            progress.close()
