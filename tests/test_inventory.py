"""What a venv holds, read from real installs' metadata (pip, uv, an editable install)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from relocator.state import inventory
from relocator.state.inventory import Distribution

from .helpers import make_venv, pip_install_editable, site_packages, write_project


def test_reads_names_versions_and_editable_installs_from_a_real_venv(
    tmp_path: Path, wheelhouse: Path
) -> None:
    venv = make_venv(tmp_path / "venv", pip=True)
    project = write_project(tmp_path / "My_Project", name="My_Project")
    pip_install_editable(venv, str(project), wheelhouse, cwd=tmp_path)
    found = inventory.read(str(venv))
    wheel = next(p for p in wheelhouse.iterdir() if p.name.startswith("wheel-"))
    assert found["wheel"] == Distribution("wheel", wheel.name.split("-")[1], False)
    assert found["my-project"] == Distribution("my-project", "0.1", True)
    assert "pip" in found and found["pip"].version
    assert inventory.names(str(venv)) == set(found)
    assert inventory.has_packages(str(venv))


def test_a_venv_with_only_seed_packages_has_none(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", pip=True)
    assert inventory.names(str(venv)) >= {"pip"}
    assert not inventory.has_packages(str(venv))


def test_an_egg_info_without_a_version_in_its_name_reads_pkg_info(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    egg = site_packages(venv) / "Old.Thing.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old.Thing\nVersion: 2.5\n\nbody\n")
    dist = site_packages(venv) / "other-1.0.dist-info"
    dist.mkdir()
    (dist / "direct_url.json").write_text('{"url": "file:///x", "dir_info": {}}')
    assert inventory.read(str(venv)) == {
        "old-thing": Distribution("old-thing", "2.5", True),
        "other": Distribution("other", "1.0", False),
    }


def test_uv_installs_read_the_same(tmp_path: Path, wheelhouse: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is a test requirement"
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", str(venv)], check=True)
    offline = ["--offline", "--no-index", "--find-links", str(wheelhouse)]
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *offline, "wheel"],
        check=True,
    )
    wheel = next(p for p in wheelhouse.iterdir() if p.name.startswith("wheel-"))
    found = inventory.read(str(venv))
    assert found["wheel"] == Distribution("wheel", wheel.name.split("-")[1], False)
    assert "pip" not in found


def test_compare_names_what_is_lost_gained_and_changed() -> None:
    old = inventory.from_pairs({"a": "1.0", "b": "2.0", "me": "editable", "pip": "24.0"})
    new = inventory.from_pairs({"b": "2.1", "c": "3.0", "me": "0.1"})
    diff = inventory.compare(old, new)
    assert diff.lost == (Distribution("a", "1.0"),)
    assert diff.gained == (Distribution("c", "3.0"),)
    assert diff.changed == ((Distribution("b", "2.0"), Distribution("b", "2.1")),)
    assert diff and not inventory.compare(new, new)
    assert inventory.spell(diff.lost + diff.gained) == "a 1.0, c 3.0"
    assert inventory.from_pairs(inventory.to_pairs(old)) == old
