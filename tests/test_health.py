"""``ok`` means a venv that works: status, list and doctor judge the interpreter against
``pyvenv.cfg``, the site-packages it reads, console scripts' shebangs and the backup
marks, by reading alone; adopt converges each state they name (doctor --fix too), and on
a relocated project marks the venv again and reports the Python it runs now."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relocator.commands import adoption
from relocator.paths.storeroot import CACHEDIR_TAG
from relocator.state.store import Store
from relocator.system import platform
from relocator.venv import projectstatus, venvcheck
from tests.helpers import (
    make_venv,
    one_clean_error_line,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    site_packages,
    venv_project,
)
from tests.test_platform import Recording

#: uv 0.13's CACHEDIR.TAG: the signature alone; older uv and virtualenv add comment lines.
UV_TAG = "Signature: 8a477f597d28d172789f06886806bc55"
VIRTUALENV_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by Python virtualenv.\n"
    "# For information about cache directory tags, see:\n"
    "#   https://bford.info/cachedir/"
)


def python_of(minor: str) -> str:
    """An interpreter of Python ``minor`` on this machine, found without PATH's shims (the
    tests change HOME, so pyenv's versions are looked for under the user's real home),
    else on PATH (CI's actions/setup-python puts each version it installs there); a
    missing one fails the test."""
    import glob
    import pwd

    home = pwd.getpwuid(os.getuid()).pw_dir
    roots = {os.environ.get("PYENV_ROOT") or "", os.path.join(home, ".pyenv")} - {""}
    found = [
        p
        for root in sorted(roots)
        for p in sorted(glob.glob(os.path.join(root, "versions", f"{minor}.*", "bin", "python*")))
        if os.path.basename(p) == f"python{minor}"
    ]
    found += [f"/usr/local/bin/python{minor}", f"/usr/bin/python{minor}"]
    on_path = shutil.which(f"python{minor}")
    if on_path and "/shims/" not in on_path:  # a pyenv shim reads the real HOME's pyenv
        found.append(on_path)
    for path in found:
        if os.access(path, os.X_OK):
            return path
    pytest.fail(f"Python {minor} is needed (pyenv, /usr/bin or PATH)")


#: The Python the tests run (their venvs are its), and another one for the mismatches.
RUN = f"{sys.version_info[0]}.{sys.version_info[1]}"
OTHER = "3.13" if RUN == "3.12" else "3.12"


def adopted(tmp_path: Path, name: str = "p") -> tuple[Path, Path]:
    """A relocated project whose venv has a package (``mine``, installed by hand); its store
    venv. (Without any, a venv that lost relocator's tag reads as one a tool emptied.)"""
    project = venv_project(tmp_path / name)
    sp = site_packages(project / ".venv")
    (sp / "mine-1.0.dist-info").mkdir()
    (sp / "mine.py").write_text("")
    venv = Path(relocate_json("adopt", str(project))["venv"])
    return project, venv


def status(project: Path) -> dict[str, object]:
    found: dict[str, object] = relocate_json("status", str(project))
    return found


def doctor_json(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = relocate("doctor", *args, "--json")
    found = json.loads(result.stdout)
    return result.returncode, [f for f in found if f["check"] not in ("service", "sync-daemons")]


# -- console scripts ------------------------------------------------------------------


def test_a_console_script_whose_python_is_gone_is_named_and_adopt_mends_it(
    tmp_path: Path, store: Path
) -> None:
    project, venv = adopted(tmp_path)
    script = venv / "bin" / "tool"
    script.write_text("#!/gone/venv/bin/python3\nimport sys\nprint('tool ran', sys.prefix)\n")
    script.chmod(0o755)
    found = status(project)
    assert found["status"] == "scripts-broken"
    assert "bin/tool" in str(found["detail"]) and "/gone/venv/bin/python3" in str(found["detail"])
    assert "relocate adopt" in str(found["hint"])
    assert "found: bin/tool runs /gone/venv/bin/python3" in relocate_ok("status", str(project))
    code, (finding,) = doctor_json()
    assert code == 1 and (finding["check"], finding["status"]) == ("scripts", "scripts-broken")
    assert [r["status"] for r in relocate_json("list")] == ["scripts-broken"]

    done = relocate_json("adopt", str(project))
    assert done["action"] == "unchanged" and any("pointed tool" in n for n in done["notes"])
    assert run([str(project / ".venv" / "bin" / "tool")]).stdout.startswith("tool ran")
    assert status(project)["status"] == "ok"


def test_scripts_that_name_no_absolute_python_are_not_judged(tmp_path: Path, store: Path) -> None:
    project, venv = adopted(tmp_path)
    scripts = {
        "env-python": "#!/usr/bin/env python3\n",
        "relocatable": "#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python'"
        " \"$0\" \"$@\"\n' '''\n",
        "shell": "#!/gone/bin/bash\necho hi\n",  # not a Python: not a console script
        "not-executable": "#!/gone/bin/python\n",
    }
    for name, text in scripts.items():
        (venv / "bin" / name).write_text(text)
        (venv / "bin" / name).chmod(0o644 if name == "not-executable" else 0o755)
    assert status(project)["status"] == "ok"


def test_the_two_line_shebang_is_read_too(tmp_path: Path, store: Path) -> None:
    project, venv = adopted(tmp_path)
    script = venv / "bin" / "tool"
    script.write_text(
        "#!/bin/sh\n'''exec' '/gone/with space/bin/python' \"$0\" \"$@\"\n' '''\nprint('ran')\n"
    )
    script.chmod(0o755)
    assert venvcheck.dead_scripts(str(venv)) == [("tool", "/gone/with space/bin/python")]
    relocate_ok("adopt", str(project))
    assert run([str(script)]).stdout == "ran\n"
    assert status(project)["status"] == "ok"


# -- the backup marks -------------------------------------------------------------------


@pytest.mark.parametrize("tag", [UV_TAG, UV_TAG + "\n", VIRTUALENV_TAG, CACHEDIR_TAG])
def test_any_valid_cachedir_tag_counts(tmp_path: Path, store: Path, tag: str) -> None:
    project, venv = adopted(tmp_path)
    (venv / "CACHEDIR.TAG").write_text(tag)
    assert status(project)["status"] == "ok"
    code, (finding,) = doctor_json()
    assert code == 0 and finding["status"] == "ok", finding
    assert (venv / "CACHEDIR.TAG").read_text() == tag  # doctor changes nothing


@pytest.mark.parametrize("tag", [None, "", "Signature: 8a477f597d28d172789f06\n", "cache\n"])
def test_a_missing_or_invalid_tag_is_named_and_adopt_marks_again(
    tmp_path: Path, store: Path, tag: str | None
) -> None:
    project, venv = adopted(tmp_path)
    (venv / "CACHEDIR.TAG").unlink()
    if tag is not None:
        (venv / "CACHEDIR.TAG").write_text(tag)
    found = status(project)
    assert (found["status"], found["detail"]) == ("marks-missing", "it has no valid CACHEDIR.TAG")
    code, (finding,) = doctor_json()
    assert code == 1 and (finding["check"], finding["status"]) == ("marks", "marks-missing")
    relocate_ok("adopt", str(project))
    assert (venv / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert status(project)["status"] == "ok"


def test_doctor_fix_marks_again(tmp_path: Path, store: Path) -> None:
    _, venv = adopted(tmp_path)
    (venv / "CACHEDIR.TAG").unlink()
    code, (finding,) = doctor_json("--fix")
    assert code == 0 and finding["fixed"] is True and finding["status"] == "marks-missing"
    assert (venv / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG


class NoTimeMachineMark(Recording):
    """macOS where a tool made the store venv's folder anew: the exclusion is gone."""

    def is_excluded_from_backup(self, path: str) -> bool:
        return ("exclude_from_backup", path) in self.calls


def test_adopt_marks_a_relocated_venv_again_on_every_run(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, venv = adopted(tmp_path)
    fake = NoTimeMachineMark()
    monkeypatch.setattr(platform, "current", fake)
    the_store = Store(str(store))
    found = projectstatus.status(str(project), the_store)
    assert (found["status"], found["detail"]) == (
        "marks-missing",
        "Time Machine's exclusion is not on it",
    )
    for _ in range(2):  # every run, not only when something is missing
        fake.calls.clear()
        done = adoption.adopt(str(project), store=the_store)
        assert done.action == "unchanged"
        assert ("exclude_from_backup", str(venv)) in fake.calls
        assert ("mark_sync_ignored", str(project / ".venv.nosync")) in fake.calls
        assert projectstatus.status(str(project), the_store)["status"] == "ok"


# -- the Python -------------------------------------------------------------------------


def test_another_python_over_the_venv_is_named_and_kept_without_a_recipe(
    tmp_path: Path, store: Path
) -> None:
    """CPython's venv run on the store venv itself (as virtualenv -p does through the link):
    a new pyvenv.cfg and bin/python, the packages left in the running Python's lib/pythonX.Y."""
    project, venv = adopted(tmp_path)
    other = python_of(OTHER)
    assert run([other, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    found = status(project)
    assert found["status"] == "python-mismatch", found
    # venv keeps the old bin/python link; its cfg names OTHER, its packages are in RUN's
    assert found["detail"] == f"bin/python is Python {RUN}, but pyvenv.cfg names Python {OTHER}"
    assert str(found["python"]).startswith(OTHER)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(other)
    found = status(project)
    assert found["status"] == "python-mismatch"
    assert f"packages are in lib/python{RUN}/site-packages" in str(found["detail"])
    code, (finding,) = doctor_json()
    assert code == 1 and (finding["check"], finding["status"]) == ("interpreter", found["status"])

    # nothing to rebuild from: the venv that has packages is kept, and adopt says why
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert "has packages" in line and "keeps the one there" in line
    assert os.path.realpath(project / ".venv") == str(venv)
    assert (venv / "lib" / f"python{RUN}" / "site-packages" / "mine.py").exists()
    assert status(project)["status"] == "python-mismatch"


def test_a_python_mismatch_is_rebuilt_on_the_python_the_cfg_names(
    tmp_path: Path, store: Path
) -> None:
    project, venv = adopted(tmp_path)
    (project / "requirements.txt").write_text("")  # a recipe: nothing to install
    other = python_of(OTHER)
    assert run([other, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    assert status(project)["status"] == "python-mismatch"
    done = relocate_json("adopt", str(project))
    # rebuilt under the same store path (what tools recorded keeps working); the old
    # venv is in the trash
    assert done["python"].startswith(OTHER) and done["venv"] == str(venv)
    (entry,) = relocate_json("trash")  # the mismatched venv
    assert entry["kind"] == "venv", entry
    assert any("another Python" in n for n in done["notes"])
    after = status(project)
    assert after["status"] == "ok" and str(after["python"]).startswith(OTHER)


def test_bin_python_of_another_minor_than_the_cfg_names_is_a_mismatch(
    tmp_path: Path, store: Path
) -> None:
    project, venv = adopted(tmp_path)
    python = venv / "bin" / "python"
    python.unlink()
    python.symlink_to(python_of(OTHER))
    found = status(project)
    assert found["status"] == "python-mismatch"
    assert found["detail"] == f"bin/python is Python {OTHER}, but pyvenv.cfg names Python {RUN}"


def test_adopt_reports_the_python_the_venv_runs_now(tmp_path: Path, store: Path) -> None:
    project, venv = adopted(tmp_path)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(f"version = {RUN}", f"version = {RUN}.99"))
    done = relocate_json("adopt", str(project))
    assert (done["action"], done["python"]) == ("unchanged", f"{RUN}.99")
    assert f"(Python {RUN}.99)" in relocate_ok("adopt", str(project))
    assert relocate_json("list")[0]["python"] == f"{RUN}.99"
    owner = json.loads((store / "venvs" / f"{venv.name}.json").read_text())
    assert owner["python"] == f"{RUN}.99"
    import sqlite3

    with sqlite3.connect(store / "registry.db") as db:
        assert db.execute("SELECT python FROM projects").fetchall() == [(f"{RUN}.99",)]


def test_checks_never_raise_on_odd_venvs(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "v")
    shutil.rmtree(venv / "bin")
    (venv / "bin").symlink_to("/nonexistent")
    (venv / "pyvenv.cfg").write_text("version = x.y\n")
    assert venvcheck.python_mismatch(str(venv)) is None
    assert venvcheck.dead_scripts(str(venv)) == []
    assert venvcheck.base_interpreter(str(venv)) is None
    assert venvcheck.interpreter_minor(str(tmp_path / "missing")) is None


def test_the_base_interpreter_is_outside_the_venv(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "v")
    found = venvcheck.base_interpreter(str(venv))
    assert found is not None and not found.startswith(str(venv))
    assert subprocess.run([found, "-c", "pass"]).returncode == 0
    assert os.path.realpath(found) == os.path.realpath(sys.executable)
