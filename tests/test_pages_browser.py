"""``/`` in a real headless Chromium at a phone's width: laid out for it, nothing wider than the screen.

Uses Debian's chromium and chromium-driver like the stats page test (.ci/run installs them);
skipped with a reason when they are missing, except under CI.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.web.app import create_app
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.test_stats_browser import CHROMIUM, DRIVER, MISSING

if not (CHROMIUM and DRIVER) and os.environ.get("CI"):
    pytest.fail(f"the browser test must run in CI: {MISSING}", pytrace=False)
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=MISSING)

PHONE = (390, 844)  # CSS pixels of a common phone


def read_on_a_phone(url: str, profile: Path, screenshot: Path) -> dict[str, Any]:
    """Blocking: open ``url`` with a phone's viewport and measure the layout."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2}}
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        driver.set_page_load_timeout(30)
        driver.get(url)
        found: dict[str, Any] = driver.execute_script("""
            const link = document.querySelector('.formats a');
            return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
                    font: parseFloat(getComputedStyle(document.body).fontSize),
                    link: link.getBoundingClientRect().height};""")
        driver.save_screenshot(str(screenshot))
        return found
    finally:
        driver.quit()


async def test_index_fits_a_phone(aiohttp_client: Callable[..., Any], make_site: SiteFactory, tmp_path: Path) -> None:
    long_tag = "Sanctions-and-counter-sanctions-against-the-Belarusian-potash-exporters"
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(extra=f"tags: [{long_tag}, Energy]\nauthor: Ann Author\n"),
            "feeds/news/b.md": article(title="B", extra="tags: [Energy]\n"),
        }
    )
    client = await aiohttp_client(create_app(config))
    assert isinstance(client, TestClient)
    shot = tmp_path / "index-phone.png"
    seen = await asyncio.to_thread(read_on_a_phone, str(client.make_url("/")), tmp_path / "profile", shot)
    assert seen["inner"] == PHONE[0]  # the viewport meta: laid out at the phone's width, not 980 px
    assert seen["scroll"] <= seen["inner"], seen  # nothing to scroll sideways, long tags included
    assert seen["font"] >= 16 and seen["link"] >= 20  # readable text, links big enough to tap
    assert shot.stat().st_size > 0
