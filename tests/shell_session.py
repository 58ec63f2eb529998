"""Drive a real interactive bash (also 3.2), zsh or fish on a pseudo-terminal, as a user would.

Commands are typed one line at a time; each waits for the shell to finish it.
Values are read back through files (not the screen), so prompts, echo and
escape sequences never get in the way.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shlex
import signal
import time
from pathlib import Path

#: GNU bash 3.2 (macOS's /bin/bash version), built for these machines; see shared/bin/README.md.
BASH_32 = os.environ.get(
    "RELOCATOR_TEST_BASH32",
    str(Path(__file__).resolve().parents[2] / "shared" / "bin" / "bash-3.2"),  # beside the clone
)

SHELL_ARGV = {
    "bash": ["bash", "-i"],
    "bash-3.2": [BASH_32, "-i"],
    "zsh": ["zsh", "-i"],
    "fish": ["fish", "-i"],
    # Login shells, as macOS Terminal starts them: they read ~/.bash_profile (or
    # ~/.bash_login, or ~/.profile), never ~/.bashrc by themselves.
    "bash-login": ["bash", "-l"],
    "bash-3.2-login": [BASH_32, "-l"],
}
#: The hook each shell loads: bash 3.2 reads the same ~/.bashrc and hook as bash.
FAMILY = {"bash": "bash", "bash-3.2": "bash", "zsh": "zsh", "fish": "fish"}
FAMILY.update({"bash-login": "bash", "bash-3.2-login": "bash"})


def fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Session:
    def __init__(self, shell: str, env: dict[str, str], cwd: Path, scratch: Path) -> None:
        self.shell = shell
        self.family = FAMILY[shell]
        self.scratch = scratch
        self.count = 0
        self.screen = b""
        pid, fd = pty.fork()
        if pid == 0:  # the child: the shell
            os.chdir(cwd)
            os.execvpe(SHELL_ARGV[shell][0], SHELL_ARGV[shell], env)
        self.pid, self.fd = pid, fd
        self.run("true")  # wait until the rc files ran and the first prompt is up

    def quote(self, value: str) -> str:
        return fish_quote(value) if self.family == "fish" else shlex.quote(value)

    def _read_available(self, timeout: float) -> bool:
        """Read what the shell wrote, waiting up to ``timeout``; whether anything came."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the shell is gone (EIO)
            return False
        self.screen += data
        return bool(data)

    def run(self, command: str, timeout: float = 30.0) -> None:
        """Type ``command``, then wait until the shell has run it (and shown its prompt)."""
        self.count += 1
        done = self.scratch / f"done.{self.count}"
        os.write(self.fd, (command + "\n").encode())
        os.write(self.fd, f"printf x > {self.quote(str(done))}\n".encode())
        deadline = time.monotonic() + timeout
        while not done.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.shell}: {command!r} did not finish:\n{self.text()}")
            self._read_available(0.02)

    def values(self, *expressions: str) -> list[str]:
        """Values of shell expressions (``"$VIRTUAL_ENV"``, ``$PATH`` joined with ':' in fish).

        Read back NUL-separated, so values may hold newlines.
        """
        self.count += 1
        out = self.scratch / f"values.{self.count}"
        self.run(f"printf '%s\\0' {' '.join(expressions)} > {self.quote(str(out))}")
        return out.read_bytes().decode("utf-8", "surrogateescape").split("\0")[: len(expressions)]

    def env(self, *names: str) -> dict[str, str]:
        exprs = []
        for name in names:
            if self.family == "fish" and name == "PATH":
                exprs.append("(string join : -- $PATH | string collect)")
            else:
                exprs.append(f'"${name}"')
        return dict(zip(names, self.values(*exprs)))

    def text(self) -> str:
        """All the shell has written so far: read until the pty stays quiet for 0.05 s (one
        read returns at most a few KiB, and a busy machine leaves more than that waiting)."""
        deadline = time.monotonic() + 10  # a shell that never stops writing: what came
        while self._read_available(0.05) and time.monotonic() < deadline:
            pass
        return self.screen.decode("utf-8", "replace")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, b"exit\n")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            self._read_available(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
