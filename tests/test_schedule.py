"""Scheduled publishing through the real app, with a real short delay: an article dated
a couple of seconds ahead is in no feed, page or count until then, and appears on time
with no reload and no file change (new ETag and Last-Modified, WebSub pings then)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.cli import main
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.conditional import http_date
from syndicate.web.schedule import SCHEDULER
from syndicate.web.state import RELOADER
from syndicate.web.websub import PUBLISHER
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, AppClient, SiteFactory, article
from tests.opsite import AUTH, TOKEN, wait_for
from tests.test_websub import HubStub, start_hub

Client = Callable[..., Any]
OLD = "2024-05-01T10:00:00+00:00"
FEEDS = ("/feeds/news.rss", "/feeds/all.atom", "/feeds/news.json")


def soon(seconds: float = 3.0) -> dt.datetime:
    """A whole second at least ``seconds`` ahead (HTTP dates have whole seconds)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds + 1)).replace(microsecond=0)


def site(make_site: SiteFactory, due: dt.datetime, hub: str = "https://hub.invalid/") -> Path:
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/old.md": article(title="Old story", date=OLD, extra="tags: [Energy]\nauthor: Ann Lee\n"),
            "feeds/news/later.md": article(
                title="Embargoed story", date=due.isoformat(), extra="tags: [Embargo, Energy]\nauthor: Zed Moe\n"
            ),
        },
        config=MINIMAL_CONFIG + f"http:\n  websub_hubs: ['{hub}']\n  rate_limits:\n    public: {{\"off\": true}}\n",
    )


async def texts(client: AppClient, paths: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    found = {}
    for path in paths:
        response = await client.get(path)
        found[path] = (response.status, await response.text())
    return found


async def test_a_future_article_appears_at_its_time_without_a_reload(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    stub = HubStub()
    hub = await start_hub(stub)
    try:
        due = soon()
        config = site(make_site, due, str(hub.make_url("/hub")))
        client = await aiohttp_client(create_app(config))
        assert isinstance(client, TestClient)

        before = {path: await client.get(path) for path in FEEDS}
        for path, response in before.items():
            assert response.status == 200
            assert "Embargoed story" not in await response.text(), path
            assert response.headers["Last-Modified"] == http_date(dt.datetime.fromisoformat(OLD))
        hidden = await texts(
            client,
            (
                "/feeds/news/tags/embargo.rss",
                "/feeds/news/authors/zed-moe.rss",
                "/feeds/all/tags/embargo.json",
                "/feeds/news/tags/energy.rss",
                "/",
            ),
        )
        assert [status for status, _ in hidden.values()] == [404, 404, 404, 200, 200]
        assert "Embargoed story" not in hidden["/feeds/news/tags/energy.rss"][1]
        index = hidden["/"][1]
        assert "· 1 article ·" in index and "Embargo" not in index and "Zed Moe" not in index
        assert stub.pings == []
        assert dt.datetime.now(dt.UTC) < due, "the checks above took longer than the delay: raise it"

        async def published() -> bool:
            return "Embargoed story" in await (await client.get("/feeds/news.rss")).text()

        await wait_for(published, "the scheduled article to be published", limit=15)
        assert dt.datetime.now(dt.UTC) >= due  # not a moment early

        for path, old in before.items():
            response = await client.get(path, headers={"If-None-Match": old.headers["ETag"]})
            assert response.status == 200 and "Embargoed story" in await response.text(), path
            assert response.headers["ETag"] != old.headers["ETag"]
            assert response.headers["Last-Modified"] == http_date(due)
        shown = await texts(
            client,
            (
                "/feeds/news/tags/embargo.rss",
                "/feeds/news/authors/zed-moe.rss",
                "/feeds/all/tags/embargo.json",
                "/feeds/news/tags/energy.rss",
                "/",
            ),
        )
        assert all(status == 200 and "Embargoed story" in text for status, text in list(shown.values())[:4])
        assert "· 2 articles ·" in shown["/"][1]
        assert client.app[RELOADER].attempts == 0  # no reload: the Snapshot was derived again
        assert client.app[SCHEDULER].published == 1

        await asyncio.wait_for(asyncio.gather(*client.app[PUBLISHER].tasks), timeout=10)
        pinged = {p["hub.url"].removeprefix("http://127.0.0.1:8080/feeds/") for p in stub.pings}
        assert pinged == {
            f"{path}.{fmt}"
            for fmt in ("rss", "atom", "json")
            for path in (
                "all",
                "news",
                "all/tags/embargo",
                "news/tags/embargo",
                "all/tags/energy",
                "news/tags/energy",
                "all/authors/zed-moe",
                "news/authors/zed-moe",
            )
        }
    finally:
        await hub.close()


async def test_a_reload_that_adds_a_scheduled_article_wakes_the_scheduler(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    config = make_site(
        {"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/old.md": article(title="Old", date=OLD)},
        config=MINIMAL_CONFIG + 'http:\n  rate_limits:\n    public: {"off": true}\n',
    )
    client = await aiohttp_client(create_app(config))
    assert isinstance(client, TestClient)
    assert client.app[RELOADER].holder.current.next_publication is None
    due = soon()
    (config.parent / "feeds/news/later.md").write_text(article(title="Later", date=due.isoformat()), encoding="utf-8")
    assert (await client.app[RELOADER].reload("test")).accepted
    assert "Later" not in await (await client.get("/feeds/news.json")).text()

    async def published() -> bool:
        return "Later" in await (await client.get("/feeds/news.json")).text()

    await wait_for(published, "the article added by the reload to be published", limit=15)
    assert dt.datetime.now(dt.UTC) >= due


def test_the_snapshot_knows_what_is_scheduled(make_site: SiteFactory) -> None:
    due = dt.datetime(2030, 1, 6, 9, tzinfo=dt.UTC)
    snapshot = build_snapshot(site(make_site, due), now=due - dt.timedelta(seconds=1))
    assert snapshot.next_publication == due
    assert [a.title for a in snapshot.feeds["all"].articles] == ["Old story"]
    assert snapshot.article("news", "later") is not None  # previews still find it
    assert snapshot.article_count == 1
    later = snapshot.published_at(due)
    assert later.generation > snapshot.generation and later.next_publication is None
    assert [a.title for a in later.feeds["all"].articles] == ["Embargoed story", "Old story"]
    assert ("news", "tags", "embargo") in later.filtered and ("news", "tags", "embargo") not in snapshot.filtered


async def test_status_shows_what_is_scheduled_and_preview_shows_it_early(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client = await aiohttp_client(create_app(site(make_site, dt.datetime(2030, 1, 6, 9, tzinfo=dt.UTC))))
    status = await (await client.get("/admin/status", headers=AUTH)).json()
    assert status["counts"]["articles"] == 1 and status["counts"]["scheduled"] == 1
    assert status["scheduled"] == [
        {"path": "feeds/news/later.md", "id": "news/later", "at": "2030-01-06T09:00:00+00:00"}
    ]
    preview = await client.get("/admin/preview/news/later", headers=AUTH)
    assert preview.status == 200 and "Embargoed story" in await preview.text()


def test_check_lists_what_is_scheduled_and_when(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    due = dt.datetime(2030, 1, 6, 9, tzinfo=dt.UTC)
    config = site(make_site, due)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["feeds/news/later.md: scheduled: publishes at 2030-01-06T09:00:00+00:00"]
    assert main(["check", "--config", str(config), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scheduled"] == [
        {"path": "feeds/news/later.md", "id": "news/later", "at": "2030-01-06T09:00:00+00:00"}
    ]
    assert report["warnings"] == 0 and report["errors"] == 0
