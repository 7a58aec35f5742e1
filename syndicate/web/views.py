"""Request handlers: parse the request, ask the domain, shape the response."""

from __future__ import annotations

import html

from aiohttp import web

from syndicate.formats import FORMATS
from syndicate.partners import Audience
from syndicate.publish import PageNotFound, PageRequest, ad_resolver, feed_url, feed_view
from syndicate.snapshot import Snapshot
from syndicate.web.errors import text_error
from syndicate.web.state import SNAPSHOTS


class Unauthorized(Exception):
    """A key was given and matches no partner."""


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


async def healthz(request: web.Request) -> web.Response:
    snapshot = request.app[SNAPSHOTS].current
    return web.json_response({"status": "ok", "generation": snapshot.generation})


async def feed(request: web.Request) -> web.StreamResponse:
    snapshot = request.app[SNAPSHOTS].current
    name, fmt = request.match_info["feed"], request.match_info["fmt"]
    if fmt not in FORMATS:
        return text_error(404, f"unknown format {fmt!r}: use " + ", ".join(FORMATS))
    if name not in snapshot.feeds:
        return text_error(404, f"unknown feed {name!r}")
    try:
        audience = audience_of(request, snapshot)
    except Unauthorized:
        return text_error(401, "unknown key", headers={"WWW-Authenticate": 'Bearer realm="feeds"'})
    if not audience.may_read(name, fmt):
        return text_error(403, f"this key may not read {name}.{fmt}")
    page_text = request.query.get("page", "1")
    if not page_text.isdigit() or len(page_text) > 6:
        return text_error(400, "page must be a positive whole number")
    try:
        view = feed_view(snapshot, PageRequest(name, fmt, int(page_text)), ad_resolver(snapshot, audience, fmt))
    except PageNotFound as exc:
        return text_error(404, str(exc))
    output = FORMATS[fmt]
    return web.Response(body=output.render(view), headers={"Content-Type": output.content_type})


async def index(request: web.Request) -> web.Response:
    snapshot = request.app[SNAPSHOTS].current
    site = snapshot.config.site
    links: list[str] = []
    rows: list[str] = []
    for name, feed in sorted(snapshot.feeds.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        title = html.escape(feed.title)
        urls = {fmt: feed_url(snapshot, name, fmt) for fmt in FORMATS}
        links += [f'<link rel="alternate" type="{FORMATS[fmt].media_type}" title="{title} ({fmt})" '
                  f'href="{html.escape(url)}">' for fmt, url in urls.items()]
        anchors = " · ".join(f'<a href="{html.escape(url)}">{fmt.upper()}</a>' for fmt, url in urls.items())
        rows.append(f"<li><strong>{title}</strong> <code>{html.escape(name)}</code> "
                    f"({len(feed.articles)} articles): {anchors}</li>")
    page = f"""<!doctype html>
<html lang="{html.escape(site.language)}">
<head>
<meta charset="utf-8">
<title>{html.escape(site.title)} feeds</title>
{chr(10).join(links)}
</head>
<body>
<h1>{html.escape(site.title)}</h1>
<p>{html.escape(site.description)}</p>
<ul>
{chr(10).join(rows)}
</ul>
</body>
</html>
"""
    return web.Response(text=page, content_type="text/html", charset="utf-8")
