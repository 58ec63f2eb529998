"""One folder's identity and the links in it: the spelling and the key of a path, the sync
provider (resolver), the project root and the checks a new project passes (project), where
the store is and how a folder is known for one (storeroot), the venv's link and the shape of
every link relocator makes (link, hops) and making it (relinking), and git's view of them
(git).

Imports from relocator: errors, records, system.
"""
