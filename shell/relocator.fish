# relocator: activate a project's relocated venv on cd (fish 3.5 and later).
# Printed by `relocate hook fish`; load it with: relocate hook fish | source
# The normal path starts no process: builtins find the nearest project whose
# .venv resolves into this user's store, and only such a venv is activated, through
# its real path: PATH and VIRTUAL_ENV name the store venv, never <project>/.venv,
# which a `git checkout` of a branch that tracks .venv files can replace.

set -g __relocator_venvs __RELOCATOR_VENVS__
set -g __relocator_pwd ''
set -g __relocator_seen ''
set -g __relocator_watch ''
set -g __relocator_hinted  # folders hinted about in this shell
set -g __relocator_root ''
set -g __relocator_real ''

# Nearest ancestor of $PWD whose .venv leads into the store -> __relocator_root, and
# the store venv it leads to, its real path -> __relocator_real.
# One `path resolve` for all levels: a .venv link resolves to a name other than .venv.
# A store venv is one whose real parent is the store's venvs/ folder and whose bin/ is
# its own. A root with ':' in its path is never activated: PATH would split it. A
# project's .venv.nosync folder, which holds the link's machine-local part, is no project.
# Values may hold newlines: only `path` and `string split` output is substituted.
function __relocator_find
    set -l acc
    set -l dirs
    for part in (string split -n -- / $PWD)
        set acc "$acc/$part"
        set -p dirs $acc
    end
    set -g __relocator_root ''
    set -g __relocator_real ''
    set -g __relocator_watch $PWD
    set -g __relocator_seen ''
    set -q dirs[1]; or return
    set -l rest $dirs
    for target in (path resolve -- $dirs/.venv)
        set -l dir $rest[1]
        set -e rest[1]
        string match -q -- '*/.venv' $target; and continue  # not a link
        string match -q -- '*/.venv.nosync' $dir; and continue
        if test -z "$__relocator_seen"
            set -g __relocator_watch $dir
            set -g __relocator_seen link
        end
        # relocator's shape: .venv -> .venv.nosync/.venv (old: .venv.nosync) -> a venv
        set -l hop $dir/.venv.nosync
        test -L $hop; or set hop $hop/.venv
        if test (path dirname -- $target) != $__relocator_venvs
            and test -L $hop
            and test $dir/.venv -ef $hop
            __relocator_hint $dir "/.venv leads to a venv outside your store (another user's, or another RELOCATOR_HOME), so it stays off; details: relocate status"
        end
        if test (path dirname -- $target) = $__relocator_venvs
            and test -d $target/bin
            and test $target/bin/.. -ef $target
            set -g __relocator_watch $dir
            set -g __relocator_seen in
            if string match -q -- '*:*' $dir
                __relocator_hint $dir ": a ':' in this path would split PATH, so its venv stays off; rename or move the folder"
            else if not string match -q -- '*:*' $target
                set -g __relocator_root $dir
                set -g __relocator_real $target
            end
            return
        end
    end
    # A dangling link resolves to itself: only `test -L` tells, so this costs a test per level,
    # paid on a directory change outside any relocated project only.
    for dir in $dirs
        string match -q -- '*/.venv.nosync' $dir; and continue
        if test -L $dir/.venv; and not test -e $dir/.venv
            __relocator_hint $dir '/.venv leads nowhere: its store venv was deleted (by the system or a tool), or made on another machine; relocate adopt builds it again, relocate status says what it held'
            return
        end
    end
end

# One line on stderr, once per folder in a shell's life, none with RELOCATOR_HOOK_QUIET=1;
# control characters in the name show as '?'.
function __relocator_hint -a dir message
    test "$RELOCATOR_HOOK_QUIET" = 1; and return
    contains -- $dir $__relocator_hinted; and return
    set -ga __relocator_hinted $dir
    printf 'relocator: %s%s\n' (string replace -ra '[[:cntrl:]]' '?' -- $dir) $message >&2
end

# Activate the store venv __relocator_find found for root, by its real path.
function __relocator_enter -a root venv
    if set -q PYTHONHOME
        set -gx _RELOCATOR_OLD_PYTHONHOME $PYTHONHOME
        set -e PYTHONHOME
    end
    set -gx _RELOCATOR_ROOT $root
    set -gx _RELOCATOR_ENTRY $venv/bin
    set -gx VIRTUAL_ENV $venv
    set -gx VIRTUAL_ENV_PROMPT (path basename -- $root)
    set -gx PATH $venv/bin $PATH
    __relocator_define_deactivate
    __relocator_prompt
end

# "(name) " before the prompt, as a venv's activate.fish puts it, unless
# VIRTUAL_ENV_DISABLE_PROMPT is set: fish_prompt is wrapped, and unwrapped on leaving.
function __relocator_prompt
    if set -q VIRTUAL_ENV_DISABLE_PROMPT; and test -n "$VIRTUAL_ENV_DISABLE_PROMPT"
        return
    end
    functions -q __relocator_old_fish_prompt; and return
    functions -q fish_prompt; or return
    functions -c fish_prompt __relocator_old_fish_prompt
    function fish_prompt
        set -l last $status
        printf '(%s) ' (string replace -ra '[[:cntrl:]]' '?' -- $VIRTUAL_ENV_PROMPT)
        __relocator_status $last
        __relocator_old_fish_prompt
    end
end

function __relocator_status -a code
    return $code
end

function __relocator_define_deactivate
    function deactivate
        __relocator_leave
        set -gx _RELOCATOR_QUIET $__relocator_root
    end
end

# Undo exactly what __relocator_enter did; PATH changes made since then stay.
function __relocator_leave
    set -l i (contains -i -- $_RELOCATOR_ENTRY $PATH)
    and set -e PATH[$i]
    if set -q _RELOCATOR_OLD_PYTHONHOME
        set -gx PYTHONHOME $_RELOCATOR_OLD_PYTHONHOME
        set -e _RELOCATOR_OLD_PYTHONHOME
    end
    set -e VIRTUAL_ENV VIRTUAL_ENV_PROMPT _RELOCATOR_ROOT _RELOCATOR_ENTRY
    functions -e deactivate
    if functions -q __relocator_old_fish_prompt
        functions -e fish_prompt
        functions -c __relocator_old_fish_prompt fish_prompt
        functions -e __relocator_old_fish_prompt
    end
end

# `source .venv/bin/activate.fish` (or any venv's) while the hook's activation is on:
# activate saved the shell as the hook left it (_OLD_VIRTUAL_PATH, fish_prompt as
# _old_fish_prompt) and put its own deactivate in place of the hook's. Hand it over: take
# the hook's PATH entry and prompt out of what activate saved and of the shell now, give
# it PYTHONHOME to restore, and keep out of this project until the shell leaves it, so
# that activate's deactivate gives back the shell as it was before the hook.
function __relocator_handover
    set -l i (contains -i -- $_RELOCATOR_ENTRY $PATH)
    and set -e PATH[$i]
    set -l j (contains -i -- $_RELOCATOR_ENTRY $_OLD_VIRTUAL_PATH)
    and set -e _OLD_VIRTUAL_PATH[$j]
    set -l venv (path dirname -- $_RELOCATOR_ENTRY)
    if set -q VIRTUAL_ENV; and test "$VIRTUAL_ENV" != $venv; and test "$VIRTUAL_ENV" -ef $venv
        # The same venv, spelled through a link (a store reached through one): the hook's real path.
        set -l k (contains -i -- $VIRTUAL_ENV/bin $PATH)
        and set PATH[$k] $_RELOCATOR_ENTRY
        set -gx VIRTUAL_ENV $venv
    end
    if set -q _RELOCATOR_OLD_PYTHONHOME
        set -gx _OLD_VIRTUAL_PYTHONHOME $_RELOCATOR_OLD_PYTHONHOME
        set -e _RELOCATOR_OLD_PYTHONHOME
    end
    if functions -q __relocator_old_fish_prompt
        if functions -q _old_fish_prompt  # the hook's wrapper, as activate saved it
            functions -e _old_fish_prompt
            functions -c __relocator_old_fish_prompt _old_fish_prompt
        end
        functions -e __relocator_old_fish_prompt
    end
    set -gx _RELOCATOR_QUIET $_RELOCATOR_ROOT
    set -e _RELOCATOR_ROOT _RELOCATOR_ENTRY
end

function __relocator_hook --on-variable PWD --on-event fish_prompt
    if set -q _RELOCATOR_ROOT; and set -q _OLD_VIRTUAL_PATH
        __relocator_handover  # a venv's activate was sourced on top of the hook's activation
    end
    if test "$PWD" = "$__relocator_pwd"
        # Nothing moved: has the watched .venv changed?
        if test "$__relocator_watch" = "$_RELOCATOR_ROOT"
            # Active here: does .venv still lead to the venv on PATH? A checkout may have
            # put a folder there, or a rebuild another store venv.
            test $__relocator_watch/.venv -ef "$VIRTUAL_ENV"; and return
        else if test $__relocator_watch/.venv/.. -ef $__relocator_venvs
            test "$__relocator_seen" = in; and return
        else if test -L $__relocator_watch/.venv
            test "$__relocator_seen" = link; and return
        else if test -z "$__relocator_seen"
            return
        end
    end
    set -g __relocator_pwd $PWD
    __relocator_find
    if set -q _RELOCATOR_QUIET; and test "$_RELOCATOR_QUIET" != "$__relocator_root"
        set -e _RELOCATOR_QUIET
    end
    if test -n "$__relocator_root"; and not set -q _RELOCATOR_ROOT; and set -q VIRTUAL_ENV
        and test $__relocator_root/.venv -ef "$VIRTUAL_ENV"
        set -gx _RELOCATOR_QUIET $__relocator_root  # its venv, activated by hand: its deactivate is final
    end
    if set -q _RELOCATOR_ROOT
        if test "$VIRTUAL_ENV/bin" != "$_RELOCATOR_ENTRY"
            set -e _RELOCATOR_ROOT  # someone else's venv took over
        else if test "$_RELOCATOR_ROOT" = "$__relocator_root"; and test $__relocator_root/.venv -ef $VIRTUAL_ENV
            __relocator_define_deactivate  # a subshell inherits the variables, not the function
            __relocator_prompt  # nor the prompt
            return
        else
            __relocator_leave  # another project, none, or .venv leads elsewhere now (a rebuild)
        end
    end
    if test -n "$__relocator_root"; and not set -q VIRTUAL_ENV; and not set -q _RELOCATOR_QUIET
        if test "$RELOCATOR_CANONICAL_CD" = 1  # opt-in: stand in the real-path spelling
            set -g __relocator_pwd (path resolve -- $PWD)
            builtin cd -- $__relocator_pwd
            __relocator_find
        end
        test -n "$__relocator_root"; and __relocator_enter $__relocator_root $__relocator_real  # the real path may hold a ':'
    end
end
