"""GET /admin/preview/{feed}/{article_id}: one article as a given partner would receive it.

``format=rss|atom|json`` returns a one-item feed built by the same code as the
real feed (same resolver, same links), so what you see is what the partner gets.
``format=html`` is a page for people: the resolved content and the ads placed,
with untracked links so that looking at a preview never counts an impression.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from syndicate.ads.resolver import AdResolver, DirectLinks, Links
from syndicate.content.model import Article
from syndicate.formats import FORMATS
from syndicate.partners import Audience
from syndicate.publish import PageRequest, ad_resolver, content_html, feed_view, item_view
from syndicate.snapshot import Snapshot
from syndicate.timestamps import parse_timestamp
from syndicate.web.errors import json_error
from syndicate.web.state import LINKS, SNAPSHOTS

PREVIEW_FORMATS = ("html", *FORMATS)
#: The preview page shows sanitised article and ad markup; nothing in it may run or load a frame.
_PAGE_POLICY = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _moment(text: str | None) -> dt.datetime | None:
    """``at=`` previews another rotation window or a scheduled campaign. Raises ``ValueError``."""
    return parse_timestamp(text) if text else None


async def preview(request: web.Request) -> web.StreamResponse:
    snapshot = request.config_dict[SNAPSHOTS].current
    feed_name, article_id = request.match_info["feed"], request.match_info["article_id"]
    fmt = request.query.get("format", "html")
    via = request.query.get("via", "rss")
    if fmt not in PREVIEW_FORMATS or via not in FORMATS:
        return json_error(
            400, "format is one of " + ", ".join(PREVIEW_FORMATS) + "; via is one of " + ", ".join(FORMATS)
        )
    try:
        moment = _moment(request.query.get("at"))
    except ValueError as exc:
        return json_error(400, f"at: {exc}")
    partner = request.query.get("partner", snapshot.config.public.id)
    audience = snapshot.audience(partner)
    if audience is None:
        return json_error(404, f"unknown partner {partner!r}")
    if feed_name not in snapshot.feeds:
        return json_error(404, f"unknown feed {feed_name!r}")
    article = snapshot.article(feed_name, article_id)
    if article is None:
        return json_error(404, f"no article {article_id!r} in feed {feed_name!r}")
    if fmt == "html":
        resolver = ad_resolver(snapshot, audience, via, moment, DirectLinks())
        page = _page(snapshot, audience, article, via, resolver, request)
        return web.Response(
            text=page, content_type="text/html", charset="utf-8", headers={"Content-Security-Policy": _PAGE_POLICY}
        )
    if not audience.may_read(feed_name, fmt):
        return json_error(403, f"partner {audience.id!r} may not read {feed_name}.{fmt}: the feed answers 403")
    links: Links | None = request.config_dict.get(LINKS)
    resolver = ad_resolver(snapshot, audience, fmt, moment, links)
    view = feed_view(snapshot, PageRequest(feed_name, fmt))
    one = replace(view, items=(item_view(article, resolver),), updated=article.updated)
    output = FORMATS[fmt]
    return web.Response(body=output.render(one), headers={"Content-Type": output.content_type})


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice on the page: a link to it, or none for the one shown."""

    name: str
    url: str | None


def _page(
    snapshot: Snapshot, audience: Audience, article: Article, via: str, resolver: AdResolver, request: web.Request
) -> str:
    content = Markup(content_html(article, resolver))  # sanitised at load, the ads' markup is ours; fills served

    def link(**changes: str) -> str:
        return f"{request.path}?{urlencode({'partner': audience.id, 'format': 'html', 'via': via, **changes})}"

    who = [snapshot.config.public, *snapshot.config.partners]
    return aiohttp_jinja2.render_string(
        "preview.html",
        request,
        {
            "lang": snapshot.config.site.language,
            "article": article,
            "generation": snapshot.generation,
            "via": via,
            "audience": audience.id,
            "content": content,
            "ads": resolver.served,
            "readable": audience.may_read(article.feed, via),
            "audiences": [Choice(a.id, None if a.id == audience.id else link(partner=a.id)) for a in who],
            "vias": [Choice(f, None if f == via else link(via=f)) for f in FORMATS],
            "raw": [Choice(f.upper(), link(format=f)) for f in FORMATS],
        },
    )
