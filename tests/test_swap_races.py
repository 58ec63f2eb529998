"""A swap never takes another project's venv, and a swap that fails half way puts the old
venv back. A project's swap (a takeover, a rebuild) pending while a copy of the project
is adopted: the copy does not take the venv along, and when a copy did (by an older run)
the swap leaves that venv alone and keeps the new one under a name of its own. A rename
of the new venv to the name that fails renames the old one back out of the trash. Real
venvs, real processes, real SIGKILL (through RELOCATOR_FAULT)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relocator.moves import moved
from relocator.paths import resolver
from relocator.state.registry import Registry
from relocator.state.store import Store
from tests.helpers import (
    drop_hop,
    make_venv,
    one_clean_error_line,
    paused,
    relocate_json,
    relocate_ok,
    site_packages,
    store_venvs,
    venv_project,
)


def _adopted(root: Path, mark: str) -> Path:
    venv_project(root)
    (site_packages(root / ".venv") / f"{mark}.py").write_text("")
    relocate_ok("adopt", str(root))
    return Path(os.path.realpath(root / ".venv"))


def _imports(project: Path, module: str) -> bool:
    python = project / ".venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {module}"], check=False).returncode == 0


def _kill_at(point: str, *args: str) -> None:
    env = {**os.environ, "RELOCATOR_FAULT": point}
    result = subprocess.run(
        [sys.executable, "-m", "relocator", *args], env=env, capture_output=True, check=False
    )
    assert result.returncode == -9, result.stderr


def _owner(store: Path, venv: Path) -> str:
    record = Store(str(store)).read_owner(venv.name)
    assert record is not None
    return str(record["path"])


def _replaced_by_a_tool(project: Path, mark: str) -> None:
    """``rm .venv && python -m venv .venv`` and a package: a venv the project's adopt takes over."""
    (project / ".venv").unlink()
    drop_hop(project)
    make_venv(project / ".venv")
    (site_packages(project / ".venv") / f"{mark}.py").write_text("")


def _journal(store: Path) -> list[str]:
    return sorted(p.name for p in (store / "journal").iterdir())


def test_a_copy_does_not_take_the_venv_of_a_project_whose_takeover_is_pending(
    tmp_path: Path, store: Path
):
    a, b = tmp_path / "a", tmp_path / "b"
    old = _adopted(a, "first")
    shutil.copytree(a, b, symlinks=True)  # cp -a a b: b links a's store venv
    _replaced_by_a_tool(a, "second")
    _kill_at("adopt:done", "adopt", str(a))  # a's .venv leads to the moved-in venv, swap pending

    copied = relocate_json("adopt", str(b))

    assert copied["action"] == "copied", copied  # not "moved along": a's swap is unfinished
    assert _owner(store, old) == str(a)
    finished = relocate_json("adopt", str(a))
    assert any("finished an interrupted takeover" in n for n in finished["notes"]), finished
    assert os.path.realpath(a / ".venv") == str(old)  # a's name, now its new venv
    assert _imports(a, "second") and not _imports(a, "first")
    assert os.path.realpath(b / ".venv") != str(old)
    assert _imports(b, "first") and not _imports(b, "second")  # b's copy of the old venv
    assert _owner(store, Path(os.path.realpath(b / ".venv"))) == str(b)
    assert _journal(store) == []
    for project in (a, b):
        assert relocate_json("status", str(project))["status"] == "ok", project


def _taken_along(store: Path, venv: Path, by: Path) -> None:
    """What an older relocate did on ``adopt <by>``: the venv follows the copy, its owner
    record and registry row name ``by`` (moved.follow, in process)."""
    st = Store(str(store))
    owner = st.read_owner(venv.name)
    assert owner is not None
    with Registry(st) as registry:
        moved.follow(st, registry, resolver.resolve(str(by)), venv.name, owner)


@pytest.mark.parametrize("pending", ["takeover", "filling", "rebuild", "rebuild-killed"])
def test_a_pending_swap_leaves_a_venv_another_project_took_alone(
    tmp_path: Path, store: Path, pending: str
):
    a, b = tmp_path / "a", tmp_path / "b"
    old = _adopted(a, "first")
    shutil.copytree(a, b, symlinks=True)
    if pending == "takeover":
        _replaced_by_a_tool(a, "second")
        _kill_at("adopt:done", "adopt", str(a))
    elif pending == "filling":  # an empty new venv, to be filled (killed: the old one stays)
        info = site_packages(old) / "six-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Name: six\nVersion: 1.0\n")
        _replaced_by_a_tool(a, "second")
        (site_packages(a / ".venv") / "second.py").unlink()
        _kill_at("adopt:done", "adopt", str(a))
    else:
        (a / "requirements.txt").write_text("")
        _kill_at("swap:staged", "rebuild", str(a))
    _taken_along(store, old, b)
    if pending == "rebuild-killed":  # killed again, once the new name is chosen
        _kill_at("swap:rehomed", "adopt", str(a))

    out = relocate_json("adopt", str(a))

    if pending != "rebuild-killed":
        assert any("is left alone" in n for n in out["notes"]), out
    assert _owner(store, old) == str(b)  # b's venv: untouched, still there, not in the trash
    assert os.path.realpath(b / ".venv") == str(old) and _imports(b, "first")
    assert not list((store / "trash").glob("*"))
    new = Path(os.path.realpath(a / ".venv"))
    assert new != old and new.parent == store / "venvs"
    assert _owner(store, new) == str(a)
    assert not _imports(a, "first")
    if pending == "takeover":
        assert _imports(a, "second")
    if pending != "rebuild":  # the venv adopt moved in, under the name it gave it
        assert any(str(new) in n for n in out["notes"]), out
    if pending == "filling":  # not filled: no swap, and the old name is not the project's
        assert any("this project's venv is the new one" in n for n in out["notes"]), out
    assert sorted(store_venvs(store)) == sorted([old, new])
    assert _journal(store) == [] and not list((store / "tmp").iterdir())
    for project in (a, b):
        assert relocate_json("status", str(project))["status"] == "ok", project


def test_a_new_venv_that_cannot_take_the_name_puts_the_old_one_back(tmp_path: Path, store: Path):
    """The staged venv gone between the two renames (the second rename fails): the old venv
    comes back out of the trash, the swap is forgotten, one error line; the next rebuild
    works."""
    project = tmp_path / "app"
    old = _adopted(project, "handmade")
    (project / "requirements.txt").write_text("")
    with paused(["rebuild", str(project)], "swap:retired", tmp_path) as held:
        assert not old.exists()  # in the trash, between the two renames
        shutil.move(store / "tmp" / f"{old.name}.new", tmp_path / "elsewhere")
        done = held.resume()

    line = one_clean_error_line(done)
    assert "nothing was replaced" in line and f"{old} is as it was" in line, line
    assert done.returncode == 1
    assert os.path.realpath(project / ".venv") == str(old) and _imports(project, "handmade")
    assert not list((store / "trash").glob("*")) and _journal(store) == []
    assert _owner(store, old) == str(project)
    assert relocate_json("status", str(project))["status"] == "ok"
    relocate_ok("rebuild", str(project))  # and the next one swaps as usual
    assert os.path.realpath(project / ".venv") == str(old) and not _imports(project, "handmade")
    assert len(list((store / "trash").glob("*.json"))) == 1


def test_a_takeover_whose_venv_cannot_take_the_name_keeps_both(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
):
    """The same failure in a takeover (the rename refused, in process): the old venv is back
    at the name, the tool's venv stays the project's under the name adopt gave it."""
    from relocator.moves import replacing
    from relocator.state import journal

    a = tmp_path / "a"
    old = _adopted(a, "first")
    _replaced_by_a_tool(a, "second")
    _kill_at("adopt:done", "adopt", str(a))
    staged = Path(os.path.realpath(a / ".venv"))
    assert staged != old and staged.parent == store / "venvs"
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if src == str(staged):
            raise OSError(5, "Input/output error")
        real_rename(src, dst)

    st = Store(str(store))
    (intent,) = journal.pending(st)
    with monkeypatch.context() as patched, Registry(st) as registry:
        patched.setattr(os, "rename", rename)
        forward, notes = replacing.resume(st, registry, intent)

    assert not forward and any("nothing was replaced" in n for n in notes), notes
    assert any(f"the new venv stays at {staged}" in n for n in notes), notes
    assert (site_packages(old) / "first.py").is_file() and _owner(store, old) == str(a)
    assert os.path.realpath(a / ".venv") == str(staged) and _imports(a, "second")
    assert not list((store / "trash").glob("*")) and _journal(store) == []
    relocate_ok("adopt", str(a))  # as after a trash that refused: the project stays on it
    assert os.path.realpath(a / ".venv") == str(staged) and _imports(a, "second")
    assert relocate_json("status", str(a))["status"] == "ok"
