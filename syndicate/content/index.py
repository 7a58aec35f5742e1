"""Derived feeds: what is published at an instant, and one feed per tag and per author.

Built once per Snapshot, so a tag or author feed is served exactly like a section.
An article whose ``date`` is after the Snapshot's instant is scheduled: it is in no
feed (section, ``all``, tag or author) until a Snapshot is derived at or after it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from dataclasses import replace

from syndicate.content.model import Article, Feed, changes, newest_first

TAGS, AUTHORS = "tags", "authors"
_NOT_SLUG = re.compile(r"[^\w]+")

FilterKey = tuple[str, str, str]  # (feed, TAGS | AUTHORS, slug)


def slugify(text: str) -> str:
    """Lower-case words joined by '-': 'Vladimir Putin' -> 'vladimir-putin'. Letters of any script stay."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-_")


def filtered_feeds(feeds: dict[str, Feed], memo: SubfeedMemo | None = None) -> dict[FilterKey, Feed]:
    """Every tag and author feed of every feed, newest first like their parents. With a ``memo``, a feed
    equal to its last build's, with the very same articles tuple, keeps the sub-feeds derived then."""
    out: dict[FilterKey, Feed] = {}
    for feed in feeds.values():
        out.update(memo.subfeeds(feed) if memo is not None else subfeeds(feed))
    if memo is not None:
        memo.forget_all_but(feeds)
    return out


def subfeeds(feed: Feed) -> dict[FilterKey, Feed]:
    """One feed's tag and author feeds."""
    groups: dict[tuple[str, str], list[Article]] = {}
    for article in feed.articles:
        for group in _groups_of(article):
            groups.setdefault(group, []).append(article)
    return {(feed.name, kind, slug): _subfeed(feed, kind, slug, members) for (kind, slug), members in groups.items()}


def _groups_of(article: Article) -> dict[tuple[str, str], None]:
    """The (kind, slug) of each of the article's tags and its author, once each (two tags of one slug
    list the article once), in the order written."""
    names = [(TAGS, tag) for tag in article.tags]
    if article.author is not None:
        names.append((AUTHORS, article.author.name))
    return {(kind, slug): None for kind, name in names if (slug := _slug(name))}


def _subfeed(feed: Feed, kind: str, slug: str, members: list[Article]) -> Feed:
    """A tag or author feed, named as its newest article writes the tag or author."""
    newest = members[0]
    if kind == AUTHORS:
        name = newest.author.name if newest.author is not None else slug
    else:
        name = next(tag for tag in newest.tags if _slug(tag) == slug)
    label = "tag" if kind == TAGS else "author"
    return replace(
        feed,
        title=f"{feed.title}: {name}",
        description=f"{feed.description} ({label}: {name})",
        articles=tuple(members),
    )


@functools.lru_cache(maxsize=65536)
def _slug(name: str) -> str:
    """``slugify``, remembered: a site has far fewer tag and author names than articles carrying them."""
    return slugify(name)


class SubfeedMemo:
    """The sub-feeds of each feed of the last build. A feed back unchanged keeps them; one with a few
    articles taken out or put in has only the tag and author feeds of those articles derived again."""

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[Feed, dict[FilterKey, Feed]]] = {}
        self.derived = 0  # feeds whose sub-feeds were all derived again, over the memo's life
        self.updated = 0  # feeds whose sub-feeds were updated for a few articles

    def subfeeds(self, feed: Feed) -> dict[FilterKey, Feed]:
        prior = self._by_name.get(feed.name)
        found = self._updated(prior[0], prior[1], feed) if prior is not None else None
        if found is None:
            self.derived += 1
            found = subfeeds(feed)
        self._by_name[feed.name] = (feed, found)
        return found

    def _updated(self, before: Feed, subs: dict[FilterKey, Feed], feed: Feed) -> dict[FilterKey, Feed] | None:
        if replace(before, articles=()) != replace(feed, articles=()):
            return None  # title, description, ...: every sub-feed says them
        if before.articles is feed.articles:
            return subs
        removed, added = changes(before.articles, feed.articles)
        if len(removed) + len(added) > len(feed.articles) // 4 + 16:
            return None
        self.updated += 1
        dropped = {id(a) for a in removed}
        touched = {group for article in (*removed, *added) for group in _groups_of(article)}
        out = dict(subs)
        for kind, slug in touched:
            key = (feed.name, kind, slug)
            old = subs.get(key)
            members = [a for a in old.articles if id(a) not in dropped] if old is not None else []
            for article in added:
                if (kind, slug) in _groups_of(article):
                    bisect.insort(members, article, key=newest_first)
            if members:
                out[key] = _subfeed(feed, kind, slug, members)
            else:
                out.pop(key, None)
        return out

    def forget_all_but(self, feeds: dict[str, Feed]) -> None:
        for name in [n for n in self._by_name if n not in feeds]:
            del self._by_name[name]


def published_feeds(feeds: dict[str, Feed], moment: dt.datetime) -> dict[str, Feed]:
    """Every feed with only the articles published at or before ``moment`` (a feed whose newest article
    is published is itself, the very same object)."""
    return {
        name: feed
        if not feed.articles or feed.articles[0].published <= moment
        else replace(feed, articles=tuple(a for a in feed.articles if a.published <= moment))
        for name, feed in feeds.items()
    }


def scheduled_articles(all_articles: tuple[Article, ...], moment: dt.datetime) -> tuple[Article, ...]:
    """Articles to be published after ``moment``, soonest first (newest first, they lead ``all_articles``)."""
    count = next((i for i, a in enumerate(all_articles) if a.published <= moment), len(all_articles))
    return tuple(sorted(all_articles[:count], key=lambda a: (a.published, a.uid)))
