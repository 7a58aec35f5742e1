"""A small site with ads for the reload and admin tests, and a bounded wait for background work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article

TOKEN = "admin-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PARTNER_KEY = "acme-key-123456"

CONFIG = (
    MINIMAL_CONFIG
    + f"""\
http:
  rate_limits:
    public: {{"off": true}}
    partners: {{"off": true}}
partners:
  - id: acme
    name: Acme
    keys: [{PARTNER_KEY}]
    overrides:
      top: {{use: acme-top}}
  - id: quiet
    name: Quiet
    keys: [quiet-key-1234567]
    ads: strip
    formats: [json]
"""
)


def space(title: str, extra: str = "") -> str:
    """An ad space with one text unit whose title tells versions apart."""
    return f"name: Top\nunits:\n  - id: u1\n    type: text\n    url: https://ad.test/u1\n    title: {title}\n{extra}"


def ad_site(make_site: SiteFactory) -> Path:
    """Two articles calling space ``top``; partner ``acme`` gets space ``acme-top`` instead."""
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/one.md": article("One", body="Intro.\n\n[bsa_pro_ad_space id=top]\n\nMore."),
            "feeds/news/two.md": article("Two", date="2024-05-02T10:00:00+00:00", body="[bsa_pro_ad_space id=top]"),
            "adspaces/top.yaml": space("Version A"),
            "adspaces/acme-top.yaml": space("Acme ad"),
        },
        config=CONFIG,
    )


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail after ``limit`` seconds (a bound, not a measurement)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
