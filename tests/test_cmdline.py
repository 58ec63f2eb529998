"""The command line's shape: the table the fast path parses agrees with the typer app, global
options work before or after every command, a failing command under --json prints a JSON
error, and ``relocate completion`` prints a script that completes in a real shell."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from relocator.cli import cli, cmdline, completion
from tests.helpers import one_clean_error_line, relocate, relocate_ok, venv_project

ESC = "\x1b"
PYPROJECT = '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["six"]\n'


def _click_commands() -> dict[str, Any]:
    """Every command of the typer app, as typed after ``relocate``."""
    group = typer.main.get_command(cli.app)
    found: dict[str, Any] = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def _shape(command: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """A click command's arguments and options in the table's form."""
    arguments, options = [], []
    for p in command.params:
        if p.param_type_name == "argument":
            count = "*" if p.nargs == -1 else "1" if p.required else "?"
            arguments.append((p.name, count, p.default))
        else:
            flags = tuple(p.opts) + tuple(p.secondary_opts)
            options.append((p.name, flags, not p.is_flag, p.default))
    return tuple(arguments), tuple(options)


def test_the_table_is_the_typer_apps_every_command_argument_and_option() -> None:
    commands = _click_commands()
    assert sorted(commands) == sorted(cmdline.COMMANDS)
    for name, command in commands.items():
        assert _shape(command) == cmdline.COMMANDS[name], name
    group = typer.main.get_command(cli.app)
    flags = {f for p in group.params for f in p.opts}
    assert {*cmdline.QUIET, *cmdline.VERBOSE, cmdline.COLOR, "--json"} <= flags


def test_every_command_has_its_shared_function() -> None:
    from relocator.cli import entry

    for name, (arguments, options) in cmdline.COMMANDS.items():
        function = entry.function(name)
        params = function.__code__.co_varnames[: function.__code__.co_kwonlyargcount]
        assert set(params) == {a[0] for a in arguments} | {o[0] for o in options}, name


@pytest.mark.parametrize("command", sorted(cmdline.COMMANDS))
def test_global_options_anywhere_for_every_command(command: str) -> None:
    words = command.split()
    takes_json = cmdline.takes_json(command)
    extra = ["--json"] if takes_json else []
    before = cmdline.split(["-q", "--color", "never", *extra, *words])
    after = cmdline.split([*words, "-q", *extra, "--color=never"])
    for found, name, rest in (before, after):
        assert (found.quiet, found.color, found.json, found.problem) == (
            True,
            "never",
            takes_json,
            "",
        )
        assert (name, rest) == (command, [*words, *extra])
    verbose, _, _ = cmdline.split([*words, "-v"])
    assert verbose.verbose and not verbose.quiet
    if not takes_json:
        assert "prints no JSON" in cmdline.split([*words, "--json"])[0].problem


def test_an_options_value_is_never_taken_for_a_global_option() -> None:
    found, name, rest = cmdline.split(["adopt", "--name", "-v", "-q"])
    assert (found.quiet, found.verbose, name, rest) == (
        True,
        False,
        "adopt",
        ["adopt", "--name", "-v"],
    )
    assert cmdline.split(["adopt", "--", "-q"])[2] == ["adopt", "--", "-q"]
    assert cmdline.split(["-q", "-v", "list"])[0].problem.startswith("-q/--quiet and -v")
    assert "--color 'rainbow'" in cmdline.split(["list", "--color", "rainbow"])[0].problem


def test_the_fast_parser_leaves_what_it_does_not_understand_to_typer() -> None:
    parse = cmdline.parse
    assert parse("adopt", ["adopt", "p", "--name=venv", "--trees"]) == {
        "path": "p",
        "python": None,
        "no_install": False,
        "name": "venv",
        "with_trees": True,
        "no_trees": False,
        "node_modules": False,
        "as_json": False,
    }
    assert parse("scan", ["scan", "a", "b"])["roots"] == ["a", "b"]  # type: ignore[index]
    for bad in (["--help"], ["-h"], ["--bogus"], ["a", "b"], ["--name"], ["--trees=1"]):
        assert parse("adopt", ["adopt", *bad]) is None, bad
    assert parse("hook", ["hook"]) is None  # its shell is required


def test_eject_and_adopt_take_quiet_after_the_command(tmp_path: Path) -> None:
    project = venv_project(tmp_path / "p")
    relocate_ok("adopt", str(project))
    assert relocate_ok("adopt", str(project), "-q").startswith(f"{project}: already relocated")
    relocate_ok("eject", str(project), "-q")
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
    assert relocate_ok("adopt", str(project), "--quiet", "--json").lstrip().startswith("{")
    listed = json.loads(relocate_ok("--json", "list"))
    assert [row["project"] for row in listed] == [str(project)]
    coloured = relocate_ok("list", "--color", "always")  # not a terminal, yet coloured
    assert ESC in coloured and ESC not in relocate_ok("list", "--color=never")


def test_help_lists_the_global_options() -> None:
    shown = relocate_ok("--help")
    for flag in ("-q, --quiet", "-v, --verbose", "--json", "--color"):
        assert flag in shown, flag
    for command in cmdline.COMMANDS:
        if command not in cmdline.HIDDEN:
            assert "-q/--quiet, -v/--verbose" in relocate_ok(*command.split(), "--help"), command


#: One failing run of every command that takes --json (its exit code).
FAILING = [
    (["adopt", "{missing}"], 1),
    (["rebuild", "/"], 1),
    (["verify", "/"], 1),
    (["doctor", "{missing}"], 1),
    (["gc", "--bogus"], 2),
    (["eject", "{missing}"], 1),
    (["uninstall"], 2),  # no terminal, no --yes
    (["list", "--bogus"], 2),
    (["status", "{here}"], 1),
    (["scan", "{missing}"], 1),
    (["trash", "--bogus"], 2),
    (["info", "--bogus"], 2),
    (["restore", "/"], 1),
    (["resolve", "a", "b"], 2),
    (["service", "install", "--bogus"], 2),
    (["service", "uninstall", "--bogus"], 2),
    (["service", "status", "--bogus"], 2),
]


def test_every_json_command_is_covered() -> None:
    two = {" ".join(args[:2]) for args, _ in FAILING}
    covered = {args[0] for args, _ in FAILING if args[0] in cmdline.COMMANDS} | {"python"}
    covered |= two & set(cmdline.COMMANDS)
    assert covered == {c for c in cmdline.COMMANDS if cmdline.takes_json(c)}


@pytest.mark.parametrize(("args", "code"), FAILING, ids=[" ".join(a) for a, _ in FAILING])
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_failure_under_json_is_a_json_object(
    tmp_path: Path, args: list[str], code: int, where: str
) -> None:
    args = [a.format(missing=tmp_path / "missing", here=tmp_path) for a in args]
    result = relocate(*(["--json", *args] if where == "before" else [*args, "--json"]))
    assert result.returncode == code
    line = one_clean_error_line(result)
    shown = json.loads(result.stdout)
    assert f"relocate: {shown['error']}" == line
    if code == 2 and "--bogus" in args:
        assert shown["hint"].endswith("--help")


def test_python_keeps_its_own_json_shape(tmp_path: Path) -> None:
    result = relocate("python", str(tmp_path), "--json")
    shown = json.loads(result.stdout)
    assert result.returncode == 1 and shown["valid"] is False and shown["error"]


def test_json_on_a_command_that_prints_none_is_a_usage_error() -> None:
    result = relocate("hook", "bash", "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "relocate hook prints no JSON" in one_clean_error_line(result)


# -- completion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", cmdline.SHELLS)
def test_the_completion_script_is_valid_and_the_hooks(shell: str, tmp_path: Path) -> None:
    found = shutil.which(shell)
    if found is None:
        pytest.fail(f"{shell} is not installed") if os.environ.get("CI") else pytest.skip(shell)
    printed = relocate_ok("completion", shell)
    assert printed == completion.script(shell)
    script = tmp_path / f"c.{shell}"
    script.write_text(printed)
    checked = subprocess.run([found, "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert printed in relocate_ok("hook", shell)


def _bash_complete(script: Path, *words: str) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    code = (
        f"source '{script}'; COMP_WORDS=(relocate {line}); COMP_CWORD={len(words)}; "
        '_relocator_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completes_commands_options_and_values(tmp_path: Path) -> None:
    script = tmp_path / "c.bash"
    script.write_text(completion.script("bash"))
    (tmp_path / "sub").mkdir()
    assert _bash_complete(script, "ad") == ["adopt"]
    assert _bash_complete(script, "-q", "st") == ["status"]
    assert "--node-modules" in _bash_complete(script, "adopt", "--n")
    assert _bash_complete(script, "adopt", "--color", "al") == ["always"]
    assert _bash_complete(script, "excludes", "--format", "re") == ["restic"]
    assert _bash_complete(script, "service", "") == ["run", "install", "uninstall", "status"]
    assert _bash_complete(script, "service", "run", "--i") == ["--interval"]
    assert _bash_complete(script, "hook", "z") == ["zsh"]
    assert _bash_complete(script, "status", str(tmp_path / "su")) == [str(tmp_path / "sub")]


def test_fish_completes_commands_and_options(tmp_path: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.fail("fish is not installed") if os.environ.get("CI") else pytest.skip("fish")
    script = tmp_path / "c.fish"
    script.write_text(completion.script("fish"))

    def complete(line: str) -> list[str]:
        code = f"source '{script}'; complete -C '{line}'"
        done = subprocess.run([fish, "-c", code], capture_output=True, text=True, check=True)
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert complete("relocate ad") == ["adopt"]
    assert "--node-modules" in complete("relocate adopt --n")
    assert sorted(complete("relocate service ")) == ["install", "run", "status", "uninstall"]
    assert "--yes" not in complete("relocate service uninstall --")


#: What no command with nothing to do imports (bench_start.py times them against a bare
#: ``python -c pass``): typer and filelock are for other paths; typing costs as much as
#: starting Python (relocator.records); the TOML parser (with typing) is for projects that
#: configure relocator or a uv workspace; hashlib (OpenSSL), secrets, shutil, tempfile and
#: pathlib are for moves and rebuilds.
NEVER = (
    *("typer", "filelock", "typing", "tomllib", "hashlib", "secrets", "shutil", "tempfile"),
    *("pathlib", "urllib.parse", "fnmatch"),
)
#: The commands that need no registry open no SQLite.
NO_REGISTRY = ("trash", "resolve", "excludes", "completion", "--version", "python")


def imports_of(args: list[str], cwd: Path) -> set[str]:
    """The modules ``relocate ARGS`` imports, run as a regular install runs it: ``-S``
    keeps out what ``site`` imports for an editable install (its finder loads pathlib and
    re), the package and its dependencies are put on the path by hand (so ``relocator.shell``,
    the hooks' folder an editable install maps, is not found: no ``hook`` here)."""
    import site
    import sys

    import relocator

    paths = [os.path.dirname(os.path.dirname(relocator.__file__)), *site.getsitepackages()]
    code = f"import sys; sys.path[:0] = {paths!r}; from relocator.cli.entry import main; "
    code += "sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-S", "-X", "importtime", "-c", code, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr[-500:])
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 10, done.stderr[-500:]
    return {line.rsplit("|", 1)[-1].strip() for line in lines}


def test_commands_with_nothing_to_do_import_little(tmp_path: Path) -> None:
    """The fast path runs them on the standard library's cheap modules and the core
    modules each needs; --help goes through typer."""
    project = venv_project(tmp_path / "p", marker="pyproject.toml")
    (project / "pyproject.toml").write_text(PYPROJECT)
    relocate_ok("adopt", str(project))
    runs = [
        ["adopt", str(project)],
        ["status", str(project)],
        ["list", "-q"],
        ["doctor", str(project)],
        ["gc", "--dry-run"],
        ["gc"],
        ["trash", "--json"],
        ["resolve", str(project)],
        ["excludes"],
        ["completion", "bash"],
        ["--version"],
        ["--color", "never", "python", str(project)],
    ]
    for args in runs:
        imported = imports_of(args, tmp_path)
        assert "relocator.cli.entry" in imported, args
        assert not imported & set(NEVER), (args, sorted(imported & set(NEVER)))
        if set(args) & set(NO_REGISTRY):
            assert "sqlite3" not in imported, args
    assert "typer" in imports_of(["status", "--help"], tmp_path)


def test_the_cyclic_collector_is_off_for_a_command_but_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command runs without it (its start allocates much that lives until it ends), and
    turns it back on as it returns; ``service run``, which runs for days, has it."""
    import gc

    from relocator.cli import entry
    from relocator.commands import service
    from relocator.host import shells

    seen: list[bool] = []

    def record(*_args: Any, **_kw: Any) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(shells, "main", record)
    monkeypatch.setattr(service, "run", record)
    assert gc.isenabled()
    assert entry.main(["hook", "bash"]) == 0
    assert entry.main(["service", "run"]) == 0
    assert seen == [False, True]
    assert gc.isenabled()
