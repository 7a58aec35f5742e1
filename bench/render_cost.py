"""Cold render cost in process: what a variant cache miss costs, against the same libraries alone.

The baseline is what any feed server must pay for the same items with the same libraries: a bare
``FeedGenerator`` (RSS, Atom) or ``orjson.dumps`` of a plain dict (JSON) fed the titles, links, ids, dates
and content HTML Syndicate produced. Syndicate writes each item once per Snapshot and format (see
``syndicate.formats.assembly``), so two figures: the first render after a (re)load, which writes every
item, and a new variant (another partner, the next rotation window), which reuses the written items and
only resolves and splices the ad slots. The median of several renders is reported.
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from feedgen.feed import FeedGenerator

from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble
from syndicate.formats.model import ItemView
from syndicate.partners import Audience
from syndicate.publish import PageRequest, ad_resolver, feed_header, feed_view, page_articles
from syndicate.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class RenderRow:
    fmt: str
    items: int
    ours_ms: float  # a new variant: items already written for this Snapshot
    first_ms: float  # the first render after a (re)load: every item written
    view_ms: float  # of ours_ms, the FeedView alone: ads resolved and bodies joined, before any format
    base_ms: float
    ours_bytes: int
    base_bytes: int

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.base_ms

    @property
    def first_ratio(self) -> float:
        return self.first_ms / self.base_ms

    @property
    def writer_ratio(self) -> float:
        """The first render's writing alone against the baseline: what is left once the FeedView is made."""
        return (self.first_ms - self.view_ms) / self.base_ms

    @property
    def ours_us_per_item(self) -> float:
        return self.ours_ms * 1000 / self.items


def median_ms(fn: Callable[[], bytes], repeats: int) -> tuple[float, int]:
    """Median wall time of ``fn`` in ms, with the collector run between (not during) repeats."""
    times: list[float] = []
    size = 0
    for _ in range(repeats):
        gc.collect()
        begun = time.perf_counter()
        size = len(fn())
        times.append((time.perf_counter() - begun) * 1000)
    return statistics.median(times), size


def ours(snapshot: Snapshot, page: PageRequest, audience: Audience, fresh: bool) -> Callable[[], bytes]:
    """What a cache miss runs in ``web.views._render``, minus gzip and the ETag.

    ``fresh``: a new fragment cache for every render (the first render after a reload)."""
    moment = dt.datetime.now(dt.UTC)
    shared = FragmentCache(1 << 30)

    def render() -> bytes:
        cache = FragmentCache(1 << 30) if fresh else shared
        resolver = ad_resolver(snapshot, audience, page.format, moment)
        return assemble(page.format, snapshot.generation, feed_header(snapshot, page), page_articles(snapshot, page),
                        resolver, cache)

    if not fresh:
        render()  # write the items once, as the first variant of this Snapshot would
    return render


def view_only(snapshot: Snapshot, page: PageRequest, audience: Audience) -> Callable[[], bytes]:
    moment = dt.datetime.now(dt.UTC)

    def build() -> bytes:
        view = feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format, moment))
        return b"x" * len(view.items)

    return build


def feedgen_baseline(items: tuple[ItemView, ...], fmt: str, title: str, link: str) -> Callable[[], bytes]:
    def render() -> bytes:
        fg = FeedGenerator()
        fg.id(link)
        fg.title(title)
        fg.link(href=link, rel="alternate")
        fg.description(title)
        fg.updated(max(item.updated for item in items))
        for item in items:
            fe = fg.add_entry(order="append")
            fe.id(item.id)
            fe.guid(item.id, permalink=False)
            fe.title(item.title)
            fe.link(href=item.url)
            fe.published(item.published)
            fe.updated(item.updated)
            fe.content(item.content_html, type="html" if fmt == "atom" else None)
        out = fg.atom_str(pretty=False) if fmt == "atom" else fg.rss_str(pretty=False)
        return cast(bytes, out)

    return render


def json_baseline(items: tuple[ItemView, ...], title: str, link: str) -> Callable[[], bytes]:
    def render() -> bytes:
        feed: dict[str, Any] = {"version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": link}
        feed["items"] = [{"id": i.id, "url": i.url, "title": i.title, "content_html": i.content_html,
                          "date_published": i.published.isoformat(), "date_modified": i.updated.isoformat()}
                         for i in items]
        return orjson.dumps(feed)

    return render


def measure(snapshot: Snapshot, page: PageRequest, audience: Audience, repeats: int) -> RenderRow:
    ours_ms, ours_bytes = median_ms(ours(snapshot, page, audience, fresh=False), repeats)
    first_ms, _ = median_ms(ours(snapshot, page, audience, fresh=True), repeats)
    view_ms, _ = median_ms(view_only(snapshot, page, audience), repeats)
    view = feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format))
    base = (json_baseline(view.items, view.title, view.home_url) if page.format == "json"
            else feedgen_baseline(view.items, page.format, view.title, view.home_url))
    base_ms, base_bytes = median_ms(base, repeats)
    return RenderRow(page.format, len(view.items), ours_ms, first_ms, view_ms, base_ms, ours_bytes, base_bytes)


def measure_all(snapshot: Snapshot, small_feed: str, big_feed: str, audience: Audience,
                repeats: int) -> list[RenderRow]:
    """Every format at the small feed's page size and at the big feed's (1,000 items)."""
    return [measure(snapshot, PageRequest(feed, fmt), audience, repeats)
            for feed in (small_feed, big_feed) for fmt in FORMATS]
