"""The fast lane (``web/fastlane.py``): a repeat feed request answered before routing, exactly as routed.

Every other test's client runs with the lane too (``conftest.aiohttp_client``); these pin what is
particular to it: that it skips routing, that it answers byte for byte what the routed handler does,
and what it hands back to routing.
"""

from __future__ import annotations

import contextlib
import signal
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syndicate.web import views
from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import MINIMAL_CONFIG, AppClient, SiteFactory, article
from tests.fleet_processes import free_port, wait_for
from tests.processes import serve_logged

Client = Callable[..., Any]
KEY = "partner-key-123456"
BEARER = {"Authorization": f"Bearer {KEY}"}
PARTNERS = f"partners:\n  - id: p\n    keys: [{KEY}]\n"
#: Headers that differ between any two responses, lane or not.
PER_RESPONSE = {"Date", "RateLimit-Remaining", "RateLimit-Reset"}


def site(make_site: SiteFactory, config: str = MINIMAL_CONFIG + PARTNERS) -> Path:
    return make_site(
        {"feeds/news/_feed.yaml": "title: News\n", "feeds/news/a.md": article(), "feeds/news/b.md": article("Two")},
        config=config,
    )


class Routed:
    """Counts what aiohttp's router resolves."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        resolve = web.UrlDispatcher.resolve

        async def counting(router: web.UrlDispatcher, request: web.Request) -> Any:
            self.paths.append(request.path)
            return await resolve(router, request)

        monkeypatch.setattr(web.UrlDispatcher, "resolve", counting)


async def test_a_repeat_feed_request_is_answered_without_routing(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed = Routed(monkeypatch)
    client: AppClient = await aiohttp_client(create_app(site(make_site)))
    first = await client.get("/feeds/news.rss", headers=BEARER)
    again = [await client.get("/feeds/news.rss", headers=BEARER) for _ in range(3)]
    assert [r.status for r in (first, *again)] == [200] * 4
    assert routed.paths == ["/feeds/news.rss"], "only the first request was routed"
    assert {r.headers["ETag"] for r in (first, *again)} == {first.headers["ETag"]}
    await client.get("/healthz")
    await client.post("/feeds/news.rss", headers=BEARER)
    assert routed.paths[1:] == ["/healthz", "/feeds/news.rss"], "other routes and methods are routed"


async def _plain_client(app: web.Application) -> TestClient[web.Request, web.Application]:
    """A client of ``app`` without the lane: the routed handler answers everything."""
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    return client


@contextlib.asynccontextmanager
async def both(make_site: SiteFactory, aiohttp_client: Client, config: str) -> AsyncIterator[tuple[Any, Any]]:
    path = site(make_site, config)
    plain = await _plain_client(create_app(path))
    try:
        laned: AppClient = await aiohttp_client(create_app(path))
        yield plain, laned
    finally:
        await plain.close()


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/feeds/news.rss", BEARER),
    ("GET", "/feeds/news.rss", {**BEARER, "Accept-Encoding": "gzip"}),
    ("GET", "/feeds/news.rss", {**BEARER, "Accept-Encoding": "identity"}),
    ("HEAD", "/feeds/news.rss", BEARER),
    ("GET", "/feeds/news.json", {}),
    ("GET", "/feeds/news.atom?page=1", {}),
    ("GET", f"/feeds/news.json?key={KEY}", {}),
    ("GET", "/feeds/news.rss", {**BEARER, "If-Modified-Since": "Tue, 01 Jan 2030 00:00:00 GMT"}),
    ("GET", "/feeds/news.rss", {**BEARER, "If-Modified-Since": "not a date"}),
]


@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
async def test_the_lane_answers_what_routing_answers(
    aiohttp_client: Client, make_site: SiteFactory, method: str, path: str, headers: dict[str, str]
) -> None:
    async with both(make_site, aiohttp_client, MINIMAL_CONFIG + PARTNERS) as (plain, laned):
        seen = [await _answers(client, method, path, headers) for client in (plain, laned)]
    assert seen[0] == seen[1]
    assert [status for status, _, _ in seen[1]][-1] == 304


async def _answers(
    client: Any, method: str, path: str, headers: dict[str, str]
) -> list[tuple[int, dict[str, str], bytes]]:
    """A first request (checked, rendered, remembered), a repeat, and a repeat with the ETag it was given."""
    seen = []
    sent = dict(headers)
    for _ in range(3):
        response = await client.request(method, path, headers=sent, skip_auto_headers=("Accept-Encoding",))
        body = await response.read()
        seen.append((response.status, {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}, body))
        sent = {**headers, "If-None-Match": response.headers["ETag"]} if len(seen) == 2 else sent
    return seen


async def test_the_lane_charges_and_refuses_as_routing_does(aiohttp_client: Client, make_site: SiteFactory) -> None:
    limits = "http:\n  rate_limits:\n    public: {rate: 0.01, burst: 3}\n    not_modified_cost: 0.5\n"
    async with both(make_site, aiohttp_client, MINIMAL_CONFIG + limits + PARTNERS) as (plain, laned):
        seen = []
        for client in (plain, laned):
            first = await client.get("/feeds/news.rss")
            fresh = {"If-None-Match": first.headers["ETag"]}
            statuses = [first.status]
            statuses += [(await client.get("/feeds/news.rss", headers=fresh)).status for _ in range(4)]
            refused = await client.get("/feeds/news.rss")
            statuses.append(refused.status)
            seen.append((statuses, refused.headers.get("Retry-After"), refused.headers.get("RateLimit-Remaining")))
        assert seen[0] == seen[1]
        assert seen[1][0] == [200, 304, 304, 304, 304, 429]


async def test_after_a_swap_requests_are_routed_and_checked_again(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site(make_site)
    routed = Routed(monkeypatch)
    client: AppClient = await aiohttp_client(create_app(config))
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 200
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 200
    config.write_text(MINIMAL_CONFIG + PARTNERS + "    formats: [json]\n", encoding="utf-8")
    assert (await client.app[RELOADER].reload("test")).accepted
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 403
    assert routed.paths == ["/feeds/news.rss", "/feeds/news.rss"]


async def test_an_error_in_the_lane_is_a_logged_500_like_any_other(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client: AppClient = await aiohttp_client(create_app(site(make_site)))
    assert (await client.get("/feeds/news.rss")).status == 200

    def broken(*_: object, **__: object) -> web.Response:
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "choose", broken)
    answer = await client.get("/feeds/news.rss")
    assert answer.status == 500
    assert await answer.text() == "500 Internal Server Error: the error was logged\n"
    assert any("unhandled error on GET /feeds/news.rss" in r.getMessage() for r in caplog.records)


def test_syndicate_serve_answers_repeats_through_the_lane_and_stops_gracefully(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """The real server: its own runner puts the lane in front; SIGTERM still stops it cleanly."""
    port = free_port()
    config = site(make_site, MINIMAL_CONFIG.replace("port: 8080", f"port: {port}") + PARTNERS)
    log = tmp_path / "serve.log"
    process = serve_logged(config, log, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/feeds/news.rss"
        wait_for(f"http://127.0.0.1:{port}/healthz")
        etags = []
        for _ in range(3):
            with urllib.request.urlopen(urllib.request.Request(url, headers=BEARER), timeout=10) as response:
                assert response.status == 200 and b"<rss" in response.read()
                etags.append(response.headers["ETag"])
        assert len(set(etags)) == 1
        fresh = urllib.request.Request(url, headers={**BEARER, "If-None-Match": etags[0]})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(fresh, timeout=10)
        not_modified.value.close()
        assert not_modified.value.code == 304
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    lines = [line for line in log.read_text().splitlines() if '"GET /feeds/news.rss HTTP/1.1"' in line]
    assert [line.split('"')[2].split()[0] for line in lines] == ["200", "200", "200", "304"]
    assert all(line.startswith("127.0.0.0 ") for line in lines)
