"""/c/ and /i/ through the real app: signed links in feeds, exact redirects, bad tokens, counts, failures."""

from __future__ import annotations

import contextlib
import html
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicate.snapshot import build_snapshot
from syndicate.tracking.store import FILE_NAME
from syndicate.tracking.tokens import Claim, SigningKeys
from syndicate.web.app import create_app
from syndicate.web.state import TRACKER
from syndicate.web.tracking_views import PIXEL
from tests.conftest import AppClient, SiteFactory
from tests.tracking_support import (
    CHROME,
    CLICK_LINK,
    CONFIG,
    GMAIL_PROXY,
    GOOGLEBOT,
    PARTNER_KEY,
    PIXEL_LINK,
    PUBLIC_URL,
    stored_report,
    tracked_site,
    use_test_secrets,
)

PARTNER = {"Authorization": f"Bearer {PARTNER_KEY}"}
TARGET = "https://ad.test/land?campaign=x&utm_source=partner-a&utm_medium=feed"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


@contextlib.asynccontextmanager
async def serving(config: Path) -> AsyncIterator[AppClient]:
    """The real app on a real socket, asked by a browser unless a test says otherwise; leaving the block
    is a graceful stop (the app's cleanup runs)."""
    app = create_app(build_snapshot(config))
    client: AppClient = TestClient(TestServer(app), headers={"User-Agent": CHROME})
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def ad_links(
    client: AppClient,
    headers: dict[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Click and pixel paths in the JSON feed, as a reader would follow them (each ad's once: an image ad
    links from its image and from its text line)."""
    response = await client.get("/feeds/news.json", headers=headers or {})
    assert response.status == 200
    content = "".join(item["content_html"] for item in (await response.json(content_type=None))["items"])
    clicks = list(dict.fromkeys(html.unescape(url).removeprefix(PUBLIC_URL) for url in CLICK_LINK.findall(content)))
    pixels = [html.unescape(url).removeprefix(PUBLIC_URL) for url in PIXEL_LINK.findall(content)]
    return clicks, pixels


async def test_feed_links_are_signed_and_click_through_to_exactly_the_target(make_site: SiteFactory) -> None:
    async with serving(tracked_site(make_site)) as client:
        clicks, pixels = await ad_links(client, PARTNER)
        assert len(clicks) == 3 and len(pixels) == 3  # absolute URLs on the public URL, one pair per ad
        locations = set()
        for path in clicks:
            response = await client.get(path, allow_redirects=False)
            assert response.status == 302
            locations.add(response.headers["Location"])
            assert "no-store" in response.headers["Cache-Control"]
        assert locations == {TARGET, "https://ad.test/five?utm_source=partner-a&utm_medium=feed"}
        pixel = await client.get(pixels[0])
        assert pixel.status == 200 and pixel.content_type == "image/gif"
        assert await pixel.read() == PIXEL and "no-store" in pixel.headers["Cache-Control"]


def _tampered(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(_tampered, id="tampered"),
        pytest.param(lambda t: t[:-5], id="truncated"),
        pytest.param(lambda t: "k9." + t.split(".", 1)[1], id="unknown-key-id"),
        pytest.param(
            lambda t: SigningKeys([("k1", b"another-secret-0123456789")]).sign(
                Claim("4", "banner", "public", "news/a", 1, "https://evil.test/")
            ),
            id="other-secret",
        ),
        pytest.param(lambda t: "garbage", id="garbage"),
        pytest.param(lambda t: "k1.%00%0d%0aLocation:%20evil.test", id="header-injection"),
        pytest.param(lambda t: t + "A" * 5000, id="oversized"),
        pytest.param(lambda t: "k1." + "A" * 9000, id="beyond-the-request-line-limit"),
    ],
)
async def test_bad_tokens_are_400_with_no_location(make_site: SiteFactory, mangle: object) -> None:
    config = tracked_site(make_site)
    async with serving(config) as client:
        clicks, _ = await ad_links(client)
        token = clicks[0].removeprefix("/c/")
        bad = mangle(token)  # type: ignore[operator]
        for path in (f"/c/{bad}", f"/i/{bad}.gif"):
            response = await client.get(path, allow_redirects=False)
            assert response.status == 400, path
            assert "Location" not in response.headers
    report = stored_report(config.parent / "data")
    assert (report.totals.clicks, report.totals.rendered) == (0, 0)


async def test_counts_after_a_burst_equal_n_after_a_graceful_stop(make_site: SiteFactory) -> None:
    n = 60
    config = tracked_site(make_site)
    async with serving(config) as client:
        clicks, pixels = await ad_links(client, PARTNER)  # one served response for the partner
        for _ in range(n):  # the first renders, the rest come from the response cache: all count
            assert (await client.get("/feeds/news.json", headers={"User-Agent": CHROME})).status == 200
        for _ in range(n):
            assert (await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME})).status == 302
            assert (await client.get(pixels[0], headers={"User-Agent": CHROME})).status == 200
        for _ in range(3):  # HEAD is answered but carries no ad and is no click
            assert (await client.head(clicks[0], allow_redirects=False)).status == 302
            assert (await client.head("/feeds/news.json")).status == 200
    by_partner = {row.key["partner"]: row.counts for row in stored_report(config.parent / "data", "partner").rows}
    public, partner = by_partner["public"], by_partner["partner-a"]
    assert (public.served, partner.served) == (3 * n, 3)  # three ads (space 4 twice, 5 once) per response
    assert (public.fetches, partner.fetches) == (n, 1)
    assert (partner.clicks, partner.rendered) == (n, n)
    by_unit = {
        (row.key["space"], row.key["unit"]): row.counts.served
        for row in stored_report(config.parent / "data", "unit").rows
    }
    assert by_unit == {("4", "banner"): 2 * (n + 1), ("5", "five"): n + 1}  # two articles show space 4


async def test_replays_and_pixel_floods_count_once_per_client(make_site: SiteFactory) -> None:
    config = tracked_site(make_site, tracking="  flush_seconds: 60\n  dedupe_seconds: 30\n")
    async with serving(config) as client:
        clicks, pixels = await ad_links(client)
        for _ in range(20):
            response = await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME})
            assert response.status == 302  # a replay is still answered normally
        for _ in range(200):
            assert (await client.get(pixels[0], headers={"User-Agent": CHROME})).status == 200
        await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME + " other"})
    totals = stored_report(config.parent / "data").totals
    assert (totals.clicks, totals.rendered) == (2, 1)


async def test_bots_and_proxies_are_counted_in_their_own_columns(make_site: SiteFactory) -> None:
    config = tracked_site(make_site)
    async with serving(config) as client:
        clicks, pixels = await ad_links(client, {"User-Agent": CHROME})
        await client.get("/feeds/news.json", headers={"User-Agent": GOOGLEBOT})
        await client.get(pixels[0], headers={"User-Agent": GMAIL_PROXY})
        await client.get(pixels[0], headers={"User-Agent": CHROME})
        await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": GOOGLEBOT})
        await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME})
    totals = stored_report(config.parent / "data").totals
    assert (totals.served, totals.rendered, totals.clicks) == (3, 1, 1)
    assert (totals.bot_served, totals.bot_clicks, totals.proxy_rendered) == (3, 1, 1)


async def test_no_ip_address_is_stored(make_site: SiteFactory) -> None:
    config = tracked_site(make_site)
    async with serving(config) as client:
        clicks, pixels = await ad_links(client)
        await client.get(clicks[0], allow_redirects=False)
        await client.get(pixels[0])
    stored = b"".join(path.read_bytes() for path in (config.parent / "data").iterdir())
    assert b"127.0.0.1" not in stored and b"::1" not in stored
    assert stored_report(config.parent / "data").totals.clicks == 1


async def test_unwritable_data_dir_keeps_serving_and_logs(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = tracked_site(make_site, config=CONFIG + "paths: {data: blocked}\n")
    (config.parent / "blocked").write_text("a file where the data folder should be", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="syndicate.tracking"):
        async with serving(config) as client:
            clicks, _ = await ad_links(client)
            assert (await client.get(clicks[0], allow_redirects=False)).status == 302
            assert (await client.get("/feeds/news.rss")).status == 200
    assert "tracking store: cannot write" in caplog.text
    assert "could not be written at stop" in caplog.text


class FullDisk:
    """A store whose first ``failures`` writes fail as SQLite does when the disk is full."""

    def __init__(self, inner: object, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def add(self, counts: object) -> None:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        self.inner.add(counts)  # type: ignore[attr-defined]


async def test_a_full_disk_holds_events_and_loses_none_once_space_returns(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = tracked_site(make_site)
    async with serving(config) as client:
        tracker = client.app[TRACKER]
        tracker.store = FullDisk(tracker.store, failures=2)  # type: ignore[assignment]
        with caplog.at_level(logging.ERROR, logger="syndicate.tracking"):
            await ad_links(client)
            assert not await tracker.flush()
            assert (await client.get("/feeds/news.json")).status == 200
            assert not await tracker.flush()
        await client.get("/feeds/news.json")
    assert caplog.text.count("disk is full") == 1  # logged once while it keeps failing the same way
    assert stored_report(config.parent / "data").totals.served == 3 * 3


async def test_a_corrupt_store_is_set_aside_and_a_fresh_one_started(
    make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = tracked_site(make_site)
    data = config.parent / "data"
    data.mkdir()
    (data / FILE_NAME).write_bytes(b"this is not a database at all" * 100)
    with caplog.at_level(logging.ERROR, logger="syndicate.tracking"):
        async with serving(config) as client:
            await ad_links(client)
    assert "not a usable SQLite database" in caplog.text
    [aside] = data.glob(f"{FILE_NAME}.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert stored_report(data).totals.served == 3


async def test_tracking_off_means_direct_links_and_no_counts(make_site: SiteFactory) -> None:
    config = tracked_site(make_site, tracking="  enabled: false\n")
    async with serving(config) as client:
        response = await client.get("/feeds/news.json", headers=PARTNER)
        content = "".join(item["content_html"] for item in (await response.json(content_type=None))["items"])
    assert "/c/" not in content and "/i/" not in content
    assert html.escape(TARGET) in content
    assert not (config.parent / "data" / FILE_NAME).exists()


async def test_pixel_off_keeps_signed_clicks(make_site: SiteFactory) -> None:
    config = tracked_site(make_site, tracking="  pixel: false\n")
    async with serving(config) as client:
        clicks, pixels = await ad_links(client)
    assert len(clicks) == 3 and pixels == []
