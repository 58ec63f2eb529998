"""Hostile project states: no venv lost or displaced, no traceback, nothing foreign run.

Each test reproduces a defect found by attacking odd states, with real
processes, real venvs and real symlinks.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    bare_project,
    drop_hop,
    env_without_uv,
    has_shape,
    hop_of,
    link_by_hand,
    make_venv,
    one_clean_error_line,
    other_volume,
    relocate,
    relocate_json,
    relocate_ok,
    site_packages,
    store_venvs,
    venv_project,
)


def _marked(root: Path, text: str = "keep") -> Path:
    venv_project(root)
    (root / ".venv" / "marker").write_text(text)
    return root


# -- 1. ownership ---------------------------------------------------------------------


def test_eject_of_a_copied_project_refuses_and_leaves_the_owners_venv(
    tmp_path: Path, store: Path
) -> None:
    a = _marked(tmp_path / "A")
    relocate_ok("adopt", str(a))
    b = tmp_path / "B"
    shutil.copytree(a, b, symlinks=True)

    line = one_clean_error_line(relocate("eject", str(b)))
    assert str(a) in line and "belongs to" in line
    assert (a / ".venv" / "marker").read_text() == "keep"  # still reached through A's link
    assert (a / ".venv").is_symlink() and not (b / ".venv").resolve().is_relative_to(b)
    assert relocate_json("status", str(a))["status"] == "ok"
    status = one_clean_error_line(relocate("status", str(b)))
    assert str(a) in status


def test_a_monorepo_member_linking_to_the_root_venv_cannot_eject_it(
    tmp_path: Path, store: Path
) -> None:
    root = _marked(tmp_path / "mono")
    relocate_ok("adopt", str(root))
    member = tmp_path / "mono" / "pkgs" / "m"
    member.mkdir(parents=True)
    (member / "pyproject.toml").write_text('[project]\nname = "m"\nversion = "0"\n')
    (member / ".venv").symlink_to("../../.venv")

    line = one_clean_error_line(relocate("eject", str(member)))
    assert "belongs to" in line
    assert (root / ".venv" / "marker").read_text() == "keep"
    assert (member / ".venv").is_symlink()
    assert relocate_json("status", str(root))["status"] == "ok"


# -- 2. finish forward -------------------------------------------------------------------


def test_a_git_exclude_that_cannot_be_written_is_a_note_and_nothing_is_lost(
    tmp_path: Path, store: Path
) -> None:
    project = bare_project(tmp_path / "P")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    exclude = project / ".git" / "info" / "exclude"
    exclude.unlink()
    exclude.mkdir()

    out = relocate_json("adopt", str(project), env=env_without_uv(tmp_path))
    assert out["action"] == "created"
    assert any("exclude" in note for note in out["notes"])
    sp = site_packages(project / ".venv")
    (sp / "installed_later.py").write_text("VALUE = 7\n")

    exclude.rmdir()
    relocate_ok("eject", str(project))
    dotvenv = project / ".venv"
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert (site_packages(dotvenv) / "installed_later.py").read_text() == "VALUE = 7\n"
    assert store_venvs(store) == []


def test_recovery_finishes_a_create_that_was_linked(tmp_path: Path, store: Path) -> None:
    project = bare_project(tmp_path / "P")
    env = {**env_without_uv(tmp_path), "RELOCATOR_FAULT": "create:linked"}
    assert relocate("adopt", str(project), env=env).returncode == -9
    (site_packages(project / ".venv") / "mine.py").write_text("")  # the user installs at once

    out = relocate_json("adopt", str(project))
    assert "finished an interrupted create" in out["notes"]
    assert (site_packages(project / ".venv") / "mine.py").exists()
    assert len(store_venvs(store)) == 1


# -- 3. preconditions before the point of no return ----------------------------------------


def _refused_unchanged(project: Path, store: Path, *needles: str) -> str:
    before = {str(p.relative_to(project)): p.lstat().st_mode for p in project.rglob("*")}
    line = one_clean_error_line(relocate("adopt", str(project)))
    after = {str(p.relative_to(project)): p.lstat().st_mode for p in project.rglob("*")}
    assert before == after
    assert store_venvs(store) == []
    assert not list((store / "journal").glob("*"))
    for needle in needles:
        assert needle in line
    return line


def test_a_windows_venv_is_refused_before_anything_moves(tmp_path: Path, store: Path) -> None:
    project = tmp_path / "P"
    (project / ".venv" / "Scripts").mkdir(parents=True)
    (project / "setup.py").write_text("")
    (project / ".venv" / "pyvenv.cfg").write_text("home = C:\\Python311\n")
    _refused_unchanged(project, store, "Windows")
    # ...and the project is not stuck: status and eject say it is not relocated.
    assert "no relocated project" in one_clean_error_line(relocate("status", str(project)))
    assert "not relocated" in one_clean_error_line(relocate("eject", str(project)))


@pytest.mark.parametrize(
    "kind",
    ["folder", "folder-with-notes", "file", "foreign-link", "foreign-inner-link", "dead-volume"],
)
def test_the_hop_name_holding_something_else_is_refused(
    tmp_path: Path, store: Path, kind: str
) -> None:
    project = venv_project(tmp_path / "P")
    hop = project / ".venv.nosync"
    (tmp_path / "elsewhere").mkdir()
    if kind == "folder":
        make_venv(hop)
    elif kind == "folder-with-notes":  # the shape's folder, with a file of the user's in it
        hop.mkdir()
        (hop / "notes.txt").write_text("my notes\n")
        (hop / ".venv").symlink_to("/nonexistent/venvs/p-00000000")
    elif kind == "file":
        hop.write_text("my notes\n")
    elif kind == "foreign-link":
        hop.symlink_to(tmp_path / "elsewhere")
    elif kind == "dead-volume":  # the user's venv on a disk that is not mounted now
        hop.mkdir()
        (hop / ".venv").symlink_to("/Volumes/Backup/venvs/work")
    else:
        hop.mkdir()
        (hop / ".venv").symlink_to(tmp_path / "elsewhere")
    line = _refused_unchanged(project, store, ".venv.nosync")
    assert "move it away" in line and "not relocator's link" in line
    if kind == "file":
        assert hop.read_text() == "my notes\n"
    if kind == "folder-with-notes":
        assert "a folder that holds notes.txt" in line
        assert (hop / "notes.txt").read_text() == "my notes\n"
    assert (project / ".venv" / "pyvenv.cfg").is_file()


@pytest.mark.parametrize("hop", ["old", "inner", "empty-folder"])
def test_a_dead_hop_link_is_replaced(tmp_path: Path, store: Path, hop: str) -> None:
    """What another machine (or a killed run) left at ``.venv.nosync`` is relocator's."""
    project = venv_project(tmp_path / "P")
    if hop == "old":
        (project / ".venv.nosync").symlink_to("/nonexistent/venvs/p-00000000")
    else:
        (project / ".venv.nosync").mkdir()
    if hop == "inner":
        (project / ".venv.nosync" / ".venv").symlink_to("/nonexistent/venvs/p-00000000")
    relocate_ok("adopt", str(project))
    assert relocate_json("status", str(project))["status"] == "ok"
    assert has_shape(project)


def test_unparseable_files_in_the_venv_are_skipped_with_notes(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "P")
    sp = site_packages(project / ".venv")
    dist = sp / "demo-0.1.dist-info"
    dist.mkdir()
    (dist / "direct_url.json").write_text('{"url": "file:///x", "dir_inf')  # truncated
    (sp / "__editable___demo_0_1_finder.py").write_bytes(b"MAPPING = {'demo': '\xff\xfe'}\n")
    odd = "# a comment\u2028with a line separator\x0cand a form feed\r\n/nowhere\n".encode()
    (sp / "odd.pth").write_bytes(odd)
    (sp / "handmade.py").write_text("VALUE = 42\n")

    out = relocate_json("adopt", str(project))
    assert out["action"] == "moved"
    noted = out["notes"]
    assert len(noted) == 2, noted  # those two files, nothing else
    assert any("direct_url.json as it was" in n for n in noted), noted
    assert any("_finder.py as it was" in n for n in noted), noted
    python = project / ".venv" / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import handmade; print(handmade.VALUE)"],
        capture_output=True,
        text=True,
    )
    assert check.stdout == "42\n", check.stderr
    assert (site_packages(project / ".venv") / "odd.pth").read_bytes() == odd
    assert relocate_json("status", str(project))["status"] == "ok"


def test_a_symlinked_bin_is_refused_and_nothing_outside_is_written(
    tmp_path: Path, store: Path
) -> None:
    outside = tmp_path / "outside-bin"
    outside.mkdir()
    victim = outside / "tool"
    victim.write_text(f"#!{tmp_path}/P/.venv/bin/python\nprint('x')\n")
    project = bare_project(tmp_path / "P")
    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / ".venv" / "bin").symlink_to(outside)
    _refused_unchanged(project, store, "bin/")
    assert victim.read_text().startswith(f"#!{tmp_path}/P/.venv/bin/python")


def test_a_planted_temp_link_is_not_written_through(tmp_path: Path) -> None:
    """write_atomic's temp name is predictable: a link planted there is replaced, not followed."""
    from relocator.system.files import write_atomic

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "bin" / "tool"
    target.parent.mkdir()
    target.write_text("old\n")
    Path(f"{target}.{os.getpid()}.tmp").symlink_to(victim)
    write_atomic(str(target), "new\n")
    assert victim.read_text() == "precious\n"
    assert target.read_text() == "new\n"
    assert not os.path.lexists(f"{target}.{os.getpid()}.tmp")


# -- 5, 6. nothing foreign on PATH, nothing of the repository run ------------------------------


def test_a_colon_in_the_project_path_is_refused(tmp_path: Path, store: Path) -> None:
    project = bare_project(tmp_path / "demo:x")
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert "PATH" in line
    assert not (project / ".venv").exists() and store_venvs(store) == []


def test_a_colon_in_the_store_path_is_refused(tmp_path: Path) -> None:
    """The hook never puts a venv whose real path holds a ':' on PATH: a store there
    would relocate venvs that no shell ever activates, with status saying ok."""
    colon = tmp_path / "store:x"
    env = {**os.environ, "RELOCATOR_HOME": str(colon)}
    project = venv_project(tmp_path / "P")
    line = one_clean_error_line(relocate("adopt", str(project), env=env))
    assert "':'" in line and "RELOCATOR_HOME" in line
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
    assert store_venvs(colon) == []
    # Reached through a link without one, the real path still holds it.
    colon.mkdir(exist_ok=True)
    alias = tmp_path / "alias"
    alias.symlink_to(colon, target_is_directory=True)
    line = one_clean_error_line(
        relocate("adopt", str(project), env={**env, "RELOCATOR_HOME": str(alias)})
    )
    assert "':'" in line
    assert not (project / ".venv").is_symlink()


@pytest.mark.parametrize("with_uv", [True, False])
def test_adopt_runs_nothing_the_repository_ships(
    tmp_path: Path, store: Path, with_uv: bool
) -> None:
    project = tmp_path / "P"
    project.mkdir()
    proof = tmp_path / "ran"
    evil = f"#!/bin/sh\ntouch {proof}\nexit 1\n"
    (project / "evilpy").write_text(evil)
    (project / "evilpy").chmod(0o755)
    (project / ".python-version").write_text("./evilpy\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = "$(touch /tmp/x)"\n'
    )
    (project / "venv.py").write_text(f"open({str(proof)!r}, 'w')\n")  # python -m venv from here
    (project / "uv.toml").write_text('python-preference = "only-system"\n')
    env = None if with_uv else env_without_uv(tmp_path)
    # making the venv runs nothing of the project's (installing it, which adopt does
    # unless told --no-install, runs its build, as uv sync or pip install would)
    out = relocate_json("adopt", str(project), "--no-install", env=env)
    assert out["action"] == "created"
    assert not proof.exists()
    assert (project / ".venv" / "bin" / "python").exists()


def test_a_python_version_request_from_the_project_is_honoured(tmp_path: Path, store: Path) -> None:
    project = bare_project(tmp_path / "P")
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (project / ".python-version").write_text(f"{minor}\n")
    out = relocate_json("adopt", str(project))
    assert out["python"].startswith(minor)


# -- 9. the hop, the store root, other machines ---------------------------------------------


def test_a_removed_hop_is_named_and_eject_brings_the_venv_back(tmp_path: Path, store: Path) -> None:
    project = _marked(tmp_path / "P")
    relocate_ok("adopt", str(project))
    drop_hop(project)

    report = relocate_json("status", str(project))
    assert report["status"] == "link-missing" and "relocate adopt" in report["hint"]
    relocate_ok("eject", str(project))
    assert (project / ".venv" / "marker").read_text() == "keep"
    assert not (project / ".venv").is_symlink()
    assert store_venvs(store) == []


def test_a_removed_hop_is_relinked_by_adopt(tmp_path: Path, store: Path) -> None:
    project = _marked(tmp_path / "P")
    relocate_ok("adopt", str(project))
    drop_hop(project)
    assert relocate_json("adopt", str(project))["action"] == "relinked"
    assert (project / ".venv" / "marker").read_text() == "keep"
    assert len(store_venvs(store)) == 1


def test_eject_all_takes_a_project_whose_hop_is_gone(tmp_path: Path, store: Path) -> None:
    project = _marked(tmp_path / "P")
    relocate_ok("adopt", str(project))
    drop_hop(project)
    relocate_ok("eject", "--all", "--yes")
    assert (project / ".venv" / "marker").read_text() == "keep"
    assert store_venvs(store) == []


def test_a_hop_into_a_store_venv_subfolder_is_not_relocated(tmp_path: Path, store: Path) -> None:
    project = _marked(tmp_path / "P")
    relocate_ok("adopt", str(project))
    venv = Path(os.path.realpath(project / ".venv"))
    hop = hop_of(project)
    hop.unlink()
    hop.symlink_to(venv / "lib")
    assert relocate_json("status", str(project))["status"] == "link-replaced"
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert "not to the root of a venv" in line
    assert (venv / "marker").read_text() == "keep"


def test_relocate_python_through_the_link_names_the_project(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "P")
    relocate_ok("adopt", str(project))
    expected = f"{project}/.venv/bin/python\n"
    assert relocate_ok("python", str(project / ".venv")) == expected
    assert relocate_ok("python", str(project / ".venv" / "bin" / "python")) == expected
    assert relocate_ok("python", str(project / ".venv.nosync")) == expected
    assert relocate_ok("python", str(hop_of(project) / "bin" / "python")) == expected
    assert relocate_json("status", str(project / ".venv"))["project"] == str(project)
    assert relocate_json("adopt", str(project / ".venv"))["action"] == "unchanged"


def test_a_path_inside_the_store_is_no_project(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "P")
    relocate_ok("adopt", str(project))
    (tmp_path / "pyproject.toml").write_text("")  # a marker above the store must not be found
    inside = store_venvs(store)[0] / "bin"
    assert "inside relocator's store" in one_clean_error_line(relocate("adopt", str(inside)))
    assert "inside relocator's store" in one_clean_error_line(relocate("eject", str(inside)))


def test_a_hop_from_another_machine_is_dangling_and_repaired(tmp_path: Path, store: Path) -> None:
    project = bare_project(tmp_path / "P")
    other = "/Users/someone/Library/Caches/relocator/venvs/p-1a2b3c4d"
    link_by_hand(project, other)
    info = json.loads(relocate("python", str(project), "--json").stdout)
    assert info["valid"] is False and other in info["error"]
    out = relocate_json("adopt", str(project), env=env_without_uv(tmp_path))
    assert out["action"] == "created" and any("reinstall" in n for n in out["notes"])
    assert relocate_json("status", str(project))["status"] == "ok"


# -- exit 1, not exit 3 ----------------------------------------------------------------------


def test_a_journal_record_that_is_not_an_object_is_set_aside(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "P")
    (store / "journal").mkdir(parents=True)
    for name, text in (("a.json", "[1, 2]"), ("b.json", '{"op": "adopt"}'), ("c.json", "\x00")):
        (store / "journal" / name).write_text(text)
    result = relocate("adopt", str(project))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("relocate: warning:") == 3 and "Traceback" not in result.stderr
    assert sorted(p.name for p in (store / "journal").iterdir()) == [
        "a.json.damaged",
        "b.json.damaged",
        "c.json.damaged",
    ]


def test_a_tampered_journal_never_deletes_outside_the_store(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "P")
    victim = tmp_path / "victim"
    make_venv(victim)
    key = relocate_json("resolve", str(project))["key"]
    (store / "journal").mkdir(parents=True)
    record = {
        "op": "create",
        "key": key,
        "project": str(project),
        "step": "begin",
        "venv": f"../../{victim.name}",
        "started": 0,
    }
    (store / "journal" / "x.json").write_text(json.dumps(record))
    relocate_ok("adopt", str(project))
    assert (victim / "pyvenv.cfg").exists()


def test_a_deleted_current_folder(tmp_path: Path, store: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    for args in (["adopt"], ["eject"], ["status"], ["python"]):
        proc = subprocess.run(
            f"cd {gone} && rmdir {gone} && {sys.executable} -m relocator {' '.join(args)}",
            shell=True,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        gone.mkdir()
        line = one_clean_error_line(proc)
        assert proc.returncode == 1 and "current folder" in line, line


def test_an_ancestor_pyproject_with_a_strange_tool_table(tmp_path: Path, store: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('tool = "x"\n')
    project = venv_project(tmp_path / "sub" / "P")
    relocate_ok("adopt", str(project))
    (tmp_path / "pyproject.toml").write_text("[tool]\nuv = 3\n")
    assert relocate_json("status", str(project))["status"] == "ok"
    (tmp_path / "pyproject.toml").write_bytes(b"\xff\xfe not toml")
    relocate_ok("eject", str(project))


def _special_venv(tmp_path: Path, kind: str) -> Path:
    project = _marked(tmp_path / "P")
    target = project / ".venv" / "lib" / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        sock.close()
    return project


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_pipe_or_socket_in_the_venv_moves_on_one_volume(
    tmp_path: Path, store: Path, kind: str
) -> None:
    project = _special_venv(tmp_path, kind)
    relocate_ok("adopt", str(project))
    assert (project / ".venv" / "marker").read_text() == "keep"
    relocate_ok("eject", str(project))
    assert (project / ".venv" / "marker").read_text() == "keep"


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_pipe_or_socket_in_the_venv_is_refused_across_volumes(
    tmp_path: Path, kind: str, shm_store: Path
) -> None:
    project = _special_venv(tmp_path, kind)
    line = _refused_unchanged(project, shm_store, "pipe, socket")
    assert str(project / ".venv" / "lib") in line


def test_a_pyvenv_cfg_that_is_a_pipe_does_not_hang(tmp_path: Path, store: Path) -> None:
    project = tmp_path / "P"
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / "setup.py").write_text("")
    os.mkfifo(project / ".venv" / "pyvenv.cfg")
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert "pyvenv.cfg" in line


def test_a_project_path_that_is_not_utf8(tmp_path: Path, store: Path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9"
    os.mkdir(raw)
    with open(raw + b"/setup.py", "wb"):
        pass
    path = os.fsdecode(raw)
    for args in (["adopt", path], ["eject", path], ["status", path], ["python", path]):
        result = relocate(*args)
        line = one_clean_error_line(result)
        assert result.returncode == 1, line
    assert store_venvs(store) == []
    assert not os.path.lexists(raw + b"/.venv")


@pytest.fixture
def shm_store(monkeypatch: pytest.MonkeyPatch) -> Path:
    import uuid

    store = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(store))
    yield store
    shutil.rmtree(store, ignore_errors=True)


@pytest.mark.parametrize("name", ["two\nlines", "esc\x1b[31mred", "tab\there"])
def test_an_error_naming_a_path_with_control_characters_is_one_line(
    tmp_path: Path, name: str
) -> None:
    for args in (["adopt", name], ["status", name], ["python", name], ["eject", name]):
        line = one_clean_error_line(relocate(*args, cwd=tmp_path))
        assert "\x1b" not in line and ("\\n" in line or "\\x1b" in line or "\\t" in line)


@pytest.mark.parametrize("target", ["store", "venvs", "owner-record"])
def test_a_link_into_the_store_but_not_to_a_venv_is_refused(
    tmp_path: Path, store: Path, target: str
) -> None:
    from relocator.state.store import Store

    Store(str(store)).ensure()
    record = store / "venvs" / "x-00000000.json"
    record.write_text("{}")
    project = bare_project(tmp_path / "P")
    (project / ".venv").symlink_to({"store": store, "venvs": store / "venvs"}.get(target, record))
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert "not to the root of a venv" in line
    assert record.read_text() == "{}" and (project / ".venv").is_symlink()


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("3.12\n", "3.12"),
        ("# pinned\n3.12.1\n", "3.12.1"),
        ("cpython@3.12", "cpython@3.12"),
        ("pypy3.10", "pypy3.10"),
        ("3.13t", "3.13t"),
        ("./evilpy", None),
        ("/usr/bin/python3", None),
        ("evilpy", None),
        ("~/bin/python", None),
        ("3.12; touch x", None),
        ("$(touch x)", None),
    ],
)
def test_only_a_version_request_leaves_python_version(
    tmp_path: Path, text: str, wanted: str | None
) -> None:
    from relocator.paths.project import python_request

    (tmp_path / ".python-version").write_text(text)
    assert python_request(str(tmp_path)) == wanted


@pytest.mark.parametrize(
    ("spec", "wanted"),
    [
        (">=3.10", ">=3.10"),
        ("~=3.11.0", "~=3.11.0"),
        (">=3.9,<4", ">=3.9,<4"),
        ("$(touch x)", None),
        ("./py", None),
        ("3.12", None),
    ],
)
def test_only_a_specifier_set_leaves_requires_python(
    tmp_path: Path, spec: str, wanted: str | None
) -> None:
    from relocator.paths.project import python_request

    (tmp_path / "pyproject.toml").write_text(f'[project]\nrequires-python = "{spec}"\n')
    assert python_request(str(tmp_path)) == wanted


def test_the_copy_across_volumes_keeps_what_a_venv_needs(tmp_path: Path) -> None:
    from relocator.state.venvs import copy_tree, manifest

    src = make_venv(tmp_path / "v")
    sp = site_packages(src)
    (sp / "exe.py").write_text("x")
    (sp / "exe.py").chmod(0o751)
    (sp / "empty").mkdir()
    (sp / "link").symlink_to("../nowhere")
    locked = sp / "locked"
    locked.mkdir()
    (locked / "m.py").write_bytes(os.urandom(300_000))
    locked.chmod(0o555)  # copied whole: its mode is set after its content
    os.utime(sp / "exe.py", ns=(1_000_000_123, 2_000_000_456))
    dst = other_volume() / f"relocator-test-{os.getpid()}-copy"
    try:
        copy_tree(str(src), str(dst))
        assert manifest(str(dst), times=True) == manifest(str(src), times=True)
        for rel in ("lib", "bin", "pyvenv.cfg"):
            assert (dst / rel).lstat().st_mode == (src / rel).lstat().st_mode
        copied = site_packages(dst)
        assert stat_mode(copied / "exe.py") == 0o751 and stat_mode(copied / "locked") == 0o555
        assert (copied / "locked" / "m.py").read_bytes() == (locked / "m.py").read_bytes()
    finally:
        if dst.exists():
            (site_packages(dst) / "locked").chmod(0o755)
        shutil.rmtree(dst, ignore_errors=True)
        locked.chmod(0o755)


def stat_mode(path: Path) -> int:
    return path.lstat().st_mode & 0o7777


def test_a_journal_record_naming_another_projects_venv_is_set_aside(
    tmp_path: Path, store: Path
) -> None:
    a = _marked(tmp_path / "A")
    relocate_ok("adopt", str(a))
    a_venv = Path(os.path.realpath(a / ".venv"))
    p = venv_project(tmp_path / "P")
    key = relocate_json("resolve", str(p))["key"]
    record = {
        "op": "create",
        "key": key,
        "project": str(p),
        "step": "begin",
        "venv": a_venv.name,
        "started": 0,
    }
    (store / "journal" / "stray.json").write_text(json.dumps(record))
    result = relocate("adopt", str(p))
    assert result.returncode == 0, result.stderr
    assert "relocate: warning: set aside the journal record" in result.stderr
    assert str(a) in result.stderr  # it says whose venv that is
    assert (a_venv / "marker").read_text() == "keep"
    assert (store / "journal" / "stray.json.damaged").exists()
    assert relocate_json("status", str(a))["status"] == "ok"


@pytest.mark.parametrize("what", ["file", "folder"])
def test_eject_keeps_the_venv_when_the_hop_is_no_link(
    isolated: Path, store: Path, what: str
) -> None:
    """``.venv.nosync`` replaced by a file or by a folder that is no venv (a sync
    client's conflict copy): the store venv is the only copy; eject refuses, keeps it."""
    project = venv_project(isolated / "app")
    (site_packages(project / ".venv") / "handmade.py").write_text("VALUE = 42\n")
    relocate_ok("adopt", str(project))
    (venv,) = store_venvs(store)
    hop = project / ".venv.nosync"
    drop_hop(project)
    if what == "file":
        hop.write_text("conflict\n")
    else:
        (hop / "lib").mkdir(parents=True)
    line = one_clean_error_line(relocate("eject", str(project)))
    assert ".venv.nosync is a" in line and "not relocator's link" in line
    assert (site_packages(venv) / "handmade.py").is_file()
    status = relocate_json("status", str(project))
    assert status["venv"] == str(venv) and status["cause"] == "not-a-venv"
    assert "move it away, then relocate adopt" in status["hint"]
    # Doing what the hint says repairs it.
    hop.rename(project / "conflict-copy")
    relocate_ok("adopt", str(project))
    assert relocate_json("status", str(project))["status"] == "ok"
