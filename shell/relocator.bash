# bash: the real path of a .venv, and the hook first in PROMPT_COMMAND (completion: relocator.cli.completion).

# The real path of $1 (absolute) -> _relocator_real, forking nothing: bash has no
# builtin realpath, so a physical cd there and straight back to $PWD, OLDPWD
# restored (`builtin`: never the user's cd function; CDPATH is not read for an
# absolute path). Fails, moving nowhere, when the shell's folder is gone or is no
# longer what $PWD names: it could not come back.
_relocator_resolve() {
  local here=$PWD old=${OLDPWD-} had=${OLDPWD+set} back=1
  _relocator_real=''
  [[ $here -ef . ]] || return 1
  builtin cd -P -- "$1" || return 1
  _relocator_real=$PWD
  builtin cd -- "$here" && [[ $PWD == "$here" ]] && back=0
  if [[ -n $had ]]; then OLDPWD=$old; else unset OLDPWD; fi
  return $back
}

# Run first in PROMPT_COMMAND (a string or, in bash 5.1+, an array), once.
_relocator_installed=''
for _relocator_cmd in "${PROMPT_COMMAND[@]-}"; do  # a string is one element; `-`: set -u
  case ";$_relocator_cmd;" in *";_relocator_hook;"*) _relocator_installed=1 ;; esac
done
if [[ -z $_relocator_installed ]]; then
  _relocator_array=''
  # Before 5.1 bash runs only an array's first item: prepending would silence the user's.
  if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
    [[ -z ${PROMPT_COMMAND+set} ]] || eval '[[ ${PROMPT_COMMAND@a} == *a* ]]' && _relocator_array=1
  fi
  if [[ -n $_relocator_array ]]; then
    PROMPT_COMMAND=(_relocator_hook "${PROMPT_COMMAND[@]}")
  else
    # shellcheck disable=SC2128,SC2178  # a string here
    PROMPT_COMMAND="_relocator_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
fi
unset _relocator_installed _relocator_array _relocator_cmd
