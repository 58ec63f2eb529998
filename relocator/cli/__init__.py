"""The command line: the entry point and its fast parser (entry, cmdline), the typer app
(cli, cli_*), the plain function each command runs (commands, servicecommands), completion,
and the text of every result (render, render_verify, display). entry alone turns errors into
exit codes.

Imports from relocator: errors, records, system, paths, state, venv, moves, host,
commands.
"""
