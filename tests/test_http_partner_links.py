"""Partners stay on their variant: with ``?key=`` every link to more of the feed keeps the key, and
``self`` is the URL that was asked for; Bearer partners and the public get key-less links."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from tests.conftest import MINIMAL_CONFIG, AppClient, SiteFactory, article, serve_like_cli
from tests.feedcheck import NS, strict_xml

Client = Callable[..., Any]
BASE = "http://127.0.0.1:8080"
STRIP_KEY, OWN_KEY = "strip-key-1234567", "own/key+1234567"  # the second needs escaping in a URL
OWN_KEY_Q = "own%2Fkey%2B1234567"

CONFIG = (
    MINIMAL_CONFIG
    + """\
http:
  rate_limits:
    public: {"off": true}
    partners: {"off": true}
partners:
  - id: stripper
    keys: [strip-key-1234567]
    ads: strip
  - id: own
    keys: ["own/key+1234567"]
    overrides:
      top: {use: own-top}
"""
)


def unit(title: str) -> str:
    return f"name: Top\nunits:\n  - id: u1\n    type: text\n    url: https://ad.test/{title}\n    title: {title}\n"


def site(make_site: SiteFactory) -> Path:
    files = {
        "feeds/news/_feed.yaml": "title: News\nitems_per_page: 2\n",
        "adspaces/top.yaml": unit("PublicAd"),
        "adspaces/own-top.yaml": unit("OwnAd"),
    }
    for n in range(5):
        files[f"feeds/news/a{n}.md"] = article(
            title=f"Item {n}",
            date=f"2024-05-0{n + 1}T10:00:00Z",
            body="Text.\n\n[bsa_pro_ad_space id=top]\n\nMore.",
            extra="tags: [Alpha]\nauthor: Ann\n",
        )
    return make_site(files, config=CONFIG)


@pytest.fixture
async def client(aiohttp_client: Client, make_site: SiteFactory) -> AppClient:
    return await serve_like_cli(aiohttp_client, create_app(build_snapshot(site(make_site))))


def xml_links(body: bytes, fmt: str) -> dict[str, str]:
    root = strict_xml(body)
    found = root.iterfind("channel/atom:link", NS) if fmt == "rss" else root.iterfind("atom:link", NS)
    return {link.get("rel", ""): link.get("href", "") for link in found if link.get("rel") != "alternate"}


def local(url: str) -> str:
    assert url.startswith(BASE)
    return url.removeprefix(BASE)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
async def test_paging_links_keep_a_query_key(client: AppClient, fmt: str) -> None:
    response = await client.get(f"/feeds/news.{fmt}?key={OWN_KEY_Q}&page=2")
    assert response.status == 200
    base = f"{BASE}/feeds/news.{fmt}"
    assert xml_links(await response.read(), fmt) == {
        "self": f"{base}?key={OWN_KEY_Q}&page=2",
        "first": f"{base}?key={OWN_KEY_Q}",
        "previous": f"{base}?key={OWN_KEY_Q}",
        "next": f"{base}?key={OWN_KEY_Q}&page=3",
        "last": f"{base}?key={OWN_KEY_Q}&page=3",
    }
    assert f'<{base}?key={OWN_KEY_Q}&page=2>; rel="self"' in response.headers["Link"]


async def test_json_feed_and_next_url_keep_a_query_key(client: AppClient) -> None:
    feed = orjson.loads(await (await client.get(f"/feeds/news.json?key={STRIP_KEY}")).read())
    assert feed["feed_url"] == f"{BASE}/feeds/news.json?key={STRIP_KEY}"
    assert feed["next_url"] == f"{BASE}/feeds/news.json?key={STRIP_KEY}&page=2"


@pytest.mark.parametrize(
    "target",
    [
        "/feeds/news.rss?page=2&key=strip-key-1234567",
        "/feeds/news.rss?key=strip-key-1234567&page=2",
        "/feeds/news.rss?key=strip-key-1234567&page=1",
        "/feeds/news.rss?page=1",
        "/feeds/news.rss?page=3",
        "/feeds/news.rss",
        "/feeds/news/tags/alpha.rss?key=strip-key-1234567",
        "/feeds/news/authors/ann.atom?page=2&key=strip-key-1234567",
        "/feeds/all.atom?key=strip-key-1234567&page=1",
    ],
)
async def test_self_is_the_url_asked_for(client: AppClient, target: str) -> None:
    response = await client.get(target)
    fmt = target.split("?")[0].rsplit(".", 1)[1]
    assert xml_links(await response.read(), fmt)["self"] == BASE + target
    assert f'<{BASE + target}>; rel="self"' in response.headers["Link"]


async def test_following_next_stays_on_the_partners_variant(client: AppClient) -> None:
    for key, wanted, unwanted in ((STRIP_KEY, None, "sponsored"), (OWN_KEY_Q, "OwnAd", "PublicAd")):
        url = f"/feeds/news.json?key={key}"
        pages = 0
        while url:
            feed = orjson.loads(await (await client.get(url)).read())
            html = "".join(item["content_html"] for item in feed["items"])
            assert unwanted not in html
            if wanted:
                assert wanted in html
            pages += 1
            url = local(feed["next_url"]) if "next_url" in feed else ""
        assert pages == 3
        url = f"/feeds/news.rss?key={key}"
        for _ in range(2):
            url = local(xml_links(await (await client.get(url)).read(), "rss")["next"])
        body = (await (await client.get(url)).read()).decode()
        assert unwanted not in body and "Item 0" in body


async def test_bearer_and_public_links_never_carry_a_key_whatever_was_cached(client: AppClient) -> None:
    bearer = {"Authorization": f"Bearer {OWN_KEY}"}
    for order in range(2):  # the query variant cached first, then the header one first
        requests = [("?key=" + OWN_KEY_Q, {}), ("", bearer), ("", {})]
        for query, headers in requests if order == 0 else requests[::-1]:
            body = await (
                await client.get(f"/feeds/news.atom{query}&page=2".replace("atom&", "atom?"), headers=headers)
            ).read()
            text = body.decode()
            if query:
                assert text.count(OWN_KEY_Q) == 5  # self, first, previous, next, last
            else:
                assert OWN_KEY_Q not in text and "key=" not in text
            assert ("OwnAd" in text) == (query != "" or headers != {})


async def test_tracking_links_carry_no_key(client: AppClient) -> None:
    body = (await (await client.get(f"/feeds/news.rss?key={OWN_KEY_Q}")).read()).decode()
    tracking = re.findall(r"http://127\.0\.0\.1:8080/[ci]/[^\"&<\s]+", body.replace("&amp;", "&"))
    assert tracking and not any("key" in url or OWN_KEY_Q in url for url in tracking)


async def test_the_key_stays_out_of_the_access_log(client: AppClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="syndicate.access")
    await client.get(f"/feeds/news.rss?page=2&key={STRIP_KEY}")
    lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.access"]
    assert lines and "key=REDACTED" in lines[-1] and STRIP_KEY not in caplog.text
