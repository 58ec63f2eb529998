"""A venv's contents and the trees beside it: whether it works (venvcheck, health, and
projectstatus for a folder's project), the recipe that rebuilds it, what it holds that no
lock file lists, the paths it hard-codes (rewrite), its prompt, its bytecode, the copy or
rename that moves it and what a killed one left (transfer, settling), and the trees that
move with it.

Imports from relocator: errors, records, system, paths, state.
"""
