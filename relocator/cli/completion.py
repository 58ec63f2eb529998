"""``relocate completion bash|zsh|fish``: the completion script, made from the command table.

Every command, option and argument comes from :data:`relocator.cli.cmdline.COMMANDS`, so the
completion never lags behind the CLI. The hook (:mod:`relocator.host.shells`) appends the same
script to what it renders; ``relocate completion SHELL`` prints it alone. Standard
library only.
"""

from __future__ import annotations

from relocator.cli import cmdline
from relocator.errors import UsageError

#: What to offer for an option's value: a list of words, or nothing ("" : free text).
VALUES = {"--color": cmdline.COLORS, "--format": cmdline.FORMATS}


def _visible() -> dict[str, tuple[tuple[cmdline.Arg, ...], tuple[cmdline.Opt, ...]]]:
    return {k: v for k, v in cmdline.COMMANDS.items() if k not in cmdline.HIDDEN}


def _tops() -> list[str]:
    return list(dict.fromkeys(name.split()[0] for name in _visible()))


def _globals() -> list[str]:
    return [*cmdline.QUIET, *cmdline.VERBOSE, cmdline.COLOR, "--help"]


def _arg_kind(command: str) -> str:
    """What the command's arguments are: "dirs", "shells" or "" (none)."""
    names = [arg[0] for arg in cmdline.COMMANDS[command][0]]
    return "shells" if "shell" in names else "dirs" if names else ""


def _flags(command: str) -> list[str]:
    return [flag for opt in cmdline.COMMANDS[command][1] for flag in opt[1]]


def _valued() -> list[str]:
    """Every flag that takes a value."""
    found = {f for _, opts in _visible().values() for o in opts if o[2] for f in o[1]}
    return sorted(found | {cmdline.COLOR})


def _subs(group: str) -> list[str]:
    return [name.split()[1] for name in _visible() if name.startswith(group + " ")]


def _case_body() -> str:
    """The ``case $command`` arms shared by bash and zsh: set opts and args."""
    top = " ".join([*_globals(), "--json", "--version"])
    arms = [f"    '') opts='{top}'; args='{' '.join(_tops())}' ;;"]
    arms += [f"    {g}) opts='--help'; args='{' '.join(_subs(g))}' ;;" for g in cmdline.GROUPS]
    for name in _visible():
        opts = " ".join([*_flags(name), *_globals()])
        arms.append(f"    '{name}') opts='{opts}'; args=@{_arg_kind(name)} ;;")
    return "\n".join(arms)


def _values_case() -> str:
    arms = [f"    {flag}) values='{' '.join(VALUES.get(flag, ()))}' ;;" for flag in _valued()]
    return "\n".join(arms)


_SCAN = """\
  local command='' word skip='' opts args values=@none i
  for ((i = {first}; i < {current}; i++)); do
    word=${{{words}[i]}}
    if [[ -n $skip ]]; then skip=''; continue; fi
    case $word in
      {valued}) skip=1 ;;
      -*) ;;
      *) [[ -n $command && $command != {groups} ]] || command=${{command:+$command }}$word ;;
    esac
  done
  if [[ -n $skip ]]; then
    case ${{{words}[{current}-1]}} in
{values}
    esac
  fi
  case $command in
{arms}
    *) opts='--help'; args=@dirs ;;
  esac
  if [[ $values != @none ]]; then args=$values opts=''
  elif [[ $cur == -* ]]; then args=$opts
  fi
"""

BASH = """\
# relocate's completion (relocate completion bash): commands, options, folders.
_relocator_complete() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} reply
{scan}  local -a what=()
  COMPREPLY=()
  case $args in
    @dirs) what=(-d) ;;
    @shells) what=(-W 'bash zsh fish') ;;
    @*) return 0 ;;
    *) what=(-W "$args") ;;
  esac
  while IFS= read -r reply; do COMPREPLY+=("$reply"); done < <(compgen "${{what[@]}}" -- "$cur")
}}
complete -F _relocator_complete relocate
"""

ZSH = """\
# relocate's completion (relocate completion zsh): commands, options, folders.
_relocator_complete() {{
  local cur=${{words[CURRENT]}}
{scan}  case $args in
    @dirs) _files -/ ;;
    @shells) compadd -- bash zsh fish ;;
    @*) ;;
    *) compadd -- ${{=args}} ;;
  esac
}}
(( $+functions[compdef] )) && compdef _relocator_complete relocate
"""


def _fish() -> str:
    top = " ".join(_tops())
    groups = " ".join(cmdline.GROUPS)
    lines = [
        "# relocate's completion (relocate completion fish): commands, options, folders.",
        "complete -c relocate -f",
        f"complete -c relocate -n __fish_use_subcommand -a '{top}'",
        "complete -c relocate -s q -l quiet -d 'show no progress and no notes'",
        "complete -c relocate -s v -l verbose -d 'say more'",
        f"complete -c relocate -l color -x -a '{' '.join(cmdline.COLORS)}'",
    ]
    for group in cmdline.GROUPS:
        subs = " ".join(_subs(group))
        lines.append(
            f"complete -c relocate -n '__fish_seen_subcommand_from {group}; "
            f"and not __fish_seen_subcommand_from {subs}' -a '{subs}'"
        )
    for name in _visible():
        words = name.split()
        seen = f"__fish_seen_subcommand_from {words[0]}"
        if len(words) > 1:
            seen += f"; and __fish_seen_subcommand_from {words[1]}"
        else:
            seen += f"; and not __fish_seen_subcommand_from {groups}"
        for _, flags, takes, _ in cmdline.COMMANDS[name][1]:
            spec = " ".join(f"-s {f[1:]}" if len(f) == 2 else f"-l {f[2:]}" for f in flags)
            choices = VALUES.get(flags[0])
            value = f" -x -a '{' '.join(choices)}'" if choices else " -x" if takes else ""
            lines.append(f"complete -c relocate -n '{seen}' {spec}{value}")
        kind = _arg_kind(name)
        if kind:
            what = "bash zsh fish" if kind == "shells" else "(__fish_complete_directories)"
            lines.append(f"complete -c relocate -n '{seen}' -a '{what}'")
    return "\n".join(lines) + "\n"


def script(shell: str) -> str:
    """The completion script for ``shell``."""
    if shell == "fish":
        return _fish()
    template = {"bash": BASH, "zsh": ZSH}.get(shell)
    if template is None:
        raise UsageError(f"{shell!r}: give bash, zsh or fish", hint="relocate completion --help")
    first, current, words = (
        ("1", "COMP_CWORD", "COMP_WORDS") if shell == "bash" else ("2", "CURRENT", "words")
    )
    scan = _SCAN.format(
        first=first,
        current=current,
        words=words,
        valued="|".join(_valued()),
        groups="|".join(cmdline.GROUPS),
        values=_values_case(),
        arms=_case_body(),
    )
    return template.format(scan=scan)
