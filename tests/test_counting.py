"""The counting method of docs/tracking.md, through the real app on a real socket.

``served`` counts every ad placement a 200 GET delivered; ``fetches`` counts those
responses once each; a keyed pull counts for its partner whatever its User-Agent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FEED_YAML, SiteFactory, article
from tests.tracking_support import CHROME, CONFIG, GOOGLEBOT, PARTNER_KEY, serving, stored_report, use_test_secrets

PARTNER = {"Authorization": f"Bearer {PARTNER_KEY}"}
#: Three units and max_ads 3: each call of space 4 places all three.
SPACE_4 = """\
max_ads: 3
units:
  - {id: u1, type: text, url: "https://ad.test/1", title: One}
  - {id: u2, type: text, url: "https://ad.test/2", title: Two}
  - {id: u3, type: text, url: "https://ad.test/3", title: Three}
"""
SPACE_5 = "units:\n  - {id: five, type: text, url: 'https://ad.test/five', title: Five}\n"
CALLS = 20  # calls of space 4 in one article: 60 placements, plus one of space 5


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def busy_site(make_site: SiteFactory) -> Path:
    body = "\n\n".join(["Text. [bsa_pro_ad_space id=4]"] * CALLS + ["[bsa_pro_ad_space id=5]"])
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article("A", body=body),
            "feeds/news/b.md": article("B", "2024-05-02T10:00:00+00:00", "No ads here."),
            "adspaces/4.yaml": SPACE_4,
            "adspaces/5.yaml": SPACE_5,
        },
        config=CONFIG,
    )


async def test_a_response_carrying_61_ads_counts_61_served_and_one_fetch(make_site: SiteFactory) -> None:
    config = busy_site(make_site)
    async with serving(config) as client:
        first = await client.get("/feeds/news.json", headers={"User-Agent": CHROME})
        assert (await first.text()).count("https://feeds.test/c/") == 3 * CALLS + 1
        again = await client.get("/feeds/news.rss", headers={"User-Agent": CHROME})  # another format
        assert again.status == 200
        cached = await client.get("/feeds/news.json", headers={"User-Agent": CHROME})  # from the response cache
        assert cached.status == 200
        etag = cached.headers["ETag"]
        not_modified = await client.get("/feeds/news.json", headers={"If-None-Match": etag, "User-Agent": CHROME})
        assert not_modified.status == 304  # carried no ad
        assert (await client.head("/feeds/news.json")).status == 200  # nor did a HEAD
    data = config.parent / "data"
    totals = stored_report(data).totals
    assert (totals.served, totals.fetches) == (3 * (3 * CALLS + 1), 3)
    units = {(r.key["space"], r.key["unit"]): r.counts.served for r in stored_report(data, "unit").rows}
    assert units == {("4", "u1"): 3 * CALLS, ("4", "u2"): 3 * CALLS, ("4", "u3"): 3 * CALLS, ("5", "five"): 3}
    assert {r.key["space"] for r in stored_report(data, "space").rows} == {"4", "5"}  # no row for fetches
    [public] = stored_report(data, "partner").rows
    assert (public.key["partner"], public.counts.fetches, public.counts.served) == ("public", 3, totals.served)


@pytest.mark.parametrize(
    "agent", ["WordPress/6.4.2; https://partner.test", "Go-http-client/1.1", "python-requests/2.31.0", GOOGLEBOT, ""]
)
async def test_a_keyed_pull_counts_for_its_partner_whatever_its_user_agent(make_site: SiteFactory, agent: str) -> None:
    config = busy_site(make_site)
    async with serving(config) as client:
        for _ in range(2):
            assert (await client.get("/feeds/news.json", headers={**PARTNER, "User-Agent": agent})).status == 200
        assert (await client.get(f"/feeds/news.json?key={PARTNER_KEY}", headers={"User-Agent": agent})).status == 200
        wrong = await client.get("/feeds/news.json", headers={"Authorization": "Bearer nope", "User-Agent": agent})
        assert wrong.status == 401
    rows = {r.key["partner"]: r.counts for r in stored_report(config.parent / "data", "partner").rows}
    assert set(rows) == {"partner-a"}
    counts = rows["partner-a"]
    assert (counts.served, counts.fetches) == (3 * (3 * CALLS + 1), 3)
    assert (counts.bot_served, counts.bot_fetches) == (0, 0)


async def test_anonymous_bots_are_still_counted_apart(make_site: SiteFactory) -> None:
    config = busy_site(make_site)
    async with serving(config) as client:
        for agent in ("python-requests/2.31.0", GOOGLEBOT, CHROME):
            assert (await client.get("/feeds/news.json", headers={"User-Agent": agent})).status == 200
    totals = stored_report(config.parent / "data").totals
    assert (totals.served, totals.fetches) == (3 * CALLS + 1, 1)
    assert (totals.bot_served, totals.bot_fetches) == (2 * (3 * CALLS + 1), 2)
