"""Every benchmark module loads over the harness, and ``--quick`` gives its small sizes."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness.cli import parse, parser

HERE = Path(__file__).parent
BENCHMARKS = sorted(p.stem for p in HERE.glob("bench_*.py"))


def test_quick_replaces_defaults_but_not_what_was_given() -> None:
    p = parser("doc", runs=10, warmup=2)
    p.add_argument("--projects", type=int, default=200)
    assert parse(p, [], runs=3, projects=20).runs == 10
    quick = parse(p, ["--quick", "--projects", "7"], runs=3, projects=20)
    assert (quick.runs, quick.warmup, quick.projects) == (3, 2, 7)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_parses_quick_with_fewer_runs(name: str) -> None:
    module = importlib.import_module(name)
    full, quick = module.parse_args([]), module.parse_args(["--quick"])
    assert quick.quick and not full.quick
    assert quick.runs <= full.runs
    assert vars(quick) != {**vars(full), "quick": True}, f"{name}: --quick changes nothing"


def test_bench_python_runs_quick_in_seconds(tmp_path: Path) -> None:
    out = tmp_path / "python.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELOCATOR_")}
    env.update(HOME=str(tmp_path / "home"), RELOCATOR_HOME=str(tmp_path / "store"))
    cmd = [sys.executable, str(HERE / "bench_python.py"), "--quick", "--json", str(out)]
    cmd += ["--tmp", str(tmp_path), "--module"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    data = json.loads(out.read_text())
    assert data["benchmark"] == "python"
    assert all(len(c["runs"]) == 5 for c in data["cases"].values())
    assert {f["name"] for f in data["figures"]} >= {"relocate python / venv python -c pass"}
