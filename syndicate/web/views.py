"""Request handlers: parse the request, ask the domain, shape the response."""

from __future__ import annotations

import datetime as dt
import html
import os
import time

from aiohttp import web

from syndicate.ads.caps import CapView
from syndicate.ads.resolver import Links, tally
from syndicate.config import HttpConfig, RateLimit, Rotation
from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble, marker
from syndicate.partners import Audience
from syndicate.publish import (
    PageRequest,
    ad_resolver,
    feed_of,
    feed_updated,
    feed_url,
    feed_view,
    page_articles,
    page_count,
    page_url,
)
from syndicate.snapshot import Snapshot
from syndicate.web.conditional import accepts_gzip, http_date, not_modified
from syndicate.web.errors import text_error
from syndicate.web.forwarded import client_of
from syndicate.web.ratelimit import Verdict
from syndicate.web.state import CAPS, FRAGMENTS, HEALTH, LIMITER, LINKS, ON_SERVED, SNAPSHOTS, VARIANTS
from syndicate.web.variants import Rendered


class Unauthorized(Exception):
    """A key was given and matches no partner."""


def query_key(request: web.Request) -> str | None:
    """The key a partner sent as ``?key=``, when that is how it authenticated (a Bearer header wins)."""
    scheme, _, _ = request.headers.get("Authorization", "").partition(" ")
    return None if scheme.lower() == "bearer" else request.query.get("key") or None


def audience_of(request: web.Request, snapshot: Snapshot) -> Audience:
    """The partner whose key came with the request, else the public profile."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else request.query.get("key", "")
    if not key:
        return snapshot.config.public
    partner = snapshot.partner_for_key(key)
    if partner is None:
        raise Unauthorized
    return partner


def _page_request(request: web.Request) -> PageRequest:
    """The page asked for, with what its links must repeat: a query key, and how the query was spelled."""
    info = request.match_info
    for name in ("key", "page"):  # which of two values was meant is a guess: ask instead
        if len(request.query.getall(name, ())) > 1:
            raise BadParameter(f"{name} given more than once")
    key = query_key(request)
    spelled = tuple(dict.fromkeys(name for name in request.query if name == "page" or (name == "key" and key)))
    return PageRequest(info["feed"], info["fmt"], _page_number(request), info.get("kind"), info.get("slug"),
                       key=key, spelled=spelled)


async def healthz(request: web.Request) -> web.Response:
    snapshot = request.app[SNAPSHOTS].current
    body: dict[str, object] = {"status": "ok", "generation": snapshot.generation, "pid": os.getpid()}
    for part in request.app.get(HEALTH, ()):
        body.update(part())
    store = body.get("store")
    if isinstance(store, dict) and not store.get("reachable"):
        body["status"] = "degraded"  # still serving, from its last state
    return web.json_response(body)


def client_address(request: web.Request, http: HttpConfig) -> str:
    """The peer, or behind trusted proxies the address they saw (``web/forwarded.py``)."""
    peer = request.remote or "unknown"
    if not http.trust_forwarded:
        return peer
    return client_of(peer, request.headers.get("X-Forwarded-For"), http.trusted_proxies)


class BadParameter(ValueError):
    """A query parameter the feed cannot use: a 400 naming it."""


def _page_number(request: web.Request) -> int:
    """``?page=``: ASCII digits only (``int`` also reads "²" and "１"), 1 to 999999."""
    text = request.query.get("page", "1")
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) < 1:
        raise BadParameter("page must be a positive whole number (1 to 999999)")
    return int(text)


def wall_clock() -> float:
    """Seconds since the epoch; the one clock feed responses read (tests replace it)."""
    return time.time()


def rotation_window(snapshot: Snapshot) -> int:
    """The rotation window a response is drawn in; always 0 under ``per_item``, whose items
    keep the ads of their publication window, so one variant serves every window."""
    ads = snapshot.config.ads
    return int(wall_clock()) // ads.rotation_seconds if ads.rotation is Rotation.WINDOW else 0


def _caps(request: web.Request, snapshot: Snapshot) -> CapView | None:
    """The counts caps are judged on in the current (wall-clock) rotation window, whatever ``ads.rotation`` is;
    None without tracking."""
    state = request.app.get(CAPS)
    if state is None:
        return None
    seconds = snapshot.config.ads.rotation_seconds
    return state.for_window(int(wall_clock()) // seconds * seconds)


def _render(snapshot: Snapshot, page: PageRequest, audience: Audience, window: int, links: Links | None,
            fragments: FragmentCache, caps: CapView | None = None) -> Rendered:
    """Runs in a worker thread: the bytes, assembled from cached item fragments, and what they carry.

    ``caps``: the counts frozen for this window (``CAPS``), so every variant of a window judges caps alike.
    """
    window_start = dt.datetime.fromtimestamp(window * snapshot.config.ads.rotation_seconds, dt.UTC)
    resolver = ad_resolver(snapshot, audience, page.format, window_start, links, caps)
    template = feed_view(snapshot, page, lambda call, article: marker(call.index))
    body = assemble(page.format, snapshot.generation, template, page_articles(snapshot, page), resolver, fragments)
    last_modified = feed_updated(feed_of(snapshot, page))
    if resolver.served:  # ads change with config edits, and (rotation: window) with each rotation window
        last_modified = max(last_modified, snapshot.ads_changed)
        if snapshot.config.ads.rotation is Rotation.WINDOW:
            last_modified = max(last_modified, window_start)
    if caps is not None and resolver.budget is not None and resolver.budget.limited:  # a cap changed what is here
        last_modified = max(last_modified, dt.datetime.fromtimestamp(caps.start, dt.UTC))
    http = snapshot.config.http
    links_header = [f'<{hub}>; rel="hub"' for hub in http.hubs] + [f'<{page_url(snapshot, page)}>; rel="self"']
    headers = {
        "Content-Type": FORMATS[page.format].content_type,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": f"{'public' if audience.is_public else 'private'}, max-age={http.max_age}",
        "Vary": "Accept-Encoding, Authorization",
        "Link": ", ".join(links_header),
    }
    # ``served`` counts every placement (docs/tracking.md): tallied here once, added per response.
    return Rendered(body, last_modified, tally(resolver.served), headers)


def _too_many(verdict: Verdict) -> web.Response:
    return text_error(429, f"too many requests: retry in {verdict.retry_after} s", headers=verdict.headers())


def _bucket(request: web.Request, snapshot: Snapshot, audience: Audience | None) -> tuple[RateLimit | None, str]:
    """Whose tokens a request spends: a partner's own bucket, else its client address's (unknown keys too)."""
    http = snapshot.config.http
    if audience is None or audience.is_public:
        return http.public_limit, f"ip:{client_address(request, http)}"
    return http.partner_limits.get(audience.id, http.partner_limit), f"p:{audience.id}"


def _refusal(request: web.Request, snapshot: Snapshot, audience: Audience | None) -> web.Response | PageRequest:
    """The feed page asked for, or the error answer to give instead."""
    info = request.match_info
    fmt = info["fmt"]
    if fmt not in FORMATS:
        return text_error(404, f"unknown format {fmt!r}: use " + ", ".join(FORMATS))
    try:
        page = _page_request(request)
    except BadParameter as exc:
        return text_error(400, str(exc))
    feed_obj = snapshot.feed(page.feed, page.kind, page.slug)
    if feed_obj is None:
        return text_error(404, f"unknown feed {page.path.removeprefix('/feeds/')!r}")
    if audience is None:
        return text_error(401, "unknown key", headers={"WWW-Authenticate": 'Bearer realm="feeds"'})
    if not audience.may_read(page.feed, fmt):
        return text_error(403, f"this key may not read {page.path.removeprefix('/feeds/')}.{fmt}")
    if not 1 <= page.page <= page_count(feed_obj):
        return text_error(404, f"page {page.page} does not exist; this feed has {page_count(feed_obj)}")
    return page


async def feed(request: web.Request) -> web.StreamResponse:
    snapshot = request.app[SNAPSHOTS].current
    http = snapshot.config.http
    try:
        audience: Audience | None = audience_of(request, snapshot)
    except Unauthorized:
        audience = None
    limit, who = _bucket(request, snapshot, audience)
    limiter = request.app[LIMITER]
    if limit is not None:  # refuse a client with no tokens left before doing anything for it
        verdict = limiter.take(who, limit, http.not_modified_cost, charge=False, wait_for=1.0)
        if not verdict.allowed:
            return _too_many(verdict)
    page = _refusal(request, snapshot, audience)
    if isinstance(page, web.Response):  # an error answer costs what a full one does: guessing keys is throttled
        if limit is not None:
            verdict = limiter.take(who, limit, 1.0)
            if not verdict.allowed:
                return _too_many(verdict)
            page.headers.update(verdict.headers())
        return page
    assert audience is not None

    window = rotation_window(snapshot)
    caps = _caps(request, snapshot)
    # A render reads the caps only through their state: it keys the variant (under per_item it stays the same
    # across windows until a capped unit nears or reaches its cap).
    cap_key = caps.state(snapshot.generation, snapshot.spaces, audience.id) if caps is not None else ()
    key = (snapshot.generation, page, audience.id, window, cap_key)
    links = request.app.get(LINKS)
    fragments = request.app[FRAGMENTS]
    variant = await request.app[VARIANTS].get(
        key, lambda: _render(snapshot, page, audience, window, links, fragments, caps))

    headers = dict(variant.headers)
    use_gzip = accepts_gzip(request.headers.get("Accept-Encoding"))
    headers["ETag"] = variant.gzip_etag if use_gzip else variant.etag
    fresh = not_modified(request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"),
                         variant.etags, variant.last_modified)

    if limit is not None:
        verdict = limiter.take(who, limit, http.not_modified_cost if fresh else 1.0)
        if not verdict.allowed:
            return _too_many(verdict)
        headers.update(verdict.headers())
    if fresh:
        del headers["Content-Type"]
        return web.Response(status=304, headers=headers)
    on_served = request.app.get(ON_SERVED)
    if on_served is not None and variant.served and request.method == "GET":
        on_served(variant.served, request.headers.get("User-Agent", ""))
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=variant.gzipped, headers=headers)
    return web.Response(body=variant.body, headers=headers)


async def opml(request: web.Request) -> web.Response:
    """Every feed anonymous readers may read, as an OPML 2.0 subscription list."""
    snapshot = request.app[SNAPSHOTS].current
    public = snapshot.config.public
    outlines = []
    for name, feed_obj in sorted(snapshot.feeds.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        if not public.may_read(name, "rss"):
            continue
        outlines.append(
            f'    <outline type="rss" text="{html.escape(feed_obj.title)}" title="{html.escape(feed_obj.title)}" '
            f'xmlUrl="{html.escape(feed_url(snapshot, name, "rss"))}" htmlUrl="{html.escape(feed_obj.link)}"/>')
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n'
        f"    <title>{html.escape(snapshot.config.site.title)}</title>\n  </head>\n  <body>\n"
        + "\n".join(outlines) + "\n  </body>\n</opml>\n"
    )
    return web.Response(text=body, content_type="text/x-opml", charset="utf-8")
