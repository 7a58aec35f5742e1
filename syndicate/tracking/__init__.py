"""Counting ads: signed click and pixel URLs, an event buffer, an embedded store, stats and a chart.

See docs/tracking.md for the token format, the counting method and the store schema.
"""
