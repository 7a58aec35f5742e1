"""Impression and click caps through the real app: judged on stored counts, frozen per rotation window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from syndicate.cli import main
from syndicate.tracking.events import CountKey
from syndicate.tracking.store import FILE_NAME, SqliteStore
from syndicate.web.state import TRACKER, VARIANTS
from tests.conftest import AppClient, SiteFactory, article
from tests.tracking_support import ADMIN_TOKEN, CHROME, CONFIG, PARTNER_KEY, admin, serving, use_test_secrets

PARTNER = {"Authorization": f"Bearer {PARTNER_KEY}", "User-Agent": "WordPress/6.4.2"}
ARTICLES = 30
ROTATION = 3600


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def space(caps: str) -> str:
    """A space whose unit ``capped`` carries ``caps`` and always wins the draw while eligible; ``other`` fills in."""
    return f"""\
selection: priority
units:
  - {{id: capped, type: text, url: "https://ad.test/capped", title: Capped, priority: 1, {caps}}}
  - {{id: other, type: text, url: "https://ad.test/other", title: Other}}
"""


def capped_site(make_site: SiteFactory, caps: str, rotation: str = "per_item") -> Path:
    files = {"feeds/news/_feed.yaml": "title: News\nitems_per_page: 50\n", "adspaces/4.yaml": space(caps)}
    for i in range(ARTICLES):
        files[f"feeds/news/a{i:02d}.md"] = article(
            f"A{i}", f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00", "Text. [bsa_pro_ad_space id=4]"
        )
    return make_site(files, config=CONFIG + f"ads: {{rotation: {rotation}, rotation_seconds: {ROTATION}}}\n")


def seed(config: Path, counts: dict[tuple[str, str, str, str], int]) -> None:
    """(unit, partner, kind, class) -> n, stored for space 4 before the app starts."""
    store = SqliteStore(config.parent / "data" / FILE_NAME)
    store.add(
        {
            CountKey("2024-05-01", "4", unit, partner, kind, agent): n
            for (unit, partner, kind, agent), n in counts.items()
        }
    )
    store.close()


async def placed(client: AppClient, headers: dict[str, str] | None = None) -> tuple[int, int, str]:
    """How many times ``capped`` and ``other`` are in the feed, and its ETag."""
    response = await client.get("/feeds/news.json", headers=headers or {"User-Agent": CHROME})
    assert response.status == 200
    text = await response.text()
    return text.count(">Capped<"), text.count(">Other<"), response.headers["ETag"]


def at(monkeypatch: pytest.MonkeyPatch, moment: float) -> None:
    """The server's clock for choosing the rotation window."""
    monkeypatch.setattr("syndicate.web.views.wall_clock", lambda: moment)


async def test_a_unit_whose_stored_count_reached_its_cap_is_not_placed(make_site: SiteFactory) -> None:
    config = capped_site(make_site, "max_impressions: 5")
    seed(config, {("capped", "public", "served", "browser"): 3, ("capped", "partner-a", "served", "partner"): 2})
    async with serving(config) as client:
        assert await placed(client) == (0, ARTICLES, (await placed(client))[2])


async def test_bots_and_proxies_do_not_use_up_a_cap(make_site: SiteFactory) -> None:
    config = capped_site(make_site, "max_impressions: 1000, max_clicks: 10")
    seed(
        config,
        {
            ("capped", "public", "served", "bot"): 5000,
            ("capped", "public", "click", "bot"): 50,
            ("capped", "public", "served", "proxy"): 5000,
            ("capped", "public", "rendered", "browser"): 5000,
        },
    )
    async with serving(config) as client:
        assert (await placed(client))[:2] == (ARTICLES, 0)


async def test_a_click_cap_stops_the_unit(make_site: SiteFactory) -> None:
    config = capped_site(make_site, "max_clicks: 3")
    seed(config, {("capped", "public", "click", "browser"): 3})
    async with serving(config) as client:
        assert (await placed(client))[:2] == (0, ARTICLES)


async def test_per_partner_caps_count_each_audience_on_its_own(make_site: SiteFactory) -> None:
    config = capped_site(make_site, "max_impressions_per_partner: 40, max_clicks_per_partner: 2")
    seed(
        config,
        {
            ("capped", "partner-a", "served", "partner"): 40,
            ("capped", "public", "served", "browser"): 39,
            ("capped", "public", "click", "browser"): 1,
        },
    )
    async with serving(config) as client:
        assert (await placed(client, PARTNER))[:2] == (0, ARTICLES)  # partner-a's budget is spent
        assert (await placed(client))[:2] == (1, ARTICLES - 1)  # the public has one impression left


@pytest.mark.parametrize("rotation", ["per_item", "window"])
async def test_max_impressions_1_is_placed_once_and_stops_from_the_next_window(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, rotation: str
) -> None:
    config = capped_site(make_site, "max_impressions: 1", rotation)
    window = (int(time.time()) // ROTATION) * ROTATION
    at(monkeypatch, window + 10)
    async with serving(config) as client:
        first = await placed(client)
        assert first[:2] == (1, ARTICLES - 1)  # one impression left: one item of this body, not all thirty
        for _ in range(3):  # the window's variant is served again, and each response counts
            assert await placed(client) == first
        tracker = client.app[TRACKER]
        await tracker.flush()
        await tracker.refresh_caps()  # the background refresh: the cap is now reached in the store
        client.app[VARIANTS].clear()  # rendered again, in the same window …
        at(monkeypatch, window + 20)
        assert await placed(client) == first  # … judged on the same frozen counts: the same bytes
        at(monkeypatch, window + ROTATION + 1)
        response = await client.get("/feeds/news.json", headers={"If-None-Match": first[2], "User-Agent": CHROME})
        assert response.status == 200  # the bytes changed: no 304 on the old ETag
        assert (await placed(client))[:2] == (0, ARTICLES)  # the next window: no longer placed
    assert _served(config) == 5  # five responses carried it once each: the overshoot one window allows


async def test_under_per_item_a_unit_far_from_its_cap_keeps_the_bytes_across_windows(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = capped_site(make_site, "max_impressions: 1000000")
    start = (int(time.time()) // ROTATION) * ROTATION
    async with serving(config) as client:
        tracker = client.app[TRACKER]
        etags = set()
        for hour in range(3):
            at(monkeypatch, start + hour * ROTATION + 1)
            etags.add((await placed(client))[2])
            await tracker.flush()
            await tracker.refresh_caps()  # its count grows every window, far below the cap
        assert len(etags) == 1


def _served(config: Path) -> int:
    store = SqliteStore(config.parent / "data" / FILE_NAME, repair=False)
    try:
        return sum(row.n for row in store.lifetime({("4", "capped")}) if row.kind == "served")
    finally:
        store.close()


class CountingStore:
    """The real store, counting the calls that reach it."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.lifetime_calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def lifetime(self, units: object) -> object:
        self.lifetime_calls += 1
        return self.inner.lifetime(units)  # type: ignore[arg-type]


async def test_the_request_path_never_queries_the_store(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = capped_site(make_site, "max_impressions: 1000")
    async with serving(config) as client:
        tracker = client.app[TRACKER]
        counting = CountingStore(tracker.store)  # type: ignore[arg-type]
        tracker.store = counting  # type: ignore[assignment]
        start = (int(time.time()) // ROTATION) * ROTATION
        for hour in range(5):  # a new window each time: each renders a fresh variant judged on caps
            at(monkeypatch, start + hour * ROTATION + 1)
            for headers in ({"User-Agent": CHROME}, PARTNER):
                assert (await placed(client, headers))[0] == ARTICLES
        assert counting.lifetime_calls == 0  # flush_seconds is 60: only the background refresh reads counts
        await tracker.refresh_caps()
        assert counting.lifetime_calls == 1


async def test_status_and_check_show_units_at_or_near_their_cap(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = capped_site(make_site, "max_impressions: 100, max_clicks_per_partner: 10")
    seed(config, {("capped", "public", "served", "browser"): 95, ("capped", "partner-a", "click", "other"): 10})
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "adspaces/4.yaml:3: warning: units[0] 'capped': 95 of max_impressions 100: 95% used: near it" in out
    assert (
        "units[0] 'capped': 10 of max_clicks_per_partner 10 for partner-a: reached: not placed again for partner-a"
    ) in out
    async with serving(config) as client:
        status = await (await client.get("/admin/status", headers=admin(ADMIN_TOKEN))).json()
    messages = [w["message"] for w in status["warnings"] if w["path"] == "adspaces/4.yaml"]
    assert any("95 of max_impressions 100" in m for m in messages)
    assert any("10 of max_clicks_per_partner 10 for partner-a: reached" in m for m in messages)
