"""What relocator knows and proves: one folder's identity (resolver, project), the store and
its owner records, the link's shape (link, hops) and git's view of it, the evidence rules
(a project gone, a venv this machine made, a link relocator's), the registry, the journal,
the trash, the settings, what a venv is and holds (venvs, inventory), and the trees' choice
and store folder.

Imports from relocator: errors, records, system.
"""
