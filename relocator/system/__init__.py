"""The operating system under relocator: what only macOS can do (flags, xattrs, backup
exclusion, F_FULLFSYNC), atomic writes and careful reads, the volume a path is on (volumes),
the per-project lock, which processes use a folder, the processes relocate starts and ends
(children), and the crash tests' fault points.

Imports from relocator: errors, records.
"""
