"""``ads.rotation`` through the real server, as a real feed reader sees it.

The ``reader`` library keeps every entry and marks it modified when its content
changes. With ``rotation: window`` each new rotation window redraws the ads, so
every ad-bearing item looks modified; with ``per_item`` (the default) an item keeps
the ads of its publication window and is never reported as modified.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from reader import make_reader

from syndicate.snapshot import build_snapshot
from syndicate.web import views
from syndicate.web.app import create_app
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article

HOUR = 3600
START = 1_717_243_200.0  # 2024-06-01T12:00:00Z, a window start
UNITS = "".join(f"  - {{id: u{n}, type: text, url: 'https://ad.test/{n}', title: Ad {n}}}\n" for n in range(8))


def site(make_site: SiteFactory, rotation: str | None) -> Path:
    setting = f"  rotation: {rotation}\n" if rotation else ""
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            **{
                f"feeds/news/a{n}.md": article(
                    title=f"Story {n}",
                    date=f"2024-05-0{n + 1}T10:00:00+00:00",
                    body="Intro.\n\n[bsa_pro_ad_space id=top]\n\nMore.",
                )
                for n in range(4)
            },
            "adspaces/top.yaml": f"name: Top\nunits:\n{UNITS}",
        },
        config=MINIMAL_CONFIG + f"ads:\n  rotation_seconds: {HOUR}\n{setting}"
        'http:\n  rate_limits:\n    public: {"off": true}\n',
    )


async def reader_updates(
    aiohttp_client: Callable[..., Any], config: Path, db: Path, monkeypatch: pytest.MonkeyPatch, windows: int
) -> list[tuple[int, int]]:
    """(new, modified) entries as ``reader`` counts them on each update, one update per rotation window."""
    now = [START]
    monkeypatch.setattr(views, "wall_clock", lambda: now[0])
    client = await aiohttp_client(TestServer(create_app(build_snapshot(config))))
    assert isinstance(client, TestClient)
    url = str(client.make_url("/feeds/news.atom"))
    feeds = make_reader(str(db))
    try:
        await asyncio.to_thread(feeds.add_feed, url)
        counts = []
        for _ in range(windows):
            updated = await asyncio.to_thread(feeds.update_feed, url)
            counts.append((updated.new, updated.modified) if updated else (0, 0))
            now[0] += HOUR
        return counts
    finally:
        feeds.close()


async def test_per_item_old_items_are_never_reported_as_modified(
    aiohttp_client: Callable[..., Any], make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = await reader_updates(
        aiohttp_client, site(make_site, "per_item"), tmp_path / "r.sqlite", monkeypatch, windows=6
    )
    assert counts == [(4, 0)] + [(0, 0)] * 5


async def test_per_item_is_the_default(
    aiohttp_client: Callable[..., Any], make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = await reader_updates(aiohttp_client, site(make_site, None), tmp_path / "r.sqlite", monkeypatch, windows=4)
    assert counts == [(4, 0)] + [(0, 0)] * 3


async def test_window_rotation_makes_readers_see_old_items_modified(
    aiohttp_client: Callable[..., Any], make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = await reader_updates(
        aiohttp_client, site(make_site, "window"), tmp_path / "r.sqlite", monkeypatch, windows=6
    )
    assert counts[0] == (4, 0)
    assert all(new == 0 for new, _ in counts[1:])
    assert sum(modified for _, modified in counts[1:]) > 0, "redrawn ads change items each window"


async def test_per_item_keeps_last_modified_and_etag_across_windows(
    aiohttp_client: Callable[..., Any], make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [START]
    monkeypatch.setattr(views, "wall_clock", lambda: now[0])
    client = await aiohttp_client(create_app(build_snapshot(site(make_site, "per_item"))))
    first = await client.get("/feeds/news.rss")
    now[0] += 5 * HOUR
    later = await client.get("/feeds/news.rss")
    assert await first.read() == await later.read()
    assert first.headers["ETag"] == later.headers["ETag"]
    assert first.headers["Last-Modified"] == later.headers["Last-Modified"]


def test_an_unknown_rotation_is_an_error_naming_the_field(make_site: SiteFactory) -> None:
    from syndicate.problems import LoadError

    with pytest.raises(LoadError) as caught:
        build_snapshot(site(make_site, "sometimes"))
    assert any("rotation" in p.message and "per_item, window" in p.message for p in caught.value.problems)
