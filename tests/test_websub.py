"""WebSub: hub links in every format, and a publish ping per changed feed after a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.state import SNAPSHOTS
from syndicate.web.websub import PUBLISHER
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article
from tests.feedcheck import NS, strict_xml

Client = Callable[..., object]


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
    return make_site({
        "feeds/news/_feed.yaml": FEED_YAML,
        "feeds/news/a.md": article(title="First"),
        "feeds/sport/_feed.yaml": "title: Sport\n",
        "feeds/sport/b.md": article(title="Match"),
    }, config=MINIMAL_CONFIG + f"http:\n  websub_hubs: ['{hub_url}']\n")


async def test_hub_links_everywhere(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = site(make_site, "https://hub.example.org/")
    client = await aiohttp_client(create_app(build_snapshot(config)))  # type: ignore[operator]
    assert isinstance(client, TestClient)
    rss = await client.get("/feeds/news.rss")
    assert '<https://hub.example.org/>; rel="hub"' in rss.headers["Link"]
    links = {link.get("rel"): link.get("href") for link in strict_xml(await rss.read()).iterfind(
        "channel/atom:link", NS)}
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
        client = await aiohttp_client(create_app(build_snapshot(config)))  # type: ignore[operator]
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
        client = await aiohttp_client(create_app(build_snapshot(config)))  # type: ignore[operator]
        assert isinstance(client, TestClient)
        client.app[SNAPSHOTS].replace(build_snapshot(config))
        assert not client.app[PUBLISHER].tasks and stub.pings == []
    finally:
        await hub.close()
