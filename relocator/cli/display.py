"""How a path reads to a person: ``~`` for the home, and shortened in the middle to fit.

Only the text renderers (:mod:`relocator.cli.render`) use this; ``--json``, files, logs and
error messages keep whole real paths. A path under the home is shown from ``~``, by
its shorter alias where the resolver knows one for the same folder
(``~/Library/Mobile Documents/com~apple~CloudDocs/Documents/app`` reads
``~/Documents/app``), whatever spelling ``$HOME`` has (a symlink, another case). A
table too wide for the terminal shortens each path in the middle, never its last
component: the name is what a person looks for.
"""

from __future__ import annotations

import os
import shlex
import sys

from relocator.paths import resolver
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

ELLIPSIS = "…"
#: A path column never gets narrower than this, however little room the other columns leave.
NARROWEST = 16
#: A shortened path keeps at least this much of its start (``~/Documen``): where it lives.
SHOWN_START = 10


def home(path: str) -> str:
    """``path`` from ``~`` when it is under the home (or the home itself), else as given."""
    found = _under_home(path)
    if found is None:
        return path
    return "~/" + found if found else "~"


def shell(path: str) -> str:
    """``path`` as a shell word a person can paste: ``~/`` and the rest quoted when under
    the home (``~/'My Drive/app'``; a quoted ``~`` would not expand), else quoted whole."""
    found = _under_home(path)
    if found is None:
        return shlex.quote(path)
    return "~/" + shlex.quote(found) if found else "~"


def commanded(text: str, path: str) -> str:
    """``text`` (a sentence holding a command such as ``relocate adopt '<path>'``) with each
    quoted ``path`` in it written as :func:`shell` writes it."""
    return text.replace(shlex.quote(path), shell(path)) if text else text


def _under_home(path: str) -> Optional[str]:
    """What follows the home in ``path`` ('' for the home itself), or None when elsewhere."""
    raw = os.path.expanduser("~")
    if not raw or raw == "~":
        return None
    spelled = resolver.spelling(raw)
    shown = resolver.fold_aliases(path)
    for base in dict.fromkeys((spelled, os.path.realpath(raw), os.path.normpath(raw))):
        if base != "/" and is_under(shown, base):
            return shown[len(base) :].lstrip("/")
    return None


def width() -> Optional[int]:
    """The columns a table may take: ``COLUMNS`` when set, else the terminal's width when
    stdout is one; None (no shortening) when piped, where grep wants whole paths."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns or None
    except (OSError, ValueError, AttributeError):
        pass
    return None


def fit(path: str, room: Optional[int]) -> str:
    """``path`` in at most ``room`` characters, shortened in the middle: its start, an
    ellipsis, then as many whole last components as fit beside :data:`SHOWN_START`
    characters of the start (at least the name, which is never cut, even when it alone is
    wider). ``None``: no limit."""
    if room is None or len(path) <= max(room, NARROWEST):
        return path
    room = max(room, NARROWEST)
    head, sep, name = path.rpartition("/")
    if not sep or not head:
        return path
    dots = _ellipsis()
    budget = room - len(dots)
    tail = "/" + name
    parts = head.split("/")
    keep = min(len(head), SHOWN_START)  # of the start, at least this much shows
    while len(parts) > 1 and len(tail) + len(parts[-1]) + 1 <= budget - keep:
        tail = "/" + parts.pop() + tail
    start = "/".join(parts)[: max(0, budget - len(tail))]
    return start + dots + tail


def _ellipsis() -> str:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        ELLIPSIS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "..."
    return ELLIPSIS
