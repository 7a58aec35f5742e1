"""Syndicate: articles with ad-slot shortcodes, published as RSS, Atom and JSON Feed."""

#: The one place the version is written: pyproject.toml reads it (``dynamic``), ``syndicate --version`` prints it.
__version__ = "0.1.0"
