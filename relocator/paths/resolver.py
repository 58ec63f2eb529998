"""One folder, one identity.

Two results, never mixed: the *spelling* is the real path exactly as it is on
disk (what relocator writes into files and prints); the *key* is only for
identity in the registry (known aliases folded; NFC and case-folded only where
the volume itself treats those spellings as one name). A key is never written
into a file.

Standard library only: ``relocate python`` and the shell hook import this.
"""

from __future__ import annotations

import os
import stat
import sys
import unicodedata

from relocator.records import NamedTuple
from relocator.system import platform
from relocator.system.files import is_under

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

CLOUD_DOCS = "Library/Mobile Documents/com~apple~CloudDocs"

#: Second spellings of one folder, relative to ``$HOME``: (alias, canonical).
HOME_ALIASES = (
    ("iCloud Drive", CLOUD_DOCS),
    (CLOUD_DOCS + "/Documents", "Documents"),
    (CLOUD_DOCS + "/Desktop", "Desktop"),
    ("Library/CloudStorage/Dropbox", "Dropbox"),
)
ROOT_ALIASES = (("/private/var", "/var"), ("/private/tmp", "/tmp"))  # noqa: S108

#: Sync roots by provider, relative to ``$HOME``; a trailing ``*`` matches a name prefix.
PROVIDER_ROOTS = (
    ("icloud", "Library/Mobile Documents"),
    ("icloud", "iCloud Drive"),
    ("dropbox", "Dropbox*"),
    ("dropbox", "Library/CloudStorage/Dropbox*"),
    ("onedrive", "OneDrive*"),
    ("onedrive", "Library/CloudStorage/OneDrive*"),
    ("google-drive", "Google Drive*"),
    ("google-drive", "Library/CloudStorage/GoogleDrive*"),
    ("box", "Box"),
    ("box", "Box Sync"),
    ("box", "Library/CloudStorage/Box*"),
)
PROVIDERS = ("icloud", "dropbox", "onedrive", "google-drive", "box")


class Resolved(NamedTuple):
    path: str
    key: str
    provider: Optional[str]


def resolve(path: str) -> Resolved:
    """Spelling, key and sync provider of ``path`` (which need not exist)."""
    spelled = spelling(path)
    return Resolved(spelled, key(spelled), provider(spelled))


def spelling(path: str, *, follow_last: bool = True) -> str:
    """The real path as it is on disk.

    Symlinks are resolved (the last component only with ``follow_last``). A
    component typed in another normalization or case than the one on disk is
    replaced by the on-disk name; a missing tail is kept as given.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if not follow_last:
        head, name = os.path.split(path)
        return os.path.join(spelling(head), name) if name else spelling(head)
    real = os.path.realpath(path)
    if os.path.lexists(real) and platform.current.on_disk_path(real) is None:
        return real
    return _on_disk(real)


def _on_disk(real: str) -> str:
    existing, missing = real, []
    while not os.path.lexists(existing):
        existing, name = os.path.split(existing)
        missing.append(name)
    existing = platform.current.on_disk_path(existing) or existing
    while missing:
        name = _match_entry(existing, missing.pop())
        existing = os.path.realpath(os.path.join(existing, name))
        if not os.path.lexists(existing):
            return os.path.join(existing, *reversed(missing))
    return existing


def _match_entry(folder: str, name: str) -> str:
    """``name`` as ``folder`` spells it, when the volume takes both for one name.

    Only where the volume folds normalization (or case): elsewhere another
    spelling is another file, and the name stays as typed.
    """
    folds = folding(folder)
    if not (folds.unicode or folds.case):
        return name
    wanted = _fold(name, folds)
    try:
        with os.scandir(folder) as entries:
            matches = sorted(e.name for e in entries if _fold(e.name, folds) == wanted)
    except OSError:
        return name
    return matches[0] if matches else name


class Folding(NamedTuple):
    """Which spellings of one name a volume takes for the same name."""

    case: bool  #: ``Proj`` and ``proj``
    unicode: bool  #: ``café`` in NFC and in NFD


#: Probed answers, by volume (``st_dev``): a volume answers once per process.
_case_cache: dict[int, bool] = {}
_unicode_cache: dict[int, bool] = {}
#: Folders already looked at: a walk that reaches one has nothing new to find above it.
_walked: set[str] = set()


def folding(path: str) -> Folding:
    """How the volume holding ``path`` (or its deepest existing folder) compares names.

    Probed on the volume itself: does the other spelling (the case swapped, the
    other normalization form) of an existing folder name on it lead to the same
    folder? A property no name on the path can probe falls back to what the
    system's own volumes do: APFS and HFS+ fold both, other systems neither.
    """
    probe, st = path, _lstat_or_none(path)
    while st is None and probe != os.path.dirname(probe):
        probe = os.path.dirname(probe)
        st = _lstat_or_none(probe)
    guess = _guess()
    if st is None:
        return guess
    dev = st.st_dev
    if dev not in _case_cache or dev not in _unicode_cache:
        _probe(probe, dev)
    return Folding(_case_cache.get(dev, guess.case), _unicode_cache.get(dev, guess.unicode))


def _guess() -> Folding:
    darwin = sys.platform == "darwin"
    return Folding(case=darwin, unicode=darwin)


def _probe(path: str, dev: int) -> None:
    """Probe volume ``dev`` with the folder names on ``path`` that live on it."""
    st = _lstat_or_none(path)
    while st is not None and st.st_dev == dev and path != os.path.dirname(path):
        if path in _walked:
            return
        _walked.add(path)
        head, name = os.path.split(path)
        parent = _lstat_or_none(head)
        if parent is None or parent.st_dev != dev:
            return  # ``name`` is a mount point: the entry lives on another volume
        if stat.S_ISDIR(st.st_mode):  # a folder has no hard links to fool the probe
            if dev not in _case_cache and _swap_ascii_case(name) != name:
                _case_cache[dev] = _same_entry(st, os.path.join(head, _swap_ascii_case(name)))
            if dev not in _unicode_cache and _other_form(name) != name:
                _unicode_cache[dev] = _same_entry(st, os.path.join(head, _other_form(name)))
            if dev in _case_cache and dev in _unicode_cache:
                return
        path, st = head, parent


def _swap_ascii_case(name: str) -> str:
    # ASCII only: every case-insensitive volume folds it; "ß".swapcase() is "SS".
    return "".join(c.swapcase() if c.isascii() else c for c in name)


def _other_form(name: str) -> str:
    nfc = unicodedata.normalize("NFC", name)
    return unicodedata.normalize("NFD", name) if name == nfc else nfc


def _same_entry(st: os.stat_result, other: str) -> bool:
    found = _lstat_or_none(other)
    return found is not None and os.path.samestat(st, found)


def _lstat_or_none(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _fold(text: str, folds: Folding) -> str:
    if folds.unicode:
        text = unicodedata.normalize("NFC", text)
    return text.casefold() if folds.case else text


def key(spelled: str) -> str:
    """Registry identity of a spelling: aliases folded; NFC and case only where the volume folds."""
    return _fold(fold_aliases(spelled), folding(spelled))


def fold_aliases(spelled: str) -> str:
    """Replace a known second spelling of a folder by its canonical one.

    Only where both names exist and are the same folder here. A missing name
    does not fold: it may later be created as another folder (a real
    ``~/Dropbox`` beside ``~/Library/CloudStorage/Dropbox``), and a key must not
    change meaning when it does. With Desktop & Documents sync turned off,
    macOS leaves a real ``iCloud Drive/Documents`` beside a new ``~/Documents``:
    those differ too.
    """
    home = os.path.realpath(os.path.expanduser("~"))
    pairs = [(os.path.join(home, a), os.path.join(home, c)) for a, c in HOME_ALIASES]
    for _ in range(len(pairs) + len(ROOT_ALIASES)):
        for alias, canonical in [*pairs, *ROOT_ALIASES]:
            if is_under(spelled, alias) and _same_folder(alias, canonical):
                spelled = canonical + spelled[len(alias) :]
                break
        else:
            return spelled
    return spelled


def _same_folder(a: str, b: str) -> bool:
    sa, sb = _stat_or_none(a), _stat_or_none(b)
    return sa is not None and sb is not None and os.path.samestat(sa, sb)


def _stat_or_none(path: str) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except OSError:
        return None


def case_insensitive(spelled: str) -> bool:
    """Whether the volume holding ``spelled`` treats names case-insensitively."""
    return folding(spelled).case


def provider(spelled: str) -> Optional[str]:
    """The sync provider whose folder holds ``spelled``, from the layout under ``$HOME``."""
    home = os.path.realpath(os.path.expanduser("~"))
    if not is_under(spelled, home) and not is_under(spelled, os.path.expanduser("~")):
        return None
    for name, root in provider_roots(home):
        if is_under(spelled, root):
            return name
    return None


def provider_roots(home: str) -> list[tuple[str, str]]:
    """(provider, real path) of every sync root present under ``home``."""
    roots: list[tuple[str, str]] = []
    for name, pattern in PROVIDER_ROOTS:
        folder, _, leaf = os.path.join(home, pattern).rpartition("/")
        if leaf.endswith("*"):
            try:
                leaves = [e for e in os.listdir(folder) if e.startswith(leaf[:-1])]
            except OSError:
                leaves = []
        else:
            leaves = [leaf]
        roots += [(name, os.path.join(folder, x)) for x in leaves]
    # With Desktop & Documents sync, those two folders are iCloud's however they are linked;
    # with it turned off, macOS leaves a separate iCloud Drive/Documents behind.
    for synced in ("Desktop", "Documents"):
        local, cloud = os.path.join(home, synced), os.path.join(home, CLOUD_DOCS, synced)
        local_st, cloud_st = _stat_or_none(local), _stat_or_none(cloud)
        if local_st and cloud_st and os.path.samestat(local_st, cloud_st):
            roots.append(("icloud", local))
    return [(n, os.path.realpath(r)) for n, r in roots if os.path.lexists(r)]


def rebase(path: str, folder: Resolved) -> Optional[str]:
    """``path`` spelled from ``folder.path`` when it names ``folder`` or anything inside.

    ``path`` may reach the folder through any spelling (an alias, a symlink,
    another normalization); the result is the resolver's spelling, or None
    when ``path`` is elsewhere.
    """
    folded = fold_aliases(spelling(path))
    parts = key(folded).split("/")
    base = folder.key.split("/")
    if parts[: len(base)] != base:
        return None
    return os.path.join(folder.path, *folded.split("/")[len(base) :])


def same_location(a: str, b: str) -> bool:
    """Whether two paths name the same place, without following the last component."""
    return key(spelling(a, follow_last=False)) == key(spelling(b, follow_last=False))
