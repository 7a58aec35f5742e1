"""What a format renderer receives: one feed document as one reader gets it.

Every per-request decision (which ads, which page, which links) is made before
this point; renderers only map these fields onto their spec.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from syndicate.content.model import Author, Image


@dataclass(frozen=True, slots=True)
class ItemView:
    id: str  # a tag: URI, the same in every format
    url: str
    title: str
    content_html: str
    summary: str
    published: dt.datetime
    updated: dt.datetime
    author: Author | None
    tags: tuple[str, ...]
    image: Image | None


@dataclass(frozen=True, slots=True)
class FeedView:
    id: str  # a tag: URI for the Atom feed id
    title: str
    description: str
    language: str
    home_url: str
    self_url: str
    updated: dt.datetime
    image: Image | None
    items: tuple[ItemView, ...]
    hubs: tuple[str, ...] = ()
    #: RFC 5005 paging: rel -> URL for "first", "previous", "next", "last"
    pages: dict[str, str] = field(default_factory=dict)
    generator: str = "Syndicate"
    author_name: str = ""  # the feed-level author, for Atom entries that have none
