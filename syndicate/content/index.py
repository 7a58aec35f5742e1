"""Derived feeds: one per tag and per author within each feed, keyed by URL slug.

Built once per Snapshot, so a tag or author feed is served exactly like a section.
"""

from __future__ import annotations

import re
from dataclasses import replace

from syndicate.content.model import Feed

TAGS, AUTHORS = "tags", "authors"
_NOT_SLUG = re.compile(r"[^\w]+")

FilterKey = tuple[str, str, str]  # (feed, TAGS | AUTHORS, slug)


def slugify(text: str) -> str:
    """Lower-case words joined by '-': 'Vladimir Putin' -> 'vladimir-putin'. Letters of any script stay."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-_")


def filtered_feeds(feeds: dict[str, Feed]) -> dict[FilterKey, Feed]:
    """Every tag and author feed of every feed, newest first like their parents."""
    out: dict[FilterKey, Feed] = {}
    for feed in feeds.values():
        groups: dict[tuple[str, str], tuple[str, list[int]]] = {}
        for position, article in enumerate(feed.articles):
            names = [(TAGS, tag) for tag in article.tags]
            if article.author is not None:
                names.append((AUTHORS, article.author.name))
            for kind, name in names:
                slug = slugify(name)
                if slug:
                    groups.setdefault((kind, slug), (name, []))[1].append(position)
        for (kind, slug), (name, positions) in groups.items():
            label = "tag" if kind == TAGS else "author"
            out[(feed.name, kind, slug)] = replace(
                feed, title=f"{feed.title}: {name}", description=f"{feed.description} ({label}: {name})",
                articles=tuple(feed.articles[i] for i in positions))
    return out
