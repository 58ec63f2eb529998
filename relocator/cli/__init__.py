"""The command line: the entry point and its fast parser (entry, cmdline), the typer app
(cli, cli_*), the plain function each command runs (commands), completion, and the text of
every result (render, render_verify, display). Only this package prints or exits.

Imports from relocator: everything below it.
"""
