"""Running commands and timing cases: the one place that calls ``time.perf_counter``
around a subprocess (monotonic), and the one summary of a case's runs."""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, NamedTuple, Optional

TAIL = 800  # characters of a failed command's output in its error


class Failed(SystemExit):
    """A command failed: what ran and what it said. Uncaught, the benchmark exits with
    it; :func:`part` records it and goes on."""


def timed(
    cmd: list[str], env: dict[str, str], cwd: Optional[str] = None, **kwargs: Any
) -> tuple[float, str]:
    """Wall time of one command (it must succeed), and its stdout."""
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip())[-TAIL:]
        raise Failed(f"{shlex.join(cmd)} failed ({result.returncode}): {said}")
    return elapsed, result.stdout


def run_ok(cmd: list[str], env: dict[str, str], cwd: Optional[str] = None, **kwargs: Any) -> str:
    """Run ``cmd`` untimed; it must succeed. Its stdout."""
    return timed(cmd, env, cwd, **kwargs)[1]


def summary(times: list[float]) -> dict[str, Any]:
    """A case's runs, median, minimum and spread (what the JSON files hold)."""
    return {
        "runs": times,
        "median": statistics.median(times),
        "min": min(times),
        # the second slowest run over the fastest (one outlier is no trend): above
        # NOISY, the machine or its disk was busy
        "spread": sorted(times)[-2 if len(times) > 2 else -1] / min(times),
    }


Case = tuple[Callable[..., float], tuple[Any, ...]]


def measure(runs: int, cases: dict[str, Case], warmup: int = 0) -> dict[str, dict[str, Any]]:
    """Time every case ``runs`` times, interleaved (one run of each per round).

    Each case is a function returning the seconds of one run, and its arguments.
    ``warmup`` untimed rounds come first: on a virtual disk the first writes to
    fresh parts of the file system can cost ten times the later ones.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(-warmup, runs):
        for name, (once, args) in cases.items():
            elapsed = once(*args)
            what = f"run {i + 1}/{runs}" if i >= 0 else "warm-up"
            print(f"  {what}: {name}: {elapsed * 1e3:.0f} ms", file=sys.stderr)
            if i >= 0:
                times[name].append(elapsed)
    return {name: summary(t) for name, t in times.items()}


class Setup(NamedTuple):
    relocate: list[str]  # the command that runs relocate
    env: dict[str, str]
    store: str  # $RELOCATOR_HOME
    trash: str  # where discarded trees go, on the work folder's volume


def discard(setup: Setup, *paths: str) -> None:
    """Take ``paths`` away: renamed into the trash on the work volume, else deleted.

    Renaming, not deleting, between runs: on ext4 without a journal (this
    machine's disk), creating files in the seconds after deleting thousands
    costs up to ten times more (the inode allocator skips every recently
    deleted inode, ``recently_deleted()`` in fs/ext4/ialloc.c), which would
    bill ``cp -a`` and the untimed copies for the previous run's cleanup.
    The trash goes with the work folder at the end.
    """
    for path in paths:
        if not os.path.lexists(path):
            continue
        if os.lstat(path).st_dev == os.stat(setup.trash).st_dev:
            os.rename(path, os.path.join(setup.trash, str(len(os.listdir(setup.trash)))))
        else:
            shutil.rmtree(path)


def part(name: str, failures: dict[str, str], fn: Any, *fn_args: Any) -> Any:
    """Run one part; a failure (a command that failed) is recorded, not fatal."""
    started = time.perf_counter()
    print(f"{name}:", file=sys.stderr)
    try:
        return fn(*fn_args)
    except SystemExit as e:  # Failed, or a missing tool
        message = str(e.code)
        failures[name] = message
        print(f"  FAILED: {message}", file=sys.stderr)
        return None
    finally:
        print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
