"""``relocate verify`` with real uv, Poetry, PDM and pip projects; doctor's cheap check of
the recipe; the note every replacement gives before the swap.

Each uv test copies one project locked once per module (``uv lock`` against PyPI) into its
own home and adopts it (the store venv built from the lock); the live venv and the
project are snapshotted (names, sizes, mtimes) around every verify.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest

from relocator.state import inventory
from relocator.venv import unrecorded
from relocator.venv.recipes import Recipe
from tests.helpers import paused, relocate, relocate_json, relocate_ok, run
from tests.tools import tool, tool_path_env

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
#: Small pure-Python distributions without dependencies, pinned so that versions compare.
SIX, OLD_SIX, BY_HAND = "1.17.0", "1.16.0", "iniconfig"
POETRY_SOURCE = """
[[tool.poetry.source]]
name = "pypi-simple"
url = "https://pypi.org/simple/"
priority = "primary"
"""

pytestmark = pytest.mark.slow


def pyproject(name: str = "app", backend: str = "hatchling", extra: str = "") -> str:
    requires, api = {
        "hatchling": ("hatchling", "hatchling.build"),
        "poetry-core": ("poetry-core>=2,<3", "poetry.core.masonry.api"),
    }[backend]
    return (
        textwrap.dedent(
            f"""\
        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">={PY}"
        dependencies = ["six=={SIX}"]

        [build-system]
        requires = ["{requires}"]
        build-backend = "{api}"
        """
        )
        + extra
    )


def write_project(root: Path, text: str) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("X = 1\n")
    (root / "README.md").write_text("app\n")
    (root / "pyproject.toml").write_text(text)
    return root


def ok(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = run(cmd, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def uv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uv project locked once: pyproject.toml, uv.lock and the code."""
    root = write_project(tmp_path_factory.mktemp("uv-template") / "app", pyproject())
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    ok(["uv", "lock", "--python", sys.executable], root, env)
    return root


@pytest.fixture(scope="module")
def uv_extra_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`uv_template` with an extra, ``[project.optional-dependencies] extra``, that
    requires BY_HAND: in uv.lock, not installed by ``uv sync --locked``."""
    extra = f'\n[project.optional-dependencies]\nextra = ["{BY_HAND}"]\n'
    root = write_project(tmp_path_factory.mktemp("uv-extra") / "app", pyproject(extra=extra))
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    ok(["uv", "lock", "--python", sys.executable], root, env)
    return root


def adopted(template: Path, home: Path) -> tuple[Path, Path]:
    """A copy of ``template`` in ~/Documents, its venv built by ``relocate adopt``."""
    project = home / "Documents" / template.name
    shutil.copytree(template, project)
    relocate_ok("adopt", str(project), "--python", sys.executable)
    return project, Path(os.path.realpath(project / ".venv"))


def by_hand(venv: Path, *specs: str) -> None:
    ok(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *specs], venv)


def files(top: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``top``: relative path -> (size, mtime in ns)."""
    found = {}
    for folder, dirs, names in os.walk(top):
        for name in dirs + names:
            path = Path(folder, name)
            st = path.lstat()
            found[str(path.relative_to(top))] = (st.st_size, st.st_mtime_ns)
    return found


def verify(project: Path, *args: str, **kw) -> tuple[int, dict]:
    result = relocate("verify", str(project), *args, "--json", **kw)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def store_is_clean(store: Path) -> None:
    assert os.listdir(store / "tmp") == []
    assert os.listdir(store / "journal") == []


# -- uv ---------------------------------------------------------------------------------


def test_a_venv_its_lock_gives_back_passes_and_nothing_it_read_changes(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    rows = relocate_json("list")
    live, tree = files(venv), files(project)
    code, found = verify(project)
    assert code == 0, found
    assert found["ok"] is True
    assert (found["lost"], found["gained"], found["changed"]) == ([], [], [])
    assert found["recipe"] == "uv.lock (uv sync --locked)" and found["python"] == PY
    assert found["imported"] == 2 and found["failed_imports"] == []  # six, and app itself
    assert files(venv) == live  # byte for byte: names, sizes, mtimes
    assert files(project) == tree
    assert relocate_json("list") == rows
    store_is_clean(store)


def test_a_package_installed_by_hand_is_named_with_the_command_that_keeps_it(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    by_hand(venv, BY_HAND)
    live = files(venv)
    code, found = verify(project)
    assert code == 1
    assert [d["name"] for d in found["lost"]] == [BY_HAND]
    assert f"uv add {BY_HAND}" in found["notes"][-1]
    assert files(venv) == live
    text = relocate("verify", str(project))
    assert text.returncode == 1
    assert f"installed by hand, not in the recipe (a rebuild loses them): {BY_HAND}" in text.stdout
    # doctor's cheap check finds it without building, and says how to keep it: a note,
    # which does not fail doctor (the venv works; --fix could not change the recipe)
    doctor = relocate("doctor", str(project), "--json")
    assert doctor.returncode == 0
    (problem,) = [f for f in json.loads(doctor.stdout) if f["check"] == "recipe"]
    assert problem["status"] == "note"
    assert f"the venv holds {BY_HAND} " in problem["message"]
    assert f"to keep them: uv add {BY_HAND} " in problem["message"]
    store_is_clean(store)


def test_a_version_that_differs_from_the_lock(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    by_hand(venv, f"six=={OLD_SIX}")
    code, found = verify(project)
    assert code == 1
    assert found["changed"] == [{"name": "six", "live": OLD_SIX, "recipe": SIX}]
    assert found["lost"] == [] and found["gained"] == []
    assert relocate("doctor", str(project)).returncode == 0  # the names all match: no finding


def test_run_passes_and_fails_in_the_scratch_venv_activated(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, _venv = adopted(uv_template, isolated)
    tree = files(project)
    show = 'import os, sys, app, six; print(sys.prefix); print(os.environ["VIRTUAL_ENV"])'
    code, found = verify(project, "--run", f"pwd; python -c '{show}'")
    assert code == 0, found
    assert found["run"]["exit_code"] == 0
    here, prefix, virtual_env = found["run"]["tail"]
    assert os.path.realpath(here) == os.path.realpath(project)
    assert prefix == virtual_env and prefix.startswith(str(store / "tmp" / "verify-"))
    assert "imported" in found and found["imported"] == 0  # --run replaces the imports
    code, found = verify(project, "--run", "echo one; echo two >&2; exit 3")
    assert code == 1
    assert found["run"] == {"command": "echo one; echo two >&2; exit 3", "exit_code": 3,
                            "tail": ["one", "two"]}  # fmt: skip
    assert found["lost"] == []  # the venvs agree: the command failed
    assert files(project) == tree
    store_is_clean(store)


def test_a_kill_during_the_build_leaves_nothing_gc_does_not_clear(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    live = files(venv)
    env = {**os.environ, "RELOCATOR_FAULT": "verify:built"}
    killed = relocate("verify", str(project), env=env)
    assert killed.returncode == -signal.SIGKILL
    (left,) = os.listdir(store / "tmp")
    assert left.startswith("verify-") and (store / "tmp" / left / "pyvenv.cfg").is_file()
    assert len(os.listdir(store / "journal")) == 1
    gc = relocate_json("gc")
    assert gc["spared"] == []  # the project and its venv stay; gc says what it removed:
    assert [(e["kind"], e["venv"], e["reason"]) for e in gc["removed"]] == [
        ("leftover", left, "the scratch venv of a relocate verify that was killed")
    ]
    store_is_clean(store)
    assert files(venv) == live
    assert relocate("verify", str(project)).returncode == 0


def test_sigterm_during_the_build_removes_the_scratch_venv(
    uv_template: Path, isolated: Path, store: Path, tmp_path: Path
) -> None:
    project, _ = adopted(uv_template, isolated)
    with paused(["verify", str(project)], "verify:built", tmp_path) as held:
        (left,) = os.listdir(store / "tmp")
        held.proc.send_signal(signal.SIGTERM)
        done = held.resume()
    assert done.returncode == 130, done.stderr
    assert not (store / "tmp" / left).exists()
    store_is_clean(store)


def test_a_running_verify_is_no_interrupted_work(
    uv_template: Path, isolated: Path, store: Path, tmp_path: Path
) -> None:
    """While verify builds, doctor and gc leave its scratch venv alone."""
    project, _ = adopted(uv_template, isolated)
    with paused(["verify", str(project), "--json"], "verify:built", tmp_path) as held:
        assert relocate("doctor", str(project)).returncode == 0
        relocate_json("gc")
        (left,) = os.listdir(store / "tmp")
        done = held.resume()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert not (store / "tmp" / left).exists()


def test_rebuild_says_what_the_new_venv_lacks_before_the_swap(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    by_hand(venv, BY_HAND, f"six=={OLD_SIX}")
    version = inventory.read(str(venv))[BY_HAND].version
    result = relocate("rebuild", str(project), "--json")
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "the new venv lacks" in line]
    assert warning == [
        f"relocate: warning: the new venv lacks {BY_HAND} {version} (installed by hand, not in "
        f"the project's recipe) and has other versions: six {OLD_SIX} (now {SIX}): the venv "
        "it replaces goes to the trash (relocate restore puts it back)"
    ]
    assert json.loads(result.stdout)["dropped"] == [f"{BY_HAND} {version}"]
    (entry,) = relocate_json("trash")
    assert BY_HAND in inventory.names(str(store / "trash" / entry["id"]))


def test_an_extra_the_rebuild_does_not_install_is_no_package_installed_by_hand(
    uv_extra_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_extra_template, isolated)
    ok(["uv", "sync", "-q", "--all-extras", "--python", str(venv / "bin" / "python")], project)
    version = inventory.read(str(venv))[BY_HAND].version
    code, found = verify(project)
    assert code == 1  # a rebuild still loses it
    assert [d["name"] for d in found["lost"]] == [BY_HAND]
    assert [d["name"] for d in found["optional"]] == [BY_HAND]
    assert not [n for n in found["notes"] if "uv add" in n]  # it would make it a dependency
    text = relocate("verify", str(project)).stdout
    assert "installed by hand" not in text
    said = "in the recipe as an extra or a group the rebuild does not install"
    assert f"  {said} (a rebuild loses them): {BY_HAND} {version}\n" in text
    assert relocate("doctor", str(project)).returncode == 0  # uv.lock lists it: no note
    result = relocate("rebuild", str(project))
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "the new venv lacks" in line]
    assert warning == [
        f"relocate: warning: the new venv lacks {BY_HAND} {version} ({said}): the venv it "
        "replaces goes to the trash (relocate restore puts it back)"
    ]


def test_no_venv_or_no_recipe_is_one_clean_line(isolated: Path) -> None:
    project = write_project(isolated / "Documents" / "bare", pyproject())
    result = relocate("verify", str(project))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"relocate: {project} has no venv at .venv to compare its recipe with: relocate adopt "
        "makes one"
    ]


# -- Poetry, PDM, pip ---------------------------------------------------------------------


@pytest.fixture
def caches(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.getbasetemp() / "verify-tool-caches"
    for name in ("POETRY_CACHE_DIR", "PDM_CACHE_DIR"):
        monkeypatch.setenv(name, str(base / name.lower()))
    monkeypatch.setenv("PDM_CHECK_UPDATE", "0")


def check_tool_project(project: Path, add: str) -> None:
    """Adopt (build from the recipe), verify (exit 0), install by hand, verify (exit 1)."""
    relocate_ok("adopt", str(project), "--python", sys.executable)
    venv = Path(os.path.realpath(project / ".venv"))
    tree = files(project)
    code, found = verify(project)
    assert code == 0, found
    assert found["imported"] >= 1 and found["failed_imports"] == []
    by_hand(venv, BY_HAND)
    live = files(venv)
    code, found = verify(project)
    assert code == 1
    assert [d["name"] for d in found["lost"]] == [BY_HAND]
    assert add in found["notes"][-1]
    assert files(venv) == live and files(project) == tree
    (problem,) = [f for f in relocate_json_any("doctor", str(project)) if f["check"] == "recipe"]
    assert add in problem["message"]


def relocate_json_any(*args: str) -> list[dict]:
    result = relocate(*args, "--json")
    assert "Traceback" not in result.stderr
    found: list[dict] = json.loads(result.stdout)
    return found


def _poetry_project(isolated: Path) -> Path:
    """A Poetry project in ~/Documents/app, locked by Poetry from a venv of its own."""
    project = write_project(
        isolated / "Documents" / "app", pyproject("app", "poetry-core", POETRY_SOURCE)
    )
    lockenv = isolated / "lockenv"
    ok([sys.executable, "-m", "venv", "--without-pip", str(lockenv)], isolated)
    ok([tool("poetry"), "lock"], project, {**os.environ, "VIRTUAL_ENV": str(lockenv),
       "POETRY_VIRTUALENVS_CREATE": "false"})  # fmt: skip
    return project


def test_poetry(isolated: Path, caches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tool_path_env("poetry")
    monkeypatch.setenv("PATH", env["PATH"])
    project = _poetry_project(isolated)
    check_tool_project(project, f"poetry add {BY_HAND}")


def _pdm_project(isolated: Path) -> Path:
    """A PDM project in ~/Documents/app, locked by PDM with a venv of its own."""
    project = write_project(isolated / "Documents" / "app", pyproject())
    lockenv = isolated / "lockenv"
    ok([sys.executable, "-m", "venv", "--without-pip", str(lockenv)], isolated)
    ok(
        [tool("pdm"), "lock"],
        project,
        {**os.environ, "PDM_PYTHON": str(lockenv / "bin" / "python")},
    )
    return project


def test_pdm(isolated: Path, caches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tool_path_env("pdm")
    monkeypatch.setenv("PATH", env["PATH"])
    project = _pdm_project(isolated)
    check_tool_project(project, f"pdm add {BY_HAND}")


def test_requirements(isolated: Path) -> None:
    project = isolated / "Documents" / "app"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text(f"six=={SIX}  # pinned\n-r requirements-dev.txt\n")
    (project / "requirements-dev.txt").write_text("")
    check_tool_project(project, f"add {BY_HAND}==")  # the version PyPI has newest


# -- the cheap check's readers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("uv.lock", 'version = 1\n\n[[package]]\nname = "Foo_Bar"\nversion = "1"\n\n'
         '[[package]]\nname = "six"\n', {"foo-bar", "six"}),
        ("poetry.lock", '[[package]]\nname = "requests"\nversion = "2"\n\n[metadata]\n',
         {"requests"}),
        ("pdm.lock", '[metadata]\n\n[[package]]\nname = "idna"\n', {"idna"}),
        ("Pipfile.lock", json.dumps({"default": {"Six": {}}, "develop": {"pytest": {}}}),
         {"six", "pytest"}),
        ("requirements.txt", "# c\nSix==1.0 ; python_version > '3'\n-e ./lib#egg=My.Lib\n"
         "--index-url https://x\nhttps://h/p.whl\nrequests[socks]>=2\n", {"six", "my-lib",
         "requests"}),
    ],
)  # fmt: skip
def test_recipe_names(tmp_path: Path, name: str, text: str, expected: set[str]) -> None:
    (tmp_path / name).write_text(text)
    kind = {"uv.lock": "uv", "poetry.lock": "poetry", "pdm.lock": "pdm"}.get(name)
    kind = kind or ("pipenv" if name == "Pipfile.lock" else "requirements")
    assert unrecorded.names(str(tmp_path), Recipe(kind, (name,), "x")) == expected


def test_recipe_names_unreadable_is_none(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text("not json")
    assert unrecorded.names(str(tmp_path), Recipe("pipenv", ("Pipfile.lock",), "x")) is None


def test_add_commands() -> None:
    dist = inventory.Distribution("rich", "13.0")
    for kind, said in [("uv", "uv add rich"), ("poetry", "poetry add rich"),
                       ("pdm", "pdm add rich"), ("pipenv", "pipenv install rich"),
                       ("requirements", "add rich==13.0 to requirements.txt")]:  # fmt: skip
        recipe = Recipe(kind, ("requirements.txt",), "x")
        assert unrecorded.Unrecorded(recipe, (dist,), (dist,)).add() == said


# -- the scratch venv is the one a tool's run uses ----------------------------------------

SHOW_PREFIX = "python -c 'import sys; print(sys.prefix)'"


def test_uv_run_uses_the_scratch_venv_and_leaves_the_live_one_alone(
    uv_template: Path, isolated: Path, store: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    by_hand(venv, "six==1.15.0")  # `uv run` in the live venv would sync it back to the lock
    live, tree = files(venv), files(project)
    _code, found = verify(project, "--run", f"uv run {SHOW_PREFIX}")
    assert found["run"]["exit_code"] == 0, found["run"]
    assert found["run"]["tail"][-1].startswith(str(store / "tmp" / "verify-")), found["run"]
    assert files(venv) == live  # six is still 1.15.0: byte for byte, names, sizes, mtimes
    assert inventory.read(str(venv))["six"].version == "1.15.0"
    assert files(project) == tree
    store_is_clean(store)


def test_poetry_run_uses_the_scratch_venv_even_after_poetry_env_use(
    isolated: Path, caches: None, monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    """Poetry takes the project's ``.venv`` over the active venv once ``poetry env use``
    recorded a venv for the project: neither its install nor its run may."""
    monkeypatch.setenv("PATH", tool_path_env("poetry")["PATH"])
    project = _poetry_project(isolated)
    relocate_ok("adopt", str(project), "--python", sys.executable)
    venv = Path(os.path.realpath(project / ".venv"))
    # `poetry env use` records a venv of Poetry's own for the project (envs.toml)
    env = {**os.environ, "POETRY_VIRTUALENVS_IN_PROJECT": "false"}
    ok([tool("poetry"), "env", "use", sys.executable], project, env)
    by_hand(venv, BY_HAND)
    live = files(venv)
    code, found = verify(project, "--run", f"poetry run {SHOW_PREFIX}")
    assert found["run"]["exit_code"] == 0, found["run"]
    assert found["run"]["tail"][-1].startswith(str(store / "tmp" / "verify-")), found["run"]
    assert code == 1 and [d["name"] for d in found["lost"]] == [BY_HAND]  # built in scratch
    assert files(venv) == live
    store_is_clean(store)


def test_pdm_run_uses_the_scratch_venv_over_the_projects_pdm_python(
    isolated: Path, caches: None, monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    """PDM runs the interpreter ``.pdm-python`` names (``pdm use``), active venv or not."""
    monkeypatch.setenv("PATH", tool_path_env("pdm")["PATH"])
    project = _pdm_project(isolated)
    relocate_ok("adopt", str(project), "--python", sys.executable)
    venv = Path(os.path.realpath(project / ".venv"))
    (project / ".pdm-python").write_text(str(project / ".venv" / "bin" / "python"))
    live, tree = files(venv), files(project)
    _code, found = verify(project, "--run", f"pdm run {SHOW_PREFIX}")
    assert found["run"]["exit_code"] == 0, found["run"]
    assert found["run"]["tail"][-1].startswith(str(store / "tmp" / "verify-")), found["run"]
    assert files(venv) == live and files(project) == tree
    store_is_clean(store)


# -- interrupted: what relocate started ends with it ---------------------------------------


def dead(pid: int) -> bool:
    """Whether process ``pid`` is gone (a zombie no one reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rpartition(")")[2].split()[0] == "Z"
    return False


def wait_for(check: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def pid_in(path: Path) -> int:
    wait_for(lambda: path.is_file() and path.read_text().strip(), f"{path} to be written", 300)
    return int(path.read_text())


def sigterm(args: list[str], pidfile: Path) -> tuple[subprocess.Popen[str], int]:
    """Start relocate with ``args``; once the child it starts wrote ``pidfile``, SIGTERM
    relocate and wait for it to end. Returns it and the child's pid."""
    cmd = [sys.executable, "-m", "relocator", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child = pid_in(pidfile)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc, child


def test_sigterm_during_run_ends_the_command_before_the_scratch_venv_goes(
    uv_template: Path, isolated: Path, store: Path, tmp_path: Path
) -> None:
    project, venv = adopted(uv_template, isolated)
    live = files(venv)
    started, late = tmp_path / "sleep.pid", tmp_path / "late"
    command = f"sleep 120 & echo $! > {started}; wait; touch {late}"
    proc, sleeper = sigterm(["verify", str(project), "--run", command], started)
    assert proc.returncode == 130, proc.stderr
    wait_for(lambda: dead(sleeper), "the command's sleep to end")
    assert not late.exists()  # the shell did not go on either
    store_is_clean(store)
    assert files(venv) == live


def test_sigterm_during_the_build_ends_the_tool_and_everything_it_started(
    isolated: Path, store: Path, tmp_path: Path
) -> None:
    """A package whose build takes long (its setup.py sleeps): the build's Python, which
    uv started, ends with relocate, and nothing comes back in the store's tmp/."""
    slow = tmp_path / "slowpkg"
    slow.mkdir()
    started = tmp_path / "build.pid"
    (slow / "setup.py").write_text(
        "import os, time\n"
        f"open({str(started)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(120)\n"
        "from setuptools import setup\n"
        "setup(name='slowpkg', version='1.0')\n"
    )
    project = isolated / "Documents" / "app"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text(f"slowpkg @ {slow.as_uri()}\n")
    relocate_ok("adopt", str(project), "--python", sys.executable, "--no-install")
    proc, builder = sigterm(["verify", str(project)], started)
    assert proc.returncode == 130, proc.stderr
    wait_for(lambda: dead(builder), "the build's Python to end")
    store_is_clean(store)


def test_gc_removes_a_scratch_folder_no_record_names_once_its_process_is_gone(
    isolated: Path, store: Path
) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    orphan = store / "tmp" / f"verify-app-{ended.pid}-0123abcd"
    running = store / "tmp" / f"verify-app-{os.getpid()}-89abcdef"
    other = store / "tmp" / f"verify-app-{ended.pid}-xyz"  # not the pattern: left alone
    for folder in (orphan, running, other):
        (folder / "lib").mkdir(parents=True)
        (folder / "lib" / "written-late.py").write_text("x = 1\n")
    planned = relocate_json("gc", "--dry-run")
    assert [(e["kind"], e["venv"]) for e in planned["removed"]] == [("leftover", orphan.name)]
    assert orphan.is_dir()
    said = relocate_ok("gc").splitlines()
    assert said[0] == (
        f"removed {orphan.name} (no project): the scratch venv of a relocate verify that was "
        "interrupted"
    )
    assert not orphan.exists() and running.is_dir() and other.is_dir()


# -- a journal record with a pid that names no process ----------------------------------------


@pytest.mark.parametrize("pid", [99999999999999999999, 2**31, 0, -1, True, 2.5])
def test_a_verify_record_whose_pid_names_no_process_is_set_aside(
    isolated: Path, store: Path, pid: object
) -> None:
    (store / "journal").mkdir(parents=True)
    record = store / "journal" / "zz-crafted.json"
    project = isolated / "Documents" / "app"
    record.write_text(json.dumps({"op": "verify", "key": "k", "project": str(project),
                                  "venv": "verify-app-1-0123abcd", "step": "begin",
                                  "pid": pid}))  # fmt: skip
    for command in ("gc", "doctor"):
        result = relocate(command)
        assert "internal error" not in result.stderr and result.returncode != 3, result.stderr
        assert "Traceback" not in result.stderr
    assert not record.exists()
    assert (store / "journal" / "zz-crafted.json.damaged").is_file()


def test_alive_reads_numbers_that_name_no_process_as_none() -> None:
    from relocator.state.store import alive

    assert alive(os.getpid())
    for pid in (0, -1, 2**31, 99999999999999999999):
        assert not alive(pid)
