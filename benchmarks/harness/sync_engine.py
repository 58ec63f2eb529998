"""A sync engine (what iCloud Drive does): it carries every entry of a folder but names
ending ``.nosync``, links as links, never following one; :func:`synced` is what it
carries, :func:`changed` what changed between two such snapshots (bench_lifecycle.py's
machine switches)."""

from __future__ import annotations

import os
import shutil
from typing import Any

NOSYNC = ".nosync"


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "link"
    return "dir" if entry.is_dir(follow_symlinks=False) else "file"


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _same_bytes(a: str, b: str) -> bool:
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def synced(top: str, rel: str = "") -> dict[str, tuple[str, Any]]:
    """Every entry a sync engine carries: path -> (kind, bytes or link target).

    Names ending ``.nosync`` are skipped (and never entered); links are never followed.
    """
    found: dict[str, tuple[str, Any]] = {}
    with os.scandir(os.path.join(top, rel)) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith(NOSYNC):
                continue
            path = os.path.join(rel, entry.name)
            kind = _kind(entry)
            if kind == "link":
                found[path] = (kind, os.readlink(entry.path))
            elif kind == "dir":
                found[path] = (kind, None)
                found.update(synced(top, path))
            else:
                with open(entry.path, "rb") as f:
                    found[path] = (kind, f.read())
    return found


def sync(src: str, dst: str) -> None:
    """Mirror ``src`` onto ``dst`` as a sync engine does.

    Every entry but names ending ``.nosync`` (on either side: ``dst``'s stay as
    they are): what ``src`` lacks goes, what differs is copied, links are copied
    as links and never followed.
    """
    with os.scandir(src) as entries:
        theirs = {e.name: e for e in entries if not e.name.endswith(NOSYNC)}
    with os.scandir(dst) as entries:
        for entry in list(entries):
            if entry.name.endswith(NOSYNC):
                continue
            other = theirs.get(entry.name)
            if other is None or _kind(other) != _kind(entry):
                _remove(entry.path)
    for name, entry in theirs.items():
        target = os.path.join(dst, name)
        kind = _kind(entry)
        if kind == "link":
            link = os.readlink(entry.path)
            if os.path.islink(target) and os.readlink(target) == link:
                continue
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(link, target)
        elif kind == "dir":
            os.makedirs(target, exist_ok=True)
            sync(entry.path, target)
        elif not (os.path.lexists(target) and _same_bytes(entry.path, target)):
            if os.path.lexists(target):
                os.unlink(target)
            shutil.copy2(entry.path, target)


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The paths added, removed or modified between two :func:`synced` snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def print_switches(churn: dict[str, dict[str, Any]], count: int) -> None:
    if not churn:
        return
    head = f"changed synced entries, switches 1-{count}"
    print(f"\n{'mode':<10}  {head:<36}  mean  after setup  left synced")
    for mode, r in churn.items():
        per = " ".join(str(c) for c in r["changed_per_switch"])
        left = ", ".join(f"{p} ({k})" for p, k in r["left_in_synced_tree"].items()) or "-"
        after = "-" if r["mean_after_setup"] is None else f"{r['mean_after_setup']:.2f}"
        print(f"{mode:<10}  {per:<36}  {r['mean']:.2f}  {after:>11}  {left}")
        for i, paths in enumerate(r["changed_paths"]):
            if paths:
                print(f"{'':<10}  switch {i + 1}: {', '.join(paths[:5])}")
