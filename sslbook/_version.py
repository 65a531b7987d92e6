"""The package version (floor 0: the package root and :mod:`sslbook.session` both read it)."""

__version__ = "0.1.0"
