"""WebSub publishing: after each Snapshot swap, tell the hubs which public feeds changed.

Feeds already announce their hubs (``rel="hub"`` in the document and the Link
header); this module sends ``hub.mode=publish`` for each public feed URL whose
content changed (sections, ``all``, tag and author feeds, each format), with
retries and exponential backoff, without ever holding up a request or a reload.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from syndicate.ads.resolver import AdResolver
from syndicate.content.model import Article
from syndicate.formats import FORMATS
from syndicate.metrics import WEBSUB_PINGS
from syndicate.publish import PageRequest, Resolve, ad_resolver, feed_header, item_view, page_articles, page_url
from syndicate.snapshot import Snapshot
from syndicate.web.state import SNAPSHOTS

log = logging.getLogger("syndicate.websub")

ATTEMPTS = 4
FIRST_DELAY = 1.0  # seconds; doubled after each failed attempt


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def same_ads(old: Snapshot, new: Snapshot) -> bool:
    """True when every ad slot resolves the same in both Snapshots for the public profile."""
    return old.spaces == new.spaces and old.config.ads == new.config.ads and old.config.public == new.config.public


class Fingerprints:
    """Content fingerprints of one Snapshot's public feeds, as anonymous readers get their first page.

    A feed's fingerprint covers its ``FeedView`` header (title, links, ``updated``...) and
    each item on page 1. An item's covers its every field and its body; its ad slots are
    hashed as written unless ``resolve_ads``, when they are resolved for the public
    profile at ``moment`` (direct links, no signed token). Item digests are kept per
    article, so an article shared by a section, ``all`` and its tag feeds is hashed once.
    """

    def __init__(self, snapshot: Snapshot, moment: dt.datetime, resolve_ads: bool) -> None:
        self.snapshot = snapshot
        self.moment = moment
        self.resolve_ads = resolve_ads
        self.items: dict[tuple[str, str], bytes] = {}
        self.pages: dict[tuple[str, str | None, str | None, str], bytes] = {}
        self.resolvers: dict[str, AdResolver] = {}

    def _resolve(self, fmt: str) -> Resolve:
        if not self.resolve_ads:
            return lambda call, article: f"\x00{call.index}\x00{call.shortcode.raw}\x00"
        if fmt not in self.resolvers:
            self.resolvers[fmt] = ad_resolver(self.snapshot, self.snapshot.config.public, fmt, self.moment)
        return self.resolvers[fmt]

    def item(self, article: Article, fmt: str) -> bytes:
        key = (article.uid, fmt if self.resolve_ads and article.calls else "")
        found = self.items.get(key)
        if found is None:
            found = self.items[key] = _digest(repr(item_view(article, self._resolve(fmt))))
        return found

    def page_items(self, page: PageRequest) -> bytes:
        """The items of page 1, shared by the formats when ads are not resolved."""
        key = (page.feed, page.kind, page.slug, page.format if self.resolve_ads else "")
        found = self.pages.get(key)
        if found is None:
            digest = hashlib.blake2b(digest_size=16)
            for article in page_articles(self.snapshot, page):
                digest.update(self.item(article, page.format))
            found = self.pages[key] = digest.digest()
        return found

    def feed(self, page: PageRequest) -> bytes:
        return _digest(repr(feed_header(self.snapshot, page))) + self.page_items(page)


def public_pages(snapshot: Snapshot) -> list[PageRequest]:
    """The first page of every feed anonymous readers may read: sections, ``all``, tag and author feeds."""
    public = snapshot.config.public
    feeds: list[tuple[str, str | None, str | None]] = [(name, None, None) for name in sorted(snapshot.feeds)]
    feeds += sorted(snapshot.filtered)
    return [
        PageRequest(name, fmt, 1, kind, slug)
        for name, kind, slug in feeds
        for fmt in FORMATS
        if public.may_read(name, fmt)
    ]


def changed_urls(old: Snapshot, new: Snapshot, moment: dt.datetime | None = None) -> list[str]:
    """URLs of the public feeds whose bytes differ between two Snapshots (ads judged at ``moment``).

    A feed that is new counts as changed; a feed that is gone has nothing to announce.
    """
    moment = moment or dt.datetime.now(dt.UTC)
    resolve_ads = not same_ads(old, new)
    before, after = Fingerprints(old, moment, resolve_ads), Fingerprints(new, moment, resolve_ads)
    urls = []
    for page in public_pages(new):
        if (
            old.feed(page.feed, page.kind, page.slug) is not None
            and old.config.public.may_read(page.feed, page.format)
            and before.feed(page) == after.feed(page)
        ):
            continue
        urls.append(page_url(new, page))
    return urls


class Publisher:
    """Pings hubs in the background; one task per (hub, URL), each retried with backoff."""

    def __init__(self, session: aiohttp.ClientSession, first_delay: float = FIRST_DELAY) -> None:
        self.session = session
        self.first_delay = first_delay
        self.tasks: set[asyncio.Task[bool]] = set()

    def on_swap(self, old: Snapshot, new: Snapshot) -> None:
        if not new.config.http.hubs:
            return
        task = asyncio.get_running_loop().create_task(self.announce(old, new))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def announce(self, old: Snapshot, new: Snapshot) -> bool:
        """Find the changed feeds off the loop (it resolves every feed's first page), then ping each hub."""
        urls = await asyncio.to_thread(changed_urls, old, new)
        results = await asyncio.gather(*(self.publish(hub, url) for url in urls for hub in new.config.http.hubs))
        return all(results)

    async def publish(self, hub: str, url: str) -> bool:
        delay = self.first_delay
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.session.post(
                    hub, data={"hub.mode": "publish", "hub.url": url}, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    if 200 <= response.status < 300:
                        log.info("websub: %s notified of %s", hub, url)
                        WEBSUB_PINGS.labels("delivered").inc()
                        return True
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            log.warning("websub: ping %d/%d to %s for %s failed: %s", attempt, ATTEMPTS, hub, url, problem)
            WEBSUB_PINGS.labels("failed" if attempt < ATTEMPTS else "given_up").inc()
            if attempt < ATTEMPTS:
                await asyncio.sleep(delay)
                delay *= 2
        return False


PUBLISHER = web.AppKey("websub", Publisher)


async def websub_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: a client session for pings, listening to Snapshot swaps."""
    async with aiohttp.ClientSession() as session:
        publisher = Publisher(session)
        app[PUBLISHER] = publisher
        holder = app[SNAPSHOTS]
        holder.listeners.append(publisher.on_swap)
        yield
        holder.listeners.remove(publisher.on_swap)
        for task in list(publisher.tasks):
            task.cancel()
        await asyncio.gather(*publisher.tasks, return_exceptions=True)
