"""What everyday tools do to a relocated project, and how adopt brings it back.

Each case runs the real tool on a relocated uv project (a lock with ``six``),
then checks that ``relocate adopt`` ends with one working store venv holding
the user's packages: never a fresh empty one while the full one sits in the
store unregistered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import drop_hop, relocate, relocate_json, relocate_ok, run, store_venvs

pytestmark = pytest.mark.slow


def uv() -> str:
    found = shutil.which("uv")
    assert found, "uv must be installed for the tests (scripts/test installs it)"
    return found


def uv_app(root: Path, *, sync: bool = True) -> Path:
    """A uv project depending on six, locked, and (with ``sync``) synced into .venv."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["six"]\n'
    )
    assert run([uv(), "lock", "-q"], cwd=root).returncode == 0
    if sync:
        result = run([uv(), "sync", "-q"], cwd=root)
        assert result.returncode == 0, result.stderr
    return root


def imports_six(project: Path) -> bool:
    python = project / ".venv" / "bin" / "python"
    return run([str(python), "-c", "import six"]).returncode == 0


def relocated_app(tmp_path: Path) -> tuple[Path, Path]:
    project = uv_app(tmp_path / "app")
    venv = Path(relocate_json("adopt", str(project))["venv"])
    assert imports_six(project)
    return project, venv


def one_working_venv(project: Path, store: Path) -> Path:
    """The project's one store venv, linked, registered, ok, with six importable."""
    (venv,) = store_venvs(store)
    assert os.path.realpath(project / ".venv") == str(venv)
    assert relocate_json("status", str(project))["status"] == "ok"
    assert imports_six(project)
    return venv


def test_link_removed_is_relinked_to_the_registered_venv(tmp_path: Path, store: Path) -> None:
    project, venv = relocated_app(tmp_path)
    (project / ".venv").unlink()
    assert relocate_json("status", str(project))["status"] == "link-missing"
    out = relocate_json("adopt", str(project))
    assert out["action"] == "relinked"
    assert one_working_venv(project, store) == venv


def test_rm_rf_venv_and_uv_sync_is_adopted_and_the_old_one_retired(
    tmp_path: Path, store: Path
) -> None:
    project, old = relocated_app(tmp_path)
    (project / ".venv").unlink()
    drop_hop(project)
    assert run([uv(), "sync", "-q"], cwd=project).returncode == 0
    assert not (project / ".venv").is_symlink()
    assert relocate_json("status", str(project))["status"] == "link-replaced"
    out = relocate_json("adopt", str(project))
    assert out["action"] == "moved"
    assert any("the replaced venv is in the trash" in n for n in out["notes"])
    assert one_working_venv(project, store) == old  # uv's venv took the project's name
    assert [p.name for p in (store / "trash").iterdir() if p.is_dir()]  # the old one
    assert run([uv(), "run", "python", "-c", "import six"], cwd=project).returncode == 0


def test_eject_in_the_link_replaced_state_keeps_the_projects_venv(
    tmp_path: Path, store: Path
) -> None:
    project, old = relocated_app(tmp_path)
    (project / ".venv").unlink()
    assert run([uv(), "sync", "-q"], cwd=project).returncode == 0
    out = relocate_json("eject", str(project))
    assert out["action"] == "ejected"
    assert (project / ".venv").is_dir() and not (project / ".venv").is_symlink()
    assert not (project / ".venv.nosync").exists()
    assert not old.exists() and store_venvs(store) == []
    assert relocate_json("list") == []
    assert imports_six(project)


def test_python_venv_clear_through_the_link_is_rebuilt_from_the_lock(
    tmp_path: Path, store: Path
) -> None:
    project, old = relocated_app(tmp_path)
    # CPython empties the store venv, then refuses the symlinked target
    result = run([sys.executable, "-m", "venv", "--clear", ".venv"], cwd=project)
    assert result.returncode != 0
    assert relocate_json("status", str(project))["status"] == "venv-emptied"
    out = relocate_json("adopt", str(project))
    assert out["action"] == "built from uv.lock (uv sync --locked)"
    assert one_working_venv(project, store) == old  # rebuilt under the same name


def test_uv_venv_clear_is_rebuilt_and_marked_again(tmp_path: Path, store: Path) -> None:
    project, _ = relocated_app(tmp_path)
    result = run([uv(), "venv", "-q", "--clear", ".venv"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert not imports_six(project)
    assert relocate_json("status", str(project))["status"] == "venv-emptied"
    relocate_ok("adopt", str(project))
    venv = one_working_venv(project, store)
    assert (venv / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    assert "relocator" in (venv / "CACHEDIR.TAG").read_text()


def test_hatch_style_removal_through_the_link_is_rebuilt(tmp_path: Path, store: Path) -> None:
    project, old = relocated_app(tmp_path)
    shutil.rmtree(os.path.realpath(project / ".venv"))  # what `hatch env remove` does
    assert relocate_json("status", str(project))["status"] == "venv-missing"
    out = relocate_json("adopt", str(project))
    assert out["action"].startswith("built from uv.lock")
    assert one_working_venv(project, store) == old


def test_uv_central_env_is_named_and_taken_over(tmp_path: Path, store: Path) -> None:
    project, old = relocated_app(tmp_path)
    central = {**os.environ, "UV_PREVIEW_FEATURES": "centralized-project-envs"}
    assert run([uv(), "sync", "-q"], cwd=project, env=central).returncode == 0
    uv_env = os.path.realpath(project / ".venv")
    assert "environments-v2" in uv_env
    status = relocate_json("status", str(project))
    assert (status["status"], status["cause"]) == ("link-replaced", "uv-central-env")
    assert "UV_PROJECT_ENVIRONMENT=.venv" in status["hint"]
    out = relocate_json("adopt", str(project))
    assert out["action"] == "moved"
    assert not os.path.exists(uv_env)  # `uv cache clean` can no longer take it
    assert not [p for p in Path(uv_env).parent.iterdir() if "relocator" in p.name]
    assert one_working_venv(project, store) == old
    assert run([uv(), "run", "python", "-c", "import six"], cwd=project).returncode == 0


def test_a_project_made_with_uvs_central_env_is_adopted(tmp_path: Path, store: Path) -> None:
    project = uv_app(tmp_path / "app", sync=False)
    central = {**os.environ, "UV_PREVIEW_FEATURES": "centralized-project-envs"}
    assert run([uv(), "sync", "-q"], cwd=project, env=central).returncode == 0
    assert relocate_json("adopt", str(project))["action"] == "moved"
    one_working_venv(project, store)


def test_new_venvs_have_pip_unless_uv_manages_the_project(tmp_path: Path, store: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "0"\n')
    relocate_ok("adopt", str(plain))
    assert run([str(plain / ".venv/bin/pip"), "--version"]).returncode == 0
    managed = uv_app(tmp_path / "managed", sync=False)
    relocate_ok("adopt", str(managed))
    assert not (managed / ".venv/bin/pip").exists()


def test_status_reads_the_python_version_from_the_venv(tmp_path: Path, store: Path) -> None:
    project, venv = relocated_app(tmp_path)
    cfg = venv / "pyvenv.cfg"
    text = cfg.read_text()
    # as virtualenv writes it
    cfg.write_text(
        "\n".join(
            "version_info = 3.11.99.final.0" if line.startswith("version_info") else line
            for line in text.splitlines()
        )
    )
    assert relocate_json("status", str(project))["python"] == "3.11.99"


def test_a_pipfile_marks_a_project(tmp_path: Path, store: Path) -> None:
    project = tmp_path / "pipenv-app"
    (project / "sub").mkdir(parents=True)
    (project / "Pipfile").write_text("[packages]\n")
    out = relocate_json("adopt", str(project / "sub"))
    assert out["project"] == str(project)


def test_interpreter_gone_is_mended_on_the_same_minor(tmp_path: Path, store: Path) -> None:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    shim = tmp_path / "old-python" / "bin"
    shim.mkdir(parents=True)
    (shim / "python3").symlink_to(os.path.realpath(base))
    project = tmp_path / "p"
    project.mkdir()
    (project / "setup.py").write_text("")
    subprocess.run([str(shim / "python3"), "-m", "venv", str(project / ".venv")], check=True)
    run([str(project / ".venv/bin/python"), "-m", "pip", "-q", "install", "six"], check=True)
    relocate_ok("adopt", str(project))
    shutil.rmtree(tmp_path / "old-python")  # the Python it was made with is gone
    assert relocate_json("status", str(project))["status"] == "interpreter-missing"
    out = relocate_json("adopt", str(project))
    assert any("packages kept" in n for n in out["notes"]), out
    one_working_venv(project, store)


def test_interpreter_gone_without_a_recipe_or_python_is_refused(
    tmp_path: Path, store: Path
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "Pipfile").write_text("[packages]\n")  # a project, but nothing to install from
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")])
    venv = Path(relocate_json("adopt", str(project))["venv"])
    cfg = venv / "pyvenv.cfg"
    kept = [line for line in cfg.read_text().splitlines() if not line.startswith("version")]
    cfg.write_text("\n".join([*kept, "version = 2.1.0", ""]))  # a Python no machine has
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(tmp_path / "no-such-python")
    result = relocate("adopt", str(project))
    assert result.returncode == 1
    assert "is gone and the project has no lock file" in result.stderr
    assert venv.is_dir() and store_venvs(store) == [venv]


def test_a_rebuild_killed_anywhere_leaves_one_working_venv(tmp_path: Path, store: Path) -> None:
    """Killed at every point of a rebuild, the next adopt finishes or rolls back: one
    working venv, always under the project's name, nothing left in the store's tmp."""
    project, venv = relocated_app(tmp_path)
    log = tmp_path / "points"
    env = {**os.environ, "RELOCATOR_FAULT_LOG": str(log)}
    assert relocate("rebuild", str(project), env=env).returncode == 0
    points = log.read_text().split()
    assert points[0] == "swap:begin" and "swap:retired" in points, points
    for point in points:
        killed = relocate("rebuild", str(project), env={**os.environ, "RELOCATOR_FAULT": point})
        assert killed.returncode != 0, point
        if point == "swap:retired":  # between the two renames, and only there: no venv
            assert not (project / ".venv").exists()
        else:
            assert imports_six(project), point
        relocate_ok("adopt", str(project))  # finishes or rolls back what the kill left
        assert imports_six(project), point
        assert relocate_json("status", str(project))["status"] == "ok", point
        assert one_working_venv(project, store) == venv, point
        assert not list((store / "tmp").iterdir()) and not list((store / "journal").iterdir())
    assert relocate_json("gc")["removed"] == []  # nothing left over
