"""Syndicate: articles with ad-slot shortcodes, published as RSS, Atom and JSON Feed."""

__version__ = "0.1.0"
