"""docs/benchmarks.md from the benchmarks' JSON files (what ``run_all.py`` leaves in
``benchmarks/results/``).

:func:`render` takes the JSON files and returns the page; :func:`write_report`
also writes it, and with matplotlib importable a bar chart of each benchmark's
medians beside it (``docs/benchmarks/<name>.png``). Standard library only
(matplotlib optional); no benchmark runs here:
``python benchmarks/report.py benchmarks/results/*.json [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from collections.abc import Iterable
from typing import Any, Optional

from harness.results import ratio_text as ratio

#: Benchmark name -> (title, script), in the page's order.
BENCHMARKS = {
    "adopt": ("`relocate adopt` against `cp -a` and `mv`", "bench_adopt.py"),
    "python": ("`relocate python`, the editor look-up", "bench_python.py"),
    "lookup": (
        "`relocate python` against Poetry's, Pipenv's and PDM's look-ups",
        "bench_lookup.py",
    ),
    "shells": ("the shell hooks against direnv's", "bench_shells.py"),
    "lifecycle": ("a second machine, `doctor`, machine switches", "bench_lifecycle.py"),
    "scan": ("the scan's walk against `find`", "bench_scan.py"),
    "service": ("the watcher: idle CPU, time to adoption", "bench_service.py"),
    "trees": ("`adopt --trees`: what stays in the synced project, mypy's cache", "bench_trees.py"),
    "health": ("what judging every venv costs", "bench_health.py"),
    "start": ("every no-op command against a bare Python; the repair against uv", "bench_start.py"),
}
MACHINE = ("date", "commit", "cpus", "platform", "python")
IDLE_GOAL, SLACK_GOAL = 1.0, 2.0  # bench_service.py's (read from it when it imports)


# -- formatting --------------------------------------------------------------------------


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
    if "ratio" in f:  # bench_adopt.figure
        has_goal = f.get("goal") is not None
        return [
            name,
            ratio(f["ratio"]),
            ratio(f["ratio_of_min"]),
            goal_text(f),
            verdict(f["met"], f.get("info", False), has_goal),
        ]
    if "seconds" in f:  # bench_shells.cost_figure
        has_goal = f.get("goal_seconds") is not None
        return [
            name,
            seconds(f["seconds"]),
            seconds(f["seconds_min"]),
            goal_text(f),
            verdict(f["met"], False, has_goal),
        ]
    if "forks" in f:  # bench_shells.fork_figure
        made = f"{f['forks']:.2f} forks, {f['execs']:.2f} execs"
        has_goal = f.get("goal") is not None
        return [name, made, "", goal_text(f), verdict(f["met"], False, has_goal)]
    if "value" in f:  # bench_lifecycle.absolute_figures, and the service's below
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


def count(c: dict[str, int]) -> str:
    """An entry count with its files / folders / links: ``4,399 (3,992 / 403 / 4)``."""
    if not c["total"]:
        return "0"
    return f"{c['total']:,} ({c['files']:,} / {c['dirs']:,} / {c['links']:,})"


def code(text: str) -> str:
    """``text`` with its paths and names in backticks (``__pycache__`` is not bold)."""
    return re.sub(r"[\w.*]*[_.*][\w.*]*|\bNAME\b", lambda m: f"`{m.group()}`", text)


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


def run_line(data: dict[str, Any]) -> str:
    run = data.get("run")
    if run is None:
        what = "run by hand (not by run_all.py)"
        run = {}
    elif run.get("quick"):
        what = "**quick run** (`--quick`: few runs, small sizes)"
    else:
        what = "full run"
    bits = [what]
    for key in ("date", "commit"):
        if data.get(key):
            bits.append(f"{key} {data[key]}")
    if data.get("loadavg"):
        bits.append("load average " + ", ".join(f"{x:.2f}" for x in data["loadavg"]))
    if run.get("seconds") is not None:
        bits.append(f"took {run['seconds']:.0f} s")
    return "; ".join(bits) + "."


def section(name: str, data: dict[str, Any], chart: Optional[str]) -> list[str]:
    title, script = BENCHMARKS.get(name, (name, f"bench_{name}.py"))
    lines = [f"## {name}: {title}", "", run_line(data), ""]
    run = data.get("run", {})
    if run.get("command"):
        lines += ["```sh", run["command"], "```", ""]
    if run.get("returncode") not in (None, 0) and not data.get("cases") and not data.get("modes"):
        lines += [f"Not measured: `{script}` exited {run['returncode']}:", "", "```"]
        lines += [*run.get("error", "").splitlines()[-15:], "```", ""]
        return lines
    if data.get("relocate"):
        lines += [f"relocate: {data['relocate']}.", ""]
    if chart:
        lines += [f"![{name}: medians]({chart})", ""]
    if name == "service":
        lines += service_table(data)
        figures = service_figures(data)
    else:
        lines += cases_table(data.get("cases", {})) if data.get("cases") else []
        figures = data.get("figures", [])
    if figures:
        rows = [figure_row(f) for f in figures]
        head = ["value", ""] if name == "service" else ["median", "min"]
        lines += table(["figure", *head, "goal", "result"], rows, right=(1, 2))
    lines += extras(name, data)
    return lines


# -- the page ----------------------------------------------------------------------------


def load(paths: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Benchmark name -> its JSON, in the page's order (unknown names last)."""
    found = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        found[data.get("benchmark") or os.path.splitext(os.path.basename(path))[0]] = data
    order = [n for n in BENCHMARKS if n in found] + sorted(set(found) - set(BENCHMARKS))
    return {n: found[n] for n in order}


def machine_table(results: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for key in MACHINE:
        values = sorted({str(d[key]) for d in results.values() if d.get(key) is not None})
        rows.append([key, ", ".join(values) if values else "?"])
    loads = [f"{n} {d['loadavg'][0]:.2f}" for n, d in results.items() if d.get("loadavg")]
    rows.append(["load average (1 min, as each ended)", "; ".join(loads) or "?"])
    hows = sorted({d["relocate"] for d in results.values() if d.get("relocate")})
    rows.append(["relocate", "; ".join(hows) or "?"])
    return table(["", ""], rows)


def summary(results: dict[str, dict[str, Any]]) -> list[str]:
    """Every figure with a goal, from every benchmark."""
    rows = []
    for name, data in results.items():
        figures = service_figures(data) if name == "service" else data.get("figures", [])
        quick = " (quick)" if data.get("run", {}).get("quick") else ""
        for f in figures:
            if f.get("info") or (f.get("goal") is None and f.get("goal_seconds") is None):
                continue
            row = figure_row(f)
            rows.append([f"{name}{quick}", row[0], row[1], row[3], row[4]])
    if not rows:
        return []
    head = ["benchmark", "figure", "value (median)", "goal", "result"]
    return ["## Summary", "", "Every figure with a goal:", "", *table(head, rows, right=(2,))]


def render(
    paths: Iterable[str], charts: Optional[dict[str, str]] = None, chart_note: str = ""
) -> str:
    """The page, from the JSON files ``paths``; ``charts``: benchmark name -> image link."""
    results = load(paths)
    charts = charts or {}
    quick = [n for n, d in results.items() if d.get("run", {}).get("quick")]
    dates = sorted({d["date"] for d in results.values() if d.get("date")})
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/run_all.py from benchmarks/results/*.json: do not edit. -->",
        "",
        f"Measured {' to '.join([dates[0], dates[-1]] if len(dates) > 1 else dates) or '?'} "
        "by the scripts in `benchmarks/`; [its README](../benchmarks/README.md) describes "
        "each benchmark, its cases and where its goals come from. Times are wall-clock: "
        "the median and the fastest of the runs. A figure is a ratio of medians (and of "
        "the fastest runs) or a measured value, against its goal; `reported` figures "
        "have none.",
        "",
    ]
    if quick:
        which = "All the figures" if len(quick) == len(results) else "The figures of "
        which += "" if len(quick) == len(results) else ", ".join(quick)
        lines += [
            f"> **Quick run.** {which} came from `run_all.py --quick`: a few "
            "runs on small trees, a smoke test of the scripts rather than a measurement. "
            "Each section says which kind of run it shows.",
            "",
        ]
    lines += ["To reproduce (about 20 minutes; `--quick`: about 5):", "", "```sh"]
    lines += [
        ". .test-env/bin/activate  # or a fresh venv with `pip install .`",
        "python benchmarks/run_all.py            # every benchmark, then this page",
        "python benchmarks/run_all.py --quick    # small sizes and runs: a smoke test",
        "python benchmarks/run_all.py --only lookup,scan   # some again; the page from all",
        "```",
        "",
        "## Machine",
        "",
        *machine_table(results),
    ]
    if chart_note:
        lines += [chart_note, ""]
    lines += summary(results)
    for name, data in results.items():
        lines += section(name, data, charts.get(name))
    return "\n".join(lines).rstrip() + "\n"


# -- charts -----------------------------------------------------------------------------


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


def write_report(paths: list[str], out: str, charts_dir: Optional[str] = None) -> str:
    """Write the page at ``out`` (and the charts, with matplotlib, in ``charts_dir``)."""
    charts: dict[str, str] = {}
    note = ""
    results = load(paths)
    if charts_dir is None:
        charts_dir = os.path.splitext(out)[0]
    if matplotlib_missing():
        note = (
            f"No charts: matplotlib is not importable in the interpreter that wrote this page "
            f"({sys.executable})."
        )
    for name, data in results.items():
        image = os.path.join(charts_dir, f"{name}.png")
        if not note and draw(name, data, image):
            charts[name] = os.path.relpath(image, os.path.dirname(os.path.abspath(out)))
        elif os.path.exists(image):
            os.unlink(image)  # a chart of an earlier run would not match the tables
    text = render(paths, charts, note)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return text


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("json", nargs="+", help="the benchmarks' JSON files")
    p.add_argument("--out", default="docs/benchmarks.md", help="the page (docs/benchmarks.md)")
    p.add_argument("--charts", help="where the charts go (beside the page, in its own name)")
    args = p.parse_args(argv)
    write_report(args.json, args.out, args.charts)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
