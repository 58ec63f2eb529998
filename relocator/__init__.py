"""relocator: keep Python virtual environments out of cloud-synced folders."""

__version__ = "0.1.0"
