"""A small tracked site for the tracking and stats tests, and helpers to read what it serves."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicate.snapshot import build_snapshot
from syndicate.tracking import stats
from syndicate.tracking.events import CountKey
from syndicate.tracking.store import FILE_NAME, Grouping, SqliteStore
from syndicate.web.app import create_app
from tests.conftest import FEED_YAML, AppClient, SiteFactory, article

SIGNING_KEYS = "k1:test-signing-secret-0123456789"
ADMIN_TOKEN = "test-admin-token-0123456789"
PARTNER_KEY = "partner-a-test-key"
PUBLIC_URL = "https://feeds.test"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"

CONFIG = f"""\
site:
  title: Test Site
  base_url: https://news.test
server:
  host: 127.0.0.1
  port: 8080
  public_url: {PUBLIC_URL}
http:
  rate_limits: {{public: {{"off": true}}, partners: {{"off": true}}}}  # quoted: YAML 1.1 reads off as false
tracking:
  flush_seconds: 60     # tests flush by stopping the app or by asking for stats, never by waiting
  dedupe_seconds: 0
partners:
  - id: partner-a
    keys: [{PARTNER_KEY}]
    query: {{utm_source: partner-a, utm_medium: feed}}
"""
SPACE_4 = """\
label: Advertisement
units:
  - {id: banner, type: image, url: "https://ad.test/land?campaign=x", src: "https://ad.test/b.png",
     width: 300, height: 250, alt: Banner}
"""
SPACE_5 = "label: Sponsored\nunits:\n  - {id: five, type: text, url: 'https://ad.test/five', title: Five}\n"

CLICK_LINK = re.compile(r'href="(https://feeds\.test/c/[^"]+)"')
PIXEL_LINK = re.compile(r'src="(https://feeds\.test/i/[^"]+\.gif)"')


def tracked_site(make_site: SiteFactory, tracking: str = "", config: str = CONFIG) -> Path:
    """Three articles: two with space 4, one with space 5. ``tracking`` lines replace the tracking settings."""
    if tracking:
        config = config.replace(
            "  flush_seconds: 60     # tests flush by stopping the app or by asking for "
            "stats, never by waiting\n  dedupe_seconds: 0\n",
            tracking,
        )
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article("A", "2024-05-01T10:00:00+00:00", "First. [bsa_pro_ad_space id=4]"),
            "feeds/news/b.md": article("B", "2024-05-02T10:00:00+00:00", "Second. [bsa_pro_ad_space id=4]"),
            "feeds/news/c.md": article("C", "2024-05-03T10:00:00+00:00", "Third. [bsa_pro_ad_space id=5]"),
            "adspaces/4.yaml": SPACE_4,
            "adspaces/5.yaml": SPACE_5,
        },
        config=config,
    )


def use_test_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed signing keys and admin token; nothing from the developer's own environment."""
    for name in ("SYNDICATE_SIGNING_KEYS_FILE", "SYNDICATE_ADMIN_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNDICATE_SIGNING_KEYS", SIGNING_KEYS)
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", ADMIN_TOKEN)


#: (day, space, unit, partner, kind, class) -> n, written before the app starts.
SEED = {
    ("2024-05-01", "4", "banner", "public", "served", "browser"): 100,
    ("2024-05-01", "4", "banner", "public", "served", "bot"): 40,
    ("2024-05-01", "4", "banner", "public", "rendered", "browser"): 30,
    ("2024-05-01", "4", "banner", "public", "rendered", "proxy"): 9,
    ("2024-05-01", "4", "banner", "public", "click", "browser"): 4,
    ("2024-05-02", "4", "banner", "partner-a", "served", "feed"): 50,
    ("2024-05-02", "4", "banner", "partner-a", "click", "other"): 1,
    ("2024-05-02", "5", "five", "public", "served", "browser"): 20,
    ("2024-05-04", "5", "five", "public", "served", "browser"): 10,
    ("2024-05-04", "5", "five", "public", "click", "bot"): 3,
    ("2024-05-04", "", "", "", "dropped", ""): 2,
}


def seed_store(config: Path) -> Path:
    """Write ``SEED`` into the site's store before its app starts; returns ``config``."""
    store = SqliteStore(config.parent / "data" / FILE_NAME)
    store.add({CountKey(*k): n for k, n in SEED.items()})
    store.close()
    return config


def stored_report(data_dir: Path, by: Grouping = "space") -> stats.Report:
    """What the store file holds, read as the CLI reads it."""
    store = SqliteStore(data_dir / FILE_NAME, repair=False)
    try:
        return stats.report(store, by)
    finally:
        store.close()


def admin(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def serving(config: Path) -> AsyncIterator[AppClient]:
    """The real app on a real socket; leaving closes it gracefully, so everything buffered is written."""
    client: AppClient = TestClient(TestServer(create_app(build_snapshot(config))))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
