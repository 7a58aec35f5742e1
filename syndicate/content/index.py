"""Derived feeds: what is published at an instant, and one feed per tag and per author.

Built once per Snapshot, so a tag or author feed is served exactly like a section.
An article whose ``date`` is after the Snapshot's instant is scheduled: it is in no
feed (section, ``all``, tag or author) until a Snapshot is derived at or after it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from syndicate.content.model import Article, Feed

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
                    positions = groups.setdefault((kind, slug), (name, []))[1]
                    if not positions or positions[-1] != position:  # two tags of one slug: listed once
                        positions.append(position)
        for (kind, slug), (name, positions) in groups.items():
            label = "tag" if kind == TAGS else "author"
            out[(feed.name, kind, slug)] = replace(
                feed, title=f"{feed.title}: {name}", description=f"{feed.description} ({label}: {name})",
                articles=tuple(feed.articles[i] for i in positions))
    return out


def published_feeds(feeds: dict[str, Feed], moment: dt.datetime) -> dict[str, Feed]:
    """Every feed with only the articles published at or before ``moment``."""
    return {name: feed if all(a.published <= moment for a in feed.articles)
            else replace(feed, articles=tuple(a for a in feed.articles if a.published <= moment))
            for name, feed in feeds.items()}


def scheduled_articles(all_articles: tuple[Article, ...], moment: dt.datetime) -> tuple[Article, ...]:
    """Articles to be published after ``moment``, soonest first."""
    return tuple(sorted((a for a in all_articles if a.published > moment), key=lambda a: (a.published, a.uid)))
