"""The command line itself: --version, help texts, text output, questions, progress, colour,
and a failing tool's own output. Every run is a real ``relocate`` process; the questions,
progress and colour are tried on a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import (
    CLOUD_DOCS,
    drop_hop,
    env_without_uv,
    one_clean_error_line,
    other_volume,
    relocate,
    relocate_json,
    relocate_ok,
    store_venvs,
    venv_project,
)

ESC = "\x1b"

#: Every command and subcommand, as typed after ``relocate``.
COMMANDS = [
    ["adopt"],
    ["rebuild"],
    ["verify"],
    ["doctor"],
    ["gc"],
    ["eject"],
    ["uninstall"],
    ["info"],
    ["python"],
    ["list"],
    ["status"],
    ["scan"],
    ["resolve"],
    ["excludes"],
    ["trash"],
    ["restore"],
    ["hook"],
    ["completion"],
    ["service"],
    ["service", "run"],
    ["service", "install"],
    ["service", "uninstall"],
    ["service", "status"],
]


class Screen(NamedTuple):
    code: int
    text: str  # what the terminal showed (stderr, stdin's echo, and stdout when on it)
    stdout: str  # stdout when it was a pipe


def on_terminal(
    *args: str,
    env: dict[str, str] | None = None,
    answer: str | None = None,
    stdout_too: bool = False,
    timeout: float = 120.0,
) -> Screen:
    """Run relocate with stdin and stderr (and with ``stdout_too``, stdout) on a new
    pseudo-terminal; type ``answer`` once a y/N question shows."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "relocator", *args],
        stdin=follower,
        stderr=follower,
        stdout=follower if stdout_too else subprocess.PIPE,
        env=env,
    )
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"relocate {args} did not end:\n{shown!r}")
            ready, _, _ = select.select([leader], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every end of the terminal was closed
                break
            if not chunk:
                break
            shown += chunk
            if answer is not None and b"[y/N]" in shown:
                os.write(leader, answer.encode() + b"\n")
                answer = None
        out = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return Screen(code, shown.decode("utf-8", "replace"), out)


def _adopted(*paths: Path) -> list[Path]:
    for project in paths:
        venv_project(project)
        relocate_ok("adopt", str(project))
    return list(paths)


def _relocated(project: Path) -> bool:
    return (project / ".venv").is_symlink()


# -- 1. --version -----------------------------------------------------------------------------


def test_version_prints_the_installed_version_without_loading_typer() -> None:
    expected = f"relocate {installed_version('relocator')}\n"
    for flag in ("--version", "-V"):
        result = relocate(flag)
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")
    assert relocate_ok("-q", "--version") == expected  # through typer, as a global option
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "relocator", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in timed.stderr.splitlines()}
    assert "relocator.cli.entry" in imported
    assert "typer" not in imported and "relocator.cli.cli" not in imported
    assert "importlib.metadata" not in imported  # ~25 ms: the version is relocator.__version__


# -- 2. help texts ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_has_an_example_and_says_what_options_take(command: list[str]) -> None:
    result = relocate(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"Usage: relocate {' '.join(command)}" in text
    assert re.search(rf"^\s*Example: relocate {' '.join(command)}\b", text, re.M), text
    for vague in ("TEXT", "FLOAT", "INTEGER", "None"):
        assert not re.search(rf"\b{vague}\b", text), (vague, text)


def test_option_placeholders() -> None:
    assert re.search(r"--python VERSION\|PATH\s", relocate_ok("adopt", "--help"))
    assert re.search(r"--name NAME\s", relocate_ok("adopt", "--help"))
    assert re.search(r"--python VERSION\|PATH\s", relocate_ok("rebuild", "--help"))
    assert re.search(r"--interval SECONDS\s", relocate_ok("service", "run", "--help"))
    assert "Usage: relocate resolve [OPTIONS] [PATH]" in relocate_ok("resolve", "--help")
    assert re.search(r"-y, --yes\s", relocate_ok("eject", "--help"))
    hook = relocate_ok("hook", "--help")  # typer's, not the fast path's
    assert "SHELL  bash, zsh or fish." in hook and "--install" in hook


def _listed(help_text: str) -> dict[str, str]:
    """The commands section of a help text: name -> its description, lines joined."""
    section = help_text.split("Commands:\n", 1)[1]
    found: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        entry = re.match(r"  (\S+)\s+(.*)", line)
        if entry:
            name = entry[1]
            found[name] = entry[2].strip()
        elif line.strip():
            found[name] += " " + line.strip()
    return found


@pytest.mark.parametrize("columns", ["50", "80", "200"])
def test_command_lists_show_whole_sentences(columns: str) -> None:
    env = {**os.environ, "COLUMNS": columns}
    top = _listed(relocate_ok("--help", env=env))
    assert set(top) == {c[0] for c in COMMANDS}
    service = _listed(relocate_ok("service", "--help", env=env))
    assert set(service) == {"run", "install", "uninstall", "status"}
    for name, text in [*top.items(), *service.items()]:
        assert text.endswith(".") and "..." not in text, (name, text)


def test_resolve_takes_the_current_folder_by_default(tmp_path: Path) -> None:
    assert relocate_json("resolve", cwd=tmp_path)["path"] == str(tmp_path)


# -- text output -------------------------------------------------------------------------------


def test_text_output_never_shows_none(tmp_path: Path) -> None:
    project = venv_project(tmp_path / "p")
    cfg = project / ".venv" / "pyvenv.cfg"  # a venv whose Python version is not known
    cfg.write_text("".join(ln for ln in cfg.read_text().splitlines(True) if "version" not in ln))
    adopted = relocate_ok("adopt", str(project))
    assert "Python unknown" in adopted
    outputs = [
        adopted,
        relocate_ok("list"),
        relocate_ok("status", str(project)),
        relocate_ok("resolve", str(tmp_path)),
        relocate_ok("gc", "--dry-run"),
    ]
    assert " unknown " in outputs[1] and " unknown " in outputs[2]
    assert outputs[3].splitlines()[-1].startswith("provider: none (")
    for text in outputs:
        assert "None" not in text, text


def test_list_has_an_aligned_header(tmp_path: Path) -> None:
    projects = _adopted(tmp_path / "a", tmp_path / "a-longer-name")
    header, *rows = relocate_ok("list").splitlines()
    assert header.split() == ["status", "python", "files", "size", "project"]
    assert [row[header.index("project") :] for row in rows] == [str(p) for p in projects]
    for row in rows:
        assert row.split()[0] == "ok"
        python = row[header.index("python") :].split()[0]
        assert re.fullmatch(r"3\.\d+\.\d+", python)
        # files right-aligned under their header, sizes likewise
        assert row[: header.index("files") + len("files")].split()[-1].isdigit()
        assert row[: header.index("size") + len("size")].endswith("MB")


def test_status_and_list_name_the_repair_of_a_broken_link(tmp_path: Path, store: Path) -> None:
    (project,) = _adopted(tmp_path / "p")
    drop_hop(project)  # the hop is gone: .venv dangles
    status = relocate_ok("status", str(project))
    assert status.splitlines()[1].startswith("link-missing")
    assert f"to repair: relocate adopt {project} links the venv again" in status
    assert f"to repair: relocate adopt {project}" in relocate_ok("list")
    shutil.rmtree(store_venvs(store)[0])  # and a wiped store: rebuilt from the recipe
    status = relocate_ok("status", str(project))
    assert status.splitlines()[1].startswith("venv-missing")
    assert f"to repair: relocate adopt {project} builds it again" in status


def test_status_on_a_second_machine_says_the_command(tmp_path: Path) -> None:
    project = tmp_path / "synced"
    project.mkdir()
    (project / "requirements.txt").write_text("")
    (project / ".venv").symlink_to(".venv.nosync/.venv")  # .venv.nosync never syncs
    line = one_clean_error_line(relocate("status", str(project)))
    assert f"relocate adopt {project} builds it" in line


# -- 4. eject --all asks -----------------------------------------------------------------------


def test_eject_all_without_a_terminal_needs_yes(tmp_path: Path, store: Path) -> None:
    projects = _adopted(tmp_path / "a", tmp_path / "b")
    result = relocate("eject", "--all")
    assert result.returncode == 2
    assert "pass --yes to eject every project" in one_clean_error_line(result)
    assert result.stdout == ""
    assert all(_relocated(p) for p in projects)
    out = relocate_json("eject", "--all", "-y")
    assert [r["ok"] for r in out] == [True, True]
    assert not any(_relocated(p) for p in projects) and store_venvs(store) == []


def test_eject_all_asks_on_a_terminal(tmp_path: Path, store: Path) -> None:
    projects = _adopted(tmp_path / "a", tmp_path / "b")
    no = on_terminal("eject", "--all", answer="n")
    assert "eject all 2 relocated projects" in no.text and "[y/N]" in no.text
    assert no.code == 1 and "nothing ejected" in no.text
    assert all(_relocated(p) for p in projects) and len(store_venvs(store)) == 2
    yes = on_terminal("eject", "--all", answer="y")
    assert yes.code == 0, yes.text
    assert not any(_relocated(p) for p in projects) and store_venvs(store) == []
    assert all(f"{p}: venv back in {p}/.venv" in yes.stdout for p in projects)
    asked_not = on_terminal("eject", "--all", "--yes")  # --yes: no question on a terminal
    assert asked_not.code == 0 and "[y/N]" not in asked_not.text
    assert asked_not.stdout == "no relocated projects: nothing to eject\n"


# -- 5. uninstall --------------------------------------------------------------------------------


def _uninstall_env(isolated: Path) -> dict[str, str]:
    """Everything uninstall touches inside the test's home."""
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(isolated / ".config"),
        "ZDOTDIR": str(isolated),
    }


def test_uninstall_without_a_terminal_needs_yes(tmp_path: Path, isolated: Path) -> None:
    (project,) = _adopted(tmp_path / "p")
    result = relocate("uninstall", env=_uninstall_env(isolated))
    assert result.returncode == 2
    assert "pass --yes to uninstall" in one_clean_error_line(result)
    assert _relocated(project)


def test_uninstall_asks_then_reports_each_step(tmp_path: Path, store: Path, isolated: Path) -> None:
    env = _uninstall_env(isolated)
    (project,) = _adopted(tmp_path / "p")
    no = on_terminal("uninstall", env=env, answer="n")
    assert no.code == 1 and "nothing removed" in no.text
    assert str(project) in no.text and "[y/N]" in no.text  # the plan, then the question
    assert _relocated(project) and store.is_dir()
    yes = on_terminal("uninstall", env=env, answer="y")
    assert yes.code == 0, yes.text + yes.stdout
    steps = yes.stdout.splitlines()
    assert steps[0].startswith("ok     remove the service")
    assert steps[1].startswith(f"ok     eject {project}")
    assert any(line.startswith(f"ok     remove the store {store}") for line in steps)
    assert steps[-1].startswith("to remove relocate itself: ")
    assert not _relocated(project) and (project / ".venv").is_dir()
    assert not store.exists()


def test_uninstall_exits_1_when_a_step_fails(tmp_path: Path, store: Path, isolated: Path) -> None:
    (project,) = _adopted(tmp_path / "p")
    (store / "mine.txt").write_text("not relocator's")  # so the store must stay
    result = relocate("uninstall", "--yes", "--json", env=_uninstall_env(isolated))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    failed = [s for s in report["steps"] if not s["ok"]]
    assert [s["what"] for s in failed] == [f"remove the store {store}"]
    assert "mine.txt" in failed[0]["detail"]
    assert not _relocated(project) and (store / "mine.txt").exists()


# -- 6. progress, quiet, colour ------------------------------------------------------------------


@pytest.fixture
def shm_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store on another volume (helpers.other_volume): adopt copies instead of renaming."""
    where = other_volume() / f"relocator-cli-{uuid.uuid4().hex}"
    monkeypatch.setenv("RELOCATOR_HOME", str(where))
    yield where
    shutil.rmtree(where, ignore_errors=True)


def test_a_copy_across_volumes_shows_progress_on_a_terminal_only(
    tmp_path: Path, shm_store: Path
) -> None:
    shown = {}
    files = 0
    for case in ("tty", "quiet", "json", "pipe"):
        project = venv_project(tmp_path / case)
        venv = project / ".venv"
        files = files or sum(1 for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
        assert os.stat(project).st_dev != os.stat(other_volume()).st_dev
        if case == "pipe":
            result = relocate("adopt", str(project))
            code, shown[case] = result.returncode, result.stderr
        else:
            args = {"tty": ["adopt"], "quiet": ["-q", "adopt"], "json": ["adopt", "--json"]}
            screen = on_terminal(*args[case], str(project))
            code, shown[case] = screen.code, screen.text
        assert code == 0, shown[case]
        assert str(os.path.realpath(project / ".venv")).startswith(str(shm_store))
    assert re.search(rf"copying [\d,]+ of {files:,} files", shown["tty"]), shown["tty"]
    assert shown["tty"].endswith("\r\x1b[K")  # cleared when done
    for case in ("quiet", "json", "pipe"):
        assert shown[case] == "", (case, shown[case])


def test_creating_a_venv_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    for case in ("tty", "pipe"):
        project = tmp_path / case
        project.mkdir()
        (project / "setup.py").write_text("")
        if case == "tty":
            screen = on_terminal("adopt", str(project), env=env_without_uv(tmp_path))
            code, shown = screen.code, screen.text
        else:
            result = relocate("adopt", str(project), env=env_without_uv(tmp_path))
            code, shown = result.returncode, result.stderr
        assert code == 0, shown
        assert (project / ".venv" / "bin" / "python").exists()
        if case == "tty":
            assert f"creating a venv for {case}" in shown and shown.endswith("\r\x1b[K")
        else:
            assert shown == ""


def test_quiet_drops_notes_not_results_or_errors(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.uv]\n")  # uv's: a venv without pip
    relocate_ok("adopt", str(project))
    head = rf"{re.escape(str(project))}: \.venv created in \S+ \(Python 3\.\d+\.\d+\)"
    loud = relocate_ok("rebuild", str(project)).splitlines()
    assert re.fullmatch(head, loud[0]) and len(loud) > 1
    assert all(line.startswith("  note: ") for line in loud[1:])
    quiet = relocate_ok("-q", "rebuild", str(project)).splitlines()
    assert len(quiet) == 1 and re.fullmatch(head, quiet[0])
    failed = relocate("-q", "status", str(tmp_path))
    assert "no relocated project" in one_clean_error_line(failed)


def test_paths_under_the_home_read_from_tilde_and_json_keeps_real_paths(docs: Path) -> None:
    project = docs / "some folder" / "app"
    _adopted(project)
    real = os.path.realpath(project)
    assert CLOUD_DOCS in real  # iCloud's spelling: what relocate records and --json gives
    drop_hop(project)
    shown = "~/Documents/some folder/app"
    texts = {
        "list": relocate_ok("list"),
        "status": relocate_ok("status", str(project)),
        "doctor": relocate("doctor").stdout,
        "scan": relocate_ok("scan", str(docs)),
    }
    for name, text in texts.items():
        assert shown in text and real not in text and CLOUD_DOCS not in text, (name, text)
    hint = "relocate adopt ~/'Documents/some folder/app' links the venv again"
    assert hint in texts["list"] and hint in texts["doctor"], texts
    assert relocate_json("list")[0]["project"] == real
    assert relocate_json("status", str(project))["project"] == real
    found = json.loads(relocate("doctor", "--json").stdout)
    assert [f["project"] for f in found if f["project"]] == [real]
    assert {t["path"] for t in relocate_json("scan", str(docs))} == {f"{real}/.venv"}


def test_tables_fit_columns_shortening_paths_in_the_middle(docs: Path) -> None:
    deep = docs / "clients" / "a client with a long name" / "2026" / "the-project"
    _adopted(deep, docs / "short")
    whole = "~/Documents/clients/a client with a long name/2026/the-project"
    piped = relocate_ok("list").splitlines()  # no terminal, no COLUMNS: whole paths for grep
    assert piped[1].endswith(whole) and "…" not in "".join(piped)
    for columns in (60, 80):
        env = {**os.environ, "COLUMNS": str(columns)}
        listed = relocate_ok("list", env=env).splitlines()
        assert all(len(line) <= columns for line in listed), listed
        row = next(line for line in listed if "the-project" in line)
        path = row[listed[0].index("project") :]
        assert path.startswith("~/") and "…" in path and path.endswith("/the-project"), row
        assert listed[2].endswith("~/Documents/short")  # what fits is never shortened
        scanned = relocate_ok("scan", str(docs), env=env).splitlines()
        row = next(line for line in scanned if "the-project" in line)
        assert len(row) <= columns and row.endswith("/the-project/.venv"), scanned
    wide = relocate_ok("list", env={**os.environ, "COLUMNS": "200"}).splitlines()
    assert wide[1].endswith(whole)


def test_no_colour_off_a_terminal_or_with_no_color(tmp_path: Path) -> None:
    _adopted(tmp_path / "p")
    plain = relocate("list")
    failing = relocate("status", str(tmp_path / "elsewhere"))
    assert ESC not in plain.stdout + plain.stderr + failing.stderr
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    for args in (["list"], ["doctor"], ["status", str(tmp_path / "elsewhere")]):
        screen = on_terminal(*args, env=env, stdout_too=True)
        assert ESC not in screen.text, screen.text


def test_colour_on_a_terminal(tmp_path: Path) -> None:
    project, _ = _adopted(tmp_path / "p", tmp_path / "q")
    drop_hop(project)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    listed = on_terminal("list", env=env, stdout_too=True).text
    assert "\x1b[32mok\x1b[0m" in listed and "\x1b[31mlink-missing\x1b[0m" in listed
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in listed.splitlines()]
    rows = [line for line in plain if line.split()[:1] in (["ok"], ["link-missing"])]
    assert len(rows) == 2
    assert {line.index(str(tmp_path)) for line in rows} == {plain[0].index("project")}
    doctor = on_terminal("doctor", env=env, stdout_too=True)
    assert doctor.code == 1 and "\x1b[31mlink-missing\x1b[0m" in doctor.text
    error = on_terminal("status", str(tmp_path / "elsewhere"), env=env).text
    assert error.startswith("\x1b[1;31mrelocate:\x1b[0m ")


# -- 7. a failing tool's own output --------------------------------------------------------------


def test_a_failing_tool_shows_its_whole_output(tmp_path: Path, store: Path) -> None:
    if shutil.which("uv") is None:
        pytest.fail("uv is needed (the test env has it)")
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.uv]\n")  # uv's: `uv venv` needs no index
    (project / "requirements.txt").write_text("no-such-package-relocator-test\n")
    env = {**os.environ, "UV_OFFLINE": "1", "UV_INDEX_URL": "http://127.0.0.1:9/"}
    env["PIP_INDEX_URL"] = env["UV_INDEX_URL"]
    result = relocate("rebuild", str(project), env=env)
    assert result.returncode == 1
    summary, *shown = result.stderr.splitlines()
    assert summary.startswith("relocate: uv pip install failed: ")
    log = Path(re.search(r"\(its whole output: (\S+)\)$", summary)[1])
    logged = [line for line in log.read_text().splitlines()[1:] if line.strip()]
    assert shown == [f"    {line.rstrip()}" for line in logged]
    assert any("no-such-package-relocator-test" in line for line in shown)
    assert any("network was disabled" in line for line in shown)  # uv's hint, not in summary
    assert "network was disabled" not in summary
    assert not os.path.lexists(project / ".venv") and store_venvs(store) == []


def test_tool_output_is_escaped(tmp_path: Path) -> None:
    """A control character in what a tool prints (here: uv quoting a requirement with a
    tab in it) is escaped, as in every error line."""
    if shutil.which("uv") is None:
        pytest.fail("uv is needed (the test env has it)")
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.uv]\n")
    (project / "requirements.txt").write_text("bad\tname==1\n")
    result = relocate("rebuild", str(project), env={**os.environ, "UV_OFFLINE": "1"})
    assert result.returncode == 1
    summary, *shown = result.stderr.splitlines()
    assert (
        summary.startswith("relocate: uv pip install failed: ") and "(its whole output" in summary
    )
    assert any("bad\\tname==1" in line for line in shown), result.stderr
    assert "\t" not in result.stderr and "Traceback" not in result.stderr


def test_a_failing_python_m_venv_shows_its_whole_output(tmp_path: Path, store: Path) -> None:
    """The interpreter given with --python fails in ``-m venv`` (as a Python without
    ensurepip, or a broken pyenv shim, does): every line it printed is shown."""
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"-m venv"*)\n'
        '  echo "first line of the trouble" >&2\n'
        '  echo "Error: ensurepip is not available" >&2\n'
        "  exit 1;;\n"
        "esac\n"
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    project = tmp_path / "p"
    project.mkdir()
    (project / "setup.py").write_text("")
    result = relocate("adopt", str(project), "--python", str(python), env=env_without_uv(tmp_path))
    assert result.returncode == 1
    summary, *shown = result.stderr.splitlines()
    assert summary.startswith("relocate: python -m venv failed: ensurepip is not available (")
    assert shown == ["    first line of the trouble", "    Error: ensurepip is not available"]
    assert not os.path.lexists(project / ".venv") and store_venvs(store) == []


def test_shell_completion_offers_every_command() -> None:
    """The completion scripts (relocate completion SHELL, loaded by the hook) name every
    command and subcommand."""
    from relocator.cli import completion

    names = {word for command in COMMANDS for word in command}
    for shell in ("bash", "zsh", "fish"):
        words = set(re.findall(r"[a-z]+", completion.script(shell)))
        assert names <= words, (shell, names - words)


def test_a_path_that_does_not_exist_is_said_so_by_every_command(tmp_path: Path) -> None:
    typo = str(tmp_path / "Documnets" / "proj")
    for command in (["adopt"], ["eject"], ["status"], ["python"], ["python", "--json"], ["scan"]):
        result = relocate(*command, typo)
        if command == ["python", "--json"]:
            assert result.returncode == 1
            assert json.loads(result.stdout)["error"] == f"{typo} does not exist"
            continue
        assert one_clean_error_line(result) == f"relocate: {typo} does not exist", command
    resolved = relocate("resolve", typo)  # still spelled, then said not to exist
    assert one_clean_error_line(resolved) == f"relocate: {typo} does not exist"
    assert resolved.stdout.splitlines()[0] == f"path:     {typo}"
    as_json = relocate("resolve", "--json", typo)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["exists"] is False
    assert relocate_json("resolve", str(tmp_path))["exists"] is True


def test_python_says_whether_there_is_a_project_to_adopt(tmp_path: Path) -> None:
    nothing = tmp_path / "downloads"
    nothing.mkdir()
    line = one_clean_error_line(relocate("python", str(nothing)))
    assert line.startswith(f"relocate: {nothing} is in no Python project (looked for ")
    assert "adopt" not in line
    project = tmp_path / "app"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    line = one_clean_error_line(relocate("python", str(project / "src")))
    assert line == (
        f"relocate: {project / 'src'} is in no relocated project "
        f"(relocate adopt {project} relocates it)"
    )


def test_gc_sums_up_in_the_tense_of_what_it_did(tmp_path: Path) -> None:
    project = tmp_path / "gone"
    _adopted(project)
    shutil.rmtree(project)
    dry = relocate_ok("gc", "--dry-run").splitlines()
    assert dry[-1] == "1 to move to the trash, 0 to keep, 0 trash entries to delete, 0.0 MB to free"
    done = relocate_ok("gc").splitlines()
    assert done[-1] == "1 moved to the trash, 0 kept, 0 trash entries deleted, 0.0 MB freed"
