"""``relocate doctor``: findings as data, exit codes, and --fix converging each state."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from relocator.commands import doctor
from relocator.moves.relocation import Wants
from relocator.state.store import Store
from relocator.system import platform
from tests.helpers import drop_hop, make_venv, relocate, relocate_json, relocate_ok, venv_project

FIELDS = {"project", "check", "status", "message", "fixed"}


REPORTS = ("service", "sync-daemons")  # what doctor tells besides problems


def findings(*args: str, code: int, reports: bool = False, **kw: object) -> list[dict[str, object]]:
    result = relocate("doctor", *args, "--json", **kw)  # type: ignore[arg-type]
    assert result.returncode == code, result.stdout + result.stderr
    found = json.loads(result.stdout)
    assert all(set(f) == FIELDS for f in found)
    return found if reports else [f for f in found if f["check"] not in REPORTS]


def adopted(tmp_path: Path, name: str = "p") -> Path:
    project = venv_project(tmp_path / name)
    relocate_ok("adopt", str(project))
    return project


def test_a_healthy_project_and_store(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    found, service = findings(code=0, reports=True)
    assert (service["check"], service["status"]) == ("service", "ok")
    assert "watcher is not running" in str(service["message"])
    assert (found["project"], found["status"], found["fixed"]) == (str(project), "ok", False)
    assert "relocate adopt" not in relocate_ok("doctor")  # nothing to run: no hint


def test_nothing_relocated_is_healthy(tmp_path: Path, store: Path) -> None:
    assert findings(code=0) == []


def test_a_removed_link_is_found_and_fixed(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    drop_hop(project)
    (found,) = findings(code=1)
    assert (found["check"], found["status"]) == ("link", "link-missing")
    assert "--fix" in str(found["message"])
    (fixed,) = findings("--fix", code=0)
    assert fixed["fixed"] is True and "relinked" in str(fixed["message"])
    assert relocate_json("status", str(project))["status"] == "ok"
    assert findings(code=0)[0]["status"] == "ok"


def test_text_output_says_what_is_wrong_and_what_fix_does(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    (project / ".venv").unlink()
    result = relocate("doctor")
    assert result.returncode == 1
    assert "link-missing" in result.stdout and str(project) in result.stdout
    assert "--fix runs relocate adopt" in result.stdout


def test_text_is_one_line_per_problem_and_a_summary(tmp_path: Path, store: Path) -> None:
    healthy = [adopted(tmp_path, "a"), adopted(tmp_path, "b")]
    broken = adopted(tmp_path, "c")
    drop_hop(broken)
    result = relocate("doctor")
    assert result.returncode == 1
    problem, summary = result.stdout.splitlines()
    assert problem.startswith(f"link-missing link {broken}: .venv no longer leads"), problem
    assert problem.endswith("(--fix runs relocate adopt)")
    assert summary == "2 projects ok, 1 problem, trash empty"
    verbose = relocate("doctor", "-v").stdout.splitlines()
    assert verbose[-1] == summary
    assert " ".join(problem.split()) in [" ".join(line.split()) for line in verbose]
    for project in healthy:
        assert f"ok           link    {project}: relocated and working" in verbose, verbose
    assert any(line.startswith("ok           service store: the watcher") for line in verbose)
    fixed = relocate("doctor", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    line, summary = fixed.stdout.splitlines()
    assert line.startswith(f"link-missing link {broken}: ") and line.endswith(
        "; fixed: .venv relinked"
    )
    assert summary == "2 projects ok, 1 fixed, no problems, trash empty"
    assert relocate_ok("doctor").splitlines() == ["3 projects ok, no problems, trash empty"]
    assert relocate_ok("doctor", str(broken)).splitlines() == [  # one project: its line too
        f"ok link {broken}: relocated and working",
        "1 project ok, no problems",
    ]


def test_the_summary_counts_projects_problems_and_the_trash() -> None:
    from relocator.cli import render
    from relocator.commands.doctor import PROBLEM, Finding

    found = [
        Finding("/p/a", "link", "ok", "relocated and working"),
        Finding("/p/b", "link", "ok", "relocated and working"),
        Finding("/p/b", "hidden-pth", PROBLEM, "2 .pth files ...; fixed: cleared", True),
        Finding("/p/c", "venv", "venv-missing", "its store venv is gone"),
        Finding("/p/c", "trees", PROBLEM, ".ruff_cache leads nowhere"),
        Finding(None, "orphan", PROBLEM, "/s/venvs/x has no owner record"),
        Finding(None, "trash", "ok", "the trash holds 3 entries"),
    ]
    lines = render.findings(found, trash=(3, 1_234_000_000))
    assert lines[-1] == "1 project ok, 1 fixed, 3 problems, trash 1.2 GB"
    assert [line.split()[0] for line in lines[:-1]] == [PROBLEM, "venv-missing", PROBLEM, PROBLEM]
    assert render.findings([], trash=(0, 0)) == [
        "nothing relocated yet (relocate adopt PATH relocates a project)"
    ]


def test_a_destroyed_registry_is_rebuilt(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    for name in os.listdir(store):
        if name.startswith("registry.db"):
            os.unlink(store / name)
    (row,) = relocate_json("list")  # rebuilt from the owner records as it opens
    assert (row["project"], row["status"]) == (str(project), "ok")


def test_a_project_the_registry_lost_is_registered_again(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    with sqlite3.connect(store / "registry.db") as db:
        db.execute("DELETE FROM projects")
    assert relocate_json("list") == []
    (found,) = findings(code=1)
    assert (found["check"], found["project"]) == ("registry", str(project))
    assert findings("--fix", code=0)[0]["fixed"] is True
    (row,) = relocate_json("list")
    assert (row["project"], row["status"]) == (str(project), "ok")


def test_a_venv_no_project_links_to_is_listed(tmp_path: Path, store: Path) -> None:
    project = adopted(tmp_path)
    (venv,) = (p for p in (store / "venvs").iterdir() if p.is_dir())
    stray = store / "venvs" / "stray-0000"
    shutil.copytree(venv, stray, symlinks=True)
    shutil.copy(store / "venvs" / f"{venv.name}.json", store / "venvs" / "stray-0000.json")
    found = findings(code=1)
    orphan = [f for f in found if f["check"] == "orphan"]
    assert len(orphan) == 1 and "stray-0000" in str(orphan[0]["message"])
    assert "relocate gc" in str(orphan[0]["message"])
    assert stray.is_dir()  # doctor lists it; only gc removes
    assert relocate_json("status", str(project))["status"] == "ok"


def test_an_unregistered_project_by_path(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "fresh")
    (found,) = findings(str(project), code=1)
    assert (found["status"], found["project"]) == ("in-project", str(project))
    (fixed,) = findings(str(project), "--fix", code=0)
    assert fixed["fixed"] is True
    assert relocate_json("status", str(project))["status"] == "ok"


def test_an_interrupted_adopt_is_found_and_finished(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    env = {**os.environ, "RELOCATOR_FAULT": "adopt:moved"}
    assert relocate("adopt", str(project), env=env).returncode != 0
    # the venv reached the store but was never linked: nothing is registered yet
    found = findings(str(project), code=1)
    assert found[0]["status"] != "ok"
    findings(str(project), "--fix", code=0)
    assert relocate_json("status", str(project))["status"] == "ok"


class Hidden(platform.Platform):
    """macOS's hidden flag, kept in a set: what CPython's site would skip."""

    def __init__(self) -> None:
        self.hidden: set[str] = set()

    def is_hidden(self, path: str) -> bool:
        return path in self.hidden

    def clear_hidden(self, path: str) -> bool:
        had = path in self.hidden
        self.hidden.discard(path)
        return had


def test_hidden_pth_files_are_reported_and_cleared(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "setup.py").write_text("")
    make_venv(project / ".venv")
    relocate_ok("adopt", str(project))
    (sp,) = Path(os.path.realpath(project / ".venv")).glob("lib/python*/site-packages")
    pth = sp / "__editable__.p-0.1.pth"
    pth.write_text(str(project) + "\n")
    (sp / "other.txt").write_text("")
    fake = Hidden()
    fake.hidden |= {str(pth), str(sp / "other.txt")}
    monkeypatch.setattr(platform, "current", fake)
    the_store = Store(str(store))
    found = doctor.examine(store=the_store, wants=Wants())
    (hidden,) = [f for f in found if f.check == "hidden-pth"]
    assert "Python skips them" in hidden.message and not doctor.healthy(found)
    fixed = doctor.examine(store=the_store, fix=True, wants=Wants())
    assert [f.fixed for f in fixed if f.check == "hidden-pth"] == [True]
    assert fake.hidden == {str(sp / "other.txt")}  # only .pth files matter to site
    assert doctor.healthy(doctor.examine(store=the_store, wants=Wants()))


@pytest.mark.slow
def test_marks_a_tool_dropped_are_found_and_put_back(tmp_path: Path, store: Path) -> None:
    from tests.test_lifecycle import relocated_app, uv

    project, venv = relocated_app(tmp_path)
    for cmd in (["venv", "-q", "--clear", ".venv"], ["sync", "-q"]):  # full again, uv's tag
        assert subprocess.run([uv(), *cmd], cwd=project).returncode == 0
    tag = (venv / "CACHEDIR.TAG").read_text()
    assert "relocator" not in tag and tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert findings(code=0)[0]["status"] == "ok"  # uv's own tag is a valid one
    (venv / "CACHEDIR.TAG").unlink()  # a tool that writes none
    (found,) = findings(code=1)
    assert (found["check"], found["status"]) == ("marks", "marks-missing")
    assert findings("--fix", code=0)[0]["fixed"] is True
    assert "relocator" in (venv / "CACHEDIR.TAG").read_text()
    assert findings(code=0)[0]["status"] == "ok"


def test_the_sync_daemons_cpu_is_reported(tmp_path: Path, store: Path) -> None:
    adopted(tmp_path)
    fake = tmp_path / "maestral"  # a Dropbox client's process name
    shutil.copy("/bin/sleep", fake)
    daemon = subprocess.Popen([str(fake), "600"])
    try:
        found = findings(code=0, reports=True)
        (line,) = [f for f in found if f["check"] == "sync-daemons"]
        assert "maestral" in str(line["message"]) and "% CPU" in str(line["message"])
    finally:
        daemon.kill()
        daemon.wait()
