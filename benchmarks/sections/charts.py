"""A bar chart of each benchmark's medians, with matplotlib (optional)."""

from __future__ import annotations

import os
import statistics
from typing import Any


def chart_values(name: str, data: dict[str, Any]) -> list[tuple[str, list[tuple[str, float]], str]]:
    """Panels of (title, [(label, value)], unit) to draw for one benchmark."""
    if name == "service":
        modes = data.get("modes", {})
        idle = [(m, r["idle_percent"]) for m, r in modes.items()]
        delay = [(m, statistics.median(r["delays"])) for m, r in modes.items() if r["delays"]]
        return [
            ("idle CPU, % of one core", idle, "%"),
            ("last change to adopted (median), s", delay, "s"),
        ]
    cases = data.get("cases", {})
    if not cases:
        return []
    return [("median (wall clock)", [(n, c["median"]) for n, c in cases.items()], "time")]


def draw(name: str, data: dict[str, Any], path: str) -> bool:
    """A horizontal bar chart of ``data``'s medians at ``path``; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels = [p for p in chart_values(name, data) if p[1]]
    if not panels:
        return False
    height = sum(0.9 + 0.32 * len(values) for _, values, _ in panels)
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, max(2.0, height)), squeeze=False)
    for ax, (heading, values, kind) in zip(axes[:, 0], panels):
        labels = [label for label, _ in values]
        numbers = [v for _, v in values]
        title, unit = heading, kind
        if kind == "time":
            scale, unit = (1e6, "us") if max(numbers) < 1e-3 else (1e3, "ms")
            numbers = [v * scale for v in numbers]
            if min(numbers) > 0 and max(numbers) / min(numbers) > 50:
                ax.set_xscale("log")
                title += ", log scale"
        bars = ax.barh(range(len(numbers)), numbers, color="#4C72B0")
        ax.set_yticks(range(len(numbers)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.set_title(title, fontsize=9)
        texts = [f"{v:,.0f}" if v >= 100 else f"{v:.3g}" for v in numbers]
        ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
        ax.margins(x=0.15)
    quick = " (quick run)" if data.get("run", {}).get("quick") else ""
    fig.suptitle(f"{name}{quick}", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def matplotlib_missing() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return True
    return False
