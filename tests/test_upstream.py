"""Following an upstream feed through the real app, against a real HTTP upstream on a loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.cli import main
from syndicate.content.model import Upstream
from syndicate.ingest.feedread import FeedError, read_feed
from syndicate.ingest.upstream import UpstreamPoller, backoff
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.upstreams import UPSTREAMS
from tests.conftest import AppClient, SiteFactory
from tests.feedcheck import check_any
from tests.opsite import AUTH, CONFIG, PARTNER_KEY, TOKEN, space, wait_for
from tests.wordpress_site import free_port

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Upstream</title><link>https://pub.test</link>
<description>x</description>{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://pub.test/{n}/</link><guid isPermaLink="false">https://pub.test/?p={n}</guid>
<pubDate>Wed, 0{n} May 2024 10:00:00 +0000</pubDate><dc:creator><![CDATA[Ann Åberg]]></dc:creator>
<category><![CDATA[World]]></category><enclosure url="https://pub.test/{n}.jpg" type="image/jpeg" length="1"/>
<description><![CDATA[[bsa_pro_ad_space id=top] Story {n} in short [&#8230;]]]></description>
<content:encoded><![CDATA[<p>[bsa_pro_ad_space id=top]</p>
<p>Story {n} “text”.</p>]]></content:encoded></item>"""


def rss(*numbers: int, title: str = "Story {n}") -> bytes:
    return RSS.format(items="".join(ITEM.format(n=n, title=title.format(n=n)) for n in numbers)).encode()


@dataclass
class Upstreamer:
    """A real HTTP server standing in for a publisher's /feed/; each test sets what it answers."""

    body: bytes = b""
    status: int = 200
    delay: float = 0.0
    etag: str = '"v1"'
    requests: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.headers))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status == 200 and request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        return web.Response(
            body=self.body, status=self.status, content_type="application/rss+xml", headers={"ETag": self.etag}
        )


@pytest.fixture
async def upstream() -> Any:
    state = Upstreamer(body=rss(1, 2))
    app = web.Application()
    app.router.add_get("/feed/", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.server = server  # type: ignore[attr-defined]
    state.url = str(server.make_url("/feed/"))  # type: ignore[attr-defined]
    yield state
    await server.close()


def followed_site(make_site: SiteFactory, url: str, extra: str = "") -> Path:
    return make_site(
        {
            "feeds/followed/_feed.yaml": f"title: Followed\nupstream:\n  url: {url}\n  every: 3600\n  timeout: 0.5\n"
            + extra,
            "adspaces/top.yaml": space("Public ad"),
            "adspaces/acme-top.yaml": space("Acme ad"),
        },
        config=CONFIG,
    )


async def _started(aiohttp_client: Callable[..., Any], config: Path, monkeypatch: pytest.MonkeyPatch) -> AppClient:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(config))

    async def loaded() -> bool:
        return (
            bool(client.app[UPSTREAMS].polls)
            and (await client.get("/feeds/followed.json")).status == 200
            and len((await (await client.get("/feeds/followed.json")).json())["items"]) > 0
        )

    await wait_for(loaded, "the first poll")
    return client


async def _status(client: AppClient) -> dict[str, Any]:
    response = await client.get("/admin/status", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    (state,) = body["upstreams"]
    assert isinstance(state, dict)
    return state


async def test_followed_items_are_served_with_shortcodes_resolved_per_partner(
    upstream: Any, make_site: SiteFactory, aiohttp_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = followed_site(make_site, upstream.url)
    client = await _started(aiohttp_client, config, monkeypatch)
    for fmt in ("rss", "atom", "json"):
        public = await (await client.get(f"/feeds/followed.{fmt}")).read()
        acme = await (
            await client.get(f"/feeds/followed.{fmt}", headers={"Authorization": f"Bearer {PARTNER_KEY}"})
        ).read()
        for body in (public, acme):
            check_any(fmt, body)
            assert b"bsa_pro_ad_space" not in body
        assert b"Public ad" in public and b"Acme ad" not in public
        assert b"Acme ad" in acme and b"Public ad" not in acme
    feed = await (await client.get("/feeds/followed.json")).json()
    first = next(item for item in feed["items"] if item["url"] == "https://pub.test/1/")
    assert first["title"] == "Story 1"
    assert first["date_published"].startswith("2024-05-01T10:00:00")
    assert first["authors"] == [{"name": "Ann Åberg"}]
    assert first["tags"] == ["World"]
    assert first["image"] == "https://pub.test/1.jpg"
    assert first["summary"] == "Story 1 in short […]"
    assert "<p>Story 1 “text”.</p>" in first["content_html"]
    state = await _status(client)
    assert state["ok"] and state["items"] == 2 and state["written"] == 2 and state["kind"] == "rss"
    assert len(list((config.parent / "feeds" / "followed").glob("up-*.html"))) == 2


async def test_conditional_get_and_changed_items(
    upstream: Any, make_site: SiteFactory, aiohttp_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = followed_site(make_site, upstream.url)
    client = await _started(aiohttp_client, config, monkeypatch)
    poller: UpstreamPoller = client.app[UPSTREAMS]
    settings_ = client.app[UPSTREAMS].tasks["followed"][0]
    files = {p: p.read_bytes() for p in (config.parent / "feeds" / "followed").glob("up-*.html")}
    assert await poller.poll("followed", settings_) is False
    assert upstream.requests[-1].get("If-None-Match") == '"v1"'
    assert {p: p.read_bytes() for p in files} == files
    upstream.body, upstream.etag = rss(1, 2, 3, title="Story {n}, revised"), '"v2"'
    assert await poller.poll("followed", settings_) is True
    feed = await (await client.get("/feeds/followed.json")).json()
    assert sorted(item["title"] for item in feed["items"]) == [f"Story {n}, revised" for n in (1, 2, 3)]
    assert len(list((config.parent / "feeds" / "followed").glob("up-*.html"))) == 3  # same items, same files


@pytest.mark.parametrize("failure", ["http-500", "garbage", "not-a-feed", "timeout", "too-big", "gone"])
async def test_a_failing_upstream_never_empties_the_feed(
    failure: str,
    upstream: Any,
    make_site: SiteFactory,
    aiohttp_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = followed_site(make_site, upstream.url, "  max_bytes: 20000\n")
    client = await _started(aiohttp_client, config, monkeypatch)
    poller: UpstreamPoller = client.app[UPSTREAMS]
    settings_ = poller.tasks["followed"][0]
    before = await (await client.get("/feeds/followed.rss")).read()
    upstream.etag = '"v2"'
    if failure == "http-500":
        upstream.status = 500
    elif failure == "garbage":
        upstream.body = b"\x00\xff<<<not xml"
    elif failure == "not-a-feed":
        upstream.body = b"<html><body>Error establishing a database connection</body></html>"
    elif failure == "timeout":
        upstream.delay = 2.0
    elif failure == "too-big":
        upstream.body = rss(*range(1, 9)) * 10
    else:
        await upstream.server.close()
    assert await poller.poll("followed", settings_) is False
    state = await _status(client)
    assert not state["ok"] and state["failures"] == 1 and state["error"]
    assert await (await client.get("/feeds/followed.rss")).read() == before
    assert build_snapshot(config).feeds["followed"].articles  # the files are still there for the next start


async def test_upstream_going_away_and_coming_back(
    upstream: Any, make_site: SiteFactory, aiohttp_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = followed_site(make_site, upstream.url)
    client = await _started(aiohttp_client, config, monkeypatch)
    poller: UpstreamPoller = client.app[UPSTREAMS]
    settings_ = poller.tasks["followed"][0]
    upstream.status = 503
    assert not await poller.poll("followed", settings_)
    assert not await poller.poll("followed", settings_)
    assert (await _status(client))["failures"] == 2
    upstream.status, upstream.body, upstream.etag = 200, rss(1, 2, 4), '"v3"'
    assert await poller.poll("followed", settings_)
    state = await _status(client)
    assert state["ok"] and state["failures"] == 0 and state["error"] is None
    assert len((await (await client.get("/feeds/followed.json")).json())["items"]) == 3


async def test_bad_items_are_left_out_and_reported(
    upstream: Any, make_site: SiteFactory, aiohttp_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    undated = ITEM.format(n=7, title="No date").replace("<pubDate>Wed, 07 May 2024 10:00:00 +0000</pubDate>", "")
    upstream.body = RSS.format(items=ITEM.format(n=1, title="Fine") + undated).encode()
    config = followed_site(make_site, upstream.url)
    client = await _started(aiohttp_client, config, monkeypatch)
    state = await _status(client)
    assert state["ok"] and state["items"] == 2 and state["written"] == 1
    assert state["rejected"] == ["https://pub.test/?p=7: no guid/id and link, or no date"]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(10, n) for n in range(5)] == [10, 10, 20, 40, 80]
    assert backoff(10, 50) == 3600
    assert backoff(7200, 3) == 7200


async def test_check_fetches_each_upstream_once(
    upstream: Any, make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = followed_site(make_site, upstream.url)
    assert await asyncio.to_thread(main, ["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"upstream followed: {upstream.url}: rss, 2 items, 2 usable" in out
    assert len(upstream.requests) == 1
    assert list((config.parent / "feeds" / "followed").glob("up-*")) == []  # check writes nothing
    upstream.status = 500
    assert await asyncio.to_thread(main, ["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "feeds/followed/_feed.yaml:2: warning: upstream" in out and "HTTP 500" in out


def test_upstream_settings_are_checked(make_site: SiteFactory) -> None:
    config = make_site({"feeds/x/_feed.yaml": "title: X\nupstream:\n  url: ftp://x.test/feed\n  every: 0\n  spam: 1\n"})
    messages = sorted(p.message for p in build_snapshot(config).problems)
    assert any("upstream.url" in m and "http(s)" in m for m in messages), messages
    assert any("upstream.every" in m for m in messages), messages
    assert any("upstream.spam" in m for m in messages), messages


def test_a_control_character_in_the_upstream_url_is_an_error(make_site: SiteFactory) -> None:
    config = make_site({"feeds/x/_feed.yaml": 'title: X\nupstream:\n  url: "https://up.test/fe\\x01ed/"\n'})
    snapshot = build_snapshot(config)
    assert any("upstream.url" in p.message and p.line == 3 for p in snapshot.problems), snapshot.problems
    assert "x" not in snapshot.feeds or snapshot.feeds["x"].upstream is None


def test_atom_entries() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2024-05-02T00:00:00Z</updated>
<entry><title type="html">Q&amp;amp;A</title><id>urn:e1</id><link rel="alternate" href="https://pub.test/e1"/>
<published>2024-05-01T10:00:00+02:00</published><updated>2024-05-02T00:00:00Z</updated>
<author><name>Bob</name></author><category term="news" label="News"/>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi [bsa_pro_ad_space id=4]</p></div></content>
<summary>Plain &lt;text&gt;</summary></entry></feed>"""
    kind, (entry,) = read_feed(atom)
    assert kind == "atom" and entry.key == "urn:e1" and entry.link == "https://pub.test/e1"
    assert entry.published is not None and entry.published.isoformat() == "2024-05-01T10:00:00+02:00"
    assert entry.author == "Bob" and entry.categories == ("News",) and entry.title == "Q&amp;A"
    assert entry.html == "<p>Hi [bsa_pro_ad_space id=4]</p>" and entry.summary == "Plain &lt;text&gt;"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: f"<rss><channel><item>{t}".encode()))
def test_any_bytes_give_entries_or_one_feed_error(data: bytes) -> None:
    try:
        read_feed(data)
    except FeedError as exc:
        assert "\n" not in str(exc)


def test_upstream_model_is_hashable_for_task_matching() -> None:
    assert Upstream("https://a.test/", 1, 1, 1024) == Upstream("https://a.test/", 1, 1, 1024)


async def test_check_runs_from_inside_a_running_loop(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = followed_site(make_site, f"http://127.0.0.1:{free_port()}/feed/")  # nothing listens there
    assert main(["check", "--config", str(config)]) == 0  # called on the loop's own thread, as code in a server would
    assert "warning: upstream" in capsys.readouterr().out
