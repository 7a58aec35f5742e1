"""Cold render cost in process: what a variant cache miss costs, against the same libraries alone.

The baseline is what any feed server must pay for the same items with the same libraries: a bare
``FeedGenerator`` (RSS, Atom) or ``orjson.dumps`` of a plain dict (JSON) fed the titles, links, ids, dates
and content HTML Syndicate produced. Syndicate writes each item once per article and format (see
``syndicate.formats.assembly``) and resolves each article's ad slots once per context (audience, format,
ads; ``syndicate.ads.slotcache``), so four figures: the first render after a reload that changed nothing
(the server's reload: through the build cache, a fresh reload before each timed render), a new variant of
the same context (the next rotation window under ``rotation: per_item``), another partner (items written,
every slot resolved), and a cold render (nothing written or resolved: the first after the server starts).
The median of several renders is reported.

``stall_ms`` is the event loop's side of a first render: the render runs in a worker thread as the server
runs it (with the thread switch interval ``syndicate serve`` sets) while the loop sleeps 1 ms at a
time; the longest a wake-up came late is how long the render kept the loop from running. The same with a
worker that only sleeps gives the machine's own floor (other processes on its cores), measured beside it.

Run alone: python bench/render_cost.py [--articles N] [--feeds F] [--repeats R] (also a section of
bench/run_all.py); the corpus is bench/bench_reload.py's, written once and kept.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
import report
from feedgen.feed import FeedGenerator

from syndicate.ads.slotcache import SlotCache
from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble
from syndicate.formats.model import ItemView
from syndicate.partners import Audience
from syndicate.publish import PageRequest, ad_resolver, feed_header, feed_view, page_articles
from syndicate.serving import SWITCH_INTERVAL
from syndicate.snapshot import BuildCache, Snapshot, build_snapshot

#: The cold-render goals: a first render against the same library alone (feedgen for XML, orjson for JSON).
GOALS = {"rss": 1.5, "atom": 1.5, "json": 3.0}
STALL_GOAL_MS = 5.0


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
    stall_ms: float = float("nan")  # the longest the loop waited while a first render ran in a worker thread
    idle_stall_ms: float = float("nan")  # the same with a worker that only sleeps: the machine's own floor
    slots: int = 0  # ad slots resolved per render
    reload_ms: float = float("nan")  # the first render after a reload that left the page's articles unchanged
    partner_ms: float = float("nan")  # another audience: items written, every slot resolved

    @property
    def baseline(self) -> str:
        return "orjson" if self.fmt == "json" else "feedgen"

    @property
    def goal(self) -> float:
        return GOALS[self.fmt]

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.base_ms

    @property
    def first_ratio(self) -> float:
        return self.first_ms / self.base_ms

    @property
    def reload_ratio(self) -> float:
        return self.reload_ms / self.base_ms

    @property
    def partner_ratio(self) -> float:
        return self.partner_ms / self.base_ms

    @property
    def writer_ratio(self) -> float:
        """The first render's writing alone against the baseline: what is left once the FeedView is made."""
        return (self.first_ms - self.view_ms) / self.base_ms

    @property
    def ours_us_per_item(self) -> float:
        return self.ours_ms * 1000 / self.items


def median_ms(fn: Callable[[], bytes], repeats: int) -> tuple[float, int]:
    """Median CPU time of ``fn`` in ms (this process's: other load on the machine barely moves it, where wall
    time doubles), with the collector run between (not during) repeats."""
    times: list[float] = []
    size = 0
    for _ in range(repeats):
        gc.collect()
        begun = time.process_time()
        size = len(fn())
        times.append((time.process_time() - begun) * 1000)
    return statistics.median(times), size


def loop_stall_ms(fn: Callable[[], bytes], repeats: int) -> float:
    """The worst lateness of a 1 ms loop tick while ``fn`` runs in a worker thread, median over ``repeats``."""

    async def once() -> float:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(None, fn)
        worst, last = 0.0, time.perf_counter()
        while not job.done():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last - 0.001), now
        await job
        return worst * 1000

    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        return statistics.median(asyncio.run(once()) for _ in range(repeats))
    finally:
        sys.setswitchinterval(interval)


def _sleeping() -> bytes:
    time.sleep(0.2)
    return b""


Caches = tuple[FragmentCache, SlotCache]


def fresh_caches() -> Caches:
    return FragmentCache(1 << 30), SlotCache(1 << 30)


def render_with(source: Snapshot, page: PageRequest, audience: Audience, moment: dt.datetime, caches: Caches) -> bytes:
    """What a cache miss runs in ``web.views._render``, minus gzip and the ETag."""
    fragments, slots = caches
    resolver = ad_resolver(source, audience, page.format, moment, memo=slots)
    return assemble(page.format, feed_header(source, page), page_articles(source, page), resolver, fragments)


def ours(snapshot: Snapshot, page: PageRequest, audience: Audience, written_by: Audience | None) -> Callable[[], bytes]:
    """``written_by``: the audience whose render of the page wrote the items first (``audience`` itself: a new
    variant of the same context; another: a new partner, every slot resolved afresh); None: cold caches every
    time (the first render after the server starts)."""
    moment = dt.datetime.now(dt.UTC)
    if written_by is None:
        return lambda: render_with(snapshot, page, audience, moment, fresh_caches())
    shared = fresh_caches()
    render_with(snapshot, page, written_by, moment, shared)  # untimed: the render that wrote the items
    if written_by == audience:
        return lambda: render_with(snapshot, page, audience, moment, shared)
    return lambda: render_with(snapshot, page, audience, moment, (shared[0], SlotCache(1 << 30)))


def after_reload_ms(
    snapshot: Snapshot, reload: Callable[[], Snapshot], page: PageRequest, audience: Audience, repeats: int
) -> float:
    """Median CPU time of the first render after a reload (untimed, before each render) that changed nothing."""
    moment = dt.datetime.now(dt.UTC)
    shared = fresh_caches()
    render_with(snapshot, page, audience, moment, shared)  # untimed: the render before the reload
    times: list[float] = []
    for _ in range(repeats):
        reloaded = reload()
        gc.collect()
        begun = time.process_time()
        render_with(reloaded, page, audience, moment, shared)
        times.append((time.process_time() - begun) * 1000)
    return statistics.median(times)


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
        feed["items"] = [
            {
                "id": i.id,
                "url": i.url,
                "title": i.title,
                "content_html": i.content_html,
                "date_published": i.published.isoformat(),
                "date_modified": i.updated.isoformat(),
            }
            for i in items
        ]
        return orjson.dumps(feed)

    return render


def measure(
    snapshot: Snapshot,
    page: PageRequest,
    audience: Audience,
    repeats: int,
    reload: Callable[[], Snapshot] | None = None,
    other: Audience | None = None,
) -> RenderRow:
    """``reload``: a reload of ``snapshot`` that changes nothing (default: no reload figure); ``other``: an
    audience whose render wrote the items first (default: no new-partner figure)."""
    ours_ms, ours_bytes = median_ms(ours(snapshot, page, audience, audience), repeats)
    first_ms, _ = median_ms(ours(snapshot, page, audience, None), repeats)
    reload_ms = after_reload_ms(snapshot, reload, page, audience, repeats) if reload is not None else float("nan")
    partner_ms = median_ms(ours(snapshot, page, audience, other), repeats)[0] if other is not None else float("nan")
    view_ms, _ = median_ms(view_only(snapshot, page, audience), repeats)
    view = feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format))
    base = (
        json_baseline(view.items, view.title, view.home_url)
        if page.format == "json"
        else feedgen_baseline(view.items, page.format, view.title, view.home_url)
    )
    base_ms, base_bytes = median_ms(base, repeats)
    stall = loop_stall_ms(ours(snapshot, page, audience, None), repeats)
    idle = loop_stall_ms(_sleeping, repeats)
    slots = sum(len(article.calls) for article in page_articles(snapshot, page))
    return RenderRow(
        page.format,
        len(view.items),
        ours_ms,
        first_ms,
        view_ms,
        base_ms,
        ours_bytes,
        base_bytes,
        stall,
        idle,
        slots,
        reload_ms,
        partner_ms,
    )


def measure_all(config: Path, small_feed: str, big_feed: str, audience_id: str, repeats: int) -> list[RenderRow]:
    """Every format at the small feed's page size and at the big feed's (1,000 items), with the heap frozen
    after the Snapshot builds as ``syndicate serve`` freezes it (full collections skip the Snapshot).

    The site of ``config`` is built through a build cache, as ``syndicate serve`` builds, so that its reloads
    are the server's (what did not change is the very same object)."""
    builds = BuildCache()
    served = build_snapshot(config, cache=builds)
    audience = served.audience(audience_id)
    assert audience is not None, f"no audience {audience_id!r} in {config}"
    other = served.config.public if audience != served.config.public else served.config.partners[0]
    gc.collect()
    gc.freeze()
    return [
        measure(served, PageRequest(feed, fmt), audience, repeats, lambda: build_snapshot(config, cache=builds), other)
        for feed in (small_feed, big_feed)
        for fmt in FORMATS
    ]


def render_table(rows: list[RenderRow]) -> str:
    return report.table(
        [
            "format",
            "items",
            "slots",
            "after reload ms",
            "new variant ms",
            "new partner ms",
            "cold ms",
            "of which FeedView",
            "baseline",
            "baseline ms",
            "reload ratio",
            "new ratio",
            "partner ratio",
            "cold ratio",
            "goal",
            "loop stall ms",
            "idle stall ms",
        ],
        [
            [
                r.fmt,
                str(r.items),
                str(r.slots),
                report.fmt(r.reload_ms, 1),
                report.fmt(r.ours_ms, 1),
                report.fmt(r.partner_ms, 1),
                report.fmt(r.first_ms, 1),
                report.fmt(r.view_ms, 1),
                r.baseline,
                report.fmt(r.base_ms, 1),
                report.fmt(r.reload_ratio, 2),
                report.fmt(r.ratio, 2),
                report.fmt(r.partner_ratio, 2),
                report.fmt(r.first_ratio, 2),
                f"<= {r.goal:g}",
                report.fmt(r.stall_ms, 2),
                report.fmt(r.idle_stall_ms, 2),
            ]
            for r in rows
        ],
    )


def render_targets(rows: list[RenderRow]) -> list[report.Target]:
    out = [
        report.at_most(f"first render after reload {r.fmt} {r.items} items vs {r.baseline}", r.reload_ratio, r.goal)
        for r in rows
    ]
    out += [report.at_most(f"new variant {r.fmt} {r.items} items vs {r.baseline}", r.ratio, r.goal) for r in rows]
    out += [
        report.at_most(f"new partner (slots resolved) {r.fmt} {r.items} items vs {r.baseline}", r.partner_ratio, r.goal)
        for r in rows
    ]
    out += [
        report.at_most(
            f"cold render (nothing written yet) {r.fmt} {r.items} items vs {r.baseline}", r.first_ratio, r.goal
        )
        for r in rows
    ]
    out.append(
        report.at_most(
            "loop stall beyond the idle floor while a first render runs in a worker (worst)",
            max((r.stall_ms - r.idle_stall_ms for r in rows), default=float("nan")),
            STALL_GOAL_MS,
            " ms",
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    import bench_reload  # the corpus it writes and keeps; imported here, as it imports much else
    from servers import free_port

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--articles", type=int, default=10_000, help="corpus size (default 10000)")
    p.add_argument("--feeds", type=int, default=10, help="feed folders (default 10)")
    p.add_argument("--repeats", type=int, default=5, help="renders per figure, the median is reported (default 5)")
    args = p.parse_args(argv)
    corpus = bench_reload.cached_corpus(args.articles, args.feeds, free_port())
    print(
        f"command: python bench/render_cost.py --articles {args.articles} --feeds {args.feeds} --repeats {args.repeats}"
    )
    rows = measure_all(corpus.config, corpus.feeds[0], "all", "partner-a", args.repeats)
    print(render_table(rows))
    print(report.summary(render_targets(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
