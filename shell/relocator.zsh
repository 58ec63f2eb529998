# zsh: the real path of a .venv, completion, and the hook in chpwd and precmd.

# The real path of $1 -> _relocator_real: the :A modifier (realpath(3)), no fork.
_relocator_resolve() {
  emulate -L zsh
  _relocator_real=${1:A}
}

_relocator_complete() {
  _arguments -C '1:command:(adopt eject rebuild python list status doctor gc scan service resolve hook excludes trash restore uninstall info)' \
    '*:: :->args'
  case ${words[1]} in
    hook) _arguments '1:shell:(bash zsh fish)' '--install' '--uninstall' ;;
    *) _arguments '--json' '--help' '--python=[interpreter]' '--resolve' '--all' '*:path:_files -/' ;;
  esac
}
(( $+functions[compdef] )) && compdef _relocator_complete relocate

# chpwd on every directory change, precmd as a cheap check before each prompt; once each.
typeset -ag precmd_functions chpwd_functions
if (( ! ${precmd_functions[(I)_relocator_hook]} )); then
  precmd_functions=(_relocator_hook $precmd_functions)
fi
if (( ! ${chpwd_functions[(I)_relocator_hook]} )); then
  chpwd_functions=(_relocator_hook $chpwd_functions)
fi
