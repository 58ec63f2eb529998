"""Awkward paths: spaces, quotes, $(...), backticks and NFD names are data everywhere."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from tests.helpers import (
    drop_hop,
    env_without_uv,
    hop_of,
    make_venv,
    one_clean_error_line,
    pip_install_editable,
    relocate,
    relocate_json,
    relocate_ok,
    run,
    venv_project,
    write_project,
)

NAMES = {
    "space": "space dir",
    "quotes": 'it\'s "quoted"',
    "substitution": "$(touch pwned) and `touch pwned2`",
    "nfd": unicodedata.normalize("NFD", "café ünïcode"),
}


def _activated(project: Path) -> str:
    script = '. "$1/.venv/bin/activate" && printf %s "$VIRTUAL_ENV"'
    result = run(["bash", "-c", script, "bash", str(project)])
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "store_name"), [(kind, "store") for kind in sorted(NAMES)] + [("space", "my store")]
)
def test_awkward_project_names_round_trip(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch, kind: str, store_name: str
) -> None:
    store = tmp_path / store_name
    monkeypatch.setenv("RELOCATOR_HOME", str(store))
    project = write_project(tmp_path / NAMES[kind])
    venv = make_venv(project / ".venv", pip=True)
    pip_install_editable(venv, ".", wheelhouse, cwd=project)
    env = env_without_uv(tmp_path)

    out = relocate_json("adopt", str(project), env=env)
    store_venv = Path(out["venv"])
    assert out["project"].encode() == str(project).encode()  # the on-disk bytes
    for python in (project / ".venv/bin/python", store_venv / "bin/python"):
        hello = run([str(python.parent / "demo-hello")], env=env)
        assert hello.returncode == 0, hello.stderr
    assert _activated(project) == str(store_venv)
    shown = relocate_ok("python", str(project / "src"), env=env).rstrip("\n")
    assert shown.encode() == os.path.join(str(project), ".venv", "bin", "python").encode()

    relocate_ok("eject", str(project), env=env)
    hello = run([str(project / ".venv/bin/demo-hello")], env=env)
    assert hello.returncode == 0, hello.stderr
    assert _activated(project) == str(project / ".venv")
    assert not list(tmp_path.rglob("pwned*")), "a path was evaluated"


def test_nfc_spelling_of_an_nfd_folder(tmp_path: Path) -> None:
    """On Linux NFC and NFD names are different folders: typing one never reaches the other."""
    nfd = unicodedata.normalize("NFD", "Résumé")
    project = tmp_path / nfd
    project.mkdir()
    (project / "setup.py").write_text("")
    make_venv(project / ".venv")
    typed = str(tmp_path / unicodedata.normalize("NFC", "Résumé"))
    assert not os.path.exists(typed)
    line = one_clean_error_line(relocate("adopt", typed, env=env_without_uv(tmp_path)))
    assert line == f"relocate: {typed} does not exist"
    out = relocate_json("adopt", str(project), env=env_without_uv(tmp_path))
    assert out["project"].encode() == str(project).encode()
    assert os.readlink(hop_of(project)) == out["venv"]


def test_nfc_and_nfd_twins_are_two_projects_on_linux(tmp_path: Path, store: Path) -> None:
    twins = [tmp_path / unicodedata.normalize(form, "café") for form in ("NFC", "NFD")]
    for i, twin in enumerate(twins):
        venv_project(twin)
        (twin / ".venv" / "marker").write_text(str(i))
    outs = [relocate_json("adopt", str(twin)) for twin in twins]
    assert outs[0]["venv"] != outs[1]["venv"]
    keys = {relocate_json("resolve", str(twin))["key"] for twin in twins}
    assert len(keys) == 2
    drop_hop(twins[1])
    relocate_ok("adopt", str(twins[1]))  # the repair relinks the NFD folder to its own venv
    assert [(t / ".venv" / "marker").read_text() for t in twins] == ["0", "1"]
    assert [r["status"] for r in relocate_json("list")] == ["ok", "ok"]
