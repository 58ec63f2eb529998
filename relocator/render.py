"""What the CLI shows: the text of each command's result, and progress on a terminal.

Plain functions from the core's data to lines; :mod:`relocator.cli` prints them.
Progress goes to stderr as one line rewritten in place, only when stderr is a
terminal (the CLI decides), and is cleared when the work ends.
"""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any, Optional

from relocator.relocation import Outcome


def outcome(done: Outcome) -> list[str]:
    python = f"Python {done.python}" if done.python else "Python unknown"
    if done.action == "unchanged":
        head = f"{done.project}: already relocated to {done.venv} ({python})"
    elif done.action.startswith("ejected"):
        head = f"{done.project}: venv back in {done.venv} ({python})"
    else:
        head = f"{done.project}: .venv {done.action} into {done.venv} ({python})"
    return [head, *(f"  note: {note}" for note in done.notes)]


def project_row(row: dict[str, Any]) -> str:
    """One line of ``list`` and ``status``."""
    size = f"{row['bytes'] / 1e6:.1f} MB"
    python = row["python"] or "?"
    return f"{row['status']:<20} {python:<8} {row['files']:>7} files {size:>10}  {row['project']}"


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


def service_status(s: dict[str, Any]) -> list[str]:
    lines = []
    if s["running"]:
        uptime = f", up {s['uptime']:.0f} s" if s["uptime"] is not None else ""
        lines.append(f"watcher: running, pid {s['pid']}{uptime} ({s['mode'] or 'starting'})")
        for what in ("last_event", "last_scan"):
            if isinstance(s.get(what), (int, float)):
                lines.append(f"  {what.replace('_', ' ')}: {time.ctime(s[what])}")
        lines.append(f"  adopted {s['adopted'] or 0}, repaired {s['repaired'] or 0}")
    else:
        lines.append("watcher: not running (relocate service install starts it at login)")
    installed = "installed" if s["unit_installed"] else "not installed"
    lines.append(f"unit: {shlex.quote(s['unit'])} ({installed})")
    lines += [daemon(d) for d in s["daemons"]]
    lines.append(f"sync daemons: {s['daemons_cpu']:.1f}% CPU in all")
    return lines


def daemon(d: dict[str, Any]) -> str:
    cpu = "?" if d["cpu_percent"] is None else f"{d['cpu_percent']:.1f}"
    return f"  {d['name']} (pid {d['pid']}): {cpu}% CPU"


class Progress:
    """One line on stderr, rewritten as long work goes on; cleared by :meth:`close`."""

    def __init__(self) -> None:
        import shutil

        self.width = max(20, shutil.get_terminal_size().columns - 1)
        self.shown = False

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

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
