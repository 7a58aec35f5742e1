"""The stats page in a real headless Chromium: it loads, the chart is drawn, the numbers match the JSON.

The browser logs in as a person does: it is given the credentials (in the URL, as
typed into the address bar), gets the 401 challenge and answers it with Basic
itself. Nothing is injected over the DevTools protocol.

Uses Debian's chromium and chromium-driver (.ci/run installs them); nothing is
downloaded at test time. Skipped with a reason when they are missing, except
under CI, where a missing browser is a failure rather than a silent skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from tests.conftest import SiteFactory
from tests.tracking_support import ADMIN_TOKEN, admin, seed_store, tracked_site, use_test_secrets

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = "needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"

if not (CHROMIUM and DRIVER) and os.environ.get("CI"):
    pytest.fail(f"the browser test must run in CI: {MISSING}", pytrace=False)
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=MISSING)


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` before its host, as a person would type it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{rest}"


def read_page(url: str, profile: Path, screenshot: Path) -> dict[str, Any]:
    """Blocking: open ``url`` (credentials included) and read what a person would see."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

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
        "--window-size=1100,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        driver.set_page_load_timeout(30)
        driver.get(url)
        chart = driver.find_element(By.ID, "chart")
        found: dict[str, Any] = {
            "title": driver.title,
            "chart_size": chart.size,
            "line_length": driver.execute_script(
                "return document.querySelector('#chart [data-series=served] polyline').getTotalLength()"
            ),
            "points": [
                (c.get_attribute("data-day"), c.get_attribute("data-value"))
                for c in driver.find_elements(By.CSS_SELECTOR, "#chart [data-series=served] circle")
            ],
            "totals": {
                cell.get_attribute("data-column"): cell.text
                for cell in driver.find_elements(By.CSS_SELECTOR, "#totals td")
            },
            "spaces": [
                [td.text for td in row.find_elements(By.TAG_NAME, "td")]
                for row in driver.find_elements(By.CSS_SELECTOR, "#by-space tbody tr")
            ],
            "errors": [
                entry
                for entry in driver.get_log("browser")  # type: ignore[no-untyped-call]
                if entry.get("level") == "SEVERE"
            ],
        }
        driver.save_screenshot(str(screenshot))
        return found
    finally:
        driver.quit()


async def test_stats_page_in_a_real_browser(
    aiohttp_client: Callable[..., Any], make_site: SiteFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(build_snapshot(seed_store(tracked_site(make_site)))))
    assert isinstance(client, TestClient)
    url = with_credentials(str(client.make_url("/admin/stats")), "ops", ADMIN_TOKEN)
    page = await asyncio.to_thread(read_page, url, tmp_path / "profile", tmp_path / "stats.png")
    data = await (await client.get("/admin/stats.json", headers=admin())).json()
    days = (await (await client.get("/admin/stats.json?by=day", headers=admin())).json())["rows"]

    assert page["title"] == "Ad stats" and page["errors"] == []
    assert page["chart_size"]["width"] > 300 and page["chart_size"]["height"] > 200
    assert page["line_length"] > 100  # the served line was laid out as SVG, not left as text
    drawn = {day: int(value) for day, value in page["points"]}
    assert {day: n for day, n in drawn.items() if n} == {row["day"]: row["served"] for row in days}
    for column, value in data["totals"].items():
        shown = page["totals"][column]
        assert shown == ("–" if value is None else f"{value:.2%}" if isinstance(value, float) else str(value))
    assert [(cells[0], int(cells[1])) for cells in page["spaces"]] == [
        (row["space"], row["served"]) for row in data["rows"]
    ]
    assert (tmp_path / "stats.png").stat().st_size > 0
