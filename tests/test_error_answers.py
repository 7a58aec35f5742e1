"""One way to answer an error: a JSON object under /admin/, one line of text for feeds and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory
from tests.opsite import AUTH, TOKEN, ad_site

Client = Callable[..., Any]


@pytest.fixture
async def client(aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch) -> AppClient:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    result: AppClient = await aiohttp_client(create_app(ad_site(make_site)))
    return result


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/admin/no-such-thing", 404, "404 Not Found"),
        ("/admin/stats.json?by=nope", 400, "by must be one of day, space, unit, partner"),
        ("/admin/stats?since=2024-13-01", 400, None),
        ("/admin/preview/news/nope?partner=public", 404, None),
    ],
)
async def test_admin_errors_are_json(client: AppClient, path: str, status: int, message: str | None) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"} and body["error"]
    if message is not None:
        assert body["error"] == message


async def test_an_admin_method_not_allowed_is_json_with_allow(client: AppClient) -> None:
    response = await client.request("PATCH", "/admin/status", headers=AUTH)
    assert response.status == 405 and "GET" in response.headers["Allow"]
    assert await response.json() == {"error": "405 Method Not Allowed"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/nope.rss", 404),
        ("/feeds/news.xml", 404),
        ("/feeds/news.rss?page=x", 400),
        ("/nowhere", 404),
        ("/c/not-a-token", 400),
    ],
)
async def test_feed_and_page_errors_are_one_line_of_text(client: AppClient, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status == status
    assert response.content_type == "text/plain"
    text = await response.text()
    assert text.endswith("\n") and text.count("\n") == 1
