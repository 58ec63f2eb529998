"""Benchmark: the shell hooks (bash, zsh, fish) against direnv's, per cd, per prompt and at start.

Figures (goals from the issue):

* per cd, switching between a relocated project and a plain folder elsewhere:
  relocator's hook <= 1/100 of direnv's in bash and zsh, <= 1/10 in fish
  (direnv measured in the same run, on a project whose ``.envrc`` exports
  ``VIRTUAL_ENV`` and does ``PATH_add .venv/bin``);
* per prompt with no change (the hook running while ``PWD`` stayed put):
  <= 20 microseconds in bash and zsh (fish reported);
* ``relocate hook bash`` / a bare ``python -c pass`` of relocate's own
  interpreter <= 4x (zsh and fish reported), and the time a new shell spends
  in relocator's rc line (reported);
* no process on the normal path: forks and execs per cd and per prompt, counted
  with ``strace -f`` (0 expected in bash and zsh; fish reported).

In-shell costs are timed inside one non-interactive shell per round, with the
shell's own clock (``$EPOCHREALTIME`` in bash and zsh, the ``time`` keyword in
fish): first a baseline loop of the same cds (and of nothing, for prompts)
without any hook, then the hook's rc line, then the loops with the hook. A cd
is what an interactive shell does for one: ``cd`` (which fires zsh's
``chpwd_functions`` and fish's ``--on-variable PWD`` handlers) and then one
prompt (bash: the hook function from ``PROMPT_COMMAND``; zsh: the
``precmd_functions`` hook; fish: ``emit fish_preexec`` before the cd and
``emit fish_prompt`` after). Relocator and direnv run in separate processes,
interleaved, ``--rounds`` times.

The projects are made with real tools: a pyproject.toml and ``python -m venv
--without-pip .venv``, then ``relocate adopt`` (relocator) or an ``.envrc`` and
``direnv allow`` (direnv), four levels below the temporary home; the plain
folder is as deep. The hook is installed the documented way (``relocate hook
SHELL --install`` into the temporary home) and its rc line is the one timed.
Everything happens in a temporary folder, with ``RELOCATOR_HOME``, ``HOME`` and
the store there, ``UV_PYTHON_DOWNLOADS=never`` and a PATH without uv.
Standard library only: ``python benchmarks/bench_shells.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from typing import Any, Optional

from harness.cli import parse, parser
from harness.isolation import bench_env, session
from harness.results import figure, machine, missed, write_json
from harness.timing import run_ok, summary
from harness.venvs import write_file

SHELLS = ("bash", "zsh", "fish")
TOOLS = ("relocator", "direnv")
CD_GOAL = {"bash": 0.01, "zsh": 0.01, "fish": 0.1}  # relocator per cd / direnv per cd
PROMPT_GOAL = 20e-6  # seconds, bash and zsh
HOOK_GOAL = 4.0  # relocate hook bash / python -c pass
RC_GOAL = 1.0  # relocator's rc line at shell start / direnv's
RC_AIM = 1e-3  # seconds: the rc line's own cost
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


# -- environment and projects --------------------------------------------------------


def shell_env(root: str, store: str) -> dict[str, str]:
    """bench_adopt's isolated environment, without anything a shell or direnv reads."""
    env = bench_env(root, store)
    for name in NOT_INHERITED:
        env.pop(name, None)
    for name in [k for k in env if k.startswith(("LC_", "fish_", "_RELOCATOR"))]:
        del env[name]
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="dumb", DIRENV_LOG_FORMAT="")
    return env


def make_venv_project(project: str, env: dict[str, str]) -> None:
    os.makedirs(project)
    write_file(os.path.join(project, "pyproject.toml"), '[project]\nname = "p"\nversion = "1"\n')
    venv = os.path.join(project, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, check=True)


class World:
    """The folders, the rc lines, and the environment every shell runs with."""

    def __init__(self, root: str, relocate: list[str]) -> None:
        self.store = os.path.join(root, "store")
        self.env = shell_env(root, self.store)
        home = self.env["HOME"]
        self.project = os.path.join(home, "Documents", "code", "proj")
        self.direnv_project = os.path.join(home, "Documents", "code", "envproj")
        self.elsewhere = os.path.join(home, "Documents", "notes", "misc")
        os.makedirs(self.elsewhere)
        make_venv_project(self.project, self.env)
        out = run_ok([*relocate, "adopt", self.project], self.env)
        link = os.path.join(self.project, ".venv")
        assert os.path.islink(link), out
        assert os.path.realpath(link).startswith(os.path.realpath(self.store) + os.sep)
        make_venv_project(self.direnv_project, self.env)
        write_file(
            os.path.join(self.direnv_project, ".envrc"),
            'export VIRTUAL_ENV="$PWD/.venv"\nPATH_add .venv/bin\n',
        )
        run_ok(["direnv", "allow", self.direnv_project], self.env)
        # The rc lines, installed the documented way into the temporary home.
        self.lines: dict[str, str] = {}
        for shell in SHELLS:
            out = run_ok([*relocate, "hook", shell, "--install"], self.env)
            (rc,) = re.findall(r"added the relocator line to (.*); open", out)
            assert os.path.realpath(rc).startswith(os.path.realpath(root) + os.sep), rc
            with open(rc, encoding="utf-8") as f:
                (self.lines[shell],) = [x for x in f if x.rstrip().endswith("# relocator-hook")]
        # The same home without the lines, for a new shell's start.
        self.bare_home = os.path.join(root, "bare-home")
        for rc in (".bashrc", ".zshrc", ".config/fish/conf.d/empty.fish"):
            write_file(os.path.join(self.bare_home, rc), "")


# -- the in-shell loops -------------------------------------------------------------


def fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def load_line(world: World, shell: str, tool: str) -> str:
    if tool == "relocator":
        return world.lines[shell].strip()
    if shell == "fish":
        return "direnv hook fish | source"
    return f'eval "$(direnv hook {shell})"'


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


def loop_script(world: World, shell: str, tool: str, n: int, m: int) -> list[str]:
    """The command that runs ``n`` cd round trips and ``m`` prompts in each place."""
    a, b = world.direnv_project if tool == "direnv" else world.project, world.elsewhere
    load = load_line(world, shell, tool)
    if shell == "fish":
        text = FISH_LOOPS.format(a=fish_quote(a), b=fish_quote(b), n=n, m=m, load=load)
        return ["fish", "--no-config", "-c", text]
    prompt = "_direnv_hook" if tool == "direnv" else "_relocator_hook"
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


def one_round(world: World, shell: str, tool: str, n: int, m: int) -> dict[str, float]:
    """One process: costs per cd, per prompt (in the project, elsewhere), and of the rc line."""
    cmd = loop_script(world, shell, tool, n, m)
    result = subprocess.run(cmd, env=world.env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{shell}/{tool} loops failed ({result.returncode}): {result.stderr}")
    t = phase_times(shell, result.stdout, result.stderr)
    return {
        "cd": (t["cd"] - t["base_cd"]) / (2 * n),
        "prompt_in": (t["prompt_in"] - t["base_prompt"]) / m,
        "prompt_out": (t["prompt_out"] - t["base_prompt"]) / m,
        "load": t["load"],
    }


def in_shell(args: argparse.Namespace, world: World) -> dict[str, dict[str, Any]]:
    """Every shell and tool, one process each per round, interleaved."""
    iters = {"relocator": (args.cd_iters, args.prompt_iters), "direnv": (args.direnv_iters,) * 2}
    times: dict[str, list[float]] = {}
    for r in range(-args.warmup, args.rounds):
        for shell in SHELLS:
            for tool in TOOLS:
                started = time.perf_counter()
                costs = one_round(world, shell, tool, *iters[tool])
                what = f"round {r + 1}/{args.rounds}" if r >= 0 else "warm-up"
                took = time.perf_counter() - started
                print(
                    f"  {what}: {shell} {tool}: per cd {costs['cd'] * 1e6:.1f} us ({took:.1f} s)",
                    file=sys.stderr,
                )
                if r >= 0:
                    for kind, value in costs.items():
                        times.setdefault(case_name(shell, tool, kind), []).append(value)
    return {name: summary(t) for name, t in times.items()}


def case_name(shell: str, tool: str, what: str) -> str:
    return {
        "cd": f"{shell}: {tool}, per cd",
        "prompt_in": f"{shell}: {tool}, per prompt in the project",
        "prompt_out": f"{shell}: {tool}, per prompt elsewhere",
        "load": f"{shell}: {tool}'s rc line, in the shell",
    }[what]


# -- processes: a new shell's start, relocate hook --------------------------------------


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one command, detached from any terminal (it must succeed)."""
    start = time.perf_counter()
    result = subprocess.run(
        cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({result.returncode}): {result.stderr!r}")
    return elapsed


def interpreter_of(script: str) -> str:
    """The interpreter in a console script's shebang (relocate's own python)."""
    with open(script, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    if first.startswith("#!") and os.path.isabs(first[2:].split()[0]):
        return first[2:].split()[0]
    return sys.executable


def processes(
    args: argparse.Namespace, world: World, relocate: list[str]
) -> dict[str, dict[str, Any]]:
    python = interpreter_of(relocate[0]) if len(relocate) == 1 else sys.executable
    bare = {**world.env, "HOME": world.bare_home}
    todo: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([python, "-c", "pass"], world.env)
    }
    for shell in SHELLS:
        todo[f"relocate hook {shell}"] = ([*relocate, "hook", shell], world.env)
    for shell in SHELLS:
        todo[f"{shell} -i -c exit, with the rc line"] = ([shell, "-i", "-c", "exit"], world.env)
        todo[f"{shell} -i -c exit, without"] = ([shell, "-i", "-c", "exit"], bare)
    times: dict[str, list[float]] = {name: [] for name in todo}
    for i in range(args.warmup + args.runs):
        for name, (cmd, env) in todo.items():
            elapsed = wall(cmd, env)
            if i >= args.warmup:
                times[name].append(elapsed)
    return {name: summary(t) for name, t in times.items()}


# -- forks on the normal path -----------------------------------------------------------


def strace_counts(
    world: World, shell: str, tool: str, n: int, m: int, *, out: str
) -> dict[str, int]:
    """Processes, threads and execs that one run of the loops starts, by ``strace -f``."""
    trace = ["strace", "-f", "-qq", "-o", out, "-e", "trace=clone,clone3,fork,vfork,execve"]
    result = subprocess.run(
        [*trace, *loop_script(world, shell, tool, n, m)],
        env=world.env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"strace of {shell}/{tool} failed: {result.stderr}")
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


def forks(args: argparse.Namespace, world: World, root: str) -> dict[str, dict[str, float]]:
    """Per cd and per prompt: the loops' counts minus those of a run with no iterations."""
    if shutil.which("strace") is None:
        print("skipping the fork counts: strace is not installed", file=sys.stderr)
        return {}
    result: dict[str, dict[str, float]] = {}
    k = args.strace_iters
    for shell in SHELLS:
        for tool in TOOLS:
            kk = k if tool == "relocator" else max(1, k // 20)
            out = os.path.join(root, "strace.out")
            none = strace_counts(world, shell, tool, 0, 0, out=out)
            cds = strace_counts(world, shell, tool, kk, 0, out=out)
            prompts = strace_counts(world, shell, tool, 0, kk, out=out)
            for what, counts, per in (("per cd", cds, 2 * kk), ("per prompt", prompts, 2 * kk)):
                result[f"{shell}: {tool}, {what}"] = {
                    kind: (counts[kind] - none[kind]) / per for kind in counts
                }
    return result


# -- reporting -----------------------------------------------------------------------


def cost_figure(
    name: str, cases: dict[str, dict[str, Any]], case: str, goal: Optional[float]
) -> dict[str, Any]:
    """An absolute cost in seconds against ``goal`` (None: reported only)."""
    median = cases[case]["median"]
    return {
        "name": name,
        "case": case,
        "seconds": median,
        "seconds_min": cases[case]["min"],
        "goal_seconds": goal,
        "met": goal is None or median <= goal,
        "info": goal is None,
    }


def fork_figure(name: str, counts: dict[str, float], goal: Optional[float]) -> dict[str, Any]:
    made = counts["processes"] + counts["execs"]
    return {
        "name": name,
        "forks": counts["processes"],
        "execs": counts["execs"],
        "threads": counts["threads"],
        "goal": goal,
        "met": goal is None or made <= goal,
        "info": goal is None,
    }


def build_figures(
    cases: dict[str, dict[str, Any]], fork_counts: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    figures = []
    for shell in SHELLS:
        num, den = case_name(shell, "relocator", "cd"), case_name(shell, "direnv", "cd")
        figures.append(
            figure(f"{shell}: per cd, relocator / direnv", cases, num, den, CD_GOAL[shell])
        )
    for shell in SHELLS:
        goal = PROMPT_GOAL if shell != "fish" else None
        for what, where in (("prompt_in", "in the project"), ("prompt_out", "elsewhere")):
            figures.append(
                cost_figure(
                    f"{shell}: per prompt, no change, {where}",
                    cases,
                    case_name(shell, "relocator", what),
                    goal,
                )
            )
    for shell in SHELLS:
        figures.append(
            figure(
                f"relocate hook {shell} / python -c pass",
                cases,
                f"relocate hook {shell}",
                "python -c pass",
                HOOK_GOAL,
                info=shell != "bash",
            )
        )
    for shell in SHELLS:
        num, den = case_name(shell, "relocator", "load"), case_name(shell, "direnv", "load")
        figures.append(
            figure(
                f"{shell}: rc line at shell start, relocator / direnv",
                cases,
                num,
                den,
                RC_GOAL,
                info=shell == "fish",
            )
        )
        figures.append(cost_figure(f"{shell}: rc line, timed in the shell", cases, num, RC_AIM))
    for shell in SHELLS:
        goal = None if shell == "fish" else 0.0
        for what in ("per cd", "per prompt"):
            key = f"{shell}: relocator, {what}"
            if key in fork_counts:
                figures.append(fork_figure(f"{shell}: processes {what}", fork_counts[key], goal))
    return figures


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e3:.1f} ms"


def print_report(
    cases: dict[str, dict[str, Any]],
    fork_counts: dict[str, dict[str, float]],
    figures: list[dict[str, Any]],
) -> None:
    width = max(len(n) for n in cases)
    print(f"\n{'case':<{width}}  {'runs':>4}  {'median':>10}  {'min':>10}")
    for name, c in cases.items():
        print(f"{name:<{width}}  {len(c['runs']):>4}  {fmt(c['median']):>10}  {fmt(c['min']):>10}")
    for name in [n for n in cases if n.endswith(", with the rc line")]:
        without = name.replace("with the rc line", "without")
        extra = cases[name]["median"] - cases[without]["median"]
        print(f"{name.split(',')[0]}: the rc line adds {fmt(extra)} (difference of medians)")
    if fork_counts:
        width = max(len(n) for n in fork_counts)
        print(f"\n{'strace -f':<{width}}  {'forks':>6}  {'execs':>6}  {'threads':>7}")
        for name, c in fork_counts.items():
            print(
                f"{name:<{width}}  {c['processes']:>6.2f}  {c['execs']:>6.2f}  {c['threads']:>7.2f}"
            )
    width = max(len(f["name"]) for f in figures)
    print(f"\n{'figure':<{width}}  {'median':>10}  {'min':>10}  {'goal':>9}  result")
    for f in figures:
        if "ratio" in f:
            median, low, goal = (
                f"{f['ratio']:.4f}x",
                f"{f['ratio_of_min']:.4f}x",
                f"<={f['goal']:g}x",
            )
        elif "seconds" in f:
            median, low = fmt(f["seconds"]), fmt(f["seconds_min"])
            goal = "-" if f["goal_seconds"] is None else f"<={fmt(f['goal_seconds'])}"
        else:
            median = f"{f['forks']:.2f}+{f['execs']:.2f}"
            low, goal = "", "-" if f["goal"] is None else f"<={f['goal']:g}"
        verdict = (
            "reported" if f["info"] and "ratio" not in f else ("met" if f["met"] else "NOT MET")
        )
        if f["info"] and "ratio" in f:
            verdict += " (info)"
        print(f"{f['name']:<{width}}  {median:>10}  {low:>10}  {goal:>9}  {verdict}")


def versions() -> dict[str, str]:
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


# -- main -------------------------------------------------------------------------------


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__, runs=20, warmup=1)  # --runs: of each process case
    p.add_argument("--rounds", type=int, default=5, help="in-shell rounds per shell and tool (5)")
    p.add_argument("--cd-iters", type=int, default=2000, help="relocator cd round trips (2000)")
    p.add_argument("--prompt-iters", type=int, default=10000, help="relocator prompts (10000)")
    p.add_argument("--direnv-iters", type=int, default=50, help="direnv cd round trips, prompts")
    p.add_argument("--strace-iters", type=int, default=200, help="relocator loops under strace")
    return parse(
        p,
        argv,
        runs=3,
        warmup=1,
        rounds=2,
        cd_iters=200,
        prompt_iters=1000,
        direnv_iters=10,
        strace_iters=20,
    )


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    missing = [t for t in (*SHELLS, "direnv") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}")
    with session(args) as (root, relocate, how):
        world = World(root, relocate)
        cases = in_shell(args, world)
        cases.update(processes(args, world, relocate))
        fork_counts = forks(args, world, root)
    figures = build_figures(cases, fork_counts)
    print_report(cases, fork_counts, figures)
    write_json(
        args.json,
        {
            "benchmark": "shells",
            "relocate": how,
            **machine(),
            "shells": versions(),
            "cases": cases,
            "forks": fork_counts,
            "figures": figures,
        },
    )
    return 1 if args.strict and missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
