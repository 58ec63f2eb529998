"""Synthetic projects with a real venv of an exact number of files.

A real ``python -m venv --without-pip`` venv, an editable install of the project
(``__editable__.*.pth``, ``direct_url.json`` with a ``file://`` URL), console
scripts with pip's ``#!<venv>/bin/python`` shebang, and synthetic installed
packages (a package folder of 16-module subfolders, a ``.dist-info`` with
METADATA, RECORD with hashes, INSTALLER, WHEEL) up to the size asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Optional

SCRIPTS = 6  # console scripts in bin/ (pip's #!<venv>/bin/python form)
FILES_PER_PACKAGE = 100  # a package: a .dist-info (4 files) and modules in folders of 16
PROJECT_NAME = "bench_project"


def count_files(top: str) -> int:
    return sum(len(files) for _, _, files in os.walk(top))


def write_file(path: str, text: str, mode: int = 0o644) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _record_line(path: str, sp: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    return f"{os.path.relpath(path, sp)},sha256={digest},{len(data)}\n"


def _dist_info(sp: str, name: str, written: list[str], extra: Optional[dict[str, str]] = None):
    info = os.path.join(sp, f"{name}-1.0.dist-info")
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: synthetic\n",
        "INSTALLER": "pip\n",
        "WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        **(extra or {}),
    }
    paths = written + [write_file(os.path.join(info, n), t) for n, t in files.items()]
    record = "".join(_record_line(p, sp) for p in paths)
    write_file(os.path.join(info, "RECORD"), record + f"{name}-1.0.dist-info/RECORD,,\n")


def _package(sp: str, index: int, files: int) -> None:
    """One installed package of exactly ``files`` files (at least 5)."""
    name = f"pkg_{index:04d}"
    modules = files - 4  # METADATA, INSTALLER, WHEEL, RECORD
    written = []
    for m in range(modules):
        folder = os.path.join(sp, name, *([f"sub_{m // 16:02d}"] if m >= 16 else []))
        module = "__init__" if m % 16 == 0 else f"mod_{m % 16:02d}"
        text = f'"""{name} module {m}."""\n\nVALUE = {m}\n\n\ndef main():\n    return VALUE\n'
        written.append(write_file(os.path.join(folder, module + ".py"), text))
    _dist_info(sp, name, written)


def console_script(python: str, module: str) -> str:
    """A console script as pip writes it, calling ``module:main``."""
    return (
        f"#!{python}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
        f"from {module} import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )


def _console_scripts(venv: str, sp: str, count: int) -> None:
    python = os.path.join(venv, "bin", "python")
    written = []
    for i in range(count):
        body = console_script(python, f"pkg_{i:04d}")
        written.append(write_file(os.path.join(venv, "bin", f"tool-{i}"), body, 0o755))
    _dist_info(sp, "bench_tools", written)


def _editable_project(project: str, sp: str) -> None:
    """An editable install of the project itself, as pip leaves it."""
    pth = write_file(os.path.join(sp, f"__editable__.{PROJECT_NAME}-1.0.pth"), project + "\n")
    url = json.dumps({"url": "file://" + project, "dir_info": {"editable": True}})
    _dist_info(sp, PROJECT_NAME, [pth], {"direct_url.json": url})


def build_project(project: str, total: int, env: dict[str, str], scripts: int = SCRIPTS) -> None:
    """A project with a pyproject.toml and a real ``.venv`` of exactly ``total`` files."""
    os.makedirs(project)
    write_file(
        os.path.join(project, "pyproject.toml"),
        f'[project]\nname = "{PROJECT_NAME}"\nversion = "1.0"\n',
    )
    venv = os.path.join(project, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)
    lib = os.path.join(venv, "lib")
    (sp,) = (os.path.join(lib, d, "site-packages") for d in os.listdir(lib))
    _editable_project(project, sp)
    _console_scripts(venv, sp, scripts)
    remaining = total - count_files(venv)
    if remaining < 5:
        raise SystemExit(f"a {total}-file venv is too small for its base files")
    packages = -(-remaining // FILES_PER_PACKAGE)
    for i in range(packages):
        _package(sp, i, remaining // packages + (1 if i < remaining % packages else 0))
    found = count_files(venv)
    assert found == total, (found, total)
