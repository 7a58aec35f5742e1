"""Cold render cost in process: Syndicate's FeedView + format renderer against the same libraries alone.

The baseline is what any feed server must pay for the same items with the same libraries: a bare
``FeedGenerator`` (RSS, Atom) or ``orjson.dumps`` of a plain dict (JSON) fed the titles, links, ids, dates
and content HTML Syndicate produced. So ours/baseline is the price of Syndicate's own layer: ad
resolution, the FeedView, and the fields the baseline does not write (summary, tags, authors, media).
Both sides start from nothing cached; the median of several renders is reported.
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
from syndicate.formats.model import ItemView
from syndicate.partners import Audience
from syndicate.publish import PageRequest, ad_resolver, feed_view
from syndicate.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class RenderRow:
    fmt: str
    items: int
    ours_ms: float
    view_ms: float  # of ours_ms, the FeedView alone: ads resolved and bodies joined, before any format
    base_ms: float
    ours_bytes: int
    base_bytes: int

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.base_ms

    @property
    def writer_ratio(self) -> float:
        """Syndicate's format writer alone against the baseline: what is left once the FeedView is made."""
        return (self.ours_ms - self.view_ms) / self.base_ms

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


def ours(snapshot: Snapshot, page: PageRequest, audience: Audience) -> Callable[[], bytes]:
    """Exactly what a cache miss runs in ``web.views._render``, minus gzip and the ETag."""
    moment = dt.datetime.now(dt.UTC)

    def render() -> bytes:
        resolver = ad_resolver(snapshot, audience, page.format, moment)
        return FORMATS[page.format].render(feed_view(snapshot, page, resolver))

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
    ours_ms, ours_bytes = median_ms(ours(snapshot, page, audience), repeats)
    view_ms, _ = median_ms(view_only(snapshot, page, audience), repeats)
    view = feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format))
    base = (json_baseline(view.items, view.title, view.home_url) if page.format == "json"
            else feedgen_baseline(view.items, page.format, view.title, view.home_url))
    base_ms, base_bytes = median_ms(base, repeats)
    return RenderRow(page.format, len(view.items), ours_ms, view_ms, base_ms, ours_bytes, base_bytes)


def measure_all(snapshot: Snapshot, small_feed: str, big_feed: str, audience: Audience,
                repeats: int) -> list[RenderRow]:
    """Every format at the small feed's page size and at the big feed's (1,000 items)."""
    return [measure(snapshot, PageRequest(feed, fmt), audience, repeats)
            for feed in (small_feed, big_feed) for fmt in FORMATS]
