"""Where relocate is installed (relocator.host.installs) and where it keeps things (``relocate
info``, ``--version -v``), on venvs made by hand under the test's HOME: each installer's
receipt, a ``relocate`` on PATH followed to its venv, one in the way of scripts/install,
and ``uninstall --self`` removing only scripts/install's copy. Real installs with uv,
pipx and scripts/install: test_install.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relocator.host import installs
from tests.helpers import relocate, relocate_json, relocate_ok


def _venv(prefix: Path, receipt: str | None = None) -> Path:
    """A venv-shaped folder with a ``relocate`` script whose ``#!`` is its own python."""
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (prefix / "bin" / "python").symlink_to(sys.executable)
    script = prefix / "bin" / "relocate"
    script.write_text(f"#!{prefix}/bin/python\nimport sys\n")
    script.chmod(0o755)
    if receipt == installs.RECEIPT:  # scripts/install names the venv's own real path
        (prefix / receipt).write_text(json.dumps({"prefix": os.path.realpath(prefix)}))
    elif receipt is not None:
        (prefix / receipt).write_text("{}")
    return prefix


@pytest.fixture
def env(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """PATH without the test env's relocate; every installer's folder under the test."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("UV_TOOL_DIR", str(tmp_path / "uv-tools"))
    monkeypatch.setenv("PIPX_HOME", str(tmp_path / "pipx"))
    for name in ("UV_TOOL_BIN_DIR", "PIPX_BIN_DIR", "XDG_BIN_HOME", "RELOCATOR_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated / ".local" / "share"))
    return dict(os.environ)


def test_each_installer_is_known_by_its_receipt(tmp_path: Path, env: dict[str, str]) -> None:
    assert installs.method_of(str(_venv(tmp_path / "a", "uv-receipt.toml"))) == installs.UV
    assert installs.method_of(str(_venv(tmp_path / "b", "pipx_metadata.json"))) == installs.PIPX
    assert installs.method_of(str(_venv(tmp_path / "c", installs.RECEIPT))) == installs.SCRIPT
    assert installs.method_of(str(_venv(tmp_path / "d"))) == installs.PIP
    assert installs.method_of(str(tmp_path / "nothing")) is None
    # scripts/install's default venv from before the receipt still counts as its own
    assert installs.method_of(str(_venv(Path(installs.script_prefix())))) == installs.SCRIPT


def test_every_copy_is_found_with_its_command_and_removal(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    uv = _venv(tmp_path / "uv-tools" / "relocator", "uv-receipt.toml")
    pipx = _venv(tmp_path / "pipx" / "venvs" / "relocator", "pipx_metadata.json")
    other = _venv(tmp_path / "other venv")
    bindir = isolated / ".local" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "relocate").symlink_to(uv / "bin" / "relocate")
    on_path = tmp_path / "on-path"
    on_path.mkdir()
    # pip's script (not a link), in its form for a python path with a space
    exec_line = f'{installs.PIP_EXEC.decode()}\'{other}/bin/python\' "$0" "$@"'
    (on_path / "relocate").write_text(f"#!/bin/sh\n{exec_line}\n' '''\n")
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    (dangling / "relocate").symlink_to(tmp_path / "gone" / "bin" / "relocate")
    path = f"{on_path}:{dangling}:/usr/bin:/bin"
    data = relocate_json("info", env={**env, "PATH": path})
    found = [(i["method"], i["prefix"], i["commands"], i["remove"]) for i in data["installs"]]
    assert found[0][0] == "pip" and found[0][1] == sys.prefix  # the running copy
    assert found[1:] == [
        ("uv tool", str(uv), [str(bindir / "relocate")], "uv tool uninstall relocator"),
        ("pipx", str(pipx), [], "pipx uninstall relocator"),
        (
            "pip",
            str(other),
            [str(on_path / "relocate")],
            f"'{other}/bin/python' -m pip uninstall relocator",
        ),
        ("unknown", "", [str(dangling / "relocate")], f"rm {dangling / 'relocate'}"),
    ]
    assert [i["running"] for i in data["installs"]] == [True, False, False, False, False]
    text = relocate_ok("info", env={**env, "PATH": path})
    assert "installed 5 ways:" in text
    assert f"  pipx, venv {pipx}\n    remove: pipx uninstall relocator\n" in text


def test_info_names_every_place_without_making_any(tmp_path: Path, env: dict[str, str]) -> None:
    store = Path(env["RELOCATOR_HOME"])
    data = relocate_json("info", env=env)
    assert data["store"] == str(store)
    assert data["registry"] == str(store / "registry.db")
    assert data["trash"] == str(store / "trash") and data["logs"] == str(store / "logs")
    assert data["hooks"] == str(store / "hooks")
    assert data["service_unit"].endswith("/systemd/user/relocator.service")
    assert data["config"].endswith("/relocator/service.toml")
    assert not store.exists()  # info changes nothing
    text = relocate_ok("info", env=env).splitlines()
    assert f"store:          {store}" in text
    assert f"rendered hooks: {store / 'hooks'}" in text


def test_version_verbose_says_where_and_which_store(env: dict[str, str]) -> None:
    import relocator

    for flags in (["--version", "-v"], ["-V", "-v"], ["-v", "--version"], ["-V", "--verbose"]):
        lines = relocate_ok(*flags, env=env).splitlines()
        assert lines[0] == f"relocate {relocator.__version__}"
        assert lines[1] == f"installed: pip, venv {sys.prefix}"
        assert lines[2] == f"package: {Path(relocator.__file__).parent}"
        assert lines[-1] == f"store: {env['RELOCATOR_HOME']}"
    assert relocate_ok("--version", env=env) == f"relocate {relocator.__version__}\n"


def test_scripts_install_is_told_what_is_in_its_way(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    link = isolated / ".local" / "bin" / "relocate"
    prefix = installs.script_prefix()
    assert installs.in_the_way(str(link), prefix) is None  # nothing there
    link.parent.mkdir(parents=True)
    link.symlink_to(Path(prefix) / "bin" / "relocate")
    _venv(Path(prefix), installs.RECEIPT)
    assert installs.in_the_way(str(link), prefix) is None  # its own: taken over
    link.unlink()
    link.symlink_to(
        _venv(tmp_path / "pipx" / "venvs" / "relocator", "pipx_metadata.json") / "bin" / "relocate"
    )
    said = installs.in_the_way(str(link), prefix)
    assert said is not None and "installed with pipx" in said and "pipx uninstall relocator" in said
    link.unlink()
    link.write_text("#!/bin/sh\necho mine\n")
    assert installs.in_the_way(str(link), prefix) == (
        f"{link} is there and is not relocator's: move it away, then run scripts/install again"
    )
    # the module's own command line, as scripts/install runs it
    cli = subprocess.run(
        [sys.executable, "-m", "relocator.host.installs", "in-the-way", str(link), prefix],
        capture_output=True,
        text=True,
        env=env,
    )
    assert cli.returncode == 1 and cli.stdout == ""
    assert cli.stderr == f"relocate: {installs.in_the_way(str(link), prefix)}\n"


def test_uninstall_self_removes_only_what_scripts_install_made(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    prefix = _venv(Path(installs.script_prefix()), installs.RECEIPT)
    receipt = {"prefix": str(prefix), "link": str(isolated / ".local/bin/relocate")}
    (prefix / installs.RECEIPT).write_text(json.dumps(receipt))
    pipx = _venv(tmp_path / "pipx" / "venvs" / "relocator", "pipx_metadata.json")
    link = isolated / ".local" / "bin" / "relocate"
    link.parent.mkdir(parents=True)
    link.symlink_to(prefix / "bin" / "relocate")
    result = relocate("uninstall", "--yes", "--self", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"ok     remove relocate itself: removed {link}, {prefix}, {prefix.parent}" in lines
    assert lines[-3:] == [
        "relocate is installed 2 ways; to remove relocate itself, run each:",
        f"  pip, venv {sys.prefix} (this one): {sys.prefix}/bin/python -m pip uninstall relocator",
        f"  pipx, venv {pipx}: pipx uninstall relocator",
    ]
    assert not os.path.lexists(link) and not prefix.parent.exists()
    assert pipx.is_dir() and link.parent.is_dir()
    again = relocate("uninstall", "--yes", "--self", "--json", env=env)
    assert again.returncode == 1  # asked to remove itself, and there is no copy it may remove
    steps = json.loads(again.stdout)["steps"]
    assert steps[-1]["what"] == "remove relocate itself" and not steps[-1]["ok"]
    assert "installed by: pip, pipx" in steps[-1]["detail"]


def test_a_folder_that_is_more_than_a_venv_is_never_scripts_installs(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    """A receipt proves nothing about a folder that holds more than a venv (a home, a
    ~/.local, a checkout committing a receipt and a bin/relocate): never removed, and
    scripts/install refuses to make its venv there."""
    home_venv = _venv(isolated / "h", installs.RECEIPT)  # a whole folder of the user's
    (home_venv / "thesis.txt").write_text("precious")
    checkout = _venv(tmp_path / "repo")  # a repository on PATH, its receipt copied in
    (checkout / installs.RECEIPT).write_text("{}")
    (checkout / ".git").mkdir()
    for folder in (home_venv, checkout):
        assert installs.method_of(str(folder)) == installs.PIP
    copied = _venv(tmp_path / "copied", installs.RECEIPT)  # a receipt naming another folder
    (copied / installs.RECEIPT).write_text(json.dumps({"prefix": str(home_venv)}))
    assert installs.method_of(str(copied)) == installs.PIP
    env = {**env, "PATH": f"{checkout / 'bin'}:{home_venv / 'bin'}:/usr/bin:/bin"}
    result = relocate("uninstall", "--yes", "--self", "--json", env=env)
    assert result.returncode == 1
    assert (home_venv / "thesis.txt").read_text() == "precious" and (checkout / ".git").is_dir()
    for prefix in (isolated, isolated / ".local", home_venv, checkout):
        said = installs._prefix_refused(str(prefix))
        assert said is not None and said.endswith(
            "set RELOCATOR_PREFIX to a new folder (or unset it), then run again"
        )
    assert installs._prefix_refused(str(tmp_path / "new")) is None
    assert installs._prefix_refused("relative/venv") is not None
    bare = tmp_path / "bare"  # a venv scripts/install did not make
    bare.mkdir()
    (bare / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert installs._prefix_refused(str(bare)) is not None


def test_uninstall_self_keeps_relocate_while_a_step_failed(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    prefix = _venv(Path(installs.script_prefix()), installs.RECEIPT)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    relocate_ok("adopt", "--no-install", str(project), env=env)
    project.rename(tmp_path / "gone")  # its eject fails: the store stays
    result = relocate("uninstall", "--yes", "--self", "--json", env=env)
    steps = json.loads(result.stdout)["steps"]
    assert result.returncode == 1 and not steps[-1]["ok"], steps
    assert steps[-1]["detail"].startswith("kept: relocate is needed to finish")
    assert (prefix / "bin" / "relocate").exists()


def test_a_link_another_installer_took_over_is_left_to_it(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    """uv tool install --force takes ~/.local/bin/relocate over from scripts/install:
    removing scripts/install's venv then leaves uv's link alone."""
    link = isolated / ".local" / "bin" / "relocate"
    prefix = _venv(Path(installs.script_prefix()), installs.RECEIPT)
    (prefix / installs.RECEIPT).write_text(json.dumps({"prefix": str(prefix), "link": str(link)}))
    uv = _venv(tmp_path / "uv-tools" / "relocator", "uv-receipt.toml")
    link.parent.mkdir(parents=True)
    link.symlink_to(uv / "bin" / "relocate")
    (ours,) = [i for i in installs.find() if i.ours]
    assert ours.commands == [] and installs.removal_steps(ours) == [str(prefix)]
    assert ours.remove == f"rm -rf {prefix} && rmdir {prefix.parent}"
    assert installs.remove_ours(ours) == [str(prefix), str(prefix.parent)]
    assert link.resolve() == (uv / "bin" / "relocate").resolve()


def test_scripts_install_takes_its_own_link_over_and_names_the_venv_left(
    tmp_path: Path, isolated: Path, env: dict[str, str]
) -> None:
    link = isolated / ".local" / "bin" / "relocate"
    earlier = _venv(tmp_path / "earlier", installs.RECEIPT)  # RELOCATOR_PREFIX then
    link.parent.mkdir(parents=True)
    link.symlink_to(earlier / "bin" / "relocate")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "relocator.host.installs",
            "in-the-way",
            str(link),
            str(tmp_path / "now"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (cli.returncode, cli.stderr) == (0, "")
    assert cli.stdout == f"note: {link} led to {earlier}, which stays: rm -rf {earlier}\n"
