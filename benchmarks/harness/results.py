"""Figures against goals, the tables a benchmark prints, the machine it ran on, and the
JSON file it writes (what ``report.py`` renders into docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from typing import Any, Optional

NOISY = 1.5  # slowest run / fastest run of a case above which the table says so


def figure(
    name: str,
    cases: dict[str, dict[str, Any]],
    num: str,
    den: str,
    goal: Optional[float],
    *,
    info: bool = False,
) -> dict[str, Any]:
    """``num``'s median over ``den``'s, against ``goal`` (a ratio that must not be exceeded).

    ``info``: reported beside the figures, not one of them (never a missed goal);
    ``goal`` None: reported only, with no yardstick.
    """
    if num not in cases or den not in cases:
        return {"name": name, "numerator": num, "denominator": den, "goal": goal, "skipped": True}
    ratio = cases[num]["median"] / cases[den]["median"]
    return {
        "name": name,
        "numerator": num,
        "denominator": den,
        "ratio": ratio,
        "ratio_of_min": cases[num]["min"] / cases[den]["min"],
        "goal": goal,
        "met": goal is None or ratio <= goal,
        "info": info or goal is None,
    }


def seconds_figure(name: str, case: dict[str, Any], goal: float) -> dict[str, Any]:
    """A case's median in seconds against ``goal`` (it must stay below)."""
    value = case["median"]
    return {
        "name": name,
        "value": value,
        "min": case["min"],
        "unit": "s",
        "goal": goal,
        "met": value < goal,
    }


def ratio_text(ratio: float) -> str:
    """Three significant digits (``0.253x``, ``1.60x``, ``130x``): enough to tell a goal's edge."""
    return f"{ratio:,.0f}x" if ratio >= 99.95 else f"{ratio:#.3g}x"


def print_tables(cases: dict[str, dict[str, Any]], figures: list[dict[str, Any]]) -> None:
    """The cases (runs, median, min; noisy ones noted) and the ratio figures."""
    width = max(len(n) for n in cases)
    print(f"\n{'case':<{width}}  {'runs':>4}  {'median ms':>10}  {'min ms':>8}")
    for name, c in cases.items():
        median, low = c["median"] * 1e3, c["min"] * 1e3
        print(f"{name:<{width}}  {len(c['runs']):>4}  {median:>10.1f}  {low:>8.1f}")
    for name, c in cases.items():
        if c["spread"] > NOISY:
            slow, fast = max(c["runs"]) * 1e3, c["min"] * 1e3
            print(f"note: {name} ranged {fast:.0f}-{slow:.0f} ms: noisy (see benchmarks/README)")
    width = max(len(f["name"]) for f in figures)
    print(f"\n{'figure':<{width}}  {'median':>7}  {'min':>7}  {'goal':>7}  result")
    for f in figures:
        goal = "-" if f["goal"] is None else f"<={f['goal']:g}x"
        if f.get("skipped"):
            print(f"{f['name']:<{width}}  {'-':>7}  {'-':>7}  {goal:>7}  skipped")
            continue
        verdict = ("met" if f["met"] else "NOT MET") + (" (info)" if f.get("info") else "")
        if f["goal"] is None:
            verdict = "reported"
        ratio, of_min = ratio_text(f["ratio"]), ratio_text(f["ratio_of_min"])
        print(f"{f['name']:<{width}}  {ratio:>7}  {of_min:>7}  {goal:>7}  {verdict}")


def print_absolute(figures: list[dict[str, Any]]) -> None:
    """Figures that are values (seconds, counts), not ratios."""
    width = max(len(f["name"]) for f in figures)
    print(f"\n{'figure':<{width}}  {'value':>9}  {'goal':>9}  result")
    for f in figures:
        if f["unit"] == "s":
            goal = f"<{f['goal'] * 1e3:.0f} ms"
            value = f"{f['value'] * 1e3:.0f} ms" if "value" in f else "-"
        else:
            goal = f"{f['goal']}" if not f.get("info") else "-"
            value = f"{f['value']:.2f}" if "value" in f else "-"
        if f.get("skipped"):
            verdict = "skipped"
        elif f.get("info"):
            verdict = "reported"
        else:
            verdict = "met" if f["met"] else "NOT MET"
        print(f"{f['name']:<{width}}  {value:>9}  {goal:>9}  {verdict}")


def missed(figures: list[dict[str, Any]]) -> bool:
    """A figure with a goal missed it."""
    return any(not f.get("skipped") and not f.get("info") and not f["met"] for f in figures)


def source_commit() -> Optional[str]:
    """The git commit of the checkout these benchmarks are in (``+`` if it has changes)."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(
            ["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    return {
        "date": datetime.date.today().isoformat(),
        "commit": source_commit(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg": os.getloadavg(),  # other work on the machine skews the figures
    }


def write_json(path: Optional[str], data: dict[str, Any]) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        print(f"\nwrote {path}")


def finish(
    args: argparse.Namespace,
    name: str,
    how: str,
    cases: dict[str, dict[str, Any]],
    figures: list[dict[str, Any]],
    *,
    failed: bool = False,
    **extra: Any,
) -> int:
    """Write the benchmark's JSON file (``--json``); its exit code (1 under ``--strict``
    when a goal was missed or a part ``failed``)."""
    data = {"benchmark": name, "relocate": how, **machine(), "cases": cases, "figures": figures}
    write_json(args.json, {**data, **extra})
    return 1 if args.strict and (missed(figures) or failed) else 0
