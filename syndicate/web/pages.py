"""HTML pages for people: ``/`` and each feed's page, from templates, rendered once per Snapshot.

The templates (``web/templates/``) are Jinja2 with autoescape on: every value a page
shows arrives as data and is escaped by the template engine, never glued in by hand.
A page is rendered the first time it is asked for under a Snapshot and kept until the
next swap, so ``/`` costs a dictionary lookup however many articles there are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from syndicate.content.index import AUTHORS, TAGS
from syndicate.web.catalog import PER_PAGE, TOP, Catalog
from syndicate.web.conditional import etag_matches
from syndicate.web.errors import text_error
from syndicate.web.pagecache import Page
from syndicate.web.state import PAGES, SNAPSHOTS

KIND_WORDS = {TAGS: ("tag", "tags"), AUTHORS: ("author", "authors")}


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 article``, ``2 articles``, ``1,204 articles``."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def setup_templates(app: web.Application) -> jinja2.Environment:
    """The template environment, on ``app`` so its sub-applications (``/admin/``) find it too."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("syndicate.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plural"] = plural
    env.globals["kind_words"] = KIND_WORDS
    env.globals["top_count"] = TOP
    return env


def _answer(request: web.Request, page: Page) -> web.Response:
    headers = {"ETag": page.etag, "Cache-Control": "public, max-age=60", "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("If-None-Match", "\0"), (page.etag,)):
        return web.Response(status=304, headers=headers)
    return web.Response(body=page.body, content_type="text/html", charset="utf-8", headers=headers)


def _render(request: web.Request, name: str, **context: Any) -> Callable[[Catalog], str]:
    snapshot = request.app[SNAPSHOTS].current

    def render(catalog: Catalog) -> str:
        return aiohttp_jinja2.render_string(
            name,
            request,
            {
                "site": snapshot.config.site,
                "lang": snapshot.config.site.language,
                "catalog": catalog,
                "base": snapshot.config.server.public_url,
                **context,
            },
        )

    return render


async def index(request: web.Request) -> web.Response:
    """Every feed with its formats and its largest tag and author feeds; autodiscovery links for readers."""
    snapshot = request.app[SNAPSHOTS].current
    return _answer(request, await request.app[PAGES].page(snapshot, ("index",), _render(request, "index.html")))


def _page_number(request: web.Request) -> int | None:
    text = request.query.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 and int(text) >= 1 else None


async def feed_page(request: web.Request) -> web.Response:
    """One feed: its formats and every tag and author feed it has, largest first, ``PER_PAGE`` of each a page."""
    snapshot = request.app[SNAPSHOTS].current
    name = request.match_info["feed"]
    number = _page_number(request)
    if number is None:
        return text_error(400, "page must be a positive whole number (1 to 999999)")
    entry = (await request.app[PAGES].catalog(snapshot)).by_name.get(name)
    if entry is None:
        return text_error(404, f"unknown feed {name!r}")
    pages = max(1, *(-(-len(subs) // PER_PAGE) for subs in entry.subfeeds.values()))
    if number > pages:
        return text_error(404, f"page {number} does not exist; this feed's page has {pages}")
    start = (number - 1) * PER_PAGE
    lists = {kind: subs[start : start + PER_PAGE] for kind, subs in entry.subfeeds.items()}
    render = _render(request, "feed.html", entry=entry, lists=lists, number=number, pages=pages, first=start + 1)
    return _answer(request, await request.app[PAGES].page(snapshot, ("feed", name, str(number)), render))
