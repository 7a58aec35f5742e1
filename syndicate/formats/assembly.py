"""Feeds assembled from per-item fragments: the format writers run once per article, not per variant.

An item's XML or JSON depends only on its article, except for the ad slots in
its content. So each item is written once per Snapshot and format by the writer
whole documents are written with, which reports where each slot goes, and kept
(bounded by bytes) as the byte runs between slots. A variant then costs a small
feed header from that writer, and for each item its runs joined with the slots
resolved for the audience asking, escaped by the same writer. No long single
serialisation call holds the GIL, and a new partner or rotation window writes no item.
Fragments are keyed by the article itself (its every field: equal articles give equal
items; as a number, ``content/article_numbers.py``), so a reload, which builds new but
mostly equal articles, writes only the items it changed; old ones age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import ModuleType

from syndicate.ads.resolver import AdResolver
from syndicate.content.article_numbers import ArticleNumbers
from syndicate.content.model import Article, Call
from syndicate.formats import atom, jsonfeed, rss
from syndicate.formats.model import FeedView, ItemView
from syndicate.formats.xmlwriter import Content, escape_texts
from syndicate.metrics import FRAGMENT_WRITES

Resolve = Callable[[Call, Article], str]
#: (format, article): an article compares and hashes by value, so an unchanged one finds its fragment again.
FragmentKey = tuple[str, Article]

#: Each format's writer: ``items``, ``head_and_tail_of``, and the escaping of slot text.
WRITERS: dict[str, ModuleType] = {"rss": rss, "atom": atom, "json": jsonfeed}
ESCAPE: dict[str, Callable[[Sequence[str]], list[bytes]]] = {
    "rss": escape_texts,
    "atom": escape_texts,
    "json": jsonfeed.escape_texts,
}
SEPARATOR = {"rss": b"", "atom": b"", "json": b","}


#: One item as written: (runs, slots, bare), that is ``runs[0] slot[0] runs[1] ... runs[-1]`` where each slot
#: is a call index, and ``bare``, the item with no content element, for an article whose text is all slots
#: (when every slot resolves to nothing a whole-document render leaves the element out, and so must this).
#: Plain tuples of bytes and numbers, which the cycle collector untracks however many the cache keeps.
Fragment = tuple[tuple[bytes, ...], tuple[int, ...], bytes | None]


def size_of(fragment: Fragment) -> int:
    runs, _, bare = fragment
    return sum(len(run) for run in runs) + len(bare or b"") + 100


def item_of(article: Article, content_html: str = "") -> ItemView:
    """The article as a feed item; without ``content_html`` its content is what ``content_of`` gives as
    text and slots."""
    return ItemView(
        id=article.uid,
        url=article.url,
        title=article.title,
        content_html=content_html,
        summary=article.summary,
        published=article.published,
        updated=article.updated,
        author=article.author,
        tags=article.tags,
        image=article.image,
    )


def content_of(article: Article) -> Content:
    return tuple(part if isinstance(part, str) else part.index for part in article.body)


def write_fragments(fmt: str, articles: Sequence[Article]) -> list[Fragment]:
    """Each article's item written by the format's writer, with its slots left open."""
    writer = WRITERS[fmt]
    entries = [(item_of(article), content_of(article)) for article in articles]
    written = writer.items(entries)
    out = []
    for (item, content), (runs, slots) in zip(entries, written, strict=True):
        bare = None
        if slots and not any(isinstance(part, str) and part for part in content):
            ((bare_runs, _),) = writer.items([(item, ())])
            bare = bare_runs[0]
        out.append((tuple(runs), tuple(slots), bare))
    return out


class FragmentCache:
    """Fragments by (format, article), LRU-bounded by bytes; safe across render threads and Snapshots."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.numbers = ArticleNumbers()  # keys of plain numbers (``content/article_numbers.py``)
        self.entries: OrderedDict[tuple[str, int], Fragment] = OrderedDict()
        self.lock = threading.Lock()
        self.written = 0  # items written by a format writer: a measure of cache misses

    def get_many(self, keys: Sequence[FragmentKey]) -> list[Fragment | None]:
        with self.lock:
            entries, find = self.entries, self.numbers.find
            found: list[Fragment | None] = []
            for fmt, article in keys:
                number = find(article)
                fragment = None
                if number is not None and (fragment := entries.get((fmt, number))) is not None:
                    entries.move_to_end((fmt, number))
                found.append(fragment)
            return found

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.numbers.clear()
            self.bytes = 0

    def put_many(self, pairs: Sequence[tuple[FragmentKey, Fragment]]) -> None:
        with self.lock:
            numbers = self.numbers
            for (fmt, article), fragment in pairs:
                known = numbers.find(article)
                if known is not None and (fmt, known) in self.entries:
                    continue
                self.entries[(fmt, numbers.acquire(article))] = fragment
                self.bytes += size_of(fragment)
            while self.bytes > self.max_bytes and self.entries:
                (_, number), evicted = self.entries.popitem(last=False)
                numbers.release(number)
                self.bytes -= size_of(evicted)


def fragments_for(fmt: str, articles: Sequence[Article], cache: FragmentCache) -> list[Fragment]:
    """The page's fragments, writing (in one batch) and caching those not cached yet."""
    keys: list[FragmentKey] = [(fmt, article) for article in articles]
    found = cache.get_many(keys)
    missing = [i for i, fragment in enumerate(found) if fragment is None]
    if missing:
        written = write_fragments(fmt, [articles[i] for i in missing])
        cache.written += len(written)
        FRAGMENT_WRITES.labels(fmt).inc(len(written))
        cache.put_many([(keys[i], fragment) for i, fragment in zip(missing, written, strict=True)])
        for i, fragment in zip(missing, written, strict=True):
            found[i] = fragment
    return [fragment for fragment in found if fragment is not None]


def slot_bytes(fmt: str, resolve: Resolve, articles: Sequence[Article]) -> list[bytes]:
    """Every call of ``articles`` resolved and escaped for ``fmt``, in document order; an ``AdResolver``
    reuses kept resolutions, already escaped."""
    escape = ESCAPE[fmt]
    if isinstance(resolve, AdResolver):
        return [text for texts in resolve.page_slots(articles, escape) for text in texts]
    texts = [resolve(call, article) for article in articles for call in article.calls]
    return escape(texts) if texts else []


def assemble(fmt: str, header: FeedView, articles: Sequence[Article], resolve: Resolve, cache: FragmentCache) -> bytes:
    """The document ``header`` (a ``FeedView``; its items are not read) with ``articles`` as its items, each
    slot resolved by ``resolve``, in document order: the bytes ``FORMATS[fmt].render`` gives for them."""
    fragments = fragments_for(fmt, articles, cache)
    head, tail = WRITERS[fmt].head_and_tail_of(header)
    with_slots = [article for article, (_, slots, _) in zip(articles, fragments, strict=True) if slots]
    escaped = slot_bytes(fmt, resolve, with_slots)
    out: list[bytes] = [head]
    separator = SEPARATOR[fmt]
    at = 0
    for position, (runs, slots, bare) in enumerate(fragments):
        if position and separator:
            out.append(separator)
        count = len(slots)
        if bare is not None and not any(escaped[at : at + count]):
            out.append(bare)
        else:
            out.append(runs[0])
            for index in range(count):
                out.append(escaped[at + index])
                out.append(runs[index + 1])
        at += count
    out.append(tail)
    return b"".join(out)
