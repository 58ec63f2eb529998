"""The work of each command, a module or two per command, over the domain: adopt (adoption),
eject (ejection), doctor, gc (and what it takes, and why: unused), scan, excludes, the
service's loop (service, and what it notices and decides: servicewatch) and its status
(watcher), uninstall (removal), python (lookup), info (whereabouts). restore and verify are
journaled moves, in relocator.moves.

Imports from relocator: errors, records, system, paths, state, venv, moves, host.
"""
