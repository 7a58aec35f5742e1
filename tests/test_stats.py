"""Stats: /admin/stats.json and /admin/stats through the real app, the CLI, and the chart."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from lxml import html as lxml_html

from syndicate.cli import main
from syndicate.snapshot import build_snapshot
from syndicate.tracking.chart import fill_days, svg_chart
from syndicate.tracking.stats import COLUMNS, Counts, Row
from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory
from tests.feedcheck import xpath
from tests.tracking_support import ADMIN_TOKEN, admin, seed_store, tracked_site, use_test_secrets

Client = Callable[..., Any]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


@pytest.fixture
def seeded(make_site: SiteFactory) -> Path:
    return seed_store(tracked_site(make_site))


async def client_for(aiohttp_client: Client, config: Path) -> AppClient:
    client = await aiohttp_client(create_app(build_snapshot(config)))
    assert isinstance(client, TestClient)
    return client


async def stats_json(client: AppClient, query: str = "") -> dict[str, object]:
    response = await client.get(f"/admin/stats.json{query}", headers=admin())
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"].startswith("no-store")
    data = await response.json()
    assert isinstance(data, dict)
    return data


async def test_totals_ctr_and_bot_columns(aiohttp_client: Client, seeded: Path) -> None:
    data = await stats_json(await client_for(aiohttp_client, seeded))
    assert data["totals"] == {
        "served": 180,
        "fetches": 0,
        "rendered": 30,
        "clicks": 5,
        "ctr": round(5 / 180, 6),
        "bot_served": 40,
        "bot_fetches": 0,
        "bot_rendered": 0,
        "bot_clicks": 3,
        "proxy_served": 0,
        "proxy_fetches": 0,
        "proxy_rendered": 9,
        "proxy_clicks": 0,
    }
    assert data["dropped"] == 2 and data["by"] == "space"
    assert [(r["space"], r["served"], r["clicks"]) for r in data["rows"]] == [  # type: ignore[attr-defined]
        ("4", 150, 5),
        ("5", 30, 0),
    ]


@pytest.mark.parametrize(
    ("query", "key", "expected"),
    [
        ("?by=partner", "partner", {"partner-a": 50, "public": 130}),
        ("?by=unit", "unit", {"banner": 150, "five": 30}),
        ("?by=day", "day", {"2024-05-01": 100, "2024-05-02": 70, "2024-05-04": 10}),
        ("?by=day&since=2024-05-02", "day", {"2024-05-02": 70, "2024-05-04": 10}),
        ("?by=day&since=2024-05-02&until=2024-05-02", "day", {"2024-05-02": 70}),
        ("?by=day&until=2024-04-30", "day", {}),
    ],
)
async def test_grouping_and_inclusive_date_filters(
    aiohttp_client: Client, seeded: Path, query: str, key: str, expected: dict[str, int]
) -> None:
    data = await stats_json(await client_for(aiohttp_client, seeded), query)
    assert {row[key]: row["served"] for row in data["rows"]} == expected  # type: ignore[attr-defined]
    assert data["totals"]["served"] == sum(expected.values())  # type: ignore[index]


@pytest.mark.parametrize(
    "query",
    [
        "?since=yesterday",
        "?since=2024-13-01",
        "?by=article",
        "?since=2024-05-03&until=2024-05-01",
        "?until=2024-05-01T00:00:00",
    ],
)
async def test_bad_filters_are_400(aiohttp_client: Client, seeded: Path, query: str) -> None:
    client = await client_for(aiohttp_client, seeded)
    response = await client.get(f"/admin/stats.json{query}", headers=admin())
    assert response.status == 400
    assert "Traceback" not in await response.text()


async def test_admin_token_guards_stats(aiohttp_client: Client, seeded: Path) -> None:
    client = await client_for(aiohttp_client, seeded)
    for path in ("/admin/stats", "/admin/stats.json"):
        assert (await client.get(path)).status == 401
        wrong = await client.get(path, headers=admin("not-the-admin-token-at-all"))
        assert wrong.status == 401
        assert wrong.headers.getall("WWW-Authenticate") == [
            'Bearer realm="admin"',
            'Basic realm="admin", charset="UTF-8"',
        ]
        assert (await client.get(path, headers=admin())).status == 200
        basic = base64.b64encode(f"ops:{ADMIN_TOKEN}".encode()).decode()
        assert (await client.get(path, headers={"Authorization": f"Basic {basic}"})).status == 200
        assert (await client.get(path, headers={"Authorization": "Basic !!notbase64"})).status == 401


async def test_stats_are_404_without_an_admin_token(
    aiohttp_client: Client, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_ADMIN_TOKEN")
    client = await client_for(aiohttp_client, seeded)
    for path in ("/admin/stats", "/admin/stats.json"):
        assert (await client.get(path, headers=admin())).status == 404


async def test_stats_include_events_not_yet_flushed(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await client_for(aiohttp_client, tracked_site(make_site))
    await client.get("/feeds/news.json", headers={"User-Agent": "Mozilla/5.0 (X11) Firefox/125.0"})
    data = await stats_json(client)  # flush_seconds is 60: the endpoint flushes first
    assert data["totals"]["served"] == 3  # type: ignore[index]  # three ads in the one response
    assert data["totals"]["fetches"] == 1  # type: ignore[index]


async def test_page_numbers_match_the_json(aiohttp_client: Client, seeded: Path) -> None:
    client = await client_for(aiohttp_client, seeded)
    response = await client.get("/admin/stats", headers=admin())
    assert response.status == 200 and response.content_type == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = cast(lxml_html.HtmlElement, lxml_html.fromstring(await response.read()))
    assert not xpath(page, "//script") and not xpath(page, "//*[@src]")
    data = await stats_json(client)
    for column in COLUMNS:
        [cell] = xpath(page, f"//td[@id='total-{column}']")
        expected = data["totals"][column]  # type: ignore[index]
        assert cell.get("data-value") == ("" if expected is None else str(expected))
    for by, table in (("space", "by-space"), ("unit", "by-unit"), ("partner", "by-partner")):
        rows = (await stats_json(client, f"?by={by}"))["rows"]
        cells = xpath(page, f"//table[@id='{table}']//td[@data-column='served']/@data-value")
        assert [int(c) for c in cells] == [row["served"] for row in rows]  # type: ignore[attr-defined]
    days = (await stats_json(client, "?by=day"))["rows"]
    points = xpath(page, "//*[@id='chart']//*[@data-series='served']/*[local-name()='circle']")
    drawn = {p.get("data-day"): int(p.get("data-value")) for p in points}
    assert drawn == {"2024-05-01": 100, "2024-05-02": 70, "2024-05-03": 0, "2024-05-04": 10}
    assert {day: drawn[day] for day in drawn if drawn[day]} == {r["day"]: r["served"] for r in days}  # type: ignore[attr-defined]
    assert "Events dropped because the buffer was full: 2" in page.text_content()


def test_chart_fills_gaps_and_says_when_empty() -> None:
    rows = [Row({"day": "2024-05-01"}, Counts(served=5, clicks=1)), Row({"day": "2024-05-03"}, Counts(served=2))]
    days = fill_days(rows)
    assert [(day, counts.served) for day, counts in days] == [("2024-05-01", 5), ("2024-05-02", 0), ("2024-05-03", 2)]
    svg = svg_chart(days)
    assert svg.startswith("<svg") and svg.count("<circle") == 3 * 3 and "<polyline" in svg
    assert "No events recorded" in svg_chart([])


def test_cli_formats_match_the_report(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["stats", "--config", str(seeded), "--by", "day", "--since", "2024-05-02"]
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["day"], r["served"]) for r in data["rows"]] == [("2024-05-02", 70), ("2024-05-04", 10)]
    assert data["totals"]["clicks"] == 1 and data["totals"]["bot_clicks"] == 3
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["day"], r["served"], r["clicks"]) for r in rows] == [
        ("2024-05-02", "70", "1"),
        ("2024-05-04", "10", "0"),
    ]
    assert main(args) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["day", "served", "fetches", "rendered", "clicks"]
    assert table[-2].split()[:2] == ["total", "80"] and table[-1] == "dropped events (buffer full): 2"


def test_cli_without_a_store_prints_zeros_and_creates_nothing(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tracked_site(make_site)
    assert main(["stats", "--config", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["served"] == 0
    assert not (config.parent / "data").exists()


def test_cli_rejects_bad_dates(seeded: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["stats", "--config", str(seeded), "--since", "May 1st"])
    assert caught.value.code == 2
    assert main(["stats", "--config", str(seeded), "--since", "2024-05-03", "--until", "2024-05-01"]) == 2
