"""Shared test helpers: running relocate as a process, building projects and venvs."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CLOUD_DOCS = "Library/Mobile Documents/com~apple~CloudDocs"

#: Linux: where the tests that need Linux's own machinery run (``setpriv``, ``mount``,
#: tmpfs, ``/proc``, GNU tools); elsewhere they skip, in CI too (see :func:`linux_only`).
LINUX = sys.platform.startswith("linux")


def linux_only(reason: str) -> Any:
    """Mark a test (or a fixture's param) that needs Linux itself: on any other system
    it skips with ``reason``, even in CI; on Linux it runs, and a missing tool still
    fails in CI (tests/conftest.py reads the mark)."""
    import pytest

    return pytest.mark.linux_only(reason=reason)


def in_ci_or_skip(why: str) -> None:
    """Fail in CI, which provides what the test needs; skip elsewhere."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{why}, and CI must have it")
    pytest.skip(why)


def relocate(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None):
    """Run ``python -m relocator`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "relocator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def relocate_ok(*args: str, **kw: Any) -> str:
    result = relocate(*args, **kw)
    assert result.returncode == 0, f"relocate {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def relocate_json(*args: str, **kw: Any) -> Any:
    return json.loads(relocate_ok(*args, "--json", **kw))


def one_clean_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed run; fails on a traceback or more lines."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("relocate: ")
    return lines[0]


def make_venv(path: Path, *, pip: bool = False) -> Path:
    """A real venv made by ``python -m venv --without-pip``; with ``pip``, what ensurepip
    would add (pip, and setuptools where it comes too) copied from a venv made once per
    process (ensurepip takes seconds each time): the same files, the scripts' shebangs
    and their RECORD lines written for ``path``."""
    cmd = [sys.executable, "-m", "venv", "--without-pip", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    if pip:
        _copy_pip(_pip_template(), path)
    return path


@functools.cache
def _pip_template() -> Path:
    """A venv made by ``python -m venv`` with pip, removed at exit."""
    import atexit
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="relocator-pip-venv-"))
    atexit.register(shutil.rmtree, base, True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    return venv


def _copy_pip(template: Path, venv: Path) -> None:
    import base64
    import hashlib

    source, target = site_packages(template), site_packages(venv)
    for entry in source.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, target / entry.name)
    old_python = f"#!{template}/bin/"
    new_python = f"#!{os.path.abspath(venv)}/bin/"
    for record in target.glob("*.dist-info/RECORD"):
        lines = record.read_bytes().splitlines(keepends=True)  # csv's \r\n kept
        for i, line in enumerate(lines):
            name = line.split(b",", 1)[0].decode()
            if not name.startswith("../../../bin/"):
                continue
            script = Path(name).name
            text = (template / "bin" / script).read_bytes()
            first, rest = text.split(b"\n", 1)
            assert first.startswith(old_python.encode()), first
            text = first.replace(old_python.encode(), new_python.encode(), 1) + b"\n" + rest
            (venv / "bin" / script).write_bytes(text)
            shutil.copymode(template / "bin" / script, venv / "bin" / script)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=")
            end = line[len(line.rstrip(b"\r\n")) :]
            lines[i] = f"{name},sha256={digest.decode()},{len(text)}".encode() + end
        record.write_bytes(b"".join(lines))


def bare_project(root: Path, marker: str = "setup.py") -> Path:
    """A folder with a project marker and no venv."""
    root.mkdir(parents=True)
    (root / marker).write_text("")
    return root


def venv_project(root: Path, marker: str = "setup.py") -> Path:
    """A folder with a project marker and a real venv (without pip) in ``.venv``."""
    make_venv(bare_project(root, marker) / ".venv")
    return root


def site_packages(venv: Path) -> Path:
    (found,) = (venv / "lib").glob("python*/site-packages")
    return found


def write_project(root: Path, name: str = "demo", *, layout: str = "src") -> Path:
    """A setuptools project with one module ``<name>_pkg`` and a console script ``<name>-hello``."""
    pkg = f"{name.replace('-', '_')}_pkg"
    code = root / "src" / pkg if layout == "src" else root / pkg
    code.mkdir(parents=True)
    (code / "__init__.py").write_text("def hello():\n    print('hello from ' + __file__)\n")
    packages = (
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
        if layout == "src"
        else f'[tool.setuptools]\npackages = ["{pkg}"]\n'
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "0.1"

            [project.scripts]
            {name}-hello = "{pkg}:hello"

            """
        )
        + packages
    )
    return root


def pip_install_editable(venv: Path, project: str, wheelhouse: Path, cwd: Path | str) -> None:
    """``pip install -e project`` offline, with the venv's own setuptools."""
    pip = [str(venv / "bin" / "python"), "-m", "pip", "-q", "--disable-pip-version-check"]
    offline = ["--no-index", "--find-links", str(wheelhouse)]
    subprocess.run([*pip, "install", *offline, "wheel", "setuptools>=64"], check=True, cwd=cwd)
    subprocess.run(
        [*pip, "install", *offline, "--no-build-isolation", "-e", project], check=True, cwd=cwd
    )


def mac_home(home: Path, direction: str) -> dict[str, Path]:
    """A fake macOS home with iCloud Desktop & Documents.

    ``direction`` says which spelling is the symlink: ``documents-link``
    (``~/Documents -> .../com~apple~CloudDocs/Documents``) or ``clouddocs-link``
    (the reverse). Returns both spellings of Documents.
    """
    cloud = home / CLOUD_DOCS
    cloud.mkdir(parents=True)
    for name in ("Documents", "Desktop"):
        short, long_ = home / name, cloud / name
        if direction == "documents-link":
            long_.mkdir()
            short.symlink_to(long_)
        else:
            short.mkdir()
            long_.symlink_to(short)
    return {"short": home / "Documents", "long": cloud / "Documents"}


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def require_tool(tool: str) -> str:
    """The path of ``tool``; missing, it fails in CI (which installs it) and skips elsewhere."""
    found = shutil.which(tool)
    if found is None:
        in_ci_or_skip(f"{tool} is not installed here (scripts/test installs it)")
    assert found is not None
    return found


@functools.cache
def other_volume() -> Path:
    """A folder on another volume than the tests' temporary folders, for the cases that
    copy across volumes: ``/dev/shm`` (tmpfs) on Linux; on macOS a small APFS disk image
    (sparse: it takes only what is written) attached once per run with ``hdiutil`` and
    detached at exit. Tests make their own uniquely named folder in it."""
    import atexit
    import tempfile

    if LINUX:
        if not os.path.isdir("/dev/shm"):
            in_ci_or_skip("/dev/shm is needed: it is the second volume of these tests")
        return Path("/dev/shm")
    if sys.platform != "darwin":
        import pytest

        pytest.skip("a second volume is made on Linux (/dev/shm) and macOS (hdiutil) only")
    base = Path(tempfile.mkdtemp(prefix="relocator-volume-"))
    mount = base / "mnt"
    mount.mkdir()
    image = base / "volume.sparseimage"  # hdiutil adds the suffix of a SPARSE image
    how = ["-size", "2g", "-type", "SPARSE", "-fs", "APFS", "-volname", "relocator-test"]
    run(["hdiutil", "create", "-quiet", *how, str(base / "volume")], check=True)
    attach = ["hdiutil", "attach", "-quiet", "-nobrowse", "-mountpoint", str(mount)]
    run([*attach, str(image)], check=True)

    def detach() -> None:
        run(["hdiutil", "detach", "-force", str(mount)])
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(detach)
    assert os.stat(mount).st_dev != os.stat(base).st_dev
    return mount


def gnu_tar() -> str:
    """GNU tar (``--exclude-caches``): ``tar`` on Linux, Homebrew's ``gtar`` on macOS,
    whose own bsdtar lacks the option; scripts/test installs it (gnu-tar)."""
    return require_tool("tar" if LINUX else "gtar")


def source_copy(dest: Path) -> Path:
    """The checkout's files (tracked, and untracked ones git does not ignore) under ``dest``:
    what a build or an install reads, never the checkout itself (setuptools leaves
    ``build/`` and ``*.egg-info`` beside the sources it builds)."""
    repo = Path(__file__).resolve().parents[1]
    git = require_tool("git")
    listed = run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        check=True,
    ).stdout
    names = sorted({n for n in listed.split("\0") if n})
    assert "pyproject.toml" in names and "relocator/commands/removal.py" in names
    for name in names:
        source = repo / name
        if not os.path.lexists(source):  # deleted in the work tree, not yet in the index
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name, follow_symlinks=False)
    return dest


def env_without_uv(tmp: Path) -> dict[str, str]:
    """The environment with a PATH that has python3 but no uv."""
    bindir = tmp / "bin-no-uv"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "python3").exists():
        (bindir / "python3").symlink_to(sys.executable)
    return {**os.environ, "PATH": f"{bindir}:/usr/bin:/bin"}


def dir_paths(top: Path) -> set[str]:
    """Relative paths below ``top`` (a venv), without what relocate itself adds."""
    return {str(p.relative_to(top)) for p in top.rglob("*")} - {"CACHEDIR.TAG"}


def store_venvs(store: Path) -> list[Path]:
    return sorted(p for p in (store / "venvs").glob("*") if p.is_dir())


NOBODY = 65534


def nobody_env(base: Path, **extra: str) -> dict[str, str]:
    """An environment for relocate run as an unprivileged user from /usr/bin/python3.

    Root ignores permissions, so permission cases run as uid 65534, with a copy of
    relocator and its dependencies on PYTHONPATH (:func:`readable_sources`): the checkout
    and the test env may sit in a folder that user cannot read (a clone under ~root).
    """
    import pytest

    if not LINUX:  # the tests are marked linux_only too: this guards a helper's new caller
        pytest.skip("Linux only: permission tests run as uid 65534 through setpriv")
    if os.getuid() != 0 or shutil.which("setpriv") is None or not Path("/usr/bin/python3").exists():
        in_ci_or_skip("permission tests need root, setpriv and /usr/bin/python3")
    home = base / "home"
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "RELOCATOR_HOME": str(base / "store"),
        "PYTHONPATH": readable_sources(),
        "LANG": "C.UTF-8",
        **extra,
    }


@functools.cache
def readable_sources() -> str:
    """A folder any user can read holding the relocator package under test (its hook
    scripts as ``relocator/shell``) and the installed distributions it needs to run
    (the closure of its requirements), made once per test run and removed at exit."""
    import atexit
    import tempfile
    from importlib import metadata

    import relocator.shell
    from packaging.requirements import Requirement

    import relocator

    root = Path(tempfile.mkdtemp(prefix="relocator-readable-", dir="/tmp"))
    atexit.register(shutil.rmtree, root, True)
    skip = shutil.ignore_patterns("__pycache__")
    package = Path(relocator.__file__).parent
    shutil.copytree(package, root / "relocator", ignore=skip)
    shells = Path(relocator.shell.__file__).parent
    if shells != package / "shell":  # the checkout keeps them in shell/ (a package-dir)
        shutil.copytree(shells, root / "relocator" / "shell", ignore=skip)
    todo, seen = ["relocator"], set()
    while todo:
        name = todo.pop()
        dist = metadata.distribution(name)
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            wanted = Requirement(line)
            if wanted.marker is None or wanted.marker.evaluate({"extra": ""}):
                todo.append(wanted.name)
        if key == "relocator":
            continue  # copied from the package itself (an editable install lists no files)
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            target = root / file
            if source.is_file() and root in target.resolve().parents:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    # its bytecode for the interpreter that runs it (the user cannot write it): without,
    # each start of relocate as that user compiles every module it imports again
    subprocess.run(["/usr/bin/python3", "-m", "compileall", "-q", str(root / "relocator")])
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)  # noqa: S103 - the unprivileged user must read it
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    return str(root)


def shared_base() -> Path:
    """A folder under /tmp that the unprivileged user owns (tmp_path is root's, 0700)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="relocator-nobody-", dir="/tmp"))
    os.chmod(base, 0o755)  # noqa: S103 - the unprivileged user must reach it
    os.chown(base, NOBODY, NOBODY)
    (base / "home").mkdir()
    os.chown(base / "home", NOBODY, NOBODY)
    return base


def as_nobody(cmd: list[str], env: dict[str, str], cwd: Path | None = None):
    """Run ``cmd`` (``relocate ARGS`` becomes /usr/bin/python3 -m relocator ARGS) as uid 65534."""
    if cmd[0] == "relocate":
        cmd = ["/usr/bin/python3", "-m", "relocator", *cmd[1:]]
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return run([*prefix, *cmd], env=env, cwd=cwd)


# -- relocator's link, made and unmade by hand ------------------------------------------


def hop_of(project: Path, name: str = ".venv") -> Path:
    """The machine-local link of ``project/name``: ``name.nosync/name``."""
    return project / f"{name}.nosync" / name


def link_by_hand(project: Path, target: Path | str, name: str = ".venv") -> None:
    """Make relocator's link ``name -> name.nosync/name -> target`` by hand."""
    (project / f"{name}.nosync").mkdir()
    hop_of(project, name).symlink_to(target)
    (project / name).symlink_to(f"{name}.nosync/{name}")


def drop_hop(project: Path, name: str = ".venv") -> None:
    """Remove ``name.nosync`` (a folder, or a link of the old shape), as a sync engine
    delivers the project on another machine: iCloud never uploads a ``.nosync`` name."""
    hop = project / f"{name}.nosync"
    if hop.is_symlink():
        hop.unlink()
    else:
        shutil.rmtree(hop)


def old_shape(project: Path, name: str = ".venv") -> str:
    """Rewrite relocator's link ``project/name`` to the shape it had before
    (``name -> name.nosync -> target``, the hop a symlink); return the target."""
    target = os.readlink(hop_of(project, name))
    shutil.rmtree(project / f"{name}.nosync")
    (project / f"{name}.nosync").symlink_to(target)
    (project / name).unlink()
    (project / name).symlink_to(f"{name}.nosync")
    return target


def has_shape(project: Path, name: str = ".venv") -> bool:
    """Whether ``project/name`` has relocator's shape: ``name -> name.nosync/name``, with
    ``name.nosync`` a real folder and the link in it absolute."""
    hop = project / f"{name}.nosync"
    return (
        os.readlink(project / name) == f"{name}.nosync/{name}"
        and hop.is_dir()
        and not hop.is_symlink()
        and os.path.isabs(os.readlink(hop_of(project, name)))
    )


class Paused:
    """relocate run as a process, held at a fault point until :meth:`resume`."""

    def __init__(self, args: list[str], point: str, gate: Path, **extra: str) -> None:
        self.gate = gate
        env = {
            **os.environ,
            "RELOCATOR_FAULT_PAUSE": point,
            "RELOCATOR_FAULT_GATE": str(gate),
            **extra,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relocator", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        paused = Path(f"{gate}.paused")
        deadline = time.monotonic() + 120
        while not paused.exists():
            if self.proc.poll() is not None:
                import pytest

                out, err = self.proc.communicate()
                pytest.fail(f"relocate ended before it reached {point}: {err}{out}")
            assert time.monotonic() < deadline, f"relocate never reached {point}"
            time.sleep(0.01)

    def resume(self) -> subprocess.CompletedProcess[str]:
        self.gate.touch()
        out, err = self.proc.communicate(timeout=300)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


@contextlib.contextmanager
def paused(args: list[str], point: str, tmp_path: Path, **extra: str) -> Iterator[Paused]:
    held = Paused(args, point, tmp_path / f"gate-{uuid.uuid4().hex}", **extra)
    try:
        yield held
    finally:
        held.gate.touch()
        if held.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                held.proc.wait(timeout=60)
        if held.proc.poll() is None:
            held.proc.kill()
            held.proc.wait()


def code_at(commit: str, dest: Path) -> Path | None:
    """relocator's code as it was at ``commit``, unpacked in ``dest`` (for PYTHONPATH), or
    None when this checkout's git lacks that commit."""
    import io
    import tarfile

    repo = Path(__file__).resolve().parent.parent
    found = subprocess.run(
        ["git", "-C", str(repo), "archive", commit, "relocator", "shell"], capture_output=True
    )
    if found.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(found.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest
