"""Markdown tables, durations and ratios, and one row shape for every figure a benchmark
writes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from harness.results import ratio_text as ratio


def seconds(value: float) -> str:
    """A duration with a unit that suits it: ``51.2 us``, ``20.1 ms``, ``2.29 s``."""
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(head: list[str], rows: list[list[str]], right: Iterable[int] = ()) -> list[str]:
    """A Markdown table; the columns in ``right`` are right-aligned."""
    aligned = set(right)
    rule = ["---:" if i in aligned else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def verdict(met: bool, info: bool, has_goal: bool) -> str:
    if not has_goal:
        return "reported"
    text = "met" if met else "**NOT MET**"
    return f"{text} (reported)" if info else text


# -- figures: one row shape for every benchmark's kinds ---------------------------------


def figure_row(f: dict[str, Any]) -> list[str]:
    """[figure, median, min, goal, result] for any figure a benchmark writes."""
    name = f["name"]
    if f.get("skipped"):
        return [name, "-", "-", goal_text(f), "skipped"]
    if "ratio" in f:  # harness.results.figure
        has_goal = f.get("goal") is not None
        return [
            name,
            ratio(f["ratio"]),
            ratio(f["ratio_of_min"]),
            goal_text(f),
            verdict(f["met"], f.get("info", False), has_goal),
        ]
    if "seconds" in f:  # harness.results.cost_figure
        has_goal = f.get("goal_seconds") is not None
        return [
            name,
            seconds(f["seconds"]),
            seconds(f["seconds_min"]),
            goal_text(f),
            verdict(f["met"], False, has_goal),
        ]
    if "forks" in f:  # harness.results.fork_figure
        made = f"{f['forks']:.2f} forks, {f['execs']:.2f} execs"
        has_goal = f.get("goal") is not None
        return [name, made, "", goal_text(f), verdict(f["met"], False, has_goal)]
    if "value" in f:  # seconds_figure, bench_lifecycle's and bench_trees' counts, the service's
        info = f.get("info", False)
        if f.get("unit") == "s":
            value, low = seconds(f["value"]), seconds(f["min"]) if "min" in f else ""
        elif f.get("unit") == "%":
            value, low = f"{f['value']:.3f}% of a core", ""
        else:
            value, low = f"{f['value']:.2f} {f.get('unit', '')}".strip(), ""
            if "max" in f:
                low = f"max {f['max']}"
        has_goal = not (info and f.get("unit") == "entries")
        return [
            name,
            value,
            low,
            goal_text(f) if has_goal else "-",
            verdict(f["met"], info, has_goal),
        ]
    return [name, "?", "?", goal_text(f), "?"]


def goal_text(f: dict[str, Any]) -> str:
    if "goal_seconds" in f:
        return "-" if f["goal_seconds"] is None else f"<= {seconds(f['goal_seconds'])}"
    goal = f.get("goal")
    if goal is None:
        return "-"
    if "forks" in f:
        return f"{goal:g}"
    unit = f.get("unit")
    if unit == "s":
        return f"< {goal:g} s" if goal >= 1 else f"< {seconds(goal)}"
    if unit == "%":
        return f"< {goal:g}%"
    if unit == "entries":
        return f"{goal}"
    return f"<= {goal:g}x"


# -- each benchmark ---------------------------------------------------------------------


def cases_table(cases: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        [name, str(len(c["runs"])), seconds(c["median"]), seconds(c["min"])]
        for name, c in cases.items()
    ]
    return table(["case", "runs", "median", "min"], rows, right=(1, 2, 3))


def count(c: dict[str, int]) -> str:
    """An entry count with its files / folders / links: ``4,399 (3,992 / 403 / 4)``."""
    if not c["total"]:
        return "0"
    return f"{c['total']:,} ({c['files']:,} / {c['dirs']:,} / {c['links']:,})"


def code(text: str) -> str:
    """``text`` with its paths and names in backticks (``__pycache__`` is not bold)."""
    return re.sub(r"[\w.*]*[_.*][\w.*]*|\bNAME\b", lambda m: f"`{m.group()}`", text)
