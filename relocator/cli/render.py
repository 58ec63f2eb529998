"""What the CLI shows: the text of each command's result, and colour.

Plain functions from the core's data to lines; :mod:`relocator.cli.commands` prints them.
Colour is plain ANSI, and only where the CLI asks for it (a terminal, no
``NO_COLOR``: :func:`relocator.errors.coloured`). Python's ``None`` is never shown: a
value that is not known reads ``unknown``, or is left out. Questions and progress on a
terminal are :mod:`relocator.cli.terminal`'s.
"""

from __future__ import annotations

import os
import time

from relocator.cli import display

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported when used: a command that shows no outcome never loads them
    from typing import Any, Optional

    from relocator.moves.relocation import Outcome

GREEN, YELLOW, RED, BOLD = "32", "33", "31", "1"
OK = "ok"
NOTE = "note"  # doctor's finding that does not fail it (doctor.NOTE)


def paint(text: str, code: str, on: bool) -> str:
    """``text`` in the ANSI colour ``code`` when ``on``."""
    return f"\033[{code}m{text}\033[0m" if on and text else text


def status_word(status: str, width: int, on: bool, *, fixed: bool = False) -> str:
    """A health or finding word padded to ``width``: ok green, a note or a fixed problem
    yellow, any other problem red (the padding stays outside the colour, so columns
    align)."""
    code = GREEN if status == OK else YELLOW if fixed or status == NOTE else RED
    return paint(status, code, on) + " " * max(0, width - len(status))


def outcome(done: Outcome, *, notes: bool = True) -> list[str]:
    """What an adopt, rebuild or eject did; ``notes=False`` (``-q``) leaves its notes out."""
    python = f"Python {done.python}" if done.python else "Python unknown"
    project, venv = display.home(done.project), display.home(done.venv)
    if done.action == "unchanged":
        head = f"{project}: already relocated to {venv} ({python})"
    elif done.action == "ejected trees":
        head = f"{project}: trees back in the project (its .venv was not relocated)"
    elif done.action.startswith("ejected"):
        head = f"{project}: venv back in {venv} ({python})"
    else:
        head = f"{project}: .venv {done.action} {_where(done.action)} {venv} ({python})"
    return [head, *(f"  note: {note}" for note in (done.notes if notes else ()))]


def _where(action: str) -> str:
    """The word between an action and the venv: made *in* the store, moved *into* it."""
    if action == "created" or action.startswith("built from"):
        return "in"
    return "to" if action == "relinked" else "into"


def _project_cells(row: dict[str, Any]) -> tuple[str, str, str, str]:
    python = row["python"] or "unknown"
    return str(row["status"]), python, f"{row['files']:,}", f"{row['bytes'] / 1e6:.1f} MB"


_PROJECT_HEAD = ("status", "python", "files", "size")


class _Table:
    """``list``'s and ``status``'s columns: each as wide as its widest cell, the project
    last, shortened in the middle to the terminal's width (:func:`display.width`)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        cells = [_PROJECT_HEAD, *(_project_cells(row) for row in rows)]
        self.widths = [max(len(c[i]) for c in cells) for i in range(4)]
        self.room = display.width()
        self.indent = " " * (self.widths[0] + 1)  # what follows a row: under the python column

    def line(self, cells: tuple[str, str, str, str], project: str, colour: bool) -> str:
        (ws, wp, wf, wz), (status, python, files, size) = self.widths, cells
        left = f"{status_word(status, ws, colour)} {python:<{wp}} {files:>{wf}} {size:>{wz}}  "
        used = ws + wp + wf + wz + 5
        return left + display.fit(project, None if self.room is None else self.room - used)

    def header(self) -> str:
        return self.line(_PROJECT_HEAD, "project", False)

    def row(self, row: dict[str, Any], colour: bool) -> str:
        return self.line(_project_cells(row), display.home(row["project"]), colour)

    def path(self, label: str, path: str) -> str:
        """A sub-line naming a path: ``label: path``, the path fitted too."""
        room = None if self.room is None else self.room - len(self.indent) - len(label) - 2
        return f"{self.indent}{label}: {display.fit(display.home(path), room)}"

    def after(self, row: dict[str, Any]) -> list[str]:
        """What was found and the command that repairs it (its project written from ``~``)."""
        lines = [f"{self.indent}found: {row['detail']}"] if row.get("detail") else []
        if row.get("hint"):
            hint = display.commanded(row["hint"], row["project"])
            lines.append(f"{self.indent}to repair: {hint}")
        return lines


def project_table(rows: list[dict[str, Any]], colour: bool = False) -> list[str]:
    """``list``: a header, then a row per project, each problem followed by its repair."""
    if not rows:
        return ["no relocated projects (relocate adopt PATH relocates one)"]
    table = _Table(rows)
    lines = [table.header()]
    for row in rows:
        lines.append(table.row(row, colour))
        if row.get("trees"):
            lines.append(f"{table.indent}trees: {_trees(row['trees'])}")
        lines += table.after(row)
    return lines


def _trees(found: list[dict[str, Any]]) -> str:
    return ", ".join(
        t["name"] + ("" if t["state"] == "relocated" else f" ({t['state']})") for t in found
    )


def project_status(row: dict[str, Any], colour: bool = False) -> list[str]:
    """``status``: the project's row, its venv, and the command that repairs it."""
    table = _Table([row])
    lines = [table.header(), table.row(row, colour)]
    if row["venv"]:
        lines.append(table.path("venv", row["venv"]))
    else:
        lines.append(f"{table.indent}venv: {row.get('cause') or 'none'}")
    for tree in row.get("trees") or []:
        state = "" if tree["state"] == "relocated" else f" ({tree['state']})"
        lines.append(table.path(f"{tree['name']}{state}", tree["path"]))
    if row.get("bytecode"):
        lines.append(table.path("bytecode", row["bytecode"]))
    if row.get("warning"):
        lines.append(f"{table.indent}warning: {row['warning']}")
    return lines + table.after(row)


def findings(
    found: list[Any],
    colour: bool = False,
    *,
    verbose: bool = False,
    trash: Optional[tuple[int, int]] = None,
) -> list[str]:
    """``doctor``: one line per problem or note (``verbose``: per finding, healthy projects
    and the store's reports too), then a summary: projects ok, fixed, problems, notes, and
    the trash (its entries and bytes) when given."""
    shown = [f for f in found if verbose or f.fixed or f.status != OK]
    status_w = max((len(f.status) for f in shown), default=0)
    check_w = max((len(f.check) for f in shown), default=0)
    room = display.width()
    lines = []
    for f in shown:
        head = f"{status_word(f.status, status_w, colour, fixed=f.fixed)} {f.check:<{check_w}} "
        who, message = "store", f.message
        if f.project:
            fits = None if room is None else room - status_w - check_w - 3
            who = display.fit(display.home(f.project), fits)
            message = display.commanded(message, f.project)
        lines.append(f"{head}{who}: {message}")
    ok, fixed, problems, notes = _counts(found)
    if not (ok or fixed or problems or notes):
        lines.append("nothing relocated yet (relocate adopt PATH relocates a project)")
        return [*lines, trash_line(*trash)] if trash and trash[0] else lines
    said = [f"{ok} project{'s' if ok != 1 else ''} ok"]
    said += [f"{fixed} fixed"] if fixed else []
    said.append(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "no problems")
    said += [f"{notes} note{'s' if notes != 1 else ''}"] if notes else []
    if trash is not None:
        said.append(f"trash {human_size(trash[1])}" if trash[0] else "trash empty")
    return [*lines, ", ".join(said)]


#: doctor's checks that report on the machine, never on a project.
_REPORTS = ("trash", "service", "sync-daemons")


def _counts(found: list[Any]) -> tuple[int, int, int, int]:
    """Projects whose every finding is ok (or a note), findings fixed, problems left, and
    notes."""
    projects: dict[str, bool] = {}
    for f in found:
        if f.project and f.check not in _REPORTS:
            projects[f.project] = projects.get(f.project, True) and f.status in (OK, NOTE)
    problems = sum(f.status not in (OK, NOTE) and not f.fixed for f in found)
    notes = sum(f.status == NOTE for f in found)
    return sum(projects.values()), sum(bool(f.fixed) for f in found), problems, notes


def human_size(count: float) -> str:
    """A size in bytes, for a person: MB below a gigabyte, GB from there."""
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


def _whose(item: dict[str, Any]) -> tuple[str, str]:
    """A gc item's venv and project, from ``~``."""
    venv, project = item["venv"], item["project"]
    return display.home(venv) if venv else "registry row", display.home(project or "no project")


def collected(result: dict[str, Any], dry_run: bool) -> list[str]:
    """``gc``: what went to the trash (or would), what was kept and why, what the trash's
    sweep deleted for good, and the room freed."""
    lines = []
    for item in result["removed"]:
        what, whose = _whose(item)
        if item["kind"] in ("row", "record", "leftover"):
            verb = "would remove" if dry_run else "removed"
        else:
            verb = "would move to the trash" if dry_run else "moved to the trash"
        where = f" [{item['trash_id']}]" if item.get("trash_id") else ""
        lines.append(f"{verb} {what} ({whose}){where}: {item['reason']}")
    for item in result["spared"]:
        what, whose = _whose(item)
        lines.append(f"kept {what} ({whose}): {item['reason']}")
    for entry in result.get("swept", []):
        verb = "would delete" if dry_run else "deleted"
        what = f"{entry['name']} ({display.home(entry['project'] or 'no project')})"
        lines.append(f"{verb} trash entry {entry['id']}, {what}, {entry['bytes'] / 1e6:.1f} MB")
    if not lines:
        return ["nothing to remove"]
    lines.append(_collected_sum(result, dry_run))
    return lines


def _collected_sum(result: dict[str, Any], dry_run: bool) -> str:
    """gc's last line, in the tense of what happened (``--dry-run``: what would)."""

    def count(kinds: tuple[str, ...]) -> int:
        return sum(item["kind"] in kinds for item in result["removed"])

    def did(would: str, done: str) -> str:
        return would if dry_run else done

    records, leftovers = count(("row", "record")), count(("leftover",))
    swept = len(result.get("swept", []))
    parts = [f"{count(('venv', 'trees'))} {did('to move', 'moved')} to the trash"]
    if records:
        parts.append(f"{records} stale record{'s' * (records != 1)} {did('to remove', 'removed')}")
    if leftovers:
        parts.append(f"{leftovers} leftover{'s' * (leftovers != 1)} {did('to delete', 'deleted')}")
    parts += [
        f"{len(result['spared'])} {did('to keep', 'kept')}",
        f"{swept} trash entr{'y' if swept == 1 else 'ies'} {did('to delete', 'deleted')}",
        f"{result['bytes_freed'] / 1e6:.1f} MB {did('to free', 'freed')}",
    ]
    return ", ".join(parts)


def trash_table(entries: list[Any], days: float, colour: bool = False) -> list[str]:
    """``trash``: each entry (id, age, size, what and whose), then why it went there."""
    if not entries:
        return ["the trash is empty"]
    now, room = time.time(), display.width()
    lines = [f"{'id':<22} {'age':>6} {'size':>10}  {'what':<8} project"]
    for e in entries:
        age = _age(now - e.when)
        what = e.kind if e.kind != "tree" else f"{e.tree}"
        project = display.fit(display.home(e.project), room and room - 51) if e.project else "?"
        lines.append(f"{e.id:<22} {age:>6} {e.bytes / 1e6:>7.1f} MB  {what:<8} {project}")
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
    kind_w = max(len("kind"), *(len("relocated" if t.relocated else t.kind) for t in trees))
    room = display.width()
    lines = [f"{'files':>9} {'size':>10}  {'kind':<{kind_w}}  path"]
    for t in trees:
        where = "relocated" if t.relocated else t.kind
        folder, name = os.path.split(t.path)  # the project's name shows, and the tree's
        path = display.fit(display.home(folder), room and room - kind_w - 25 - len(name))
        path = f"{path}/{name}"
        lines.append(f"{t.files:>9,} {t.bytes / 1e6:>7.1f} MB  {where:<{kind_w}}  {path}")
        fix: Optional[str] = fix_command(t)
        if fix:
            fix = display.commanded(fix, os.path.dirname(t.path))
            lines.append(" " * (kind_w + 24) + f"fix: {fix}")
    files, total = sum(t.files for t in trees), sum(t.bytes for t in trees)
    lines.append(f"{files:>9,} {total / 1e6:>7.1f} MB  total in {len(trees)} trees")
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
    for d in s["denied"]:  # what it last said, running or not
        lines.append(f"  {paint('denied', RED, colour)}: {d['message']}")
    installed = "installed" if s["unit_installed"] else "not installed"
    if s.get("unit_enabled") is False:
        off = paint("disabled", YELLOW, colour)
        installed += f", {off}: it will not start at login; relocate service install enables it"
    lines.append(f"unit: {display.shell(s['unit'])} ({installed})")
    lines += [daemon(d) for d in s["daemons"]]
    lines.append(f"sync daemons: {s['daemons_cpu']:.1f}% CPU in all")
    lines.append(trash_line(s["trash"]["entries"], s["trash"]["bytes"]))
    return lines


def trash_line(count: int, total: int) -> str:
    """What the trash holds, in one line (``list``, ``service status``)."""
    if not count:
        return "trash: empty"
    entries = f"{count} entr{'y' if count == 1 else 'ies'}"
    return f"trash: {entries}, {human_size(total)} (relocate trash)"


def daemon(d: dict[str, Any]) -> str:
    cpu = "?" if d["cpu_percent"] is None else f"{d['cpu_percent']:.1f}"
    return f"  {d['name']} (pid {d['pid']}): {cpu}% CPU"
