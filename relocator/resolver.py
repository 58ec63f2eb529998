"""One folder, one identity.

Two results, never mixed: the *spelling* is the real path exactly as it is on
disk (what relocator writes into files and prints); the *key* is only for
identity in the registry (NFC, case-folded where the volume ignores case,
known aliases folded). On disk an NFD name has no NFC twin, so a key is never
written into a file.

Standard library only: ``relocate python`` and the shell hook import this.
"""

from __future__ import annotations

import os
import unicodedata
from typing import NamedTuple, Optional

from relocator import platform

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
    """``name`` as ``folder`` spells it, when only the Unicode normalization differs."""
    wanted = unicodedata.normalize("NFC", name)
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if unicodedata.normalize("NFC", entry.name) == wanted:
                    return entry.name
    except OSError:
        pass
    return name


def _lstat_or_none(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _fold(text: str, *, case: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.casefold() if case else text


def key(spelled: str) -> str:
    """Registry identity of a spelling: aliases folded, NFC, case-folded if the volume is."""
    return _fold(fold_aliases(spelled), case=case_insensitive(spelled))


def fold_aliases(spelled: str) -> str:
    """Replace a known second spelling of a folder by its canonical one.

    Only where both names are the same folder here (or the alias does not
    exist): with Desktop & Documents sync turned off, macOS leaves a real
    ``iCloud Drive/Documents`` beside a new ``~/Documents``, and those differ.
    """
    home = os.path.realpath(os.path.expanduser("~"))
    pairs = [(os.path.join(home, a), os.path.join(home, c)) for a, c in HOME_ALIASES]
    for _ in range(len(pairs) + len(ROOT_ALIASES)):
        for alias, canonical in [*pairs, *ROOT_ALIASES]:
            if _under(spelled, alias) and _same_folder(alias, canonical):
                spelled = canonical + spelled[len(alias) :]
                break
        else:
            return spelled
    return spelled


def _same_folder(a: str, b: str) -> bool:
    sa, sb = _stat_or_none(a), _stat_or_none(b)
    return sa is None or sb is None or os.path.samestat(sa, sb)


def _stat_or_none(path: str) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except OSError:
        return None


_case_cache: dict[int, bool] = {}


def case_insensitive(spelled: str) -> bool:
    """Whether the volume holding ``spelled`` treats names case-insensitively."""
    probe = spelled
    while not os.path.lexists(probe) and probe != os.path.dirname(probe):
        probe = os.path.dirname(probe)
    while probe != os.path.dirname(probe):
        head, name = os.path.split(probe)
        if name.swapcase() != name:
            st = os.lstat(probe)
            if st.st_dev not in _case_cache:
                other = _lstat_or_none(os.path.join(head, name.swapcase()))
                _case_cache[st.st_dev] = other is not None and os.path.samestat(st, other)
            return _case_cache[st.st_dev]
        probe = head
    return False


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def provider(spelled: str) -> Optional[str]:
    """The sync provider whose folder holds ``spelled``, from the layout under ``$HOME``."""
    home = os.path.realpath(os.path.expanduser("~"))
    if not _under(spelled, home) and not _under(spelled, os.path.expanduser("~")):
        return None
    for name, root in provider_roots(home):
        if _under(spelled, root):
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
