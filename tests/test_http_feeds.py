"""Paging, tag and author feeds, OPML, rate limits and the access log, through the real app."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.http import HttpVersion11
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from syndicate.snapshot import build_snapshot
from syndicate.web.accesslog import AccessLog, Answered, quoted, redact
from syndicate.web.app import create_app
from syndicate.web.state import VARIANTS
from tests.conftest import MINIMAL_CONFIG, AppClient, SiteFactory, article, serve_like_cli
from tests.feedcheck import NS, check_any, strict_xml, xpath

Client = Callable[..., Any]


def paged_site(make_site: SiteFactory, config_extra: str = "") -> Path:
    files = {"feeds/news/_feed.yaml": "title: News\nitems_per_page: 2\n"}
    for n in range(5):
        tags = "[Alpha]" if n % 2 else "[Alpha, Beta Gamma]"
        files[f"feeds/news/a{n}.md"] = article(
            title=f"Item {n}", date=f"2024-05-0{n + 1}T10:00:00Z", extra=f"tags: {tags}\nauthor: Ann Ó Briain\n"
        )
    return make_site(files, config=MINIMAL_CONFIG + config_extra)


async def app_client(aiohttp_client: Client, config: Path) -> AppClient:
    """The app as ``syndicate serve`` runs it, access log included."""
    return await serve_like_cli(aiohttp_client, create_app(build_snapshot(config)))


async def test_paging_links_rss_atom_json(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await app_client(aiohttp_client, paged_site(make_site))
    base = "http://127.0.0.1:8080/feeds/news"
    rss = strict_xml(await (await client.get("/feeds/news.rss?page=2")).read())
    links = {link.get("rel"): link.get("href") for link in rss.iterfind("channel/atom:link", NS)}
    assert links == {
        "self": f"{base}.rss?page=2",
        "first": f"{base}.rss",
        "previous": f"{base}.rss",
        "next": f"{base}.rss?page=3",
        "last": f"{base}.rss?page=3",
    }
    atom = check_any("atom", await (await client.get("/feeds/news.atom?page=3")).read())
    rels = {link.rel: link.href for link in atom.feed.links}
    assert rels["previous"] == f"{base}.atom?page=2" and "next" not in rels
    first = orjson.loads(await (await client.get("/feeds/news.json")).read())
    assert [i["title"] for i in first["items"]] == ["Item 4", "Item 3"]
    assert first["next_url"] == f"{base}.json?page=2"
    last = orjson.loads(await (await client.get("/feeds/news.json?page=3")).read())
    assert "next_url" not in last and [i["title"] for i in last["items"]] == ["Item 0"]
    assert (await client.get("/feeds/news.json?page=4")).status == 404
    assert (await client.get("/feeds/news.json?page=x")).status == 400


async def test_tag_and_author_feeds(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await app_client(aiohttp_client, paged_site(make_site))
    beta = orjson.loads(await (await client.get("/feeds/news/tags/beta-gamma.json")).read())
    assert beta["title"] == "News: Beta Gamma"
    assert beta["feed_url"] == "http://127.0.0.1:8080/feeds/news/tags/beta-gamma.json"
    assert [i["title"] for i in beta["items"]] == ["Item 4", "Item 2"]
    across = orjson.loads(await (await client.get("/feeds/all/tags/alpha.json")).read())
    assert len(across["items"]) == 5  # "all" pages by the config default, 20
    author = await client.get("/feeds/news/authors/ann-ó-briain.atom")
    assert author.status == 200
    parsed = check_any("atom", await author.read())
    assert parsed.feed.id == "tag:news.test,2020-01-01:feeds/news/authors/ann-%C3%B3-briain"
    assert (await client.get("/feeds/news/tags/nope.rss")).status == 404
    assert (await client.get("/feeds/news/colours/alpha.rss")).status == 404


async def test_two_tags_of_one_slug_list_the_article_once(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """``[Belarus, " belarus "]`` are one tag feed; the article is in it once, so ids stay unique."""
    config = make_site(
        {
            "feeds/news/_feed.yaml": "title: News\n",
            "feeds/news/a.md": article(extra='tags: [Belarus, " belarus ", BELARUS]\n'),
        }
    )
    client = await app_client(aiohttp_client, config)
    for fmt in ("rss", "atom", "json"):
        for feed in ("news", "all"):
            response = await client.get(f"/feeds/{feed}/tags/belarus.{fmt}")
            assert response.status == 200
            parsed = check_any(fmt, await response.read())
            entries = parsed["items"] if fmt == "json" else parsed.entries
            assert len(entries) == 1, (feed, fmt)


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../config.yaml",
        "/feeds/..%2Fconfig.yaml.rss",
        "/feeds/%00.rss",
        "/feeds/news/tags/..%2F..%2Fx.rss",
        "/feeds/news/authors/%2e%2e.json",
    ],
)
async def test_traversal_is_just_not_found(aiohttp_client: Client, make_site: SiteFactory, path: str) -> None:
    client = await app_client(aiohttp_client, paged_site(make_site))
    response = await client.get(path)
    assert response.status in (400, 404)
    assert "site:" not in await response.text()


async def test_opml_lists_public_feeds(client: AppClient) -> None:
    response = await client.get("/feeds.opml")
    assert response.status == 200
    root = etree.fromstring(await response.read())
    urls = xpath(root, "//outline/@xmlUrl")
    assert urls[0] == "http://127.0.0.1:8080/feeds/all.rss"
    assert "http://127.0.0.1:8080/feeds/world.rss" in urls and len(urls) == 3


async def test_index_links_tag_feeds(client: AppClient) -> None:
    page = await (await client.get("/")).text()
    assert "/feeds/world/tags/belarus.rss" in page and "/feeds.opml" in page


LIMITS = """\
http:
  rate_limits:
    public: {rate: 0.01, burst: 3}
    partners: {rate: 0.01, burst: 2}
    not_modified_cost: 0.5
partners:
  - id: p
    keys: [partner-key-123456]
"""


async def test_rate_limit_per_client_and_partner(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await app_client(aiohttp_client, paged_site(make_site, LIMITS))
    statuses = [(await client.get("/feeds/news.rss")).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get("/feeds/news.rss")
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert "partner-key" not in await refused.text()
    # A partner has its own bucket, by key, not by address.
    partner = {"Authorization": "Bearer partner-key-123456"}
    first = await client.get("/feeds/news.rss", headers=partner)
    assert first.status == 200 and first.headers["RateLimit-Limit"] == "2"
    etag = first.headers["ETag"]
    # 304s cost half: two of them fit where one 200 would.
    statuses = [
        (await client.get("/feeds/news.rss", headers={**partner, "If-None-Match": etag})).status for _ in range(3)
    ]
    assert statuses == [304, 304, 429]


def test_access_log_redacts_keys() -> None:
    assert redact("/feeds/a.rss?key=secret&page=2") == "/feeds/a.rss?key=REDACTED&page=2"
    assert redact("/feeds/a.rss?page=2&KEY=s") == "/feeds/a.rss?page=2&KEY=REDACTED"
    assert redact("/c/k1.AbC-_x") == "/c/REDACTED" and redact("/i/k1.AbC.gif?x=1") == "/i/REDACTED?x=1"


async def test_no_key_in_logs(aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = await app_client(aiohttp_client, paged_site(make_site, LIMITS))
    await client.get("/feeds/news.rss?key=partner-key-123456")
    await client.get("/feeds/news.rss", headers={"Authorization": "Bearer wrong-key-999999"})
    access_lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.access"]
    assert len(access_lines) == 2 and "key=REDACTED" in access_lines[0]
    assert "partner-key-123456" not in caplog.text and "wrong-key-999999" not in caplog.text


def _answered(target: str) -> Answered:
    return ("192.0.2.77", None, "GET", target, HttpVersion11, None, "reader/1.0", 200, 512, 0.0012, 0.0)


async def test_access_log_sink_writes_in_batches() -> None:
    stream = io.StringIO()
    sink = AccessLog(stream, interval=0.05, max_lines=3)
    sink.add(_answered("/one"))
    sink.add(_answered("/two?key=partner-key-123456"))
    assert stream.getvalue() == ""  # buffered
    sink.add(_answered("/three"))
    lines = stream.getvalue().splitlines()  # a full batch goes at once
    assert [line.split('"')[1] for line in lines] == [
        "GET /one HTTP/1.1",
        "GET /two?key=REDACTED HTTP/1.1",
        "GET /three HTTP/1.1",
    ]
    assert lines[0].startswith("192.0.2.0 - - [") and lines[0].endswith('200 512 "-" "reader/1.0" 1.2ms')
    sink.add(_answered("/four"))
    await asyncio.sleep(0.2)
    assert '"GET /four HTTP/1.1"' in stream.getvalue().splitlines()[-1]  # and a partial one after the interval


async def test_a_client_cannot_end_a_quoted_log_field_early() -> None:
    stream = io.StringIO()
    sink = AccessLog(stream)
    hostile: Answered = (
        "192.0.2.1",
        None,
        "GET",
        '/feeds/x"y',
        HttpVersion11,
        'http://r/"a',
        'ua" 200 1 "-',
        200,
        1,
        0.0,
        0.0,
    )
    sink.add(hostile)
    sink.flush()
    [line] = stream.getvalue().splitlines()
    assert line.count('"') == 6  # three quoted fields, each closed where it began
    assert '"GET /feeds/x\\x22y HTTP/1.1"' in line and '"http://r/\\x22a"' in line and '"ua\\x22 200 1 \\x22-"' in line


@given(st.text())
def test_a_quoted_log_field_holds_no_quote_or_control_and_reads_back(text: str) -> None:
    written = quoted(text)
    assert not any(c == '"' or ord(c) < 0x20 or c == "\x7f" for c in written)
    assert re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), written) == text


async def test_a_refused_client_costs_no_render(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await app_client(aiohttp_client, paged_site(make_site, LIMITS))
    for _ in range(3):
        assert (await client.get("/feeds/news.rss")).status == 200
    renders = client.app[VARIANTS].renders
    for path in ("/feeds/news.atom", "/feeds/news.json?page=2", "/feeds/all/tags/alpha.rss"):
        assert (await client.get(path)).status == 429
    assert client.app[VARIANTS].renders == renders
