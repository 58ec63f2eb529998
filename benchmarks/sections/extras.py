"""What each benchmark reports beside its cases and figures."""

from __future__ import annotations

from typing import Any

from sections.format import cell, table
from sections.trees import trees_tables


def extras(name: str, data: dict[str, Any]) -> list[str]:
    """What a benchmark reports beside its cases and figures."""
    lines: list[str] = []
    if name == "scan" and data.get("speeds"):
        rows = [[n, f"{s['median']:,.0f}", f"{s['best']:,.0f}"] for n, s in data["speeds"].items()]
        files = data.get("files", 0)
        lines += [f"Files per second ({files:,} files):\n"]
        lines += table(["case", "files/s (median)", "files/s (best)"], rows, right=(1, 2))
    if name == "lifecycle" and data.get("switches"):
        rows = []
        for mode, r in data["switches"].items():
            per = " ".join(str(c) for c in r["changed_per_switch"])
            left = ", ".join(f"`{p}` ({k})" for p, k in r["left_in_synced_tree"].items()) or "-"
            rows.append([mode, per, f"{r['mean']:.2f}", left])
        lines += ["Synced entries changed per machine switch:\n"]
        lines += table(["mode", "per switch", "mean", "left in the synced tree"], rows, right=(2,))
    if name == "lookup":
        rows = [[n, t.get("version", "?")] for n, t in data.get("tools", {}).items()]
        rows += [[n, f"skipped: {why}"] for n, why in data.get("skipped", {}).items()]
        if rows:
            lines += table(["tool", "version"], rows)
        for case, printed in data.get("prints", {}).items():
            lines.append(f"- `{case}` printed `{printed}`")
        if data.get("prints"):
            lines.append("")
    if name == "shells" and data.get("shells"):
        found = ", ".join(f"{v}" for v in data["shells"].values())
        lines.append(f"Shells: {found}.\n")
    if name == "trees":
        lines += trees_tables(data)
    for note in data.get("notes", []):
        lines.append(f"- note: {cell(note)}")
    for part, message in data.get("failures", {}).items():
        lines.append(f"- FAILED ({part}): {cell(message)}")
    if data.get("notes") or data.get("failures"):
        lines.append("")
    return lines
