"""``syndicate check`` for followed feeds: fetch each upstream once and say what it holds."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import aiohttp

from syndicate.content.model import Feed, Upstream
from syndicate.ingest.feedread import FeedError, read_feed
from syndicate.ingest.upstream import UpstreamError, fetch, prepare_entries
from syndicate.problems import Level, Problem
from syndicate.snapshot import Snapshot


async def _one(session: aiohttp.ClientSession, snapshot: Snapshot, feed: Feed, upstream: Upstream) -> dict[str, Any]:
    result: dict[str, Any] = {"feed": feed.name, "url": upstream.url}
    try:
        data = await fetch(session, upstream, None)
        kind, entries = read_feed(data or b"")
    except (UpstreamError, FeedError) as exc:
        result["error"] = str(exc)
        return result
    ready, rejected = await asyncio.to_thread(prepare_entries, snapshot.config, feed.name, entries)
    result.update(kind=kind, items=len(entries), usable=len(ready), rejected=rejected)
    return result


async def _all(
    followed: list[tuple[Feed, Upstream]], snapshot: Snapshot
) -> list[tuple[Feed, Upstream, dict[str, Any]]]:
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(_one(session, snapshot, feed, upstream) for feed, upstream in followed))
    return [(feed, upstream, result) for (feed, upstream), result in zip(followed, results, strict=True)]


def check_upstreams(snapshot: Snapshot) -> tuple[list[dict[str, Any]], list[Problem]]:
    """One result per followed feed, and a warning for each that fails or has items left out.

    A failing upstream is a warning, not an error: the server keeps serving the last good items.
    """
    results: list[dict[str, Any]] = []
    problems: list[Problem] = []
    followed = [(feed, feed.upstream) for _, feed in sorted(snapshot.feeds.items()) if feed.upstream is not None]
    if not followed:  # no event loop needed, so `check` also runs inside one (tests, the admin API)
        return results, problems
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own loop, even when called from a running one
        checked = pool.submit(asyncio.run, _all(followed, snapshot)).result()
    for feed, upstream, result in checked:
        results.append(result)
        path, line = feed.path or snapshot.config.feeds_dir / feed.name, upstream.line
        if "error" in result:
            problems.append(
                Problem(
                    path,
                    line,
                    Level.WARNING,
                    f"upstream {upstream.url}: {result['error']}; the server keeps the last good items",
                )
            )
            continue
        problems += [Problem(path, line, Level.WARNING, f"upstream item left out: {why}") for why in result["rejected"]]
    return results, problems


def summary_line(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"upstream {result['feed']}: {result['url']}: failed: {result['error']}"
    return (
        f"upstream {result['feed']}: {result['url']}: {result['kind']}, {result['items']} items, "
        f"{result['usable']} usable"
    )
