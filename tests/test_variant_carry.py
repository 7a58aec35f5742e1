"""Rendered variants across a swap: a page whose inputs did not change keeps its bytes, one that changed is
rendered anew, and the pages most asked for are rendered before the swap.

The oracle is a server started cold on the same files: whatever a reloaded server answers must be
byte for byte what a fresh one answers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.reload import Reloader
from syndicate.web import warm
from syndicate.web.app import create_app
from syndicate.web.schedule import SCHEDULER
from syndicate.web.state import RELOADER, VARIANTS
from syndicate.web.variants import VariantCache
from tests.conftest import FEED_YAML, AppClient, SiteFactory, article
from tests.opsite import CONFIG, PARTNER_KEY, space

Client = Callable[..., Any]
MATCH_DATE = "2024-05-03T10:00:00+00:00"
PARTNER = f"/feeds/sport.rss?key={PARTNER_KEY}"
PATHS = ("/feeds/news.rss", "/feeds/sport.atom", "/feeds/sport.json", "/feeds/all.rss", PARTNER)


@pytest.fixture(autouse=True)
def signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """One signing key for every server of a test, so their signed ad links can be compared."""
    monkeypatch.setenv("SYNDICATE_SIGNING_KEYS", "k1:" + "s" * 32)


def two_feeds(make_site: SiteFactory, extra_articles: dict[str, str] | None = None) -> Path:
    """Feeds ``news`` and ``sport``, both calling ad space ``top`` (partner ``acme`` gets ``acme-top``)."""
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/one.md": article("One", body="Intro.\n\n[bsa_pro_ad_space id=top]\n\nMore."),
            "feeds/sport/_feed.yaml": "title: Sport\ndescription: Test sport\n",
            "feeds/sport/match.md": article(
                "Match", date="2024-05-03T10:00:00+00:00", body="[bsa_pro_ad_space id=top]"
            ),
            "adspaces/top.yaml": space("Version A"),
            "adspaces/acme-top.yaml": space("Acme ad"),
            **(extra_articles or {}),
        },
        config=CONFIG,
    )


async def start(aiohttp_client: Client, config: Path) -> tuple[AppClient, Reloader, VariantCache]:
    client: AppClient = await aiohttp_client(create_app(config))
    return client, client.app[RELOADER], client.app[VARIANTS]


Answer = tuple[bytes, str, str]  # body, ETag, Last-Modified


async def answer(client: AppClient, path: str) -> Answer:
    response = await client.get(path)
    assert response.status == 200, path
    return await response.read(), response.headers["ETag"], response.headers["Last-Modified"]


async def answers(client: AppClient, paths: tuple[str, ...] = PATHS) -> dict[str, Answer]:
    return {path: await answer(client, path) for path in paths}


async def fresh(aiohttp_client: Client, config: Path, paths: tuple[str, ...] = PATHS) -> dict[str, Answer]:
    """What a server started now on the same files answers."""
    client, _, _ = await start(aiohttp_client, config)
    try:
        return await answers(client, paths)
    finally:
        await client.close()


async def test_an_unchanged_feed_keeps_its_variant_across_an_unrelated_reload(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    config = two_feeds(make_site)
    client, reloader, cache = await start(aiohttp_client, config)
    sport = ("/feeds/sport.atom", "/feeds/sport.json", PARTNER)
    before = await answers(client, sport)
    (config.parent / "feeds/news/one.md").write_text(article("One, revised"), encoding="utf-8")
    renders = cache.renders
    assert (await reloader.reload("test")).accepted
    assert await answers(client, sport) == before  # same bytes, same ETags
    assert cache.renders == renders  # served from the variants made before the reload
    assert "One, revised" in (await answer(client, "/feeds/news.rss"))[0].decode()
    assert await answers(client) == await fresh(aiohttp_client, config)


async def test_a_reload_with_no_change_keeps_every_variant(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = two_feeds(make_site)
    client, reloader, cache = await start(aiohttp_client, config)
    before = await answers(client)
    renders = cache.renders
    assert (await reloader.reload("test")).accepted
    assert await answers(client) == before
    assert cache.renders == renders


async def test_an_edited_article_changes_its_feeds_and_only_them(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    config = two_feeds(make_site)
    client, reloader, _ = await start(aiohttp_client, config)
    before = await answers(client)
    (config.parent / "feeds/sport/match.md").write_text(
        article("Final", date=MATCH_DATE, body="[bsa_pro_ad_space id=top]"), encoding="utf-8"
    )
    assert (await reloader.reload("test")).accepted
    after = await answers(client)
    assert after == await fresh(aiohttp_client, config)
    changed = {path for path in PATHS if after[path] != before[path]}
    assert changed == set(PATHS) - {"/feeds/news.rss"}
    assert all(after[path][1] != before[path][1] for path in changed)


async def test_ad_space_edits_reach_every_page_that_shows_them(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """The units, a caps field and a unit's schedule: each edit is served at once, in every feed with the space."""
    config = two_feeds(make_site)
    client, reloader, _ = await start(aiohttp_client, config)
    top = config.parent / "adspaces/top.yaml"
    edits = (
        space("Version B"),
        space("Version B", "    max_impressions: 1000\n"),
        space("Version B", "    start: 2000-01-01T00:00:00Z\n    end: 2001-01-01T00:00:00Z\n"),
        space("Version C"),
    )
    previous = await answers(client)
    for text in edits:
        top.write_text(text, encoding="utf-8")
        assert (await reloader.reload("test")).accepted
        now = await answers(client)
        assert now == await fresh(aiohttp_client, config), text
        assert now[PARTNER][:2] == previous[PARTNER][:2]  # same bytes; Last-Modified follows any ad file edit
        shown = now["/feeds/news.rss"][0].decode()
        assert ("Version B" in shown) == ("Version B" in text and "2001" not in text), text
        previous = now
    assert "Version C" in previous["/feeds/sport.atom"][0].decode()


async def test_renaming_a_space_keeps_the_bytes_and_dates_them_anew(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    """A space's name shows nowhere in a feed: the pages keep their bytes and ETag, and every page with ads
    says Last-Modified the new file time, as a fresh server would; a label, which readers see, is rendered."""
    config = two_feeds(make_site)
    client, reloader, cache = await start(aiohttp_client, config)
    before = await answers(client)
    top = config.parent / "adspaces/top.yaml"
    top.write_text(space("Version A").replace("name: Top", "name: Top banner"), encoding="utf-8")
    later = top.stat().st_mtime + 3600
    os.utime(top, (later, later))
    renders = cache.renders
    assert (await reloader.reload("test")).accepted
    after = await answers(client)
    assert cache.renders == renders
    assert after == await fresh(aiohttp_client, config)
    assert all(after[path][:2] == before[path][:2] for path in PATHS)
    assert all(after[path][2] != before[path][2] for path in PATHS if "key=" not in path)
    top.write_text(space("Version A", "label: Paid for\n"), encoding="utf-8")
    assert (await reloader.reload("test")).accepted
    relabelled = await answers(client)
    assert relabelled == await fresh(aiohttp_client, config)
    assert "Paid for" in relabelled["/feeds/news.rss"][0].decode()


async def test_a_config_edit_renders_every_page_anew(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = two_feeds(make_site)
    client, reloader, _ = await start(aiohttp_client, config)
    before = await answers(client)
    config.write_text(config.read_text() + "public:\n  ads: strip\n", encoding="utf-8")
    assert (await reloader.reload("test")).accepted
    after = await answers(client)
    assert after == await fresh(aiohttp_client, config)
    assert all(after[path] != before[path] for path in PATHS if "key=" not in path)
    assert "Version A" not in after["/feeds/sport.json"][0].decode()


async def test_a_scheduled_article_going_live_changes_its_feeds(aiohttp_client: Client, make_site: SiteFactory) -> None:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    config = two_feeds(
        make_site, {"feeds/news/later.md": article("Later", date=due.isoformat(timespec="seconds"), body="Soon.")}
    )
    client, _, _ = await start(aiohttp_client, config)
    before = await answers(client)
    assert "Later" not in before["/feeds/news.rss"][0].decode()
    scheduler = client.app[SCHEDULER]
    scheduler.clock = lambda: due + dt.timedelta(seconds=1)
    assert await scheduler.publish_due() is not None
    after = await answers(client)
    assert "Later" in after["/feeds/news.rss"][0].decode() and "Later" in after["/feeds/all.rss"][0].decode()
    assert after["/feeds/sport.atom"] == before["/feeds/sport.atom"]


async def test_the_pages_most_asked_for_are_rendered_before_the_swap(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    config = two_feeds(make_site)
    client, reloader, cache = await start(aiohttp_client, config)
    for _ in range(20):
        await answer(client, "/feeds/news.rss")
    await answer(client, "/feeds/sport.json")  # asked for once: left to its first request
    (config.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    renders = cache.renders
    assert (await reloader.reload("test")).accepted
    assert cache.renders == renders + 1  # news.rss, made before the new Snapshot went live
    body, _, _ = await answer(client, "/feeds/news.rss")
    assert "Version B" in body.decode()
    assert cache.renders == renders + 1  # its first request after the swap found it made
    await answer(client, "/feeds/sport.json")
    assert cache.renders == renders + 2
    assert await answers(client) == await fresh(aiohttp_client, config)


async def test_rendering_ahead_stops_at_its_budget(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap waits for renders made ahead only as long as the budget: past it, requests render."""
    monkeypatch.setattr(warm, "BUDGET", 0.0)
    config = two_feeds(make_site)
    client, reloader, cache = await start(aiohttp_client, config)
    for _ in range(20):
        await answer(client, "/feeds/news.rss")
    (config.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    renders = cache.renders
    assert (await reloader.reload("test")).accepted
    assert cache.renders == renders
    assert "Version B" in (await answer(client, "/feeds/news.rss"))[0].decode()
    assert cache.renders == renders + 1


async def test_an_edit_off_the_page_that_moves_its_feed_header_renders_the_page(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    """Page 1 keeps its one article, but an older article's later ``updated`` is the feed's newest change."""
    config = two_feeds(
        make_site,
        {
            "feeds/paged/_feed.yaml": "title: Paged\ndescription: One a page\nitems_per_page: 1\n",
            "feeds/paged/new.md": article("New", date="2024-06-01T10:00:00+00:00"),
            "feeds/paged/old.md": article("Old", date="2024-01-01T10:00:00+00:00"),
        },
    )
    client, reloader, _ = await start(aiohttp_client, config)
    paged = ("/feeds/paged.atom", "/feeds/paged.rss?page=2")
    before = await answers(client, paged)
    (config.parent / "feeds/paged/old.md").write_text(
        article("Old", date="2024-01-01T10:00:00+00:00", extra="updated: 2024-07-01T10:00:00+00:00\n"),
        encoding="utf-8",
    )
    assert (await reloader.reload("test")).accepted
    after = await answers(client, paged)
    assert after == await fresh(aiohttp_client, config, paged)
    assert "2024-07-01" in after["/feeds/paged.atom"][0].decode() and after != before
