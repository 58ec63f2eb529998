"""The page from JSON files, without running a benchmark: ``pytest benchmarks/test_report.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import report  # benchmarks/ is on sys.path: pytest puts a test file's folder there
from harness.results import figure

MACHINE = {
    "date": "2026-11-22",
    "commit": "61e57eb+",
    "cpus": 2,
    "platform": "Linux-6.18-x86_64",
    "python": "3.11.7",
    "loadavg": [1.5, 1.2, 1.0],
    "relocate": "console script /x/bin/relocate",
}


def case(*runs: float) -> dict[str, Any]:
    return {"runs": list(runs), "median": sorted(runs)[len(runs) // 2], "min": min(runs)}


def adopt(quick: bool) -> dict[str, Any]:
    cases = {"adopt small": case(0.08, 0.09, 0.085), "cp -a big": case(2.0, 2.2, 1.9)}
    figures = [
        figure("adopt small / cp -a big", cases, "adopt small", "cp -a big", 0.25),
        figure("missing / cp", cases, "missing", "cp -a big", 1.5),
    ]
    run = {"quick": quick, "command": "python benchmarks/bench_adopt.py --runs 3", "seconds": 9}
    return {"benchmark": "adopt", **MACHINE, "cases": cases, "figures": figures, "run": run}


def lookup() -> dict[str, Any]:
    cases = {"venv python -c pass": case(0.01, 0.012), "relocate python": case(0.03, 0.031)}
    cases["poetry env info -p"] = case(1.5, 1.6)
    figures = [
        figure(
            "relocate python / poetry env info -p",
            cases,
            "relocate python",
            "poetry env info -p",
            None,
        ),
        figure(
            "relocate python / pdm info --python",
            cases,
            "relocate python",
            "pdm info --python",
            None,
        ),
    ]
    return {
        "benchmark": "lookup",
        **MACHINE,
        "cases": cases,
        "figures": figures,
        "tools": {"poetry": {"executable": "/t/poetry", "version": "Poetry (version 2.5.1)"}},
        "skipped": {"pdm": "pdm could not be installed: offline"},
        "prints": {"poetry env info -p": "/w/app/.venv"},
        "run": {"quick": False, "returncode": 0, "seconds": 40},
    }


def shells() -> dict[str, Any]:
    cases = {
        "bash: relocator, per cd": case(5e-5, 5.1e-5),
        "bash: direnv, per cd": case(0.012, 0.011),
    }
    figures = [
        figure("bash: per cd", cases, "bash: relocator, per cd", "bash: direnv, per cd", 0.01),
        {
            "name": "bash: per prompt",
            "case": "x",
            "seconds": 9.8e-6,
            "seconds_min": 9.7e-6,
            "goal_seconds": 20e-6,
            "met": True,
            "info": False,
        },
        {
            "name": "fish: rc line",
            "case": "y",
            "seconds": 0.0335,
            "seconds_min": 0.033,
            "goal_seconds": None,
            "met": True,
            "info": True,
        },
        {
            "name": "bash: processes per cd",
            "forks": 0.0,
            "execs": 0.0,
            "threads": 0.0,
            "goal": 0.0,
            "met": True,
            "info": False,
        },
    ]
    return {
        "benchmark": "shells",
        **MACHINE,
        "cases": cases,
        "figures": figures,
        "shells": {"bash": "GNU bash, version 5.2.15"},
    }


def lifecycle() -> dict[str, Any]:
    figures = [
        {
            "name": "doctor (median)",
            "value": 0.17,
            "min": 0.14,
            "unit": "s",
            "goal": 1.0,
            "met": True,
            "info": False,
        },
        {
            "name": "churn, relocator",
            "value": 0.0,
            "max": 0,
            "unit": "entries",
            "goal": 0,
            "met": True,
            "info": False,
        },
        {
            "name": "churn, uv central",
            "value": 1.0,
            "max": 1,
            "unit": "entries",
            "goal": 0,
            "met": False,
            "info": True,
        },
        {
            "name": "repair / uv sync",
            "numerator": "a",
            "denominator": "b",
            "goal": 1.2,
            "skipped": True,
        },
    ]
    switches = {
        "relocator": {
            "changed_per_switch": [1, 0, 0, 0],
            "mean": 0.25,
            "left_in_synced_tree": {".venv": "link"},
        }
    }
    return {
        "benchmark": "lifecycle",
        **MACHINE,
        "cases": {},
        "figures": figures,
        "switches": switches,
        "notes": [],
        "failures": {"lock": "uv lock failed: offline"},
    }


def service() -> dict[str, Any]:
    modes = {
        "events": {
            "files": 10000,
            "first_pass_cpu_s": 0.5,
            "idle_percent": 0.05,
            "delays": [3.4, 3.6],
        },
        "poll": {
            "files": 10000,
            "first_pass_cpu_s": 0.6,
            "idle_percent": 1.7,
            "delays": [3.9, 5.5],
        },
    }
    return {
        "benchmark": "service",
        **MACHINE,
        "quiet": 3.0,
        "seconds": 20.0,
        "modes": modes,
        "run": {"quick": True},
    }


def failed() -> dict[str, Any]:
    run = {
        "quick": True,
        "command": "python benchmarks/bench_scan.py",
        "returncode": 1,
        "seconds": 2,
        "error": "Traceback\nSystemExit: missing: direnv",
    }
    return {"benchmark": "scan", **MACHINE, "run": run}


def write(tmp: Path, *datas: dict[str, Any]) -> list[str]:
    paths = []
    for data in datas:
        path = tmp / f"{data['benchmark']}.json"
        path.write_text(json.dumps(data))
        paths.append(str(path))
    return paths


def test_every_kind_of_figure_renders(tmp_path: Path) -> None:
    paths = write(tmp_path, service(), shells(), adopt(True), lookup(), lifecycle(), failed())
    page = report.render(paths)
    # the page's order, not the files'
    sections = [line for line in page.splitlines() if line.startswith("## ")]
    assert [s.split(":")[0] for s in sections] == [
        "## Machine",
        "## Summary",
        "## adopt",
        "## lookup",
        "## shells",
        "## lifecycle",
        "## scan",
        "## service",
    ]
    assert "| adopt small / cp -a big | 0.0425x | 0.0421x | <= 0.25x | met |" in page
    assert "| missing / cp | - | - | <= 1.5x | skipped |" in page
    assert "| relocate python / poetry env info -p | 0.0194x | 0.0200x | - | reported |" in page
    assert "| bash: per prompt | 9.8 us | 9.7 us | <= 20.0 us | met |" in page
    assert "| fish: rc line | 33.5 ms | 33.0 ms | - | reported |" in page
    assert "| bash: processes per cd | 0.00 forks, 0.00 execs |  | 0 | met |" in page
    assert "| doctor (median) | 170.0 ms | 140.0 ms | < 1 s | met |" in page
    assert "| churn, uv central | 1.00 entries | max 1 | - | reported |" in page
    assert "| events: idle CPU over 20 s | 0.050% of a core |  | < 1% | met |" in page
    assert "| poll: idle CPU over 20 s | 1.700% of a core |  | < 1% | **NOT MET** |" in page
    assert (
        "| poll: last change to adopted, slowest of 2 | 5.50 s |  | < 5 s | **NOT MET** |" in page
    )
    assert "pdm | skipped: pdm could not be installed: offline" in page
    assert "- FAILED (lock): uv lock failed: offline" in page
    assert "Not measured: `bench_scan.py` exited 1:" in page and "missing: direnv" in page
    assert "find -printf" not in page
    # quick runs are named, per section and at the top
    assert "The figures of adopt, scan, service came from `run_all.py --quick`" in page
    assert page.count("**quick run**") == 3
    # the summary holds the goals only
    summary = page.split("## Summary")[1].split("\n## ")[0]
    assert "adopt (quick) | adopt small / cp -a big" in summary
    assert "reported" not in summary and "uv central" not in summary
    assert "| cpus | 2 |" in page and "| commit | 61e57eb+ |" in page


def test_a_full_run_says_nothing_of_quick(tmp_path: Path) -> None:
    page = report.render(write(tmp_path, adopt(False)))
    assert "quick" not in page.lower().replace("--quick", "")


def test_a_quick_run_says_so_at_the_top(tmp_path: Path) -> None:
    page = report.render(write(tmp_path, adopt(True)))
    assert "> **Quick run.** All the figures came from `run_all.py --quick`" in page


def test_a_ratio_at_a_goal_s_edge_shows_which_side() -> None:
    assert report.ratio(0.2525) == "0.253x"  # NOT MET against 0.25x: not "0.25x"
    assert [report.ratio(r) for r in (1.0, 3.6, 99.96, 149.35, 0.0194)] == [
        "1.00x",
        "3.60x",
        "100x",
        "149x",
        "0.0194x",
    ]


def test_write_report_without_matplotlib_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "matplotlib_missing", lambda: True)
    charts = tmp_path / "docs" / "benchmarks"
    charts.mkdir(parents=True)
    (charts / "adopt.png").write_bytes(b"old")
    out = tmp_path / "docs" / "benchmarks.md"
    text = report.write_report(write(tmp_path, adopt(True), service()), str(out))
    assert out.read_text() == text
    assert "No charts: matplotlib is not importable" in text and "![" not in text
    assert not (charts / "adopt.png").exists()  # an old chart would not match the tables


def test_write_report_draws_a_chart_per_benchmark(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "docs" / "benchmarks.md"
    text = report.write_report(write(tmp_path, adopt(True), shells(), service()), str(out))
    for name in ("adopt", "shells", "service"):
        assert f"![{name}: medians](benchmarks/{name}.png)" in text
        assert (tmp_path / "docs" / "benchmarks" / f"{name}.png").stat().st_size > 1000
    assert "No charts" not in text
