"""The article and feed model shared by every format. Built once per Snapshot; never mutated."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, overload

from syndicate.shortcodes import Shortcode


@dataclass(frozen=True, slots=True)
class Call:
    """A shortcode call left in a body, to be resolved per request."""

    shortcode: Shortcode
    index: int  # its position among the article's calls: part of the ad selection seed
    block: bool  # it stood alone in its paragraph, so block markup may replace it
    line: int  # its line in the article file, for check messages
    text: str = ""  # the enclosed content as plain text: article text that every rendering keeps

    def __post_init__(self) -> None:
        object.__setattr__(self, "shortcode", _shared(self.shortcode))


#: Attribute mappings by their items, shared by equal calls: a site's articles repeat a few ad calls
#: hundreds of thousands of times. Emptied when full. Nothing writes to a shortcode's ``attrs``.
_ATTRS: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
MAX_SHARED_ATTRS = 4096


def _shared(shortcode: Shortcode) -> Shortcode:
    """``shortcode``, with its tag, attributes and source text the very objects an equal call holds."""
    key = tuple(shortcode.attrs.items())
    attrs = _ATTRS.get(key)
    if attrs is None:
        if len(_ATTRS) >= MAX_SHARED_ATTRS:
            _ATTRS.clear()
        attrs = _ATTRS.setdefault(key, {sys.intern(k): sys.intern(v) for k, v in key})
    if attrs is shortcode.attrs:
        return shortcode
    s = shortcode
    raw = sys.intern(s.raw) if len(s.raw) <= 256 else s.raw
    return Shortcode(sys.intern(s.tag), attrs, s.content, s.enclosing, s.start, s.end, raw)


#: A body after the Snapshot build: sanitised HTML text with the shortcode calls left to
#: resolve per request. Joining the text parts with each call's output gives the content.
Segment = str | Call
#: A segment as ``Body`` keeps it: text as UTF-8 bytes where that is smaller than the ``str``.
_Packed = str | bytes | Call


def _packed(text: str) -> str | bytes:
    """``text``, or its UTF-8 when that takes less memory. A ``str`` holding one character past U+00FF
    (a typographic quote) stores every character in two or four bytes; UTF-8 stores markup and Latin
    letters in one. ASCII is one byte a character either way and stays as it is."""
    if text.isascii():
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    return encoded if len(encoded) + bytes.__basicsize__ < sys.getsizeof(text) else text


def _unpacked(part: _Packed) -> Segment:
    return part.decode("utf-8", "surrogatepass") if part.__class__ is bytes else part  # type: ignore[return-value]


class Body(Sequence[Segment]):
    """An article's segments, read, compared and hashed as the tuple of them, kept in less memory:
    bodies are most of what a Snapshot holds (5 KB of text an article), and are read only when an
    item is written or checked, so their text is decoded on each read instead of held twice as wide."""

    __slots__ = ("_parts",)
    _parts: tuple[_Packed, ...]

    def __init__(self, segments: Iterable[Segment] = ()) -> None:
        self._parts = tuple(_packed(part) if part.__class__ is str else part for part in segments)

    def __iter__(self) -> Iterator[Segment]:
        return map(_unpacked, self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    @overload
    def __getitem__(self, index: int) -> Segment: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Segment, ...]: ...
    def __getitem__(self, index: int | slice) -> Segment | tuple[Segment, ...]:
        if isinstance(index, slice):
            return tuple(map(_unpacked, self._parts[index]))
        return _unpacked(self._parts[index])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Body):
            return self._parts == other._parts  # one text always packs the same way
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))  # as the tuple it equals

    def __repr__(self) -> str:
        return f"Body({tuple(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Body, (tuple(self),))

    @property
    def parts(self) -> tuple[str | bytes | Call, ...]:
        """The segments as kept: text as ``str`` or as its UTF-8 ``bytes``."""
        return self._parts

    @classmethod
    def of_parts(cls, parts: Iterable[str | bytes | Call]) -> Body:
        """A body from the ``parts`` of another, without decoding its text (the parse cache on disk)."""
        body = cls.__new__(cls)
        body._parts = tuple(_packed(part) if part.__class__ is str else part for part in parts)
        return body

    @property
    def calls(self) -> tuple[Call, ...]:
        """The shortcode calls, in order, without decoding any text."""
        return tuple(part for part in self._parts if isinstance(part, Call))


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
    body: Sequence[Segment]  # any sequence given is kept as a ``Body``
    body_line: int  # the line in ``path`` where the body starts, for check messages
    #: The value's hash, worked out on first use: articles key the render caches, looked up on every render.
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _calls: tuple[Call, ...] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.body.__class__ is not Body:
            object.__setattr__(self, "body", Body(self.body))

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
            body = self.body
            found = body.calls if isinstance(body, Body) else tuple(p for p in body if isinstance(p, Call))
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
    tail = min(_same_run(reversed(before), reversed(after)), len(before) - head, len(after) - head)
    old, new = before[head : len(before) - tail], after[head : len(after) - tail]
    kept_old = {id(a) for a in old}
    kept_new = {id(a) for a in new}
    return [a for a in old if id(a) not in kept_new], [a for a in new if id(a) not in kept_old]


#: Places compared per C call. Each call holds the GIL, and builds run beside the event loop: one call over
#: a 100,000-article feed held it for milliseconds.
RUN_CHUNK = 4096


def _same_run(before: Iterable[Article], after: Iterable[Article]) -> int:
    """How many leading places hold the very same object in both, compared ``RUN_CHUNK`` at a time."""
    before_places, after_places = iter(before), iter(after)
    total = 0
    while True:
        chunk = map(operator.is_, itertools.islice(before_places, RUN_CHUNK), itertools.islice(after_places, RUN_CHUNK))
        same = len(list(itertools.takewhile(bool, chunk)))
        total += same
        if same < RUN_CHUNK:
            return total


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
