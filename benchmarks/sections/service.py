"""bench_service.py's section: it writes raw values, the figures come from them here."""

from __future__ import annotations

import statistics
from typing import Any

from sections.format import table

IDLE_GOAL, SLACK_GOAL = 1.0, 2.0  # bench_service.py's (read from it when it imports)


def service_figures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_service.py prints its figures but writes the raw values: the figures from them."""
    idle_goal, slack_goal = service_goals()
    quiet = data.get("quiet", 3.0)
    figures = []
    for mode, r in data.get("modes", {}).items():
        figures.append(
            {
                "name": f"{mode}: idle CPU over {data.get('seconds', 0):g} s",
                "value": r["idle_percent"],
                "unit": "%",
                "goal": idle_goal,
                "met": r["idle_percent"] < idle_goal,
            }
        )
        worst = max(r["delays"]) if r["delays"] else float("inf")
        figures.append(
            {
                "name": f"{mode}: last change to adopted, slowest of {len(r['delays'])}",
                "value": worst,
                "unit": "s",
                "goal": quiet + slack_goal,
                "met": worst - quiet < slack_goal,
            }
        )
    return figures


def service_goals() -> tuple[float, float]:
    try:
        from bench_service import IDLE_GOAL as idle
        from bench_service import SLACK_GOAL as slack
    except ImportError:  # psutil missing: the values it had when this was written
        return IDLE_GOAL, SLACK_GOAL
    return idle, slack


def service_table(data: dict[str, Any]) -> list[str]:
    rows = []
    for mode, r in data.get("modes", {}).items():
        delays = sorted(r["delays"])
        median = statistics.median(delays)
        rows.append(
            [
                mode,
                f"{r['files']:,}",
                f"{r['first_pass_cpu_s']:.2f} s",
                f"{r['idle_percent']:.3f}%",
                f"{median:.2f} s",
                f"{delays[0]:.2f} s",
                f"{delays[-1]:.2f} s",
                str(len(delays)),
            ]
        )
    head = [
        "mode",
        "files",
        "first pass (CPU)",
        "idle CPU",
        "to adopted, median",
        "min",
        "max",
        "venvs",
    ]
    lines = table(head, rows, right=range(1, 8))
    lines.insert(
        0,
        f"Idle CPU: the service's CPU time over {data.get('seconds', 0):g} s of wall time, "
        f"as a share of one core. To adopted: from a new venv's last change to `.venv` "
        f"being the link (quiet window {data.get('quiet', 0):g} s).\n",
    )
    return lines
