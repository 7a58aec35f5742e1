"""WebSub publishing: after a reload, tell the hubs which public feeds changed.

Feeds already announce their hubs (``rel="hub"`` in the document and the Link
header); this module sends ``hub.mode=publish`` for each changed feed URL, with
retries and exponential backoff, without ever holding up a request or a reload.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from syndicate.content.model import Feed
from syndicate.formats import FORMATS
from syndicate.publish import feed_url
from syndicate.snapshot import Snapshot
from syndicate.web.state import SNAPSHOTS

log = logging.getLogger("syndicate.websub")

ATTEMPTS = 4
FIRST_DELAY = 1.0  # seconds; doubled after each failed attempt


def fingerprint(feed: Feed) -> str:
    """Changes when anything a reader sees in the feed's items changes."""
    digest = hashlib.blake2b(digest_size=16)
    for article in feed.articles:
        digest.update(f"{article.uid}\x1f{article.updated.isoformat()}\x1f{article.title}\x1f{article.summary}"
                      .encode())
        for segment in article.body:
            digest.update(segment.encode() if isinstance(segment, str) else segment.shortcode.raw.encode())
    return digest.hexdigest()


def changed_urls(old: Snapshot, new: Snapshot) -> list[str]:
    """URLs, in every format, of the public feeds whose items differ between two Snapshots."""
    public = new.config.public
    urls = []
    for name, feed in sorted(new.feeds.items()):
        before = old.feeds.get(name)
        if before is not None and fingerprint(before) == fingerprint(feed):
            continue
        urls += [feed_url(new, name, fmt) for fmt in FORMATS if public.may_read(name, fmt)]
    return urls


class Publisher:
    """Pings hubs in the background; one task per (hub, URL), each retried with backoff."""

    def __init__(self, session: aiohttp.ClientSession, first_delay: float = FIRST_DELAY) -> None:
        self.session = session
        self.first_delay = first_delay
        self.tasks: set[asyncio.Task[bool]] = set()

    def on_swap(self, old: Snapshot, new: Snapshot) -> None:
        hubs = new.config.http.hubs
        if not hubs:
            return
        for url in changed_urls(old, new):
            for hub in hubs:
                task = asyncio.get_running_loop().create_task(self.publish(hub, url))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def publish(self, hub: str, url: str) -> bool:
        delay = self.first_delay
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.session.post(hub, data={"hub.mode": "publish", "hub.url": url},
                                             timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if 200 <= response.status < 300:
                        log.info("websub: %s notified of %s", hub, url)
                        return True
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            log.warning("websub: ping %d/%d to %s for %s failed: %s", attempt, ATTEMPTS, hub, url, problem)
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
