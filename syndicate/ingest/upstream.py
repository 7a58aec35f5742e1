"""Following upstream feeds (``upstream:`` in _feed.yaml): poll, write each item as a file, reload.

Items become ordinary article files (``up-<key>.html``, the key a digest of the item's
guid or id), checked exactly as the loader will read them before they are written, so
a bad item is left out and reported instead of blocking the reload. A failing
upstream (down, slow, too big, garbage) writes nothing: the last good items stay on
disk and in the feed, the error shows on /admin/status, and polls back off until it
answers again. Fetches use conditional GET with the upstream's own validators.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from syndicate.config import Config
from syndicate.content.loader import ContentLoader
from syndicate.content.model import Upstream
from syndicate.ingest.feedread import Entry, FeedError, read_feed
from syndicate.ingest.wordpress import plain, plain_names
from syndicate.ingest.writer import ArticleFiles, article_text
from syndicate.problems import ProblemList
from syndicate.reload import Reloader
from syndicate.snapshot import Snapshot, body_renderer

log = logging.getLogger("syndicate.upstream")

FILE_PATTERN = r"up-([0-9a-f]{16})\.html"
USER_AGENT = "Syndicate/0.1 (+feed follower)"
MAX_BACKOFF = 3600.0


class UpstreamError(Exception):
    """One failed poll, in one line."""


@dataclass
class UpstreamState:
    """What /admin/status shows for one followed feed."""

    feed: str
    url: str
    etag: str = ""
    last_modified: str = ""
    last_attempt: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_status: int | None = None
    kind: str = ""  # "rss" or "atom", from the last good document
    last_error: str = ""
    failures: int = 0  # in a row; 0 after a good poll
    items: int = 0  # entries in the last good document
    written: int = 0  # files the last good poll wrote (new or changed)
    rejected: list[str] = field(default_factory=list)  # entries left out of the last good poll, with why

    def as_dict(self) -> dict[str, Any]:
        def stamp(value: dt.datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {
            "feed": self.feed,
            "url": self.url,
            "ok": self.failures == 0 and self.last_success is not None,
            "last_attempt": stamp(self.last_attempt),
            "last_success": stamp(self.last_success),
            "last_status": self.last_status,
            "kind": self.kind or None,
            "error": self.last_error or None,
            "failures": self.failures,
            "items": self.items,
            "written": self.written,
            "rejected": self.rejected[:50],
        }


def backoff(every: float, failures: int) -> float:
    """The wait after ``failures`` failed polls in a row: doubling from ``every``, at most an hour (or ``every``)."""
    if failures <= 0:
        return every
    return float(min(every * 2 ** min(failures - 1, 20), max(every, MAX_BACKOFF)))


def entry_file(feed: str, entry: Entry) -> str:
    digest = hashlib.sha256(f"{feed}\n{entry.key}".encode()).hexdigest()[:16]
    return f"up-{digest}.html"


def entry_text(entry: Entry) -> str | None:
    """The article file for ``entry``, or None when it has nothing to be keyed or dated by."""
    if not entry.key or entry.published is None:
        return None
    published = entry.published.astimezone(dt.UTC)
    meta: dict[str, Any] = {"title": plain(entry.title) or "(untitled)", "date": published.isoformat()}
    if entry.updated is not None and entry.updated > published:
        meta["updated"] = entry.updated.astimezone(dt.UTC).isoformat()
    if entry.author:
        meta["author"] = plain(entry.author)
    tags = plain_names(entry.categories)
    if tags:
        meta["tags"] = tags
    summary = plain(entry.summary)
    if summary:
        meta["summary"] = summary
    if entry.image:
        meta["image"] = entry.image
    if entry.link:
        meta["canonical_url"] = entry.link
    return article_text(meta, entry.html)


def prepare_entries(config: Config, feed: str, entries: list[Entry]) -> tuple[list[tuple[str, str]], list[str]]:
    """(file name, text) of each entry that loads cleanly, and the entries left out with why."""
    renderer = body_renderer(config)
    ready: list[tuple[str, str]] = []
    rejected: list[str] = []
    for entry in entries:
        text = entry_text(entry)
        if text is None:
            rejected.append(f"{entry.key or entry.title or '?'}: no guid/id and link, or no date")
            continue
        name = entry_file(feed, entry)
        problems = ProblemList()
        ContentLoader(config, renderer, problems).parse_article(text, config.feeds_dir / feed / name, feed)
        if problems.errors:
            rejected.append(f"{entry.key}: {problems.errors[0].message}")
            continue
        ready.append((name, text))
    return ready, rejected


def apply_entries(config: Config, feed: str, entries: list[Entry]) -> tuple[int, list[str]]:
    """Write the entries that load cleanly; (files written, entries left out with why). Runs off the loop."""
    ready, rejected = prepare_entries(config, feed, entries)
    files = ArticleFiles(config.feeds_dir, FILE_PATTERN)
    written = sum(1 for name, text in ready if files.write(name[3:19], feed, name, text).outcome != "unchanged")
    return written, rejected


async def fetch(session: aiohttp.ClientSession, upstream: Upstream, state: UpstreamState | None) -> bytes | None:
    """The upstream document, or None for 304 Not Modified. Raises ``UpstreamError``."""
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1",
    }
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        async with session.get(
            upstream.url, headers=headers, timeout=aiohttp.ClientTimeout(total=upstream.timeout), max_redirects=5
        ) as response:
            if state is not None:
                state.last_status = response.status
            if response.status == 304:
                return None
            if response.status != 200:
                raise UpstreamError(f"HTTP {response.status} {response.reason or ''}".strip())
            if response.content_length is not None and response.content_length > upstream.max_bytes:
                raise UpstreamError(f"{response.content_length} bytes, over max_bytes ({upstream.max_bytes})")
            data = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                data += chunk
                if len(data) > upstream.max_bytes:
                    raise UpstreamError(f"over max_bytes ({upstream.max_bytes} bytes)")
            if state is not None:
                state.etag = response.headers.get("ETag", "")
                state.last_modified = response.headers.get("Last-Modified", "")
            return bytes(data)
    except TimeoutError:
        raise UpstreamError(f"timed out after {upstream.timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None


class UpstreamPoller:
    """One task per followed feed, kept in step with the current Snapshot's ``upstream:`` settings."""

    def __init__(self, reloader: Reloader) -> None:
        self.reloader = reloader
        self.states: dict[str, UpstreamState] = {}
        self.tasks: dict[str, tuple[Upstream, asyncio.Task[None]]] = {}
        self.session: aiohttp.ClientSession | None = None
        self.polls = 0

    def sync(self, snapshot: Snapshot) -> None:
        """Start, restart or stop tasks so that they match ``snapshot``'s feeds."""
        wanted = {name: feed.upstream for name, feed in snapshot.feeds.items() if feed.upstream is not None}
        for name, (upstream, task) in list(self.tasks.items()):
            if wanted.get(name) != upstream:
                task.cancel()
                del self.tasks[name]
                if name not in wanted:
                    self.states.pop(name, None)
        for name, upstream in wanted.items():
            if name not in self.tasks:
                state = self.states.get(name)
                if state is None or state.url != upstream.url:
                    self.states[name] = UpstreamState(name, upstream.url)
                self.tasks[name] = (upstream, asyncio.get_running_loop().create_task(self._follow(name, upstream)))

    async def _follow(self, feed: str, upstream: Upstream) -> None:
        while True:
            await self.poll(feed, upstream)
            await asyncio.sleep(backoff(upstream.every, self.states[feed].failures))

    async def poll(self, feed: str, upstream: Upstream) -> bool:
        """One poll of ``feed``; True when it changed files (and a reload was asked for)."""
        state = self.states.setdefault(feed, UpstreamState(feed, upstream.url))
        state.last_attempt = dt.datetime.now(dt.UTC)
        self.polls += 1
        try:
            if self.session is None:
                self.session = aiohttp.ClientSession()
            data = await fetch(self.session, upstream, state)
            if data is not None:
                state.kind, entries = await asyncio.to_thread(read_feed, data)
                config = self.reloader.holder.current.config
                written, rejected = await asyncio.to_thread(apply_entries, config, feed, entries)
                state.items, state.written, state.rejected = len(entries), written, rejected
            else:
                written = 0
        except (UpstreamError, FeedError) as exc:
            state.failures += 1
            state.last_error = str(exc)
            log.warning(
                "upstream %s (%s): %s; keeping the last good items, next try in %.0f s",
                feed,
                upstream.url,
                exc,
                backoff(upstream.every, state.failures),
            )
            return False
        except OSError as exc:  # writing the files failed: same rule, nothing half-done is served
            state.failures += 1
            state.last_error = f"cannot write: {exc.strerror or exc}"
            log.error("upstream %s: %s", feed, state.last_error)
            return False
        state.failures, state.last_error = 0, ""
        if written:
            outcome = await self.reloader.reload(f"upstream {feed}")
            if not outcome.accepted:
                state.last_error = "written, but the reload was rejected: " + "; ".join(
                    p.message for p in outcome.errors[:3]
                )
        state.last_success = dt.datetime.now(dt.UTC)  # after the reload: the items are live from now on
        return written > 0

    def status(self) -> list[dict[str, Any]]:
        return [state.as_dict() for _, state in sorted(self.states.items())]

    async def close(self) -> None:
        for _, task in self.tasks.values():
            task.cancel()
        for _, task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self.session is not None:
            await self.session.close()
            self.session = None
