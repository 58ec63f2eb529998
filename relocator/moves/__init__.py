"""Moves of a venv that the journal records and recovery finishes: the recovery, above the
moves it hands each record to, and the project's lock (recovery), the steps adopt and eject
share (relocation), swaps under a project's name (replacing, takeover, restoring and the
trees' way back, restored) and that name (naming), new and rebuilt venvs (creation), a
moved project (moved), mending on adopt (healing), and verify's scratch build
(verification, scratch).

Imports from relocator: errors, records, system, paths, state, venv.
"""
