"""Request handlers: parse the request, ask the domain, shape the response."""

from __future__ import annotations

import datetime as dt
import html
import os
import time

from aiohttp import web

from syndicate.ads.caps import CapView
from syndicate.ads.resolver import Links, tally
from syndicate.ads.slotcache import SlotCache
from syndicate.config import HttpConfig, RateLimit, Rotation
from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble
from syndicate.partners import Audience
from syndicate.publish import (
    PageRequest,
    ad_resolver,
    feed_header,
    feed_of,
    feed_updated,
    feed_url,
    page_articles,
    page_count,
    page_url,
)
from syndicate.snapshot import Snapshot
from syndicate.tracking.caps import CapState
from syndicate.web.auth import Unauthorized, audience_of, query_key
from syndicate.web.errors import text_error
from syndicate.web.forwarded import client_of
from syndicate.web.ratelimit import RateLimiter, Verdict
from syndicate.web.respond import choose
from syndicate.web.state import FRAGMENTS, HEALTH, LIMITER, LINKS, SERVING, SLOTS, SNAPSHOTS, Serving
from syndicate.web.variants import Rendered, Representation, Variant, VariantKey
from syndicate.web.wanted import Wanted
from syndicate.web.wire import WireResponse


def _page_request(request: web.Request) -> PageRequest:
    """The page asked for, with what its links must repeat: a query key, and how the query was spelled."""
    info = request.match_info
    for name in ("key", "page"):  # which of two values was meant is a guess: ask instead
        if len(request.query.getall(name, ())) > 1:
            raise BadParameter(f"{name} given more than once")
    key = query_key(request)
    spelled = tuple(dict.fromkeys(name for name in request.query if name == "page" or (name == "key" and key)))
    return PageRequest(
        info["feed"], info["fmt"], _page_number(request), info.get("kind"), info.get("slug"), key=key, spelled=spelled
    )


async def healthz(request: web.Request) -> web.Response:
    snapshot = request.app[SNAPSHOTS].current
    body: dict[str, object] = {"status": "ok", "generation": snapshot.generation, "pid": os.getpid()}
    for part in request.app.get(HEALTH, ()):
        body.update(part())
    store = body.get("store")
    if isinstance(store, dict) and not store.get("reachable"):
        body["status"] = "degraded"  # still serving, from its last state
    return web.json_response(body)


def client_address(request: web.BaseRequest, http: HttpConfig) -> str:
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


def rotation_window(snapshot: Snapshot, now: int | None = None) -> int:
    """The rotation window a response is drawn in (at ``now``, else the wall clock); always 0 under
    ``per_item``, whose items keep the ads of their publication window, so one variant serves every window."""
    ads = snapshot.config.ads
    if ads.rotation is not Rotation.WINDOW:
        return 0
    return (int(wall_clock()) if now is None else now) // ads.rotation_seconds


def _caps(state: CapState | None, snapshot: Snapshot, now: int) -> CapView | None:
    """The counts caps are judged on in the rotation window of ``now``, whatever ``ads.rotation`` is;
    None without tracking."""
    if state is None:
        return None
    seconds = snapshot.config.ads.rotation_seconds
    return state.for_window(now // seconds * seconds)


def render(
    snapshot: Snapshot,
    page: PageRequest,
    audience: Audience,
    window: int,
    links: Links | None,
    fragments: FragmentCache,
    caps: CapView | None = None,
    slots: SlotCache | None = None,
) -> Rendered:
    """Runs in a worker thread: the bytes, assembled from cached item fragments, and what they carry.

    ``caps``: the counts frozen for this window (``CAPS``), so every variant of a window judges caps alike.
    ``slots``: ad slots resolved by earlier renders (``SLOTS``), reused where no cap is involved.
    """
    window_start = dt.datetime.fromtimestamp(window * snapshot.config.ads.rotation_seconds, dt.UTC)
    resolver = ad_resolver(snapshot, audience, page.format, window_start, links, caps, slots)
    header = feed_header(snapshot, page)
    body = assemble(page.format, header, page_articles(snapshot, page), resolver, fragments)
    last_modified = feed_updated(feed_of(snapshot, page))
    if resolver.served:  # ads change with config edits, and (rotation: window) with each rotation window
        last_modified = max(last_modified, snapshot.ads_changed)
        if snapshot.config.ads.rotation is Rotation.WINDOW:
            last_modified = max(last_modified, window_start)
    if caps is not None and resolver.budget is not None and resolver.budget.limited:  # a cap changed what is here
        last_modified = max(last_modified, dt.datetime.fromtimestamp(caps.start, dt.UTC))
    http = snapshot.config.http
    related = (*((hub, "hub") for hub in http.hubs), (page_url(snapshot, page), "self"))
    facts = Representation(FORMATS[page.format].content_type, audience.is_public, http.max_age, related)
    # ``served`` counts every placement (docs/tracking.md): tallied here once, added per response.
    return Rendered(body, last_modified, tally(resolver.served), facts)


def _too_many(verdict: Verdict) -> web.Response:
    return text_error(429, f"too many requests: retry in {verdict.retry_after} s", headers=verdict.headers())


def _bucket(request: web.BaseRequest, snapshot: Snapshot, audience: Audience | None) -> str:
    """Whose tokens a request spends: a partner's own bucket, else its client address's (unknown keys too)."""
    if audience is None or audience.is_public:
        return f"ip:{client_address(request, snapshot.config.http)}"
    return f"p:{audience.id}"


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


def _checked(request: web.Request, snapshot: Snapshot) -> web.Response | Wanted:
    """Who asks for which page, or the answer that refuses it: a 429 before anything else for a client
    out of tokens, and an error answer costs what a full one does (guessing keys is throttled)."""
    http = snapshot.config.http
    try:
        audience: Audience | None = audience_of(request, snapshot)
    except Unauthorized:
        audience = None
    limit = (audience or snapshot.config.public).limit(http)
    who = _bucket(request, snapshot, audience)
    limiter = request.app[LIMITER]
    if limit is not None:
        verdict = limiter.take(who, limit, http.not_modified_cost, charge=False, wait_for=1.0)
        if not verdict.allowed:
            return _too_many(verdict)
    page = _refusal(request, snapshot, audience)
    if isinstance(page, web.Response):
        if limit is not None:
            verdict = limiter.take(who, limit, 1.0)
            if not verdict.allowed:
                return _too_many(verdict)
            page.headers.update(verdict.headers())
        return page
    assert audience is not None
    return Wanted(page, audience, limit, None if audience.is_public else who)


def _charge(
    limiter: RateLimiter, who: str, limit: RateLimit, not_modified_cost: float, checked: bool, fresh: bool
) -> web.Response | bytes:
    """Charges an answer once it is known (``fresh``: a 304, which costs ``not_modified_cost``; a 200 costs
    one token): its rate-limit header lines, or the 429 that refuses it.

    ``checked``: the client's tokens were already asked about before a render. A cached answer skips that
    question: with ``not_modified_cost`` at most 1 the one charge refuses exactly the requests it would
    have refused, with the same Retry-After (sized for the dearest answer).
    """
    if not checked and not_modified_cost > 1.0:
        asked = limiter.take(who, limit, not_modified_cost, charge=False, wait_for=1.0)
        if not asked.allowed:
            return _too_many(asked)
    cost = not_modified_cost if fresh else 1.0
    spent = limiter.spend(who, limit, cost, wait_for=1.0 if fresh and not checked else None)
    return spent if isinstance(spent, bytes) else _too_many(spent)


def variant_key(
    caps_state: CapState | None, snapshot: Snapshot, page: PageRequest, audience_id: str
) -> tuple[VariantKey, int, CapView | None]:
    """The variant's cache key, with the rotation window and the cap counts a render of it would use."""
    now = int(wall_clock())  # one reading for both: the window and the caps' window always agree
    window = rotation_window(snapshot, now)
    caps = _caps(caps_state, snapshot, now)
    # A render reads the caps only through their state: it keys the variant (under per_item it stays the same
    # across windows until a capped unit nears or reaches its cap).
    cap_key = caps.state(snapshot.generation, snapshot.spaces, audience_id) if caps is not None else ()
    return (snapshot.generation, page, audience_id, window, cap_key), window, caps


def cached_answer(
    serving: Serving, request: web.BaseRequest, snapshot: Snapshot, wanted: Wanted, checked: bool
) -> web.StreamResponse | None:
    """The answer to a checked request whose variant is cached, with its charge and its count; None when the
    variant must be rendered first. ``checked``: the client's tokens were asked about just now."""
    variant = serving.variants.cached(variant_key(serving.caps, snapshot, wanted.page, wanted.audience.id)[0])
    if variant is None:
        return None
    return _answer(serving, request, snapshot, wanted, variant, checked)


def _spender(request: web.BaseRequest, snapshot: Snapshot, wanted: Wanted) -> str:
    """The bucket a checked request's answers spend (``_bucket``; a partner's is remembered with it)."""
    return wanted.bucket or _bucket(request, snapshot, None)


def _answer(
    serving: Serving, request: web.BaseRequest, snapshot: Snapshot, wanted: Wanted, variant: Variant, checked: bool
) -> web.StreamResponse:
    answer = choose(variant, request)
    extra = b""
    if wanted.limit is not None:
        http = snapshot.config.http
        who = _spender(request, snapshot, wanted)
        charged = _charge(serving.limiter, who, wanted.limit, http.not_modified_cost, checked, answer.status == 304)
        if isinstance(charged, web.Response):
            return charged
        extra = charged
    on_served = serving.on_served
    if answer.status == 200 and on_served is not None and variant.served and request.method == "GET":
        on_served(variant.served, request.headers.get("User-Agent", ""))
    return WireResponse(answer, extra)


async def _rendered(
    serving: Serving, app: web.Application, snapshot: Snapshot, wanted: Wanted, request: web.Request, checked: bool
) -> Variant | web.Response:
    """The variant for ``wanted``, made (or awaited) when it was not cached: only for a client with tokens
    left, since a render is the dearest work there is."""
    if wanted.limit is not None and not checked:
        who = _spender(request, snapshot, wanted)
        verdict = serving.limiter.take(
            who, wanted.limit, snapshot.config.http.not_modified_cost, charge=False, wait_for=1.0
        )
        if not verdict.allowed:
            return _too_many(verdict)
    page, audience = wanted.page, wanted.audience
    key, window, caps = variant_key(serving.caps, snapshot, page, audience.id)
    links = app.get(LINKS)
    fragments, slots = app[FRAGMENTS], app[SLOTS]
    return await serving.variants.get(
        key, lambda: render(snapshot, page, audience, window, links, fragments, caps, slots)
    )


async def feed(request: web.Request) -> web.StreamResponse:
    """A feed page: who asks for what (checked once per distinct request and Snapshot), its variant (rendered
    once), and a prepared answer. Repeats of a checked request whose variant is cached are answered by the
    fast lane before routing (``web/fastlane.py``), through the same ``cached_answer``."""
    app = request.app
    serving = app[SERVING]
    snapshot = serving.snapshots.current
    wanted = serving.known.get(request, snapshot.generation)
    checked = wanted is None
    if wanted is None:
        outcome = _checked(request, snapshot)
        if isinstance(outcome, web.Response):
            return outcome
        wanted = serving.known.put(request, snapshot.generation, outcome)
    answered = cached_answer(serving, request, snapshot, wanted, checked)
    if answered is not None:
        return answered
    made = await _rendered(serving, app, snapshot, wanted, request, checked)
    if isinstance(made, web.Response):
        return made
    return _answer(serving, request, snapshot, wanted, made, True)


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
            f'xmlUrl="{html.escape(feed_url(snapshot, name, "rss"))}" htmlUrl="{html.escape(feed_obj.link)}"/>'
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n'
        f"    <title>{html.escape(snapshot.config.site.title)}</title>\n  </head>\n  <body>\n"
        + "\n".join(outlines)
        + "\n  </body>\n</opml>\n"
    )
    return web.Response(text=body, content_type="text/x-opml", charset="utf-8")
