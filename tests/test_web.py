"""HTTP behaviour through the real app and aiohttp's test client."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.conftest import AppClient
from tests.feedcheck import check_any, xpath

CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
async def test_feed_is_served_with_its_type(client: AppClient, fmt: str) -> None:
    response = await client.get(f"/feeds/world.{fmt}")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPES[fmt]
    check_any(fmt, await response.read())


async def test_index_lists_feeds_with_autodiscovery(client: AppClient) -> None:
    response = await client.get("/")
    assert response.status == 200
    page = lxml_html.fromstring(await response.read())
    alternates = xpath(page, "//head/link[@rel='alternate']/@href")
    assert "http://127.0.0.1:8080/feeds/world.atom" in alternates
    assert "http://127.0.0.1:8080/feeds/all.json" in alternates


async def test_healthz(client: AppClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/feeds/nope.rss", 404, "unknown feed 'nope'"),
        ("/feeds/world.xml", 404, "unknown format 'xml'"),
        ("/feeds/world.rss?page=abc", 400, "page must be a positive whole number"),
        ("/feeds/world.rss?page=0", 400, "page must be a positive whole number"),
        ("/feeds/world.rss?page=99", 404, "page 99 does not exist"),
        ("/nothing", 404, "404 Not Found"),
    ],
)
async def test_errors_are_short_and_specific(client: AppClient, path: str, status: int, message: str) -> None:
    response = await client.get(path)
    assert response.status == status
    text = await response.text()
    assert text.startswith(message) and text.count("\n") == 1
    assert "Traceback" not in text
