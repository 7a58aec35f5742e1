"""Events dropped by a full buffer: shown on /healthz and the stats as a running total since start."""

from __future__ import annotations

import pytest

from tests.conftest import SiteFactory, article
from tests.tracking_support import CONFIG, SPACE_5, admin, serving, use_test_secrets


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


async def test_dropped_events_add_up_since_start_across_flushes(make_site: SiteFactory) -> None:
    spaces = 110  # one response places 110 distinct ads: more counters than a buffer of 100 holds
    config = make_site(
        {
            "feeds/news/_feed.yaml": "title: News\n",
            "feeds/news/a.md": article("A", body=" ".join(f"[bsa_pro_ad_space id={n}]" for n in range(spaces))),
            **{f"adspaces/{n}.yaml": SPACE_5 for n in range(spaces)},
        },
        config=CONFIG.replace("  dedupe_seconds: 0\n", "  dedupe_seconds: 0\n  buffer_limit: 100\n"),
    )
    per_response = spaces + 1 - 100  # 110 served counters and the fetch counter, 100 held
    async with serving(config) as client:
        for responses in (1, 2, 3):
            assert (await client.get("/feeds/news.json")).status == 200
            stats = await (await client.get("/admin/stats.json", headers=admin())).json()  # flushes first
            health = await (await client.get("/healthz")).json()
            assert health["tracking"]["dropped_since_start"] == responses * per_response
            assert health["tracking"]["pending"] == 0
            assert stats["replica"]["dropped_since_start"] == responses * per_response
            assert stats["dropped"] == responses * per_response  # as stored, over the period
        page = await (await client.get("/admin/stats", headers=admin())).text()
        assert f"dropped since it started: {3 * per_response}" in page
