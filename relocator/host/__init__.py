"""What relocator installs into this account and how the service meets the machine: the
shell hook and its rc-file line (shells, rcedits), the service unit (units, unitfile, launchd,
unitcalls), the service's pid lock and log (servicefiles), filesystem events (watching), sync
roots it may not read (access), and the copies of relocate installed (installs).

Imports from relocator: errors, records, system, paths, state; inside a function,
cli.completion (the hook carries the completion script, made from the command line's table).
"""
