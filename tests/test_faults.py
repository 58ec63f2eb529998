"""Killed at every step: each operation is run once to list its fault points, then killed
(SIGKILL, by itself, through RELOCATOR_FAULT) at each one in turn, and at file counts
during a copy. After each kill the venv is whole somewhere; the next run finishes the
job, and exactly one working venv remains, with nothing left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    dir_paths,
    drop_hop,
    env_without_uv,
    has_shape,
    link_by_hand,
    make_venv,
    old_shape,
    other_volume,
    relocate,
    site_packages,
)

FILES = 10_000
SCENARIOS = {
    # name: (volumes, what the project has, the command killed)
    "adopt": ("one", "venv", "adopt"),
    "adopt-across": ("two", "venv", "adopt"),
    "eject": ("one", "adopted", "eject"),
    "eject-across": ("two", "adopted", "eject"),
    "create": ("one", "nothing", "adopt"),
    "relink": ("one", "hop-removed", "adopt"),
    "create-for-dangling": ("one", "other-machine", "adopt"),
    # the same from the old shape: killed only where the link is made (create's other
    # points are create-for-dangling's, a near copy that would cost 30 s more)
    "create-for-dangling-old": ("one", "other-machine-old", "adopt"),
    # a link of relocator's old shape (.venv -> .venv.nosync, the hop a link) converted:
    # it works at every step
    "convert": ("one", "old-shape", "adopt"),
    # a venv folder named venv (adopt --name venv): it comes back as the alias venv -> .venv
    "adopt-named": ("one", "venv-named", "adopt"),
    "eject-named": ("one", "adopted-named", "eject"),
    # a tool's venv at .venv in place of the link (rm .venv && uv sync): it takes the
    # project's store venv's name, the old one goes to the trash
    "takeover": ("one", "replaced", "adopt"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with 10,000+ files, copied for each run (building one per kill costs too much)."""
    venv = make_venv(tmp_path_factory.mktemp("template") / "venv")
    sp = site_packages(venv)
    (sp / "handmade.py").write_text("VALUE = 42\n")
    for i in range(FILES):
        folder = sp / f"pkg{i // 200}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i}.py").write_text(f"X = {i}\n")
    return venv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return env_without_uv(tmp_path)


class Case:
    """One project in the state a scenario starts from, and the checks on it."""

    def __init__(self, name: str, where: Path, store: Path, template: Path, env: dict[str, str]):
        self.volumes, self.has, self.command = SCENARIOS[name]
        self.project, self.store, self.env = where, store, env
        self.keeps: str | None = None  # the store venv name the project keeps
        self.name = "venv" if self.has.endswith("-named") else ".venv"
        where.mkdir(parents=True)
        if self.has == "nothing" or self.has.startswith("other-machine"):
            # relocate makes the venv: a project uv manages gets one without pip, made by
            # ``python -m venv`` all the same (no uv on PATH), in a tenth of a second; a
            # setup.py project's would run ensurepip, 3 s at each of 16 kills and finishes
            (where / "pyproject.toml").write_text("[tool.uv]\n")
        else:
            (where / "setup.py").write_text("")
        if self.has == "nothing":
            self.reference: set[str] = set()
            return
        if self.has.startswith("other-machine"):
            link_by_hand(where, "/Users/x/Library/Caches/relocator/venvs/p-1")
            if self.has.endswith("-old"):
                old_shape(where)
            self.reference = set()
            return
        venv = where / self.name
        # Hard links: 10,000 new files cost seconds on this disk, links a tenth of one;
        # relocate replaces the files it rewrites, so the template is never written through.
        subprocess.run(["cp", "-al", str(template), str(venv)], check=True)
        tool = venv / "bin" / "tool"
        tool.write_text(f"#!{venv}/bin/python\nimport handmade\nprint(handmade.VALUE)\n")
        tool.chmod(0o755)
        self.reference = dir_paths(venv)
        if self.has in ("adopted", "hop-removed", "adopted-named", "old-shape", "replaced"):
            self.run("adopt", check=True)
        if self.has == "hop-removed":
            drop_hop(where)
        if self.has == "old-shape":
            old_shape(where)
        if self.has == "replaced":
            self.keeps = os.path.basename(os.path.realpath(venv))
            (where / ".venv").unlink()
            drop_hop(where)
            subprocess.run(["cp", "-al", str(template), str(venv)], check=True)
            tool.write_text(f"#!{venv}/bin/python\nimport handmade\nprint(handmade.VALUE)\n")
            tool.chmod(0o755)
            (site_packages(venv) / "second.py").write_text("")  # what the old venv lacks
            self.reference = dir_paths(venv)

    def run(self, command: str, *, check: bool = False, **extra: str):
        named = ["--name", self.name] if command == "adopt" and self.name != ".venv" else []
        result = relocate(command, str(self.project), *named, env={**self.env, **extra})
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def places(self) -> list[Path]:
        """Every folder that may hold the venv after a kill."""
        found = [p for p in self.project.glob("*venv*") if p.is_dir() and not p.is_symlink()]
        found += [p for p in self.store.glob("venvs/*") if p.is_dir()]
        found += [p for p in self.store.glob("tmp/*") if p.is_dir()]
        found += [p for p in self.store.glob("trash/*") if p.is_dir()]
        return found

    def assert_whole_somewhere(self, label: str) -> None:
        if self.reference:
            whole = [p for p in self.places() if self.reference <= dir_paths(p)]
            assert whole, f"{label}: the venv is whole nowhere"

    def assert_finished(self, label: str) -> None:
        dotvenv = self.project / ".venv"
        venvs = [p for p in self.store.glob("venvs/*") if p.is_dir()]
        if self.command == "eject":
            back = self.project / self.name
            assert back.is_dir() and not back.is_symlink(), label
            assert not os.path.lexists(self.project / ".venv.nosync"), label
            if self.name != ".venv":
                assert not os.path.lexists(dotvenv), label
            assert venvs == [], label
            dotvenv = back
        else:
            assert dotvenv.is_symlink(), label
            assert [Path(os.path.realpath(dotvenv))] == venvs, f"{label}: one store venv"
            owners = sorted(p.stem for p in self.store.glob("venvs/*.json"))
            assert owners == [venvs[0].name], label
            assert has_shape(self.project), label
            assert self.keeps in (None, venvs[0].name), f"{label}: the name changed"
            if self.name != ".venv":
                assert os.readlink(self.project / self.name) == ".venv", label
                dotvenv = self.project / self.name  # the checks below go through the alias
        assert self.reference <= dir_paths(dotvenv), f"{label}: a file is missing"
        assert not list(self.project.glob(".venv.relocator-*")), label
        assert not list(self.project.glob(".venv.nosync/*.relocator-*")), label
        assert not list(self.store.glob("journal/*")), label
        assert not list(self.store.glob("tmp/*")), label
        python = str(dotvenv / "bin" / "python")
        if self.reference:
            check = subprocess.run([python, "-c", "import handmade, pkg0.m1"], env=self.env)
            assert check.returncode == 0, label
            tool = subprocess.run([str(dotvenv / "bin" / "tool")], capture_output=True, text=True)
            assert tool.stdout == "42\n", f"{label}: {tool.stderr}"
        else:
            assert subprocess.run([python, "-c", "pass"]).returncode == 0, label


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Where the stores of the cases go: beside the projects, or on another volume."""
    bases = {"one": tmp_path / "stores", "two": other_volume() / f"rt-{uuid.uuid4().hex}"}
    yield bases
    shutil.rmtree(bases["two"], ignore_errors=True)


def _points(case: Case, tmp_path: Path) -> list[str]:
    log = tmp_path / "points.log"
    case.run(case.command, check=True, RELOCATOR_FAULT_LOG=str(log))
    points = list(dict.fromkeys(log.read_text().split()))
    if case.has == "other-machine-old":
        points = [p for p in points if p.startswith("link:")]
    if case.volumes == "two":  # the copy, by file count
        points += ["copy:1", f"copy:{FILES // 2}", f"copy:{FILES + 1}"]
    return points


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_killed_at_every_step_loses_nothing(
    scenario: str, tmp_path: Path, template: Path, env: dict[str, str], stores: dict[str, Path]
) -> None:
    base = stores[SCENARIOS[scenario][0]]

    def case(name: str) -> Case:
        store = base / name
        return Case(
            scenario, tmp_path / name, store, template, {**env, "RELOCATOR_HOME": str(store)}
        )

    points = _points(case("probe"), tmp_path)
    assert len(points) >= 2, points  # a relink has two steps: the hop, then .venv
    for i, point in enumerate(points):
        one = case(f"p{i}")
        killed = one.run(one.command, RELOCATOR_FAULT=point)
        label = f"{scenario}, killed at {point}"
        assert killed.returncode == -9, f"{label}: not killed: {killed.stderr}"
        one.assert_whole_somewhere(label)
        if one.has == "old-shape":  # the link works at every step of a conversion
            python = one.project / ".venv" / "bin" / "python"
            assert subprocess.run([str(python), "-c", "import handmade"]).returncode == 0, label
        finish = one.run(one.command)
        assert finish.returncode == 0 or "is not relocated" in finish.stderr, (
            f"{label}: {finish.stderr}"
        )
        assert "Traceback" not in finish.stderr
        one.assert_finished(label)
        shutil.rmtree(one.project)
        shutil.rmtree(one.store)
    with open(tmp_path.parent.parent / "kill-points.txt", "a", encoding="utf-8") as f:
        f.write(f"{scenario} {len(points)} {' '.join(points)}\n")  # for the closing figures
