"""The article and feed model shared by every format. Built once per Snapshot; never mutated."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from syndicate.shortcodes import Shortcode


@dataclass(frozen=True, slots=True)
class Call:
    """A shortcode call left in a body, to be resolved per request."""

    shortcode: Shortcode
    index: int  # its position among the article's calls: part of the ad selection seed
    block: bool  # it stood alone in its paragraph, so block markup may replace it
    line: int  # its line in the article file, for check messages
    text: str = ""  # the enclosed content as plain text: article text that every rendering keeps


#: A body after the Snapshot build: sanitised HTML text with the shortcode calls left to
#: resolve per request. Joining the text parts with each call's output gives the content.
Segment = str | Call


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    feed: str
    slug: str  # the file name without extension
    id: str  # stable: front matter ``id`` or "<feed>/<slug>"
    uid: str  # the tag: URI every format uses as the item's id / guid
    path: Path
    title: str
    published: dt.datetime
    updated: dt.datetime
    author: Author | None
    tags: tuple[str, ...]
    summary: str  # plain text, never holds ads or shortcodes
    image: Image | None
    url: str  # the article's page on the publisher's site
    body: tuple[Segment, ...]
    body_line: int  # the line in ``path`` where the body starts, for check messages
    #: The value's hash, worked out on first use: articles key the render caches, looked up on every render.
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _calls: tuple[Call, ...] | None = field(default=None, init=False, compare=False, repr=False)

    def __hash__(self) -> int:
        found = self._hash
        if found is None:
            found = hash(tuple(getattr(self, name) for name in _ARTICLE_FIELDS))
            object.__setattr__(self, "_hash", found)
        return found

    @property
    def calls(self) -> tuple[Call, ...]:
        """The body's shortcode calls, in order (worked out once: each render of the article asks)."""
        found = self._calls
        if found is None:
            found = tuple(part for part in self.body if isinstance(part, Call))
            object.__setattr__(self, "_calls", found)
        return found


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article) if f.compare)


def newest_first(article: Article) -> tuple[float, str]:
    """The order of every feed's articles: newest first, ties by item id (unique within a Snapshot)."""
    return (-article.published.timestamp(), article.uid)


def changes(before: tuple[Article, ...], after: tuple[Article, ...]) -> tuple[list[Article], list[Article]]:
    """The articles ``before`` has and ``after`` has not, and those ``after`` has and ``before`` has not,
    by identity: reused parses are the very same objects. Each tuple holds an article once.

    The common start and end (the same object at the same place) are skipped at C speed, so an edit
    costs the stretch between the first and the last place the two differ, not the whole feed."""
    head = _same_run(before, after)
    tail = _same_run(reversed(before[head:]), reversed(after[head:]))
    old, new = before[head : len(before) - tail], after[head : len(after) - tail]
    kept_old = {id(a) for a in old}
    kept_new = {id(a) for a in new}
    return [a for a in old if id(a) not in kept_new], [a for a in new if id(a) not in kept_old]


def _same_run(before: Iterable[Article], after: Iterable[Article]) -> int:
    """How many leading places hold the very same object in both."""
    return len(list(itertools.takewhile(bool, map(operator.is_, before, after))))


@dataclass(frozen=True, slots=True)
class Upstream:
    """A feed followed from elsewhere (``upstream:`` in _feed.yaml): polled, its items written as files."""

    url: str
    every: float  # seconds between polls when all is well
    timeout: float
    max_bytes: int
    line: int = 0  # of ``upstream:`` in _feed.yaml, for check messages


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    title: str
    description: str
    language: str
    link: str  # the section's page on the publisher's site
    image: Image | None
    items_per_page: int
    articles: tuple[Article, ...]  # newest first
    path: Path | None = None  # the _feed.yaml, None for the built-in "all"
    upstream: Upstream | None = None
    #: ``updated``, worked out on first use: every render of the feed asks for it, and ``all`` is every article.
    _updated: tuple[dt.datetime | None] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def updated(self) -> dt.datetime | None:
        """The newest article change."""
        found = self._updated
        if found is None:
            found = (newest_change(self.articles),)
            object.__setattr__(self, "_updated", found)
        return found[0]


#: A feed at least this long has its newest change kept by its articles as well (``newest_change``).
LONG_FEED = 256
#: (length, first article's id) -> the articles and their newest change, for the last few dozen long feeds.
_NEWEST: dict[tuple[int, int], tuple[tuple[Article, ...], dt.datetime | None]] = {}
_NEWEST_LOCK = threading.Lock()


def newest_change(articles: tuple[Article, ...]) -> dt.datetime | None:
    """The newest ``updated`` of ``articles``. A reload that left a long feed as it was makes a new ``Feed``
    around the same articles (often in a new tuple): comparing two tuples of the very same objects is a
    pointer walk in C, far cheaper than reading every article's date, so long feeds keep theirs."""
    if len(articles) < LONG_FEED:
        return max((a.updated for a in articles), default=None)
    key = (len(articles), id(articles[0]))
    kept = _NEWEST.get(key)
    if kept is not None and (kept[0] is articles or kept[0] == articles):
        return kept[1]
    newest = max(a.updated for a in articles)
    with _NEWEST_LOCK:  # renders run in worker threads
        _NEWEST[key] = (articles, newest)
        while len(_NEWEST) > 64:
            del _NEWEST[next(iter(_NEWEST))]
    return newest
