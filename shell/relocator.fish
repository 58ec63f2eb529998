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
set -g __relocator_hinted ''
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
            __relocator_hint $dir '/.venv leads nowhere (another machine, or a wiped store); run: relocate adopt'
            return
        end
    end
end

# One line on stderr, once per folder; control characters in the name show as '?'.
function __relocator_hint -a dir message
    test "$__relocator_hinted" = "$dir"; and return
    set -g __relocator_hinted $dir
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

function __relocator_hook --on-variable PWD --on-event fish_prompt
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
