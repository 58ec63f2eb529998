"""A project's entries by category, never following a link: its own files, the link
entries (``NAME``, ``NAME.nosync``, ``NAME.nosync/NAME``), the venv, each relocated tree,
``__pycache__``, anything else; what a sync engine carries (nothing under ``*.nosync``).
bench_trees.py's census of what stays in the synced project."""

from __future__ import annotations

import os
import shutil
from typing import Any

NOSYNC = ".nosync"
VENV = ".venv"
TREES = (".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox")
OWN = "the project's own files"
LINKS = "link entries (NAME, NAME.nosync)"
PYCACHE = "__pycache__ (and *.pyc)"
OTHER = "anything else"
CATEGORIES = (OWN, LINKS, VENV, *TREES, PYCACHE, OTHER)


def entries(top: str, rel: str = "") -> list[tuple[str, str]]:
    """Every entry under ``top`` as (relative path, kind): never follows a link."""
    found = []
    with os.scandir(os.path.join(top, rel)) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            path = os.path.join(rel, entry.name)
            if entry.is_symlink():
                found.append((path, "links"))
            elif entry.is_dir(follow_symlinks=False):
                found.append((path, "dirs"))
                found += entries(top, path)
            else:
                found.append((path, "files"))
    return found


def category(path: str, kind: str, own: set[str]) -> str:
    parts = path.split(os.sep)
    first = parts[0]
    base = first[: -len(NOSYNC)] if first.endswith(NOSYNC) else first
    if base in (VENV, *TREES):
        if len(parts) == 1 and (kind == "links" or first != base):  # NAME, NAME.nosync/
            return LINKS
        if len(parts) == 2 and first != base and parts[1] == base and kind == "links":
            return LINKS  # NAME.nosync/NAME
        return base
    if "__pycache__" in parts or path.endswith(".pyc"):
        return PYCACHE
    return OWN if path in own else OTHER


def census(project: str, own: set[str]) -> dict[str, Any]:
    """Entries under the project by category: files, dirs, links and total each; the
    paths of any entry that is none of the known kinds, and what a sync engine carries."""
    counts = {c: {"files": 0, "dirs": 0, "links": 0} for c in CATEGORIES}
    other: list[str] = []
    found = entries(project)
    for path, kind in found:
        name = category(path, kind, own)
        counts[name][kind] += 1
        if name == OTHER:
            other.append(path)
    for c in counts.values():
        c["total"] = c["files"] + c["dirs"] + c["links"]
    synced = [p for p, _ in found if not any(s.endswith(NOSYNC) for s in p.split(os.sep))]
    return {
        "categories": counts,
        "total": len(found),
        "synced": len(synced),
        "beyond_own": sum(c["total"] for n, c in counts.items() if n != OWN),
        "beyond_own_and_links": sum(c["total"] for n, c in counts.items() if n not in (OWN, LINKS)),
        "other_paths": other[:50],
    }


def drop_pycache(project: str) -> int:
    """Delete every ``__pycache__`` folder in the project (not through a link); how many."""
    gone = 0
    for path, kind in entries(project):
        if kind == "dirs" and os.path.basename(path) == "__pycache__":
            full = os.path.join(project, path)
            if os.path.isdir(full):  # an outer one may have taken it already
                shutil.rmtree(full)
                gone += 1
    return gone


def links_of(project: str) -> dict[str, str]:
    return {
        name: os.readlink(os.path.join(project, name))
        for name in sorted(os.listdir(project))
        if os.path.islink(os.path.join(project, name))
    }


def pyc_under(folder: str, project: str) -> int:
    """The ``.pyc`` files of the project's own sources (not its venv's or tox's) under the
    pycache prefix ``folder``, which mirrors each source's absolute folder."""
    found = 0
    for path in {project, os.path.realpath(project)}:
        top = os.path.join(folder, path.lstrip(os.sep))
        for here, dirs, files in os.walk(top):
            if here == top:
                dirs[:] = [d for d in dirs if d.split(".nosync")[0] not in (VENV, *TREES)]
            found += sum(f.endswith(".pyc") for f in files)
    return found


def print_census(found: dict[str, Any]) -> None:
    stages_ = found.get("stages", {})
    if not stages_:
        return
    heads = list(stages_)
    width = max(len(c) for c in CATEGORIES)
    print("\nentries under the project (files/folders/links), by stage:")
    for i, head in enumerate(heads):
        print(f"  ({i + 1}) {head}")
    print(f"{'category':<{width}}  " + "  ".join(f"{f'({i + 1})':>16}" for i in range(len(heads))))
    for cat in CATEGORIES:
        cells = []
        for head in heads:
            c = stages_[head]["categories"][cat]
            cells.append(f"{c['total']:>5} ({c['files']}/{c['dirs']}/{c['links']})")
        print(f"{cat:<{width}}  " + "  ".join(f"{x:>16}" for x in cells))
    for label, key in (("total", "total"), ("synced (no *.nosync)", "synced")):
        print(f"{label:<{width}}  " + "  ".join(f"{stages_[h][key]:>16}" for h in heads))
    for head in heads:
        if stages_[head]["other_paths"]:
            print(f"  {head}: other entries: {', '.join(stages_[head]['other_paths'][:10])}")


def stage_notes(found: dict[str, Any]) -> list[str]:
    """One line per stage with its counts by category and what each tool added (printed;
    the page makes a table of them from the JSON's ``stages``, ``tools`` and
    ``pycache_deleted``)."""
    notes = []
    for head, c in found.get("stages", {}).items():
        parts = [f"{n} {v['total']:,}" for n, v in c["categories"].items() if v["total"]]
        line = f"{head}: {c['total']:,} entries ({c['synced']:,} synced): {'; '.join(parts)}"
        if head in found.get("pycache_deleted", {}):
            line += f" (after deleting {found['pycache_deleted'][head]} __pycache__ by hand)"
        if c["other_paths"]:
            line += f"; other: {', '.join(c['other_paths'][:8])}"
        runs = found.get("tools", {}).get(head)
        if runs:
            added = ", ".join(f"{t} {r['added']:+,}" for t, r in runs.items())
            line += f"; added beyond the links by each tool: {added}"
        notes.append(line)
    return notes
