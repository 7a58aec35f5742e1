"""Feed formats: each maps a ``FeedView`` onto one spec and returns bytes.

The registry is keyed by the URL extension, so adding a format is one entry here
and one module beside this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from syndicate.formats import atom, jsonfeed, rss
from syndicate.formats.model import FeedView, ItemView


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    render: Callable[[FeedView], bytes]

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


FORMATS: dict[str, Format] = {
    "rss": Format("rss", "application/rss+xml", rss.render),
    "atom": Format("atom", "application/atom+xml", atom.render),
    "json": Format("json", "application/feed+json", jsonfeed.render),
}

__all__ = ["FORMATS", "FeedView", "Format", "ItemView"]
