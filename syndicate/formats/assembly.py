"""Feeds assembled from per-item fragments: the format writers run once per article, not per variant.

An item's XML or JSON depends only on its article, except for the ad slots in
its content. So each item is written once per Snapshot and format, with an inert
marker where each slot goes, and kept (bounded by bytes) as the byte runs between
markers. A variant then costs a small feed header from the writer, and for each
item its runs joined with the slots resolved for the audience asking, escaped as
that format's writer would have escaped them. No long single serialisation call
holds the GIL, and a new partner or rotation window never re-runs feedgen.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import orjson

from syndicate.content.model import Article, Call
from syndicate.formats import FORMATS
from syndicate.formats.jsonfeed import item_json
from syndicate.formats.model import FeedView, ItemView
from syndicate.metrics import FRAGMENT_WRITES

#: One feed's fragments as (runs, slot numbers): runs[0] slot[0] runs[1] slot[1] ... runs[-1].
Fragment = tuple[tuple[bytes, ...], tuple[int, ...]]
Resolve = Callable[[Call, Article], str]

_NONCE = secrets.token_hex(4)
_MARK = re.compile(f"\ue000{_NONCE}:(\\d+)\ue001".encode())
# Where items go in a document written with none: before the closing tags.
_ITEMS_END = {"rss": b"</channel>", "atom": b"</feed>"}
_ITEM_START = {"rss": b"<item>", "atom": b"<entry>"}


def marker(index: int) -> str:
    return f"\ue000{_NONCE}:{index}\ue001"


def _escape_xml_text(html: str) -> bytes:
    # What lxml does to text content: only &, < and > are escaped.
    return html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def _escape_json_text(html: str) -> bytes:
    return orjson.dumps(html)[1:-1]


ESCAPE: dict[str, Callable[[str], bytes]] = {"rss": _escape_xml_text, "atom": _escape_xml_text,
                                             "json": _escape_json_text}


def _split(item: bytes) -> Fragment:
    pieces = _MARK.split(item)
    return tuple(pieces[0::2]), tuple(int(n) for n in pieces[1::2])


def write_fragments(fmt: str, view: FeedView, items: Sequence[ItemView]) -> list[Fragment]:
    """Each item written by the format's own writer, in one document, then cut out of it."""
    if fmt == "json":
        return [_split(orjson.dumps(item_json(item))) for item in items]
    document = FORMATS[fmt].render(replace(view, items=tuple(items)))
    start, end = _ITEM_START[fmt], _ITEMS_END[fmt]
    body = document[document.index(start):document.rindex(end)]
    return [_split(start + chunk) for chunk in body.split(start)[1:]]


class FragmentCache:
    """Fragments by (generation, article, format), LRU-bounded by bytes; safe across render threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple[int, str, str], Fragment] = OrderedDict()
        self.lock = threading.Lock()
        self.written = 0  # items written by a format writer: a measure of cache misses

    def get_many(self, keys: Sequence[tuple[int, str, str]]) -> list[Fragment | None]:
        with self.lock:
            found = [self.entries.get(key) for key in keys]
            for key, fragment in zip(keys, found, strict=True):
                if fragment is not None:
                    self.entries.move_to_end(key)
            return found

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0

    def put_many(self, pairs: Sequence[tuple[tuple[int, str, str], Fragment]]) -> None:
        with self.lock:
            for key, fragment in pairs:
                if key in self.entries:
                    continue
                self.entries[key] = fragment
                self.bytes += _size(fragment)
            while self.bytes > self.max_bytes and self.entries:
                _, evicted = self.entries.popitem(last=False)
                self.bytes -= _size(evicted)


def _size(fragment: Fragment) -> int:
    return sum(len(run) for run in fragment[0]) + 100


def fragments_for(fmt: str, generation: int, view: FeedView, articles: Sequence[Article],
                  cache: FragmentCache) -> list[Fragment]:
    """The page's fragments, writing (in one batch) and caching those not cached yet."""
    keys = [(generation, article.uid, fmt) for article in articles]
    found = cache.get_many(keys)
    missing = [i for i, fragment in enumerate(found) if fragment is None]
    if missing:
        written = write_fragments(fmt, view, [view.items[i] for i in missing])
        cache.written += len(written)
        FRAGMENT_WRITES.labels(fmt).inc(len(written))
        cache.put_many([(keys[i], fragment) for i, fragment in zip(missing, written, strict=True)])
        for i, fragment in zip(missing, written, strict=True):
            found[i] = fragment
    return [fragment for fragment in found if fragment is not None]


def assemble(fmt: str, generation: int, view: FeedView, articles: Sequence[Article], resolve: Resolve,
             cache: FragmentCache) -> bytes:
    """The document for ``view`` (whose items carry a ``marker`` where each ad slot goes),
    with each article's slots resolved by ``resolve``, in order."""
    fragments = fragments_for(fmt, generation, view, articles, cache)
    header = FORMATS[fmt].render(replace(view, items=()))
    if fmt == "json":
        cut = header.rindex(b"[]") + 1
        head, tail, separator = header[:cut], header[cut:], b","
    else:
        cut = header.rindex(_ITEMS_END[fmt])
        head, tail, separator = header[:cut], header[cut:], b""
    escape = ESCAPE[fmt]
    out: list[bytes] = [head]
    for position, (article, (runs, slots)) in enumerate(zip(articles, fragments, strict=True)):
        if position and separator:
            out.append(separator)
        calls = article.calls
        out.append(runs[0])
        for slot, run in zip(slots, runs[1:], strict=True):
            out.append(escape(resolve(calls[slot], article)))
            out.append(run)
    out.append(tail)
    return b"".join(out)
