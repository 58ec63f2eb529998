"""The git exclude: every other byte kept, only real git dirs of ours written, never a raise.

The functions run directly on real repositories made by `git init` (and `git
worktree add`, `git init --separate-git-dir` for a submodule's layout) and on
hand-made `.git` files and folders.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from relocator.paths import git
from relocator.paths.git import EXCLUDE_BEGIN, EXCLUDE_END, add_git_exclude, remove_git_exclude
from tests.helpers import link_by_hand, require_tool, run

BLOCK_START = (EXCLUDE_BEGIN + "\n").encode()
HOSTILE = (
    b"# user's own\n"
    b"*.log\r\n"  # CRLF
    b"form\x0cfeed\n"
    b"sep\xe2\x80\xa8line\xe2\x80\xa9para\n"  # U+2028, U+2029
    b"\x1c\x1d\x1e\xc2\x85 separators\n"  # what str.splitlines splits on
    b"\xff\xfe not utf-8\n"
    b"\n"
    b"last line without a newline"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    require_tool("git")
    root = tmp_path / "repo"
    run(["git", "init", "-q", str(root)], check=True)
    return root


def _exclude(repo: Path) -> Path:
    return repo / ".git" / "info" / "exclude"


def _link(project: Path) -> None:
    """The two links adopt makes, so that git has something to ignore."""
    project.mkdir(parents=True, exist_ok=True)
    link_by_hand(project, "/nonexistent/store/venv")


def _status(worktree: Path) -> str:
    return run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=worktree).stdout


def _tree(top: Path) -> dict[str, bytes]:
    """Every path under ``top`` with its content (files) or kind: to prove nothing changed."""
    found: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                found[path] = b"link:" + os.fsencode(os.readlink(path))
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    found[path] = f.read()
            else:
                found[path] = b"other"
    return found


def _one_line_note(note: str | None, *, add: bool = True) -> str:
    assert note is not None
    assert "\n" not in note
    assert note.endswith("add it yourself" if add else "remove them yourself")
    return note


# -- bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [HOSTILE, HOSTILE + b"\n", b"", b"no newline", b"\r\n"],
    ids=["hostile-no-final-newline", "hostile", "empty", "one-bare-line", "crlf-only"],
)
def test_add_then_remove_gives_back_the_exact_bytes(repo: Path, original: bytes) -> None:
    _exclude(repo).write_bytes(original)
    project = repo / "we*ird [x] #1 "
    _link(project)
    assert add_git_exclude(str(project)) is None
    added = _exclude(repo).read_bytes()
    head = original + (b"\n" if original and not original.endswith(b"\n") else b"")
    assert added.startswith(head + BLOCK_START)
    assert added.endswith(b"\n") == (not original or original.endswith(b"\n"))
    assert _status(repo) == ""  # git reads the block: the links are ignored
    assert add_git_exclude(str(project)) is None  # idempotent
    assert _exclude(repo).read_bytes() == added

    assert remove_git_exclude(str(project)) is None
    assert _exclude(repo).read_bytes() == original
    assert "/.venv" in _status(repo)


def test_a_missing_exclude_file_is_made_and_emptied(repo: Path) -> None:
    _exclude(repo).unlink()
    (repo / ".git" / "info").rmdir()
    _link(repo)
    assert add_git_exclude(str(repo)) is None
    assert _exclude(repo).read_text() == f"{EXCLUDE_BEGIN}\n/.venv\n/.venv.nosync\n{EXCLUDE_END}\n"
    assert _status(repo) == ""
    assert remove_git_exclude(str(repo)) is None
    assert _exclude(repo).read_bytes() == b""


def test_one_block_for_many_projects_kept_where_it_stands(repo: Path) -> None:
    original = HOSTILE + b"\n"
    _exclude(repo).write_bytes(original)
    one, two = repo / "one", repo / "two"
    _link(one)
    _link(two)
    assert add_git_exclude(str(one)) is None
    after_block = b"user line after our block\r\n\x0c\n"
    _exclude(repo).write_bytes(_exclude(repo).read_bytes() + after_block)
    assert add_git_exclude(str(two)) is None
    text = _exclude(repo).read_bytes()
    assert text.count(BLOCK_START) == 1
    assert text.startswith(original + BLOCK_START)
    assert text.endswith(EXCLUDE_END.encode() + b"\n" + after_block)
    assert b"/one/.venv\n" in text and b"/two/.venv.nosync\n" in text
    assert _status(repo) == ""

    assert remove_git_exclude(str(one)) is None
    assert b"/one/" not in _exclude(repo).read_bytes()
    assert b"/two/.venv\n" in _exclude(repo).read_bytes()
    assert remove_git_exclude(str(two)) is None
    assert _exclude(repo).read_bytes() == original + after_block


def test_a_block_without_its_end_marker_never_takes_user_lines(repo: Path) -> None:
    broken = f"mine-before\n{EXCLUDE_BEGIN}\n/p/.venv\n/p/.venv.nosync\nmine-after\n*.tmp\n"
    _exclude(repo).write_text(broken)
    assert remove_git_exclude(str(repo / "p")) is None
    assert _exclude(repo).read_text() == "mine-before\nmine-after\n*.tmp\n"


def test_outside_git_nothing_happens(tmp_path: Path) -> None:
    project = tmp_path / "plain"
    project.mkdir()
    before = _tree(tmp_path)
    assert add_git_exclude(str(project)) is None
    assert remove_git_exclude(str(project)) is None
    assert _tree(tmp_path) == before


# -- linked worktrees and submodules --------------------------------------------------------


def test_a_linked_worktree_writes_the_common_exclude(repo: Path, tmp_path: Path) -> None:
    run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=repo, check=True)
    worktree = tmp_path / "wt"
    run(["git", "worktree", "add", "-q", str(worktree)], cwd=repo, check=True)
    project = worktree / "sub"
    _link(project)
    assert add_git_exclude(str(project)) is None
    assert b"/sub/.venv\n" in _exclude(repo).read_bytes()
    assert not (repo / ".git" / "worktrees" / "wt" / "info").exists()
    assert _status(worktree) == ""
    assert remove_git_exclude(str(project)) is None
    assert b"/sub/" not in _exclude(repo).read_bytes()


def test_a_relative_gitdir_resolves_against_the_git_files_folder(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=repo, check=True)
    worktree = tmp_path / "wt"
    run(["git", "worktree", "add", "-q", str(worktree)], cwd=repo, check=True)
    # A relative gitdir, as `git worktree add --relative-paths` writes; commondir is "../.."
    (worktree / ".git").write_text("gitdir: ../repo/.git/worktrees/wt\n")
    assert (repo / ".git" / "worktrees" / "wt" / "commondir").read_text().strip() == "../.."
    elsewhere = tmp_path / "elsewhere" / "deeper"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)  # a path relative to the cwd would miss
    _link(worktree)
    assert add_git_exclude(str(worktree)) is None
    assert b"\n/.venv\n" in _exclude(repo).read_bytes()
    assert _status(worktree) == ""


def test_a_submodule_layout_writes_its_own_git_dir(repo: Path) -> None:
    modules = repo / ".git" / "modules" / "sub"
    sub = repo / "sub"
    modules.parent.mkdir()
    run(["git", "init", "-q", f"--separate-git-dir={modules}", str(sub)], check=True)
    assert (sub / ".git").is_file()
    _link(sub / "pkg")
    assert add_git_exclude(str(sub / "pkg")) is None
    assert b"/pkg/.venv\n" in (modules / "info" / "exclude").read_bytes()
    assert BLOCK_START not in _exclude(repo).read_bytes()
    assert _status(sub) == ""


# -- what is never written ----------------------------------------------------------------


def _gitdir_file(project: Path, content: bytes) -> None:
    project.mkdir(parents=True, exist_ok=True)
    (project / ".git").write_bytes(content)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"gitdir: ",
        b"\xff\xfe\x00garbage",
        b"gitdir: /nonexistent/place\n",
        b"gitdir: ../outside\n",  # a folder that is not a git dir
        b"gitdir: ../outside/file\n",  # a file
        b"gitdir: ../out\x00side\n",
        b"gitdir: " + b"x" * 5000,
        b"not a gitdir line\n",
    ],
    ids=[
        "empty",
        "no-path",
        "binary",
        "missing",
        "plain-folder",
        "a-file",
        "nul",
        "huge",
        "no-prefix",
    ],
)
def test_a_git_file_leading_outside_a_git_dir_gets_a_note(tmp_path: Path, content: bytes) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("x")
    project = tmp_path / "project"
    _gitdir_file(project, content)
    before = _tree(tmp_path)
    note = _one_line_note(add_git_exclude(str(project)))
    assert str(project / ".git") in note
    _one_line_note(remove_git_exclude(str(project)), add=False)
    assert _tree(tmp_path) == before  # no info/ folder made anywhere


def _fake_git_dir(path: Path, *, head: bool = True) -> Path:
    path.mkdir(parents=True)
    if head:
        (path / "HEAD").write_text("ref: refs/heads/main\n")
    return path


@pytest.mark.parametrize(
    ("commondir", "why"),
    [
        (b"\xff\x00 garbage\n", "names no usable path"),
        (b"", "names no usable path"),
        (b"../no-such-place\n", "No such file or directory"),
        (b"../not-git\n", "is not a git directory"),
        (b"../../outside/file\n", "is not a git directory"),
    ],
)
def test_a_commondir_leading_nowhere_useful_gets_a_note(
    tmp_path: Path, commondir: bytes, why: str
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "file").write_text("x")
    gitdir = _fake_git_dir(tmp_path / "gits" / "wt")
    _fake_git_dir(tmp_path / "gits" / "not-git", head=False)
    (gitdir / "commondir").write_bytes(commondir)
    project = tmp_path / "project"
    _gitdir_file(project, f"gitdir: {gitdir}\n".encode())
    before = _tree(tmp_path)
    note = _one_line_note(add_git_exclude(str(project)))
    assert why in note
    assert _tree(tmp_path) == before


def test_a_git_dir_without_head_is_not_one(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _fake_git_dir(project / ".git", head=False)
    before = _tree(tmp_path)
    assert "is not a git directory" in _one_line_note(add_git_exclude(str(project)))
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("where", ["dotgit", "gitdir", "commondir"])
def test_fifos_are_never_opened(tmp_path: Path, where: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    gitdir = _fake_git_dir(tmp_path / "gits" / "wt", head=where != "gitdir")
    if where == "dotgit":
        os.mkfifo(project / ".git")
    else:
        _gitdir_file(project, f"gitdir: {gitdir}\n".encode())
        os.mkfifo(gitdir / ("commondir" if where == "commondir" else "HEAD"))
    code = (
        "import sys; from relocator.paths.git import add_git_exclude, remove_git_exclude\n"
        "print(add_git_exclude(sys.argv[1])); print(remove_git_exclude(sys.argv[1]))\n"
    )
    # A child with a deadline: an open() of a FIFO would block it for good.
    out = subprocess.run(
        [sys.executable, "-c", code, str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    added, removed = out.stdout.splitlines()
    _one_line_note(added)
    _one_line_note(removed, add=False)


def test_a_dangling_git_symlink_gets_a_note(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").symlink_to(tmp_path / "gone")
    assert "leads nowhere" in _one_line_note(add_git_exclude(str(project)))
    assert not (tmp_path / "gone").exists()


@contextlib.contextmanager
def _another_users(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``path`` belongs to someone else: for real as root, else we pretend to be someone else."""
    if os.geteuid() == 0:
        st = path.stat()
        os.chown(path, 4242, 4242)
        try:
            yield
        finally:
            os.chown(path, st.st_uid, st.st_gid)
    else:
        monkeypatch.setattr(git.os, "geteuid", lambda: os.getuid() + 4242)
        yield


@pytest.mark.parametrize("what", [".git", "info/exclude"])
def test_another_users_git_dir_is_not_written(
    repo: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    _exclude(repo).write_bytes(HOSTILE)
    _link(repo / "p")
    with _another_users(repo / ".git" / what if what != ".git" else repo / ".git", monkeypatch):
        note = _one_line_note(add_git_exclude(str(repo / "p")))
        assert "belongs to another user" in note
        assert _exclude(repo).read_bytes() == HOSTILE


def test_a_worktree_pointing_into_another_users_git_dir_is_not_written(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    _gitdir_file(project, f"gitdir: {repo / '.git'}\n".encode())
    before = _exclude(repo).read_bytes()
    with _another_users(repo / ".git", monkeypatch):
        assert "belongs to another user" in _one_line_note(add_git_exclude(str(project)))
    assert _exclude(repo).read_bytes() == before


@pytest.mark.parametrize("shape", ["exclude-is-a-folder", "info-is-a-file", "exclude-symlink"])
def test_an_exclude_that_is_not_a_file_gets_a_note(repo: Path, shape: str) -> None:
    info = repo / ".git" / "info"
    _exclude(repo).unlink()
    if shape == "exclude-is-a-folder":
        _exclude(repo).mkdir()
    elif shape == "info-is-a-file":
        info.rmdir()
        info.write_text("not a folder")
    else:
        (repo / "elsewhere").write_bytes(HOSTILE)
        _exclude(repo).symlink_to(repo / "elsewhere")
    before = _tree(repo)
    _one_line_note(add_git_exclude(str(repo)))
    _one_line_note(remove_git_exclude(str(repo)), add=False)
    assert _tree(repo) == before


@contextlib.contextmanager
def _unwritable(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``folder`` refuses new files: by its mode, or (as root, whom modes do not stop) by
    the immutable flag; where chattr cannot, a read-only file system is simulated."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "Permission denied"
        finally:
            folder.chmod(0o755)
        return
    if run(["chattr", "+i", str(folder)]).returncode == 0:
        try:
            yield "Operation not permitted"
        finally:
            run(["chattr", "-i", str(folder)], check=True)
        return

    def read_only(path: str, data: object, **kw: object) -> None:
        raise OSError(30, "Read-only file system", path)

    monkeypatch.setattr(git, "write_atomic", read_only)
    yield "Read-only file system"


def test_an_unwritable_exclude_gets_a_note_not_an_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _exclude(repo).write_bytes(HOSTILE)
    _link(repo / "p")
    with _unwritable(repo / ".git" / "info", monkeypatch) as reason:
        note = _one_line_note(add_git_exclude(str(repo / "p")))
        assert note == f"could not add .venv to {_exclude(repo)} ({reason}); add it yourself"
    assert _exclude(repo).read_bytes() == HOSTILE
    assert add_git_exclude(str(repo / "p")) is None
    with _unwritable(repo / ".git" / "info", monkeypatch) as reason:
        note = _one_line_note(remove_git_exclude(str(repo / "p")), add=False)
        assert f"({reason})" in note
    assert remove_git_exclude(str(repo / "p")) is None
    assert _exclude(repo).read_bytes() == HOSTILE
