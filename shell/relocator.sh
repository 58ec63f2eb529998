# relocator: activate a project's relocated venv on cd (bash 3.2 and later, zsh).
# Printed by `relocate hook bash|zsh` with the shell's own part after it; load it
# with: eval "$(relocate hook bash)". The normal path forks nothing: it walks up
# from $PWD with builtins and activates only a .venv whose real parent is this
# user's store, through that real path: PATH and VIRTUAL_ENV name the store venv,
# never <project>/.venv, which a `git checkout` of a branch that tracks .venv files
# can replace with the branch's own bin/.
# shellcheck shell=bash

_relocator_venvs=__RELOCATOR_VENVS__
_relocator_pwd=''
_relocator_watch=''
_relocator_seen=''
_relocator_hinted=()  # folders hinted about in this shell
_relocator_ps1=''
_relocator_real=''

# Nearest ancestor of $PWD whose .venv leads into the store -> _relocator_root.
# Also remembers which .venv to watch between prompts (_relocator_watch) and
# what it was (_relocator_seen: "in" the store, a "link" elsewhere, or "").
# A store venv is one whose real parent is the store's venvs/ folder and whose
# bin/ is its own (not a link out of it). A root with ':' in its path is never
# activated: PATH would split its bin/ into other, relative entries. A project's
# .venv.nosync folder, which holds the link's machine-local part, is no project.
_relocator_find() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  local d=$PWD hop
  _relocator_root='' _relocator_watch='' _relocator_seen=''
  while [[ -n $d ]]; do
    if [[ -L $d/.venv && ${d##*/} != .venv.nosync ]]; then
      [[ -n $_relocator_watch ]] || _relocator_watch=$d _relocator_seen='link'
      if [[ $d/.venv/.. -ef $_relocator_venvs && -d $d/.venv/bin && $d/.venv/bin/.. -ef $d/.venv ]]; then
        _relocator_watch=$d _relocator_seen='in'
        if [[ $d == *:* ]]; then
          _relocator_hint "$d" ": a ':' in this path would split PATH, so its venv stays off; rename or move the folder"
        else
          _relocator_root=$d
        fi
        return
      fi
      if [[ ! -e $d/.venv ]]; then
        _relocator_hint "$d" '/.venv leads nowhere: its store venv was deleted (by the system or a tool), or made on another machine; relocate adopt builds it again, relocate status says what it held'
      else
        hop=$d/.venv.nosync  # relocator's shape: .venv -> .venv.nosync/.venv (old: .venv.nosync) -> a venv
        [[ -L $hop ]] || hop=$hop/.venv
        if [[ -L $hop && $d/.venv -ef $hop && ! $d/.venv/.. -ef $_relocator_venvs ]]; then
          _relocator_hint "$d" "/.venv leads to a venv outside your store (another user's, or another RELOCATOR_HOME), so it stays off; details: relocate status"
        fi
      fi
    fi
    d=${d%/*}
  done
  [[ -n $_relocator_watch ]] || _relocator_watch=$PWD
}

# One line on stderr, once per folder in a shell's life, none with RELOCATOR_HOOK_QUIET=1;
# control characters in the name show as '?'.
_relocator_hint() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  [[ ${RELOCATOR_HOOK_QUIET-} != 1 ]] || return 0
  local seen
  for seen in "${_relocator_hinted[@]-}"; do  # `-`: bash before 4.4 under set -u
    [[ $seen != "$1" ]] || return 0
  done
  _relocator_hinted+=("$1")
  printf 'relocator: %s%s\n' "${1//[[:cntrl:]]/?}" "$2" >&2
}

# Activate the store venv $1/.venv leads to, by its real path; nothing when that is
# not directly in the store's venvs/ folder with a bin/ of its own, or holds a ':'.
_relocator_enter() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  _relocator_resolve "$1/.venv" || return 0
  local venv=$_relocator_real
  [[ ${venv%/*} -ef $_relocator_venvs && $venv != *:* && -d $venv/bin && $venv/bin/.. -ef $venv ]] || return 0
  if [[ -n ${PYTHONHOME+set} ]]; then
    export _RELOCATOR_OLD_PYTHONHOME=$PYTHONHOME
    unset PYTHONHOME
  fi
  export _RELOCATOR_ROOT=$1 _RELOCATOR_ENTRY=$venv/bin
  export VIRTUAL_ENV=$venv VIRTUAL_ENV_PROMPT=${1##*/}
  export PATH=$venv/bin${PATH:+:$PATH}
  _relocator_define_deactivate
  _relocator_prompt
}

# "(name) " before the prompt, as a venv's activate puts it, unless
# VIRTUAL_ENV_DISABLE_PROMPT is set (prompt themes read VIRTUAL_ENV_PROMPT instead).
# The name is data: where the prompt expands variables, it goes in by reference
# (never re-expanded); where not, its own escapes are neutralised.
_relocator_prompt() {
  # No `emulate -L zsh` here: it would hide the user's promptsubst.
  [[ -z ${VIRTUAL_ENV_DISABLE_PROMPT-} && -z $_relocator_ps1 ]] || return 0
  _relocator_old_ps1=${PS1-}
  if [[ -n ${ZSH_VERSION-} ]]; then
    if [[ -o promptsubst ]]; then
      PS1='(${VIRTUAL_ENV_PROMPT//\%/%%}) '$_relocator_old_ps1
    else
      PS1="(${VIRTUAL_ENV_PROMPT//\%/%%}) $_relocator_old_ps1"
    fi
  elif shopt -q promptvars; then
    PS1='(${VIRTUAL_ENV_PROMPT}) '$_relocator_old_ps1
  else
    PS1="(${VIRTUAL_ENV_PROMPT//\\/\\\\}) $_relocator_old_ps1"
  fi
  _relocator_ps1=$PS1
}

_relocator_define_deactivate() {
  # shellcheck disable=SC2317  # called by the user
  deactivate() {
    _relocator_leave
    export _RELOCATOR_QUIET=$_relocator_root
  }
}

# Undo exactly what _relocator_enter did; PATH changes made since then stay.
_relocator_leave() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  local p=:$PATH:
  p=${p/":${_RELOCATOR_ENTRY-}:"/:}
  p=${p#:}
  PATH=${p%:}
  if [[ -n ${_RELOCATOR_OLD_PYTHONHOME+set} ]]; then
    export PYTHONHOME=$_RELOCATOR_OLD_PYTHONHOME
    unset _RELOCATOR_OLD_PYTHONHOME
  fi
  unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT _RELOCATOR_ROOT _RELOCATOR_ENTRY
  unset -f deactivate
  # The prompt as it was, unless something else changed it meanwhile (then it stays).
  [[ -z $_relocator_ps1 || ${PS1-} != "$_relocator_ps1" ]] || PS1=$_relocator_old_ps1
  _relocator_ps1=''
}

# `source .venv/bin/activate` (or any venv's activate) while the hook's activation is on:
# activate saved the shell as the hook left it (_OLD_VIRTUAL_PATH, _OLD_VIRTUAL_PS1) and put
# its own deactivate in place of the hook's. Hand it over: take the hook's PATH entry and
# prompt out of what activate saved and of the shell now, give it PYTHONHOME to restore,
# and keep out of this project until the shell leaves it, so that activate's deactivate
# gives back the shell as it was before the hook and nothing comes back on the next prompt.
_relocator_handover() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  local p=:$PATH:
  p=${p/":${_RELOCATOR_ENTRY-}:"/:}
  p=${p#:}
  PATH=${p%:}
  p=:$_OLD_VIRTUAL_PATH:
  p=${p/":${_RELOCATOR_ENTRY-}:"/:}
  p=${p#:}
  _OLD_VIRTUAL_PATH=${p%:}
  local venv=${_RELOCATOR_ENTRY%/bin}
  if [[ -n ${VIRTUAL_ENV-} && $VIRTUAL_ENV != "$venv" && $VIRTUAL_ENV -ef $venv ]]; then
    # The same venv, spelled through a link (a store reached through one): the hook's real path.
    local theirs=:$VIRTUAL_ENV/bin: ours=:$_RELOCATOR_ENTRY:  # no literal '/' in the pattern: bash 3.2
    p=:$PATH:
    p=${p/"$theirs"/$ours}
    p=${p#:}
    PATH=${p%:}
    export VIRTUAL_ENV=$venv
  fi
  if [[ -n ${_RELOCATOR_OLD_PYTHONHOME+set} ]]; then
    _OLD_VIRTUAL_PYTHONHOME=$_RELOCATOR_OLD_PYTHONHOME
    unset _RELOCATOR_OLD_PYTHONHOME
  fi
  if [[ -n $_relocator_ps1 ]]; then
    [[ ${_OLD_VIRTUAL_PS1-} != "$_relocator_ps1" ]] || _OLD_VIRTUAL_PS1=$_relocator_old_ps1
    [[ ${PS1-} != *"$_relocator_ps1" ]] || PS1=${PS1%"$_relocator_ps1"}$_relocator_old_ps1
    _relocator_ps1=''
  fi
  export _RELOCATOR_QUIET=$_RELOCATOR_ROOT
  unset _RELOCATOR_ROOT _RELOCATOR_ENTRY
}

_relocator_hook() {
  local ret=$?
  if [[ -n ${_RELOCATOR_ROOT-} && -n ${_OLD_VIRTUAL_PATH+set} ]]; then
    _relocator_handover  # a venv's activate was sourced on top of the hook's activation
  fi
  if [[ $PWD == "$_relocator_pwd" ]]; then
    # Nothing moved: has the watched .venv changed? (Inline: a function call costs in zsh.)
    if [[ $_relocator_watch == "${_RELOCATOR_ROOT-}" ]]; then
      # Active here: does .venv still lead to the venv on PATH? A checkout may have put
      # a folder there, or a rebuild another store venv.
      [[ $_relocator_watch/.venv -ef ${VIRTUAL_ENV-} ]] && return $ret
    elif [[ $_relocator_watch/.venv/.. -ef $_relocator_venvs ]]; then
      [[ $_relocator_seen == in ]] && return $ret
    elif [[ -L $_relocator_watch/.venv ]]; then
      [[ $_relocator_seen == link ]] && return $ret
    elif [[ -z $_relocator_seen ]]; then
      return $ret
    fi
  fi
  _relocator_update
  return $ret
}

_relocator_update() {
  [[ -z ${ZSH_VERSION-} ]] || emulate -L zsh
  _relocator_pwd=$PWD
  _relocator_find
  if [[ -n ${_RELOCATOR_QUIET-} && $_RELOCATOR_QUIET != "$_relocator_root" ]]; then
    unset _RELOCATOR_QUIET
  fi
  if [[ -n $_relocator_root && -z ${_RELOCATOR_ROOT-} && -n ${VIRTUAL_ENV-} && $_relocator_root/.venv -ef $VIRTUAL_ENV ]]; then
    export _RELOCATOR_QUIET=$_relocator_root  # its venv, activated by hand: its deactivate is final
  fi
  if [[ -n ${_RELOCATOR_ROOT-} ]]; then
    if [[ ${VIRTUAL_ENV-}/bin != "${_RELOCATOR_ENTRY-}" ]]; then
      # Someone else's venv took over: our PATH entry may still be there.
      unset _RELOCATOR_ROOT
    elif [[ $_RELOCATOR_ROOT == "$_relocator_root" && $_relocator_root/.venv -ef $VIRTUAL_ENV ]]; then
      _relocator_define_deactivate  # a subshell inherits the variables, not the function
      _relocator_prompt  # nor the prompt
      return
    else
      _relocator_leave  # another project, none, or .venv leads elsewhere now (a rebuild: enter again)
    fi
  fi
  if [[ -n $_relocator_root && -z ${VIRTUAL_ENV-} && -z ${_RELOCATOR_QUIET-} ]]; then
    if [[ ${RELOCATOR_CANONICAL_CD-} == 1 ]]; then  # opt-in: stand in the real-path spelling
      builtin cd ${ZSH_VERSION:+-q} -P -- . && _relocator_pwd=$PWD && _relocator_find
    fi
    [[ -z $_relocator_root ]] || _relocator_enter "$_relocator_root"  # the real path may hold a ':'
  fi
}
