"""Running shells for bench_shells.py: an environment without anything a shell or direnv
reads, the in-shell loops (cd round trips and prompts, timed with the shell's own clock:
``$EPOCHREALTIME`` in bash and zsh, the ``time`` keyword in fish), the forks and execs
``strace -f`` saw, and the shells' versions."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from harness.isolation import bench_env

PHASES = ("base_cd", "base_prompt", "load", "cd", "prompt_in", "prompt_out")
UNITS = {"micros": 1e-6, "millis": 1e-3, "secs": 1.0, "mins": 60.0}
NOT_INHERITED = (
    "BASH_ENV",
    "ENV",
    "ZDOTDIR",
    "PROMPT_COMMAND",
    "HISTFILE",
    "CDPATH",
    "DIRENV_DIR",
    "DIRENV_FILE",
    "DIRENV_DIFF",
    "DIRENV_WATCHES",
    "DIRENV_CONFIG",
)


def shell_env(root: str, store: str) -> dict[str, str]:
    """The benchmarks' isolated environment, without anything a shell or direnv reads."""
    env = bench_env(root, store)
    for name in NOT_INHERITED:
        env.pop(name, None)
    for name in [k for k in env if k.startswith(("LC_", "fish_", "_RELOCATOR"))]:
        del env[name]
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="dumb", DIRENV_LOG_FORMAT="")
    return env


def fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


POSIX_LOOPS = """\
A={a}; B={b}; N={n}; M={m}
{clock}
[[ -n ${{EPOCHREALTIME:-}} ]] || {{ echo 'no $EPOCHREALTIME (bash 5 or zsh needed)' >&2; exit 2; }}
fail() {{ echo "$1: VIRTUAL_ENV=${{VIRTUAL_ENV:-}}" >&2; exit 3; }}
cd -- "$B" || exit 2
t=$EPOCHREALTIME
for ((i = 0; i < N; i++)); do cd -- "$A"; cd -- "$B"; done
echo "base_cd $t $EPOCHREALTIME"
t=$EPOCHREALTIME
for ((i = 0; i < M; i++)); do :; done
echo "base_prompt $t $EPOCHREALTIME"
t=$EPOCHREALTIME
{load}
echo "load $t $EPOCHREALTIME"
cd -- "$A"; {prompt}; [[ ${{VIRTUAL_ENV:-}} -ef $A/.venv ]] || fail "not active in $A"
cd -- "$B"; {prompt}; [[ -z ${{VIRTUAL_ENV:-}} ]] || fail "still active in $B"
t=$EPOCHREALTIME
for ((i = 0; i < N; i++)); do cd -- "$A"; {prompt}; cd -- "$B"; {prompt}; done
echo "cd $t $EPOCHREALTIME"
[[ -z ${{VIRTUAL_ENV:-}} ]] || fail "active after the cd loop"
cd -- "$A"; {prompt}
t=$EPOCHREALTIME
for ((i = 0; i < M; i++)); do {prompt}; done
echo "prompt_in $t $EPOCHREALTIME"
[[ ${{VIRTUAL_ENV:-}} -ef $A/.venv ]] || fail "not active after the prompt loop"
cd -- "$B"; {prompt}
t=$EPOCHREALTIME
for ((i = 0; i < M; i++)); do {prompt}; done
echo "prompt_out $t $EPOCHREALTIME"
[[ -z ${{VIRTUAL_ENV:-}} ]] || fail "active after the prompt loop"
"""

FISH_LOOPS = """\
set A {a}; set B {b}
set range_n (seq {n}); set range_m (seq {m})
function fail; echo "$argv[1]: VIRTUAL_ENV=$VIRTUAL_ENV" >&2; exit 3; end
function cd_loop  # timed once without the hook (the baseline), once with it
    for i in $range_n
        emit fish_preexec; cd -- $A; emit fish_prompt
        emit fish_preexec; cd -- $B; emit fish_prompt
    end
end
function prompt_loop
    for i in $range_m; emit fish_prompt; end
end
cd -- $B; or exit 2
time cd_loop
time prompt_loop
time begin
    {load}
end
emit fish_preexec; cd -- $A; emit fish_prompt
test "$VIRTUAL_ENV" -ef "$A/.venv"; or fail "not active in $A"
emit fish_preexec; cd -- $B; emit fish_prompt
test -z "$VIRTUAL_ENV"; or fail "still active in $B"
time cd_loop
test -z "$VIRTUAL_ENV"; or fail "active after the cd loop"
emit fish_preexec; cd -- $A; emit fish_prompt
time prompt_loop
test "$VIRTUAL_ENV" -ef "$A/.venv"; or fail "not active after the prompt loop"
emit fish_preexec; cd -- $B; emit fish_prompt
time prompt_loop
test -z "$VIRTUAL_ENV"; or fail "active after the prompt loop"
"""


def loop_command(
    shell: str, a: str, b: str, n: int, m: int, *, load: str, prompt: str
) -> list[str]:
    """The command that runs ``n`` cd round trips between ``a`` and ``b`` and ``m`` prompts
    in each, after the rc line ``load``; ``prompt``: the hook function bash and zsh call."""
    if shell == "fish":
        text = FISH_LOOPS.format(a=fish_quote(a), b=fish_quote(b), n=n, m=m, load=load)
        return ["fish", "--no-config", "-c", text]
    clock = "zmodload zsh/datetime" if shell == "zsh" else ""
    text = POSIX_LOOPS.format(
        a=shlex.quote(a), b=shlex.quote(b), n=n, m=m, clock=clock, load=load, prompt=prompt
    )
    return (
        ["bash", "--norc", "--noprofile", "-c", text]
        if shell == "bash"
        else ["zsh", "-f", "-c", text]
    )


def phase_times(shell: str, stdout: str, stderr: str) -> dict[str, float]:
    """Seconds spent in each phase, from the shell's own clock."""
    if shell == "fish":
        found = re.findall(r"Executed in\s+([0-9.,]+) (micros|millis|secs|mins)", stderr)
        values = [float(v.replace(",", ".")) * UNITS[unit] for v, unit in found]
        assert len(values) == len(PHASES), stderr
        return dict(zip(PHASES, values))
    times = {}
    for line in stdout.splitlines():
        label, start, end = line.split()
        times[label] = float(end.replace(",", ".")) - float(start.replace(",", "."))
    assert set(times) == set(PHASES), stdout
    return times


def count_forks(cmd: list[str], env: dict[str, str], out: str, what: str) -> dict[str, int]:
    """Processes, threads and execs that ``cmd`` starts, by ``strace -f``."""
    trace = ["strace", "-f", "-qq", "-o", out, "-e", "trace=clone,clone3,fork,vfork,execve"]
    result = subprocess.run([*trace, *cmd], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"strace of {what} failed: {result.stderr}")
    counts = {"processes": 0, "threads": 0, "execs": 0}
    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            call = re.match(r"(?:\d+\s+)?(\w+)\(", line)
            if call is None or "resumed>" in line:
                continue
            name = call.group(1)
            if name == "execve":
                counts["execs"] += 1
            elif name in ("fork", "vfork") or (
                name in ("clone", "clone3") and "CLONE_THREAD" not in line
            ):
                counts["processes"] += 1
            elif name in ("clone", "clone3"):
                counts["threads"] += 1
    os.unlink(out)
    return counts


def versions() -> dict[str, str]:
    """The first line of each shell's and direnv's version."""
    found = {}
    for tool, flag in (
        ("bash", "--version"),
        ("zsh", "--version"),
        ("fish", "--version"),
        ("direnv", "version"),
    ):
        out = subprocess.run([tool, flag], capture_output=True, text=True).stdout
        found[tool] = out.splitlines()[0].strip() if out else "?"
    return found
