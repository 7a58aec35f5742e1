"""``upstream:`` in a feed's _feed.yaml: where to follow the feed from, and how often."""

from __future__ import annotations

from syndicate.content.model import Upstream
from syndicate.fields import Fields

DEFAULT_EVERY = 300
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def read_upstream(f: Fields) -> Upstream | None:
    """``upstream: {url: https://publisher.example/feed/, every: 300}``; errors name the field."""
    if f.raw("upstream") is None:
        return None
    sub = f.section("upstream")
    if not sub.written:
        return None
    url = sub.url("url", required=True)  # "" after an error: the same rule as every URL field
    every = sub.number("every", DEFAULT_EVERY, minimum=1)
    timeout = sub.number("timeout", DEFAULT_TIMEOUT, minimum=0.1)
    max_bytes = sub.integer("max_bytes", DEFAULT_MAX_BYTES, minimum=1024)
    sub.finish()
    if not url:
        return None
    return Upstream(url, every, timeout, max_bytes, f.line("upstream"))
