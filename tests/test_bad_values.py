"""Impossible dates and out-of-range numbers: a located error and the item skipped, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.cli import main
from syndicate.config import load_config
from syndicate.problems import LoadError
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, AppClient, SiteFactory, article
from tests.opsite import AUTH, TOKEN, ad_site, space

Client = Callable[..., Any]

IMPOSSIBLE_DATES = [
    "2020-09-31",
    "2024-02-30T00:00:00Z",
    "0000-00-00",
    "2020-09-30T25:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2020-13-01T00:00:00Z",
]
UNIT = "  - id: u1\n    type: text\n    url: https://ad.test/\n    title: Ad\n"


def errors_of(config: Path) -> list[str]:
    snapshot = build_snapshot(config)
    return [p.format(config.parent) for p in snapshot.problems if p.level == "error"]


@pytest.mark.parametrize("date", IMPOSSIBLE_DATES)
def test_impossible_article_date_is_a_located_error(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str], date: str
) -> None:
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/bad.md": article("Bad", date=date),
            "feeds/news/good.md": article("Good", extra=f"updated: {date}\n"),
            "feeds/news/fine.md": article("Fine"),
        }
    )
    errors = errors_of(config)
    assert any(e.startswith("feeds/news/bad.md:3: error: front matter.date:") for e in errors), errors
    assert any(e.startswith("feeds/news/good.md:4: error: front matter.updated:") for e in errors), errors
    snapshot = build_snapshot(config)
    assert [a.title for a in snapshot.feeds["news"].articles] == ["Fine"]
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "feeds/news/bad.md:3: error:" in out.out


@pytest.mark.parametrize("date", IMPOSSIBLE_DATES)
def test_impossible_unit_schedule_is_a_located_error(make_site: SiteFactory, date: str) -> None:
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "adspaces/7.yaml": f"units:\n{UNIT}    start: {date}\n"
            f"  - id: u2\n    type: text\n    url: https://ad.test/\n"
            f"    title: Ad\n    end: {date}\n",
        }
    )
    errors = errors_of(config)
    assert any(e.startswith("adspaces/7.yaml:6: error: units[0].start:") for e in errors), errors
    assert any(e.startswith("adspaces/7.yaml:11: error: units[1].end:") for e in errors), errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight", ".nan"),
        ("weight", ".inf"),
        ("weight", "1.0e+400"),
        ("weight", "1.0e+300"),
        ("priority", "99999999999999999999999999"),
        ("width", "99999999999999999999999"),
        ("max_clicks", "1" * 30),
        ("priority", "true"),
    ],
)
def test_out_of_range_unit_numbers_are_located_errors(make_site: SiteFactory, field: str, value: str) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "adspaces/7.yaml": f"units:\n{UNIT}    {field}: {value}\n"})
    errors = errors_of(config)
    assert any(e.startswith(f"adspaces/7.yaml:6: error: units[0].{field}:") for e in errors), errors


@pytest.mark.parametrize(
    ("section", "text", "field"),
    [
        ("tracking", "tracking:\n  flush_seconds: 1.0e+300\n", "tracking.flush_seconds"),
        ("tracking", "tracking:\n  dedupe_seconds: .nan\n", "tracking.dedupe_seconds"),
        ("ads", "ads:\n  rotation_seconds: 100000000000000000000\n", "ads.rotation_seconds"),
        ("http", "http:\n  max_age: 100000000000000000000\n", "http.max_age"),
        ("http", "http:\n  rate_limits:\n    public: {rate: .inf, burst: 10}\n", "http.rate_limits.public.rate"),
        ("feeds", "feeds:\n  max_page_size: 100000000000000000000\n", "feeds.max_page_size"),
        ("site", "", "site.article_url"),
    ],
)
def test_out_of_range_settings_are_located_errors(make_site: SiteFactory, section: str, text: str, field: str) -> None:
    config_text = MINIMAL_CONFIG + text
    if section == "site":
        config_text = config_text.replace("  language: en\n", "  language: en\n  article_url: '{base_url}/{nope}'\n")
    with pytest.raises(LoadError) as caught:
        load_config(make_site(config=config_text))
    assert any(p.message.startswith(f"{field}:") for p in caught.value.problems), caught.value.problems


async def test_impossible_date_on_reload_is_a_located_rejection(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    client = await aiohttp_client(create_app(config))
    reloader = client.app[RELOADER]
    (config.parent / "adspaces/top.yaml").write_text(space("B", "    start: 2024-02-30T00:00:00Z\n"), encoding="utf-8")
    outcome = await reloader.reload("test")
    assert not outcome.accepted
    assert (
        "adspaces/top.yaml:7: error: units[0].start: expected a timestamp like 2020-09-14T10:00:00+03:00, "
        "got '2024-02-30T00:00:00Z' (day is out of range for month)"
    ) in [p.format(config.parent) for p in outcome.errors]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (space("B", "    start: 2024-02-30T00:00:00Z\n").encode(), "application/yaml"),
        (space("B", "    end: 0001-01-01T00:00:00+14:00\n").encode(), "application/yaml"),
        (
            b'{"units": [{"id": "u", "type": "text", "url": "https://a.test/", "title": "t",'
            b' "start": "2024-02-30T00:00:00Z"}]}',
            "application/json",
        ),
        (
            b'{"units": [{"id": "u", "type": "text", "url": "https://a.test/", "title": "t", "weight": NaN}]}',
            "application/json",
        ),
        (
            b'{"units": [{"id": "u", "type": "text", "url": "https://a.test/", "title": "t", "weight": 1e999}]}',
            "application/json",
        ),
    ],
)
async def test_admin_put_with_a_bad_value_is_422_naming_the_field(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, body: bytes, content_type: str
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    config = ad_site(make_site)
    client: AppClient = await aiohttp_client(create_app(config))
    before = (config.parent / "adspaces/top.yaml").read_bytes()
    response = await client.put("/admin/adspaces/top", data=body, headers={**AUTH, "Content-Type": content_type})
    assert response.status == 422
    problems = (await response.json())["problems"]
    assert any(
        (p["message"].startswith("units[0].") and p["line"] > 0) or "NaN is not JSON" in p["message"] for p in problems
    ), problems
    assert (config.parent / "adspaces/top.yaml").read_bytes() == before


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2024-02-30T00:00:00+00:00",
        "0001-01-01T00:00:00+00:00",
    ],
)
async def test_preview_at_out_of_range_is_400(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(ad_site(make_site)))
    for fmt in ("html", "rss"):
        response = await client.get("/admin/preview/news/one", params={"at": moment, "format": fmt}, headers=AUTH)
        assert response.status == 400, await response.text()
        assert "at:" in (await response.json())["error"]


DATEISH = st.from_regex(
    r"\A[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?(Z|[+-][0-9]{1,2}(:[0-9]{2})?)?)?\Z"
)
NUMBERISH = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from([".nan", ".inf", "-.inf", "1e400", "0x1F", "0o17", "1_000", "true", "~"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DATEISH, DATEISH, NUMBERISH, NUMBERISH)
def test_any_date_or_number_in_a_unit_or_article_is_reported_not_raised(
    make_site: SiteFactory, start: str, end: str, weight: object, width: object
) -> None:
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML + f"items_per_page: {width}\n",
            "feeds/news/a.md": article("A", date=start, extra=f"updated: {end}\n"),
            "adspaces/9.yaml": f"units:\n{UNIT}    start: {start}\n    end: {end}\n    weight: {weight}\n"
            f"    width: {width}\n    priority: {weight}\n",
        }
    )
    snapshot = build_snapshot(config)  # must not raise
    for unit in (u for s in snapshot.spaces.values() for u in s.units):
        assert 0 <= unit.weight < float("inf")
        for moment in (unit.start, unit.end):
            assert moment is None or moment.timestamp() == moment.timestamp()
    for item in snapshot.feeds["news"].articles if "news" in snapshot.feeds else ():
        item.published.timestamp()
        item.updated.timestamp()


@pytest.mark.parametrize("width", ["²", "١٢", "9" * 5000, "-3", "1e3"])
def test_odd_max_width_in_a_shortcode_renders(make_site: SiteFactory, width: str) -> None:
    from syndicate.formats import FORMATS
    from syndicate.publish import PageRequest, ad_resolver, feed_view

    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article("A", body=f'[bsa_pro_ad_space id=7 max_width="{width}"]'),
            "adspaces/7.yaml": "units:\n  - {id: i, type: image, url: 'https://ad.test/', "
            "src: 'https://ad.test/a.png', width: 300, height: 250}\n",
        }
    )
    snapshot = build_snapshot(config)
    for fmt in FORMATS:
        view = feed_view(snapshot, PageRequest("news", fmt), ad_resolver(snapshot, snapshot.config.public, fmt))
        assert b"https://ad.test/a.png" in FORMATS[fmt].render(view)
