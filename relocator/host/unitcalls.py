"""Running ``launchctl`` and ``systemctl`` for :mod:`relocator.host.units` and
:mod:`relocator.host.launchd`: one call, and what loading a unit came to."""

from __future__ import annotations

import os
import shlex
import subprocess

from relocator.errors import telling
from relocator.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Union

TIMEOUT = 30.0  # for one launchctl or systemctl call that changes something
QUERY_TIMEOUT = 5.0  # for one that only asks (`service status`, `doctor` wait on it)


class Load(NamedTuple):
    loaded: bool  # runs now
    enabled: bool  # starts at the next login
    reason: Optional[str] = None  # why it does not run now
    manual: Optional[str] = None  # the command that starts it by hand


def run(args: list[str]) -> tuple[bool, str]:
    """Run a launchctl or systemctl command: whether it succeeded, and if not, why (its last
    line of output, or what kept it from running)."""
    done = _call(args)
    if isinstance(done, str):
        return False, done
    if done.returncode == 0:
        return True, ""
    said = telling((done.stderr + "\n" + done.stdout).splitlines())  # not a "Removed ..." line
    return False, said or f"`{shlex.join(args)}` exited with {done.returncode}"


def ask(args: list[str]) -> Optional[tuple[int, str]]:
    """(exit status, standard output) of a launchctl or systemctl query; None when it could
    not run."""
    done = _call(args, QUERY_TIMEOUT)
    return None if isinstance(done, str) else (done.returncode, done.stdout)


def _call(
    args: list[str], timeout: float = TIMEOUT
) -> Union[subprocess.CompletedProcess[str], str]:
    """The finished command, or why it could not run."""
    try:
        return subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return f"{os.path.basename(args[0])} was not found"
    except subprocess.TimeoutExpired:
        return f"`{shlex.join(args)}` did not answer within {timeout:g}s"
    except OSError as e:
        return f"`{shlex.join(args)}` could not run ({e.strerror or e})"
