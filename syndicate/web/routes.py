"""The route table, and nothing else."""

from __future__ import annotations

from aiohttp import web

from syndicate.web import pages, views
from syndicate.web.tracking_views import add_tracking_routes


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", pages.index, name="index")
    app.router.add_get("/healthz", views.healthz, name="healthz")
    app.router.add_get("/feeds/{feed}.{fmt}", views.feed, name="feed")
    app.router.add_get("/feeds/{feed}/{kind:tags|authors}/{slug}.{fmt}", views.feed, name="filtered_feed")
    app.router.add_get("/feeds/{feed}/", pages.feed_page, name="feed_page")
    app.router.add_get("/feeds.opml", views.opml, name="opml")
    add_tracking_routes(app)  # /c/, /i/ (/admin/stats is in the /admin/ sub-application)
