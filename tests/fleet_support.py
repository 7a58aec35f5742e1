"""Replicas in one test process: each its own site folder and data folder, all sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from tests.conftest import FEED_YAML, AppClient, article
from tests.tracking_support import CHROME, PARTNER_KEY, PUBLIC_URL, SPACE_5, use_test_secrets

#: A partner's burst: what the fleet-wide limit tests hold the replicas (or workers) to.
BURST = 40
CONFIG = f"""\
site:
  title: Test Site
  base_url: https://news.test
server:
  public_url: {PUBLIC_URL}
http:
  trust_forwarded: true
  rate_limits: {{public: {{"off": true}}, partners: {{rate: 0.01, burst: {BURST}}}}}
tracking:
  flush_seconds: 0.2
  dedupe_seconds: 30
store:
  url: {{url}}
  timeout_seconds: 3
partners:
  - id: partner-a
    keys: [{PARTNER_KEY}]
"""
#: Space 4 is not a file: it is written through the admin API into the shared store.
FILES = {
    "feeds/news/_feed.yaml": FEED_YAML,
    "feeds/news/a.md": article("A", "2024-05-01T10:00:00+00:00", "First. [bsa_pro_ad_space id=4]"),
    "feeds/news/c.md": article("C", "2024-05-03T10:00:00+00:00", "Third. [bsa_pro_ad_space id=5]"),
    "adspaces/5.yaml": SPACE_5,
}


def space_4(title: str) -> str:
    return f"label: Advertisement\nunits:\n  - {{id: four, type: text, url: 'https://ad.test/four', title: {title}}}\n"


def replica_site(root: Path, url: str, extra: dict[str, str] | None = None) -> Path:
    """A replica's own copy of the site; returns its config.yaml."""
    for name, text in {**FILES, **(extra or {})}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "config.yaml").write_text(CONFIG.replace("{url}", url), encoding="utf-8")
    return root / "config.yaml"


@contextlib.asynccontextmanager
async def replica(config: Path) -> AsyncIterator[AppClient]:
    """One replica on a real socket; leaving is a graceful stop."""
    client: AppClient = TestClient(TestServer(create_app(build_snapshot(config))), headers={"User-Agent": CHROME})
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """Poll ``check`` until true; the seconds it took. Fails the test after ``seconds``."""
    begun = time.monotonic()
    while not await check():
        if time.monotonic() - begun > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - begun


def without_shared_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test secrets, and no database URL from the environment: each test names its own store."""
    use_test_secrets(monkeypatch)
    for name in ("SYNDICATE_DATABASE_URL", "SYNDICATE_DATABASE_URL_FILE"):
        monkeypatch.delenv(name, raising=False)


async def feed_text(client: AppClient) -> str:
    """The news feed as one replica serves it."""
    response = await client.get("/feeds/news.rss")
    assert response.status == 200
    return str(await response.text())
