# zsh: the real path of a .venv, and the hook in chpwd and precmd (completion: relocator.cli.completion).

# The real path of $1 -> _relocator_real: the :A modifier (realpath(3)), no fork.
_relocator_resolve() {
  emulate -L zsh
  _relocator_real=${1:A}
}

# chpwd on every directory change, precmd as a cheap check before each prompt; once each.
typeset -ag precmd_functions chpwd_functions
if (( ! ${precmd_functions[(I)_relocator_hook]} )); then
  precmd_functions=(_relocator_hook $precmd_functions)
fi
if (( ! ${chpwd_functions[(I)_relocator_hook]} )); then
  chpwd_functions=(_relocator_hook $chpwd_functions)
fi
