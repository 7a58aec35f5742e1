"""Tracking over HTTP: /c/<token> (click), /i/<token>.gif (pixel), /admin/stats(.json); and the wiring.

A click answers 302 to exactly the signed target, and anything that does not
verify is a 400 with no Location: never an open redirect. Counting uses neither
cookies nor the Referer. The stats handlers are routed in the /admin/ sub-application
(``web.admin``), behind its one admin-token check, and so are a 404 when no admin
token is configured, like the rest of /admin/.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence

import aiohttp_jinja2
from aiohttp import web

from syndicate.ads.caps import capped_units
from syndicate.storage.backend import store_for
from syndicate.tracking import stats
from syndicate.tracking.events import Kind
from syndicate.tracking.keys import load_keys
from syndicate.tracking.links import SignedLinks
from syndicate.tracking.page import stats_context
from syndicate.tracking.store import Grouping
from syndicate.tracking.tokens import BadToken, Claim
from syndicate.tracking.tracker import Tracker
from syndicate.web.errors import answer_error, text_error
from syndicate.web.state import CAPS, LINKS, ON_SERVED, SIGNING_KEYS, SNAPSHOTS, TRACKER
from syndicate.web.views import client_address

log = logging.getLogger("syndicate.tracking")

#: A transparent 1x1 GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex, nofollow"}
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def setup_tracking(app: web.Application) -> None:
    """Keys, signed links, the tracker and its start/stop. Raises ``LoadError`` on unusable signing keys."""
    holder = app[SNAPSHOTS]
    config = holder.current.config
    settings = config.tracking
    keys = load_keys(settings.keys_file)
    app[SIGNING_KEYS] = keys
    tracker = Tracker(
        store_for(config),
        enabled=settings.enabled,
        flush_seconds=settings.flush_seconds,
        buffer_limit=settings.buffer_limit,
        dedupe_seconds=settings.dedupe_seconds,
    )
    app[TRACKER] = tracker
    if settings.enabled:
        app[LINKS] = SignedLinks(keys, lambda: holder.current.config.server.public_url, settings.pixel)
        app[ON_SERVED] = tracker.record_served
        tracker.caps.units = lambda: capped_units(holder.current.spaces)  # read per refresh: reloads change it
        app[CAPS] = tracker.caps
    app.cleanup_ctx.append(_tracker_context)


async def _tracker_context(app: web.Application) -> AsyncIterator[None]:
    """Start flushing with the app; on a graceful stop (SIGTERM, SIGINT) write everything left."""
    tracker = app[TRACKER]
    await tracker.start()
    yield
    await tracker.stop()


def _verified(request: web.Request, token: str) -> Claim | None:
    try:
        return request.app[SIGNING_KEYS].verify(token)
    except BadToken:
        return None


def _bad_token() -> web.Response:
    return text_error(400, "this tracking link is not valid", headers=NO_STORE)


def _count(request: web.Request, kind: Kind, claim: Claim, token: str) -> None:
    if request.method != "GET":  # a HEAD (link checkers, prefetch) is answered but not counted
        return
    http = request.app[SNAPSHOTS].current.config.http
    request.app[TRACKER].record(
        kind, claim, token, request.headers.get("User-Agent", ""), client_address(request, http)
    )


async def click(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    claim = _verified(request, token)
    if claim is None:
        return _bad_token()
    _count(request, Kind.CLICK, claim, token)
    return web.Response(status=302, headers={"Location": claim.target, **NO_STORE})


async def pixel(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    claim = _verified(request, token)
    if claim is None:
        return _bad_token()
    _count(request, Kind.RENDERED, claim, token)
    return web.Response(body=PIXEL, content_type="image/gif", headers=NO_STORE)


# -- stats --------------------------------------------------------------------------------------


def _filters(request: web.Request) -> tuple[dt.date | None, dt.date | None, Grouping]:
    """``since``, ``until`` (YYYY-MM-DD, inclusive) and ``by``; raises ValueError with a message."""
    query = request.query
    since = stats.parse_day(query["since"]) if query.get("since") else None
    until = stats.parse_day(query["until"]) if query.get("until") else None
    if since and until and since > until:
        raise ValueError("since is after until")
    by = query.get("by", "space")
    for choice in stats.BY_CHOICES:
        if by == choice:
            return since, until, choice
    raise ValueError("by must be one of " + ", ".join(stats.BY_CHOICES))


async def _reports(
    request: web.Request, groupings: Sequence[Grouping], since: dt.date | None, until: dt.date | None
) -> list[stats.Report]:
    """Flush first, so the numbers include the last second; then query on the store's thread."""
    tracker = request.config_dict[TRACKER]  # served from the /admin/ sub-application
    await tracker.flush()
    return await tracker.in_store(lambda: [stats.report(tracker.store, by, since, until) for by in groupings])


async def _stats_or_error(
    request: web.Request, groupings: Sequence[Grouping] | None
) -> web.Response | tuple[list[stats.Report], Grouping]:
    """The reports a stats request asks for (``None``: its own ``by``), or the response that refuses it.

    Authentication is the /admin/ sub-application's (``web.admin_auth``), as for every admin URL."""
    try:
        since, until, by = _filters(request)
    except ValueError as exc:
        return answer_error(request, 400, str(exc), headers=NO_STORE)
    try:
        return await _reports(request, groupings or [by], since, until), by
    except Exception as exc:
        log.error("stats: the tracking store cannot be read: %s", exc)
        return answer_error(request, 503, "the tracking store cannot be read; the error was logged", headers=NO_STORE)


async def stats_json(request: web.Request) -> web.Response:
    found = await _stats_or_error(request, None)
    if isinstance(found, web.Response):
        return found
    [report], _ = found
    return web.json_response({**report.as_json(), "replica": _since_start(request)}, headers=NO_STORE)


def _since_start(request: web.Request) -> dict[str, int]:
    """This process's running totals: the stored counts cover the fleet, these only the answering replica."""
    tracker = request.config_dict[TRACKER]
    return {"dropped_since_start": tracker.buffer.dropped_since_start, "pending": tracker.pending()}


async def stats_html(request: web.Request) -> web.Response:
    found = await _stats_or_error(request, ["day", "space", "unit", "partner"])
    if isinstance(found, web.Response):
        return found
    (days, spaces, units, partners), _ = found
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_POLICY}
    context = {**stats_context(days, spaces, units, partners), "replica": _since_start(request)}
    page = aiohttp_jinja2.render_string("stats.html", request, context)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=headers)
