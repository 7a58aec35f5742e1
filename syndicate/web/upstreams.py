"""The upstream poller wired into an app: started with it, kept in step with each new Snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from syndicate.ingest.upstream import UpstreamPoller
from syndicate.snapshot import Snapshot
from syndicate.web.state import RELOADER, SNAPSHOTS

UPSTREAMS = web.AppKey("upstreams", UpstreamPoller)


async def upstream_context(app: web.Application) -> AsyncIterator[None]:
    poller = UpstreamPoller(app[RELOADER])
    app[UPSTREAMS] = poller

    def follow(old: Snapshot, new: Snapshot) -> None:
        poller.sync(new)

    holder = app[SNAPSHOTS]
    holder.listeners.append(follow)
    poller.sync(holder.current)
    try:
        yield
    finally:
        holder.listeners.remove(follow)
        await poller.close()


def upstream_status(app: Any) -> list[dict[str, Any]]:
    """Each followed feed's poll state for /admin/status (``app``: an app or a request's config_dict)."""
    poller = app.get(UPSTREAMS)
    return poller.status() if poller is not None else []
