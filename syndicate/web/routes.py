"""Every route the server answers, in one table each for the three applications it runs.

``PUBLIC``: feeds, pages, health and the tracking links, on the server's port.
``ADMIN``: the /admin/ sub-application, mounted only when an admin token is set, every route behind
its one token check (``admin_auth.require_token``); ``/admin/metrics`` joins it under ``metrics.expose: admin``.
``METRICS``: the listener of its own under ``metrics.expose: port``, no token.
aiohttp tries routes in the order given; a GET route answers HEAD too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from syndicate.credentials import AdminToken
from syndicate.web import admin, admin_articles, pages, tracking_views, views
from syndicate.web.admin_auth import require_token
from syndicate.web.admin_preview import preview
from syndicate.web.errors import Handler
from syndicate.web.metrics_views import metrics
from syndicate.web.state import ADMIN_TOKEN

ADMIN_PREFIX = "/admin/"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str


PUBLIC: tuple[Route, ...] = (
    Route("GET", "/", pages.index, "index"),
    Route("GET", "/healthz", views.healthz, "healthz"),
    Route("GET", "/feeds/{feed}.{fmt}", views.feed, "feed"),
    Route("GET", "/feeds/{feed}/{kind:tags|authors}/{slug}.{fmt}", views.feed, "filtered_feed"),
    Route("GET", "/feeds/{feed}/", pages.feed_page, "feed_page"),
    Route("GET", "/feeds.opml", views.opml, "opml"),
    Route("GET", "/c/{token}", tracking_views.click, "click"),
    Route("GET", "/i/{token}.gif", tracking_views.pixel, "pixel"),
)

ADMIN: tuple[Route, ...] = (  # under ADMIN_PREFIX
    Route("GET", "/status", admin.status, "admin_status"),
    Route("POST", "/reload", admin.reload, "admin_reload"),
    Route("GET", "/adspaces", admin.list_spaces, "admin_adspaces"),
    Route("GET", "/adspaces/{id}", admin.get_space, "admin_adspace"),
    Route("PUT", "/adspaces/{id}", admin.put_space, "admin_adspace_put"),
    Route("DELETE", "/adspaces/{id}", admin.delete_space, "admin_adspace_delete"),
    Route("GET", "/preview/{feed}/{article_id:.+}", preview, "admin_preview"),
    Route("GET", "/openapi.json", admin.openapi, "admin_openapi"),
    Route("GET", "/articles/{feed}/{id}", admin_articles.get_article, "admin_article"),
    Route("PUT", "/articles/{feed}/{id}", admin_articles.put_article, "admin_article_put"),
    Route("DELETE", "/articles/{feed}/{id}", admin_articles.delete_article, "admin_article_delete"),
    Route("GET", "/stats", tracking_views.stats_html, "admin_stats"),
    Route("GET", "/stats.json", tracking_views.stats_json, "admin_stats_json"),
)
ADMIN_METRICS = Route("GET", "/metrics", metrics, "admin_metrics")  # metrics.expose: admin

METRICS: tuple[Route, ...] = (Route("GET", "/metrics", metrics, "metrics"),)


def _add(app: web.Application, table: tuple[Route, ...]) -> None:
    for route in table:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler, name=route.name)
        else:
            app.router.add_route(route.method, route.path, route.handler, name=route.name)


def add_routes(app: web.Application) -> None:
    """The public routes, on the app ``create_app`` builds."""
    _add(app, PUBLIC)


def admin_app(token: AdminToken, with_metrics: bool = True) -> web.Application:
    """The /admin/ sub-application; the parent app holds ``RELOADER`` and ``SNAPSHOTS``."""
    app = web.Application(middlewares=[require_token])
    app[ADMIN_TOKEN] = token
    _add(app, ADMIN + ((ADMIN_METRICS,) if with_metrics else ()))
    return app


def metrics_app() -> web.Application:
    """The metrics listener of its own: ``/metrics`` and nothing else."""
    app = web.Application()
    _add(app, METRICS)
    return app
