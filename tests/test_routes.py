"""One route table (web/routes.py) lists every route the server answers, the admin sub-application's too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web

import syndicate
from syndicate.credentials import ADMIN_TOKEN_ENV
from syndicate.web import routes
from syndicate.web.app import create_app
from tests.conftest import SAMPLE_CONFIG

Served = list[tuple[str, str, str | None, object]]


def _served(app: web.Application) -> Served:
    """(method, path, name, handler) of every route ``app`` answers, sub-applications included; HEAD goes
    with GET."""
    return [
        (route.method, route.resource.canonical, route.name, route.handler)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    ]


def _table(*tables: tuple[routes.Route, ...], prefix: str = "") -> Served:
    """The same for the table; aiohttp's canonical path drops the patterns (``{kind:tags|authors}``)."""
    return [
        (r.method, prefix + re.sub(r"\{(\w+):[^}]*\}", r"{\1}", r.path), r.name, r.handler)
        for table in tables
        for r in table
    ]


def test_the_app_answers_exactly_the_routes_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "a-token-of-sixteen-or-more")
    served = _served(create_app(SAMPLE_CONFIG))
    admin = _table(routes.ADMIN, (routes.ADMIN_METRICS,), prefix=routes.ADMIN_PREFIX.rstrip("/"))
    assert served == _table(routes.PUBLIC) + admin


def test_without_a_token_there_is_no_admin_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ADMIN_TOKEN_ENV, raising=False)
    monkeypatch.delenv(f"{ADMIN_TOKEN_ENV}_FILE", raising=False)
    assert _served(create_app(SAMPLE_CONFIG)) == _table(routes.PUBLIC)


def test_the_metrics_listener_answers_its_table() -> None:
    assert _served(routes.metrics_app()) == _table(routes.METRICS)


def test_no_route_is_added_outside_the_table() -> None:
    package = Path(syndicate.__file__).parent
    adding = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "router.add_" in p.read_text(encoding="utf-8") and p != package / "web/routes.py"
    ]
    assert adding == []
