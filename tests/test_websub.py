"""WebSub: hub links in every format, and a publish ping per changed feed after a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.state import SNAPSHOTS
from syndicate.web.websub import PUBLISHER
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, AppClient, SiteFactory, article
from tests.feedcheck import NS, strict_xml

Client = Callable[..., Any]


class HubStub:
    """A hub that records publish pings; fails the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.pings: list[dict[str, str]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=503)
        self.pings.append({k: str(v) for k, v in form.items()})
        self.arrived.set()
        return web.Response(status=202)


async def start_hub(stub: HubStub) -> TestServer:
    app = web.Application()
    app.router.add_post("/hub", stub.handle)
    server = TestServer(app)
    await server.start_server()
    return server


def site(make_site: SiteFactory, hub_url: str) -> Path:
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(title="First"),
            "feeds/sport/_feed.yaml": "title: Sport\n",
            "feeds/sport/b.md": article(title="Match"),
        },
        config=MINIMAL_CONFIG + f"http:\n  websub_hubs: ['{hub_url}']\n",
    )


async def test_hub_links_everywhere(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = site(make_site, "https://hub.example.org/")
    client = await aiohttp_client(create_app(build_snapshot(config)))
    assert isinstance(client, TestClient)
    rss = await client.get("/feeds/news.rss")
    assert '<https://hub.example.org/>; rel="hub"' in rss.headers["Link"]
    links = {
        link.get("rel"): link.get("href") for link in strict_xml(await rss.read()).iterfind("channel/atom:link", NS)
    }
    assert links["hub"] == "https://hub.example.org/"
    assert links["self"] == "http://127.0.0.1:8080/feeds/news.rss"
    atom = strict_xml(await (await client.get("/feeds/news.atom")).read())
    assert atom.find("atom:link[@rel='hub']", NS) is not None
    feed = orjson.loads(await (await client.get("/feeds/news.json")).read())
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]


async def test_changed_feeds_are_pinged_with_retry(aiohttp_client: Client, make_site: SiteFactory) -> None:
    stub = HubStub(failures=1)
    hub = await start_hub(stub)
    try:
        config = site(make_site, str(hub.make_url("/hub")))
        client = await aiohttp_client(create_app(build_snapshot(config)))
        assert isinstance(client, TestClient)
        client.app[PUBLISHER].first_delay = 0.01
        (config.parent / "feeds/news/a.md").write_text(article(title="First, corrected"), encoding="utf-8")
        client.app[SNAPSHOTS].replace(build_snapshot(config))
        await asyncio.wait_for(asyncio.gather(*client.app[PUBLISHER].tasks), timeout=10)
        urls = sorted(p["hub.url"] for p in stub.pings)
        assert all(p["hub.mode"] == "publish" for p in stub.pings)
        base = "http://127.0.0.1:8080/feeds/"
        assert urls == sorted(f"{base}{name}.{fmt}" for name in ("all", "news") for fmt in ("rss", "atom", "json"))
        assert stub.failures == 0  # the failed first ping was retried
    finally:
        await hub.close()


async def test_no_change_no_ping(aiohttp_client: Client, make_site: SiteFactory) -> None:
    stub = HubStub()
    hub = await start_hub(stub)
    try:
        config = site(make_site, str(hub.make_url("/hub")))
        client = await aiohttp_client(create_app(build_snapshot(config)))
        assert isinstance(client, TestClient)
        client.app[SNAPSHOTS].replace(build_snapshot(config))
        await settled(client)
        assert stub.pings == []
    finally:
        await hub.close()


async def settled(client: AppClient) -> None:
    """Wait (bounded) until every announcement after the swaps so far is done."""
    await asyncio.wait_for(asyncio.gather(*client.app[PUBLISHER].tasks), timeout=10)


BASE = "http://127.0.0.1:8080/feeds/"


def every_format(*paths: str) -> list[str]:
    return sorted(f"{BASE}{path}.{fmt}" for path in paths for fmt in ("rss", "atom", "json"))


def tagged_site(make_site: SiteFactory, hub_url: str) -> Path:
    """Two sections; articles with tags and authors; one ad slot in ``a``."""
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(
                title="First",
                extra="tags: [Belarus, Energy]\nauthor: Ann Lee\n",
                body="Intro.\n\n[bsa_pro_ad_space id=top]\n\nMore.",
            ),
            "feeds/news/c.md": article(
                title="Other", date="2024-05-02T10:00:00+00:00", extra="tags: [Sport]\nauthor: Bob Roe\n"
            ),
            "feeds/sport/_feed.yaml": "title: Sport\n",
            "feeds/sport/b.md": article(title="Match", extra="tags: [Sport]\n"),
            "adspaces/top.yaml": "name: Top\nunits:\n  - {id: u1, type: text, url: 'https://ad.test/', title: Ad A}\n",
        },
        config=MINIMAL_CONFIG + f"http:\n  websub_hubs: ['{hub_url}']\n",
    )


async def pings_after(aiohttp_client: Client, make_site: SiteFactory, edit: Callable[[Path], None]) -> list[str]:
    """The feed URLs a real hub is told about after ``edit`` to a fresh tagged site and a swap."""
    stub = HubStub()
    hub = await start_hub(stub)
    try:
        config = tagged_site(make_site, str(hub.make_url("/hub")))
        client = await aiohttp_client(create_app(build_snapshot(config)))
        assert isinstance(client, TestClient)
        edit(config.parent)
        client.app[SNAPSHOTS].replace(build_snapshot(config))
        await settled(client)
        assert all(p["hub.mode"] == "publish" for p in stub.pings)
        return sorted(p["hub.url"] for p in stub.pings)
    finally:
        await hub.close()


async def test_tag_and_author_feeds_of_a_changed_article_are_pinged(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    def edit(root: Path) -> None:
        path = root / "feeds/news/a.md"
        path.write_text(path.read_text(encoding="utf-8").replace("More.", "More, corrected."), encoding="utf-8")

    assert await pings_after(aiohttp_client, make_site, edit) == every_format(
        "all",
        "news",
        *(
            f"{feed}/{kind}/{slug}"
            for feed in ("all", "news")
            for kind, slug in (("tags", "belarus"), ("tags", "energy"), ("authors", "ann-lee"))
        ),
    )


async def test_a_feed_title_change_pings_that_feed_and_its_tag_and_author_feeds(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    def edit(root: Path) -> None:
        (root / "feeds/sport/_feed.yaml").write_text("title: Sport and games\n", encoding="utf-8")

    assert await pings_after(aiohttp_client, make_site, edit) == every_format("sport", "sport/tags/sport")


async def test_an_ad_change_pings_the_public_feeds_carrying_the_ad(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    def edit(root: Path) -> None:
        (root / "adspaces/top.yaml").write_text(
            "name: Top\nunits:\n  - {id: u1, type: text, url: 'https://ad.test/', title: Ad B}\n", encoding="utf-8"
        )

    assert await pings_after(aiohttp_client, make_site, edit) == every_format(
        "all",
        "news",
        *(
            f"{feed}/{kind}/{slug}"
            for feed in ("all", "news")
            for kind, slug in (("tags", "belarus"), ("tags", "energy"), ("authors", "ann-lee"))
        ),
    )


async def test_a_new_tag_feed_is_pinged_and_a_vanished_one_is_not(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    def edit(root: Path) -> None:
        path = root / "feeds/sport/b.md"
        path.write_text(article(title="Match", extra="tags: [Football]\n"), encoding="utf-8")

    assert await pings_after(aiohttp_client, make_site, edit) == every_format(
        "all", "sport", "all/tags/football", "sport/tags/football", "all/tags/sport"
    )
