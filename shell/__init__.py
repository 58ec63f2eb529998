"""Shell hook scripts, shipped inside the wheel as ``relocator.shell``."""
