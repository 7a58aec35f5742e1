"""The admin's HTML pages (preview, stats) through the real app: templates, escaping, links that answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import pytest
from aiohttp.test_utils import TestClient
from lxml import html as lxml_html

from syndicate.tracking.events import CountKey
from syndicate.tracking.store import FILE_NAME, SqliteStore
from syndicate.web.app import create_app
from tests.conftest import FEED_YAML, AppClient, SiteFactory, article
from tests.feedcheck import xpath
from tests.tracking_support import CONFIG, SPACE_4, admin, use_test_secrets

Client = Callable[..., Any]
HOSTILE = """'<script>alert(1)</script> & <img src=x onerror=alert(2)>'"""


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


async def hostile_site(aiohttp_client: Client, make_site: SiteFactory) -> AppClient:
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(
                title=HOSTILE, body="Text. [bsa_pro_ad_space id=4]", extra=f"summary: {HOSTILE}\n"
            ),
            "adspaces/4.yaml": SPACE_4,
        },
        config=CONFIG,
    )
    client = await aiohttp_client(create_app(config))
    assert isinstance(client, TestClient)
    return client


async def test_preview_page_escapes_titles_and_reads_on_a_phone(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await hostile_site(aiohttp_client, make_site)
    response = await client.get("/admin/preview/news/a?partner=partner-a", headers=admin())
    assert response.status == 200
    raw = await response.text()
    page = lxml_html.fromstring(raw)
    assert xpath(page, "//head/meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert xpath(page, "//script | //*[@onerror]") == []
    assert xpath(page, "//title/text()") == [f"Preview: {HOSTILE.strip(chr(39))}"]
    assert xpath(page, "//article/h1/text()") == [HOSTILE.strip("'")]
    assert [" ".join(li.text_content().split()) for li in xpath(page, "//div[@class='meta']/ul/li")] == [
        "space 4: unit banner"
    ]
    assert xpath(page, "//div[@class='meta']//strong/text()")[:2] == ["partner-a", "rss"]  # the ones shown
    assert xpath(page, "//article//img/@src") == ["https://ad.test/b.png"]  # the ad itself, untracked


async def test_every_link_on_the_preview_page_answers(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await hostile_site(aiohttp_client, make_site)
    start = "/admin/preview/news/a?partner=partner-a"
    page = lxml_html.fromstring(await (await client.get(start, headers=admin())).read())
    links = xpath(page, "//div[@class='meta']//a/@href")
    assert len(links) == 1 + 2 + 3  # the public profile, the other two formats to read through, raw feeds
    for link in links:
        response = await client.get(urljoin(start, link), headers=admin())
        assert response.status == 200, link


async def test_stats_page_escapes_stored_names_and_reads_on_a_phone(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/a.md": article()}, config=CONFIG)
    store = SqliteStore(config.parent / "data" / FILE_NAME)
    store.add({CountKey("2024-05-01", "<b>4</b>", "<script>x</script>", "partner-a", "served", "browser"): 7})
    store.close()
    client = await aiohttp_client(create_app(config))
    response = await client.get("/admin/stats", headers=admin())
    assert response.status == 200
    page = lxml_html.fromstring(await response.read())
    assert xpath(page, "//head/meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert xpath(page, "//script | //b") == []
    assert xpath(page, "//table[@id='by-unit']//td[@class='key']/text()") == ["<b>4</b>", "<script>x</script>"]
    assert xpath(page, "//td[@id='total-served']/@data-value") == ["7"]


@pytest.mark.parametrize(
    ("query", "json_link"),
    [
        ("", "stats.json"),
        ("?since=2024-05-01", "stats.json?since=2024-05-01"),
        ("?since=2024-05-01&until=2024-05-31", "stats.json?since=2024-05-01&until=2024-05-31"),
    ],
)
async def test_the_stats_pages_json_link_keeps_its_filter(
    aiohttp_client: Client, make_site: SiteFactory, query: str, json_link: str
) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/a.md": article()}, config=CONFIG)
    client = await aiohttp_client(create_app(config))
    page = lxml_html.fromstring(await (await client.get(f"/admin/stats{query}", headers=admin())).read())
    assert xpath(page, "//a[text()='JSON']/@href") == [json_link]
