"""Moves of a venv that the journal records and recovery finishes: the shared steps and
the recovery (relocation), swaps under a project's name (replacing, takeover, restoring),
new and rebuilt venvs (creation), a moved project (moved), mending on adopt (healing), and
verify's scratch build (verification).

Imports from relocator: errors, records, system, paths, state, venv.
"""
