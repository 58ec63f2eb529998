"""What relocator knows and proves: the store and its owner records, the evidence rules (a
project gone, a venv this machine made, a link relocator's), the registry, what each store
venv held (remembered), the journal, the trash, what killed runs left in tmp/ (leftovers),
the settings, what a venv is and holds (venvs, inventory), and the trees' choice and store
folder.

Imports from relocator: errors, records, system, paths.
"""
