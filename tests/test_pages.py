"""The HTML pages through the real app: ``/`` and each feed's page.

Plurals, a phone viewport, escaping of hostile titles, every link answering, the
largest tag and author feeds on ``/`` with the rest on the feed's page, and one
render per Snapshot.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from lxml import html as lxml_html

from syndicate.web.app import create_app
from syndicate.web.catalog import PER_PAGE, TOP
from syndicate.web.pages import plural
from syndicate.web.state import PAGES, RELOADER
from tests.conftest import FEED_YAML, AppClient, SiteFactory, article

Client = Callable[..., Any]
HOSTILE = """'<script>alert("x")</script> & <b>bold</b>'"""


def two_feeds() -> dict[str, str]:
    return {
        "feeds/news/_feed.yaml": FEED_YAML,
        "feeds/news/a.md": article(title="A", extra="tags: [Energy]\nauthor: Ann Author\n"),
        "feeds/world/_feed.yaml": "title: World\ndescription: Abroad\n",
        "feeds/world/b.md": article(title="B", extra="tags: [Energy, Baltic States]\nauthor: Bo\n"),
        "feeds/world/c.md": article(title="C", date="2024-05-02T10:00:00+00:00", extra="tags: [Energy]\n"),
    }


async def start(aiohttp_client: Client, make_site: SiteFactory, files: dict[str, str]) -> AppClient:
    client = await aiohttp_client(create_app(make_site(files)))
    assert isinstance(client, TestClient)
    return client


async def page_of(client: AppClient, path: str) -> lxml_html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, (path, await response.text())
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return lxml_html.fromstring(await response.read())


def text_of(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 articles"), (1, "1 article"), (2, "2 articles"), (12345, "12,345 articles")]
)
def test_plural(count: int, expected: str) -> None:
    assert plural(count, "article") == expected


async def test_index_counts_articles_in_words_people_use(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await start(aiohttp_client, make_site, two_feeds())
    page = await page_of(client, "/")
    news, world = (text_of(page.get_element_by_id(f"feed-{name}")) for name in ("news", "world"))
    assert "· 1 article ·" in news and "1 articles" not in news
    assert "· 2 articles ·" in world
    assert "Energy 2 articles" in world and "Baltic States 1 article RSS · Atom · JSON" in world


@pytest.mark.parametrize("path", ["/", "/feeds/world/"])
async def test_pages_read_on_a_phone(aiohttp_client: Client, make_site: SiteFactory, path: str) -> None:
    client = await start(aiohttp_client, make_site, two_feeds())
    page = await page_of(client, path)
    assert page.xpath("//head/meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert page.xpath("/html/@lang") == ["en"]


async def test_index_formats_and_autodiscovery(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await start(aiohttp_client, make_site, two_feeds())
    page = await page_of(client, "/")
    world = page.get_element_by_id("feed-world")
    formats = world.xpath("./p[@class='meta']/span[@class='formats']")[0]
    assert text_of(formats) == "RSS · Atom · JSON"
    assert formats.xpath("./a/@href") == [f"http://127.0.0.1:8080/feeds/world.{fmt}" for fmt in ("rss", "atom", "json")]
    alternates = page.xpath("//head/link[@rel='alternate']")
    assert [(link.get("type"), link.get("href")) for link in alternates[:3]] == [
        ("application/rss+xml", "http://127.0.0.1:8080/feeds/all.rss"),
        ("application/atom+xml", "http://127.0.0.1:8080/feeds/all.atom"),
        ("application/feed+json", "http://127.0.0.1:8080/feeds/all.json"),
    ]
    assert len(alternates) == 9  # all, news, world; tag and author feeds are found on the page instead


async def test_hostile_titles_are_text(aiohttp_client: Client, make_site: SiteFactory) -> None:
    files = {
        **two_feeds(),
        "feeds/world/_feed.yaml": f"title: {HOSTILE}\ndescription: {HOSTILE}\n",
        "feeds/world/b.md": article(
            title="B", extra="tags: ['<img src=x onerror=alert(1)>']\nauthor: '\"><script>alert(2)</script>'\n"
        ),
    }
    client = await start(aiohttp_client, make_site, files)
    for path in ("/", "/feeds/world/"):
        raw = await (await client.get(path)).text()
        page = lxml_html.fromstring(raw)
        assert page.xpath("//script | //b | //img | //*[@onerror]") == [], path
        assert "<script>" not in raw and "&lt;script&gt;" in raw
    page = await page_of(client, "/")
    assert text_of(page.get_element_by_id("feed-world").xpath("./h2")[0]) == HOSTILE.strip("'")
    titles = page.xpath("//head/link[@rel='alternate']/@title")
    assert f"{HOSTILE.strip(chr(39))} (RSS)" in titles
    assert '"><script>alert(2)</script>' in text_of(page.get_element_by_id("feed-world"))


async def test_every_link_on_the_pages_answers(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await start(aiohttp_client, make_site, two_feeds())
    seen: set[str] = set()
    todo = ["/"]
    while todo:
        path = todo.pop()
        page = await page_of(client, path)
        for url in page.xpath("//a/@href | //link/@href"):
            parts = urlsplit(url)
            assert parts.netloc in ("", "127.0.0.1:8080"), url
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen:
                continue
            seen.add(target)
            response = await client.get(target)
            assert response.status == 200, (path, url)
            if response.content_type == "text/html":
                todo.append(target)
    assert {
        "/feeds/world/",
        "/feeds/world/tags/baltic-states.json",
        "/feeds/news/authors/ann-author.atom",
        "/feeds.opml",
    } <= seen


async def test_index_shows_the_largest_tags_and_the_feed_page_pages_the_rest(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    count = 2 * PER_PAGE + 50
    tags = ", ".join(f"t{n:04d}" for n in range(count))
    files = {
        "feeds/news/_feed.yaml": FEED_YAML,
        "feeds/news/a.md": article(title="A", extra=f"tags: [{tags}, big]\n"),
        "feeds/news/b.md": article(title="B", extra="tags: [big]\nauthor: Ann\n"),
    }
    client = await start(aiohttp_client, make_site, files)
    index = await page_of(client, "/")
    news = index.get_element_by_id("feed-news")
    listed = news.xpath(".//ul[@class='subfeeds']")[0].xpath("./li/strong/text()")
    assert len(listed) == TOP and listed[0] == "big"  # two articles: the largest comes first
    more = news.xpath(".//a[starts-with(text(), 'All ')]")[0]
    assert text_of(more) == f"All {count + 1} tags and 1 author"
    assert more.get("href") == "http://127.0.0.1:8080/feeds/news/"
    sizes = []
    for number in (1, 2, 3):
        page = await page_of(client, "/feeds/news/" + (f"?page={number}" if number > 1 else ""))
        sizes.append(len(page.get_element_by_id("tags").xpath(".//li")))
    assert sizes == [PER_PAGE, PER_PAGE, count + 1 - 2 * PER_PAGE]
    assert page.xpath("//a[@rel='prev']/@href") == ["http://127.0.0.1:8080/feeds/news/?page=2"]
    assert (await client.get("/feeds/news/?page=4")).status == 404
    assert (await client.get("/feeds/news/?page=x")).status == 400
    assert (await client.get("/feeds/nope/")).status == 404


async def test_pages_render_once_per_snapshot(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = make_site(two_feeds())
    client = await aiohttp_client(create_app(config))
    first = await client.get("/")
    body = await first.text()
    for _ in range(3):
        again = await client.get("/")
        assert await again.text() == body
    assert client.app[PAGES].renders == 1
    assert (await client.get("/", headers={"If-None-Match": first.headers["ETag"]})).status == 304
    (config.parent / "feeds/news/d.md").write_text(article(title="D"), encoding="utf-8")
    assert (await client.app[RELOADER].reload("test")).accepted
    changed = await client.get("/")
    assert re.search(
        r"· 2 articles ·",
        text_of(cast(lxml_html.HtmlElement, lxml_html.fromstring(await changed.read())).get_element_by_id("feed-news")),
    )
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert client.app[PAGES].renders == 2


async def test_concurrent_first_asks_share_one_render(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await start(aiohttp_client, make_site, two_feeds())
    answers = await asyncio.gather(*(client.get(path) for path in ["/"] * 5 + ["/feeds/world/"] * 5))
    assert [answer.status for answer in answers] == [200] * 10
    assert len({await answer.read() for answer in answers}) == 2
    assert client.app[PAGES].renders == 2
