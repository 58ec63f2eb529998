"""bench_trees.py's tables: the project's entries at each stage, mypy's warm run."""

from __future__ import annotations

from typing import Any

from sections.format import cell, code, count, figure_row, seconds, table


def trees_tables(data: dict[str, Any]) -> list[str]:
    """bench_trees.py: the entries under the project at each stage, by category, and
    mypy's warm run with its cache relocated or in the project."""
    from bench_trees import ADOPTED, BEFORE, IN_PLACE, RELOCATED, STEADY, STEADY_PREFIX

    lines: list[str] = []
    stages = data.get("stages", {})
    if stages:
        heads = list(stages)
        cats = list(next(iter(stages.values()))["categories"])
        rows = [[code(c), *(count(stages[h]["categories"][c]) for h in heads)] for c in cats]
        rows.append(["total", *(f"{stages[h]['total']:,}" for h in heads)])
        rows.append(["synced (not under `*.nosync`)", *(f"{stages[h]['synced']:,}" for h in heads)])
        beyond = [f"**{stages[h]['beyond_own_and_links']:,}**" for h in heads]
        rows.append(["**beyond the project's own files and the links**", *beyond])
        deleted = data.get("pycache_deleted", {})
        rows.append(
            ["`__pycache__` deleted by hand first", *(str(deleted.get(h, "-")) for h in heads)]
        )
        tools = data.get("tools", {})
        names = list(next(iter(tools.values()), {}))
        if names:
            added = [
                " / ".join(f"{tools[h][t]['added']:+,}" for t in names) if h in tools else "-"
                for h in heads
            ]
            rows.append([f"added by {' / '.join(names)} (beyond the links)", *added])
        lines += ["Entries under the project (files / folders / links), never following a link:\n"]
        lines += table(["category", *map(code, heads)], rows, right=range(1, len(heads) + 1))
        for h in heads:
            if stages[h]["other_paths"]:
                lines.append(f"- {h}: other entries: {cell(', '.join(stages[h]['other_paths']))}")
        left = {
            h: stages[h]["beyond_own_and_links"] for h in (STEADY, STEADY_PREFIX) if h in stages
        }
        note = (
            f"Stages: _{BEFORE}_: mypy, ruff, pytest and tox have run in the project; "
            f"_{ADOPTED}_: right after `relocate adopt --trees`, which leaves the "
            "`__pycache__` folders (scan reports them, removal is on request); the two "
            "re-runs: the project's `__pycache__` folders deleted by hand first (the row "
            "below the totals), then the four tools run again through the links, with "
            "`tox.ini` as written and with "
            "`set_env = PYTHONPYCACHEPREFIX={toxworkdir}/bytecode` in it. "
        )
        if STEADY_PREFIX in left and STEADY in left:
            pycache = stages[STEADY]["categories"].get("__pycache__ (and *.pyc)", {}).get("total")
            holds = "holds" if left[STEADY_PREFIX] == 0 else "does not hold"
            note += (
                f"The goal, only the link entries left beyond the project's own files, "
                f"{holds} with tox's `set_env` line ({left[STEADY_PREFIX]:,} left); without "
                f"it {left[STEADY]:,} are left"
            )
            if pycache:
                note += (
                    f": tox's own env, a Python without the venv's bytecode prefix, writes "
                    f"`__pycache__` beside the sources ({pycache:,} entries)"
                )
            note += "."
        lines += [note, ""]
    cases = data.get("cases", {})
    if IN_PLACE in cases and RELOCATED in cases:
        rows = []
        for name in (IN_PLACE, RELOCATED):
            c = cases[name]
            iqr = f"{seconds(c['q1'])} - {seconds(c['q3'])}" if "q1" in c else "?"
            top = seconds(c["max"]) if "max" in c else "?"
            rows.append(
                [code(name), str(len(c["runs"])), seconds(c["median"]), iqr, seconds(c["min"]), top]
            )
        head = ["mypy's second (warm) run", "runs", "median", "interquartile range", "min", "max"]
        lines += table(head, rows, right=range(1, 6))
        figure = next((f for f in data.get("figures", []) if "ratio" in f), None)
        if figure is not None:
            row = figure_row(figure)
            a, b = cases[IN_PLACE], cases[RELOCATED]
            overlap = "q1" in a and "q1" in b and a["q1"] <= b["q3"] and b["q1"] <= a["q3"]
            lines.append(
                f"Relocated / in the project: {row[1]} (ratio of medians; of the fastest runs "
                f"{row[2]}), goal {row[3]}: {row[4]}. The same mypy (the relocated venv's) "
                "for both, each project checked once untimed first."
                + (" The interquartile ranges overlap." if overlap else "")
                + "\n"
            )
    return lines
