"""adopt / eject / python / list on real venvs made by python -m venv and pip."""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import (
    drop_hop,
    env_without_uv,
    gnu_tar,
    has_shape,
    hop_of,
    mac_home,
    make_venv,
    one_clean_error_line,
    other_volume,
    pip_install_editable,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    site_packages,
    venv_project,
    write_project,
)

HANDMADE = "handmade_module"


def _handmade(venv: Path) -> None:
    """A module placed by hand: only a move (no reinstall) keeps it importable."""
    (site_packages(venv) / f"{HANDMADE}.py").write_text("VALUE = 42\n")


def _store_venvs(store: Path) -> list[Path]:
    return sorted(p for p in (store / "venvs").iterdir() if p.is_dir())


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["documents-link", "clouddocs-link"])
def test_icloud_project_adopted_through_one_spelling_works_through_the_other(
    isolated: Path, store: Path, tmp_path: Path, wheelhouse: Path, direction: str
) -> None:
    spellings = mac_home(isolated, direction)
    short, long_ = spellings["short"] / "proj", spellings["long"] / "proj"
    write_project(short)
    venv = make_venv(short / ".venv", pip=True)
    # pip records the spelling it is given; the .pth gets the real path.
    pip_install_editable(venv, str(short), wheelhouse, cwd=short)
    _handmade(venv)
    env = env_without_uv(tmp_path)

    out = relocate_json("adopt", str(short), env=env)
    assert out["action"] == "moved"
    assert out["provider"] == "icloud"
    real = os.path.realpath(short)
    assert out["project"] == real

    link = long_ / ".venv"
    assert link.is_symlink() and has_shape(long_)
    (store_venv,) = _store_venvs(store)
    assert os.path.realpath(link) == str(store_venv)
    assert (store_venv / "CACHEDIR.TAG").read_bytes()[:43] == (
        b"Signature: 8a477f597d28d172789f06886806bc55"
    )

    # Through the other spelling: the console script and both imports work.
    hello = run([str(long_ / ".venv/bin/demo-hello")], env=env)
    assert hello.returncode == 0, hello.stderr
    assert "hello from" in hello.stdout
    imports = run(
        [str(long_ / ".venv/bin/python"), "-c", f"import {HANDMADE}, demo_pkg; print('ok')"],
        env=env,
        cwd="/",
    )
    assert imports.stdout.strip() == "ok", imports.stderr

    # The editable install names the project by the resolver's spelling.
    (direct_url,) = site_packages(store_venv).glob("demo-*.dist-info/direct_url.json")
    url = json.loads(direct_url.read_text())["url"]
    assert url == Path(real).as_uri()

    # The editor lookup agrees from both spellings and from a subfolder.
    expected = os.path.join(real, ".venv", "bin", "python")
    for where in (short, long_, long_ / "src" / "demo_pkg"):
        assert relocate_ok("python", str(where), env=env).strip() == expected
        resolved = relocate_ok("python", "--resolve", str(where), env=env).strip()
        assert resolved == str(store_venv / "bin" / "python")

    rows = relocate_json("list", env=env)
    assert [(r["project"], r["status"], r["provider"]) for r in rows] == [(real, "ok", "icloud")]
    again = relocate_json("adopt", str(long_), env=env)
    assert again["action"] == "unchanged"
    assert len(relocate_json("list", env=env)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["src", "flat"])
def test_editable_install_through_documents_is_respelled(
    isolated: Path, store: Path, tmp_path: Path, wheelhouse: Path, layout: str
) -> None:
    spellings = mac_home(isolated, "documents-link")
    short = spellings["short"] / "lib"
    write_project(short, "lib", layout=layout)
    venv = make_venv(short / ".venv", pip=True)
    pip_install_editable(venv, str(short), wheelhouse, cwd=isolated)
    (direct_url,) = site_packages(venv).glob("lib-*.dist-info/direct_url.json")
    assert json.loads(direct_url.read_text())["url"] == short.as_uri()  # the typed spelling
    env = env_without_uv(tmp_path)

    relocate_ok("adopt", str(short), env=env)

    real = os.path.realpath(short)
    (store_venv,) = _store_venvs(store)
    sp = site_packages(store_venv)
    (direct_url,) = sp.glob("lib-*.dist-info/direct_url.json")
    assert json.loads(direct_url.read_text())["url"] == Path(real).as_uri()
    if layout == "src":
        pth = [p.read_text() for p in sp.glob("__editable__*.pth")]
        assert pth == [os.path.join(real, "src") + "\n"] or pth == [os.path.join(real, "src")]
    else:
        (finder,) = sp.glob("__editable__*finder.py")
        assert repr(os.path.join(real, "lib_pkg")) in finder.read_text()
    hello = run([str(short / ".venv/bin/lib-hello")], env=env, cwd="/")
    assert hello.returncode == 0, hello.stderr
    assert real in hello.stdout  # the module is imported from the real spelling


def test_pth_and_finder_written_with_an_alias_are_respelled(
    isolated: Path, store: Path, tmp_path: Path
) -> None:
    """Installers that record the typed path in a .pth or finder get the real spelling."""
    spellings = mac_home(isolated, "documents-link")
    project = spellings["short"] / "p"
    project.mkdir()
    (project / "setup.py").write_text("")
    venv = make_venv(project / ".venv")
    sp = site_packages(venv)
    alias = str(project)
    (sp / "_p.pth").write_text(f"{alias}/src\nimport sys\n/elsewhere/untouched\n")
    (sp / "__editable___p_0_1_finder.py").write_text(
        f"MAPPING: dict[str, str] = {{'p': '{alias}/p'}}\n"
        f"NAMESPACES: dict[str, list[str]] = {{'ns': ['{alias}/ns']}}\n"
        "PATH_PLACEHOLDER = '__editable__.p-0.1.finder' + '.__path_hook__'\n"
    )
    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    real = os.path.realpath(project)
    (store_venv,) = _store_venvs(store)
    sp = site_packages(store_venv)
    assert (sp / "_p.pth").read_text() == f"{real}/src\nimport sys\n/elsewhere/untouched\n"
    finder = (sp / "__editable___p_0_1_finder.py").read_text()
    assert f"{{'p': '{real}/p'}}" in finder
    assert f"{{'ns': ['{real}/ns']}}" in finder
    assert alias not in finder


@pytest.mark.slow
def test_eject_puts_a_working_venv_back(
    isolated: Path, store: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    project = write_project(tmp_path / "proj")
    venv = make_venv(project / ".venv", pip=True)
    pip_install_editable(venv, ".", wheelhouse, cwd=project)
    _handmade(venv)
    env = env_without_uv(tmp_path)
    relocate_ok("adopt", str(project), env=env)
    (store_venv,) = _store_venvs(store)
    assert "VIRTUAL_ENV" in (store_venv / "bin/activate").read_text()

    out = relocate_json("eject", str(project), env=env)
    assert out["action"] == "ejected"
    dotvenv = project / ".venv"
    assert dotvenv.is_dir() and not dotvenv.is_symlink()
    assert not os.path.lexists(project / ".venv.nosync")
    assert _store_venvs(store) == []
    assert list((store / "venvs").iterdir()) == []  # owner record gone too
    assert not (dotvenv / "CACHEDIR.TAG").exists()
    assert relocate_json("list", env=env) == []
    hello = run([str(dotvenv / "bin/demo-hello")], env=env)
    assert hello.returncode == 0, hello.stderr
    check = run([str(dotvenv / "bin/python"), "-c", f"import {HANDMADE}"], env=env)
    assert check.returncode == 0, check.stderr
    activated = run(["bash", "-c", '. .venv/bin/activate && printf %s "$VIRTUAL_ENV"'], cwd=project)
    assert activated.stdout == str(dotvenv)
    assert relocate("python", str(project), env=env).returncode == 1


@pytest.mark.slow
def test_adopt_and_eject_across_volumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shm_store = other_volume() / f"relocator-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(shm_store))
    try:
        project = tmp_path / "proj"
        project.mkdir()
        (project / "requirements.txt").write_text("")
        venv = make_venv(project / ".venv", pip=True)
        _handmade(venv)
        assert os.stat(tmp_path).st_dev != os.stat(other_volume()).st_dev
        env = env_without_uv(tmp_path)

        out = relocate_json("adopt", str(project), env=env)
        assert out["action"] == "copied"
        assert (project / ".venv").is_symlink()
        assert out["venv"].startswith(str(shm_store))
        pip = run([str(project / ".venv/bin/pip"), "--version"], env=env)
        assert pip.returncode == 0 and str(shm_store) in pip.stdout
        assert list((shm_store / "tmp").iterdir()) == []

        out = relocate_json("eject", str(project), env=env)
        assert out["action"] == "ejected (copied)"
        assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
        pip = run([str(project / ".venv/bin/pip"), "--version"], env=env)
        assert pip.returncode == 0 and str(project) in pip.stdout
        assert not list(shm_store.glob("venvs/*"))
    finally:
        shutil.rmtree(shm_store, ignore_errors=True)


def test_adopt_creates_a_venv_with_python_venv_when_uv_is_absent(
    tmp_path: Path, store: Path
) -> None:
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "fresh"\nversion = "0"\n')
    out = relocate_json("adopt", str(project), "--no-install", env=env_without_uv(tmp_path))
    assert out["action"] == "created"
    cfg = (Path(out["venv"]) / "pyvenv.cfg").read_text()
    assert "uv =" not in cfg
    assert "prompt = 'fresh'" in cfg or "prompt = fresh" in cfg
    result = run([str(project / ".venv/bin/python"), "-c", "import sys; print(sys.prefix)"])
    assert result.stdout.strip() == str(project / ".venv")
    assert relocate_json("status", str(project))["status"] == "ok"


@pytest.mark.slow
def test_adopt_creates_with_uv_when_on_path(tmp_path: Path) -> None:
    if shutil.which("uv") is None:
        pytest.fail("uv must be installed for the tests (scripts/test installs it)")
    project = tmp_path / "withuv"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "withuv"\nversion = "0"\n')
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    out = relocate_json("adopt", str(project), "--python", version, "--no-install")
    assert out["action"] == "created"
    assert out["python"].startswith(version + ".")
    assert "uv = " in (Path(out["venv"]) / "pyvenv.cfg").read_text()
    again = relocate_json("adopt", str(project), "--python", "3.12")
    assert again["action"] == "unchanged"
    assert any("--python applies only" in n for n in again["notes"])


def test_subfolder_adopts_the_enclosing_project(tmp_path: Path) -> None:
    project = tmp_path / "outer"
    (project / "pkg" / "deep").mkdir(parents=True)
    (project / "setup.cfg").write_text("")
    make_venv(project / ".venv")
    out = relocate_json("adopt", str(project / "pkg" / "deep"), env=env_without_uv(tmp_path))
    assert out["project"] == str(project)
    assert (project / ".venv").is_symlink()


def test_uv_workspace_member_adopts_the_workspace_root(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    member = root / "packages" / "a"
    member.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "ws"\nversion = "0"\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    )
    (member / "pyproject.toml").write_text('[project]\nname = "a"\nversion = "0"\n')
    make_venv(root / ".venv")
    out = relocate_json("adopt", str(member), env=env_without_uv(tmp_path))
    assert out["project"] == str(root)
    assert not os.path.lexists(member / ".venv")


def test_git_never_sees_the_link(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    project = repo / "sub dir"
    project.mkdir(parents=True)
    run(["git", "init", "-q", str(repo)], check=True)
    exclude = repo / ".git" / "info" / "exclude"
    user_lines = exclude.read_text()
    exclude.write_text(user_lines + "my-own-pattern\n")
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    run(["git", "add", "-A"], cwd=repo, check=True)
    run(["git", "commit", "-qm", "init"], cwd=repo, check=True)
    make_venv(project / ".venv")
    assert "sub dir/.venv" in run(["git", "status", "--porcelain"], cwd=repo).stdout

    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    status = run(["git", "status", "--porcelain"], cwd=repo).stdout
    assert status == "", status
    text = exclude.read_text()
    assert text.startswith(user_lines + "my-own-pattern\n")
    assert "/sub dir/.venv\n" in text and "/sub dir/.venv.nosync\n" in text
    assert not (repo / ".gitignore").exists()
    relocate_ok("adopt", str(project))  # idempotent: no second block
    assert exclude.read_text() == text

    relocate_ok("eject", str(project))
    assert exclude.read_text() == user_lines + "my-own-pattern\n"


def test_registry_survives_its_own_loss(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    before = relocate_json("list")
    for name in ("registry.db", "registry.db-wal", "registry.db-shm"):
        (store / name).unlink(missing_ok=True)
    assert relocate_json("list") == before
    assert relocate_json("adopt", str(project))["action"] == "unchanged"


def test_tar_exclude_caches_skips_every_venv(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    archive = tmp_path / "store.tar"
    tar = gnu_tar()  # GNU's option: macOS's own bsdtar lacks it
    run([tar, "-cf", str(archive), "--exclude-caches", "-C", str(store), "."], check=True)
    names = run([tar, "-tf", str(archive)], check=True).stdout.splitlines()
    assert "./README" in names
    assert not [n for n in names if "site-packages" in n]
    assert [n for n in names if n.endswith("CACHEDIR.TAG")]  # the tag itself is kept


def test_status_reports_each_state(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    row = relocate_json("status", str(project))
    assert row["status"] == "ok" and row["files"] > 0 and row["bytes"] > 0
    target = os.readlink(hop_of(project))

    (project / ".venv").unlink()
    assert relocate_json("status", str(project))["status"] == "link-missing"
    make_venv(project / ".venv")
    assert relocate_json("status", str(project))["status"] == "link-replaced"
    shutil.rmtree(project / ".venv")
    (project / ".venv").symlink_to(".venv.nosync/.venv")
    os.rename(target, target + ".away")
    assert relocate_json("status", str(project))["status"] == "venv-missing"
    os.rename(target + ".away", target)
    (Path(target) / "bin" / "python").unlink()
    assert relocate_json("status", str(project))["status"] == "interpreter-missing"
    moved = tmp_path / "moved"
    os.rename(project, moved)
    assert relocate_json("status", str(project))["status"] == "project-missing"
    assert relocate("status", str(moved)).returncode == 1


# -- bad input: one line, exit 1, nothing changed ---------------------------------------


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.stat().st_size)
        for p in folder.rglob("*")
    }


@pytest.mark.parametrize("kind", ["file", "foreign-link", "not-a-venv"])
def test_adopt_refuses_a_strange_dotvenv(tmp_path: Path, store: Path, kind: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "setup.py").write_text("")
    dotvenv = project / ".venv"
    if kind == "file":
        dotvenv.write_text("python=3.12\n")
    elif kind == "foreign-link":
        make_venv(tmp_path / "elsewhere")
        dotvenv.symlink_to(tmp_path / "elsewhere")
    else:
        dotvenv.mkdir()
        (dotvenv / "notes.txt").write_text("mine")
    before = _snapshot(project)
    line = one_clean_error_line(relocate("adopt", str(project)))
    assert ".venv" in line
    assert relocate("adopt", str(project)).returncode == 1
    assert _snapshot(project) == before
    assert not list(store.glob("venvs/*"))


def test_bad_input_gets_one_line(tmp_path: Path) -> None:
    cases = [
        (("adopt", str(tmp_path / "missing")), 1, "missing does not exist"),
        (("adopt", str(tmp_path)), 1, "no Python project"),
        (("eject", str(tmp_path)), 1, "no Python project"),
        (("status", str(tmp_path)), 1, "no relocated project"),
        (("python", str(tmp_path)), 1, "no Python project"),
        (("frobnicate",), 2, "No such command"),
        (("adopt", "--frob"), 2, "No such option"),
        (("python", "--frob"), 2, "No such option"),  # typer says it, as for every command
        (("--install-completion",), 2, "No such option"),
    ]
    for args, code, words in cases:
        result = relocate(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert words in one_clean_error_line(result), args


def test_eject_of_a_project_that_is_not_relocated(tmp_path: Path) -> None:
    project = venv_project(tmp_path / "p")
    before = _snapshot(project)
    assert "not relocated" in one_clean_error_line(relocate("eject", str(project)))
    assert _snapshot(project) == before


def test_adopt_creates_a_new_venv_when_the_store_was_wiped(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    env = env_without_uv(tmp_path)
    relocate_ok("adopt", str(project), env=env)
    shutil.rmtree(store)
    out = relocate_json("adopt", str(project), env=env)
    assert out["action"] == "created"
    assert any("reinstall" in note for note in out["notes"])
    assert os.path.realpath(project / ".venv") == out["venv"]
    assert run([str(project / ".venv/bin/python"), "-c", "pass"]).returncode == 0
    rows = relocate_json("list", env=env)
    assert [(r["project"], r["status"]) for r in rows] == [(str(project), "ok")]


def test_adopt_relinks_a_registered_venv_and_replaces_a_vanished_one(
    tmp_path: Path, store: Path
) -> None:
    project = venv_project(tmp_path / "p")
    env = env_without_uv(tmp_path)
    first = relocate_json("adopt", str(project), env=env)["venv"]
    drop_hop(project)  # as a project synced from elsewhere arrives
    assert relocate_json("status", str(project), env=env)["status"] == "link-missing"
    out = relocate_json("adopt", str(project), env=env)
    assert (out["action"], out["venv"]) == ("relinked", first)
    assert os.path.realpath(project / ".venv") == first

    shutil.rmtree(first)  # its venv is gone from this store too
    out = relocate_json("adopt", str(project), env=env)
    assert (out["action"], out["venv"]) == ("created", first)  # made again, under its name
    owners = sorted(p.stem for p in (store / "venvs").glob("*.json"))
    assert owners == [Path(out["venv"]).name]
    assert [r["status"] for r in relocate_json("list", env=env)] == ["ok"]

    shutil.rmtree(first)
    relocate_ok("gc", env=env)  # drops the row and the owner record of a venv that is gone
    assert relocate_json("list", env=env) == []
    out = relocate_json("adopt", str(project), env=env)
    assert out["venv"] == first  # the hop still names it, and no one else holds the name


def test_python_json_for_a_dangling_link(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "p")
    relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
    shutil.rmtree(os.path.realpath(project / ".venv"))
    result = relocate("python", "--json", str(project))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False and "a store venv that is gone" in data["error"]
    assert data["project"] == str(project)
    plain = relocate("python", str(project))
    assert "a store venv that is gone" in one_clean_error_line(plain)


def test_a_moved_project_is_named_then_followed(tmp_path: Path, store: Path) -> None:
    project = venv_project(tmp_path / "before")
    venv = relocate_json("adopt", str(project), env=env_without_uv(tmp_path))["venv"]
    moved = tmp_path / "after"
    os.rename(project, moved)
    assert [r["status"] for r in relocate_json("list")] == ["project-missing"]
    line = one_clean_error_line(relocate("status", str(moved)))
    assert str(project) in line and "relocate adopt" in line
    out = relocate_json("adopt", str(moved))
    assert (out["action"], out["venv"]) == ("moved along", venv)
    assert [(r["project"], r["status"]) for r in relocate_json("list")] == [(str(moved), "ok")]


def test_eject_all(tmp_path: Path, store: Path) -> None:
    projects = []
    for name in ("a", "b"):
        project = venv_project(tmp_path / name)
        relocate_ok("adopt", str(project), env=env_without_uv(tmp_path))
        projects.append(project)
    out = relocate_json("eject", "--all", "--yes")
    assert [r["ok"] for r in out] == [True, True]
    for project in projects:
        assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
    assert relocate_json("list") == []


def test_help_everywhere() -> None:
    for command in ("adopt", "eject", "python", "list", "status", "resolve"):
        result = relocate(command, "--help")
        assert result.returncode == 0 and "Usage: relocate " + command in result.stdout
