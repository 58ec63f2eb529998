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
import sys
from collections.abc import Iterable
from typing import Any, Optional

from sections.charts import draw, matplotlib_missing
from sections.extras import extras
from sections.format import cases_table, figure_row, table
from sections.service import service_figures, service_table

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
