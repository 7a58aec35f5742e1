"""``syndicate check`` lists every problem in one run, each with file:line: no rounds of fixes."""

from __future__ import annotations

import pytest

from syndicate.cli import main
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article

UNIT = "  - id: u1\n    type: text\n    url: https://ad.test/\n    title: Ad\n"


def check_lines(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str], files: dict[str, str], config: str = MINIMAL_CONFIG
) -> list[str]:
    assert main(["check", "--config", str(make_site(files, config=config))]) == 1
    return capsys.readouterr().out.splitlines()


def test_duplicate_ids_and_schedules_show_with_other_errors(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    space = (
        "if_empty: ghost\nunits:\n"
        "  - id: u1\n    type: text\n    url: https://ad.test/\n    title: Ad\n    wieght: 2\n"  # 3-7
        "  - id: u1\n    type: text\n    url: ftp://x/\n    title: Ad\n"  # 8-11
        "  - id: u2\n    type: text\n    url: https://ad.test/\n    title: Ad\n"  # 12-15
        "    start: 2024-02-01T00:00:00Z\n    end: 2024-01-01T00:00:00Z\n    colour: red\n"
    )  # 16-18
    lines = check_lines(
        make_site,
        capsys,
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(date="2024-13-01T00:00:00Z"),
            "adspaces/7.yaml": space,
        },
        config=MINIMAL_CONFIG + "http:\n  max_age: -1\n",
    )
    for expected in [
        "config.yaml:9: error: http.max_age:",
        "feeds/news/a.md:3: error: front matter.date:",
        "adspaces/7.yaml:7: error: units[0].wieght: unknown field",
        "adspaces/7.yaml:8: error: units[1].id: duplicate unit id 'u1'",
        "adspaces/7.yaml:10: error: units[1].url: expected an http(s) URL",
        "adspaces/7.yaml:17: error: units[2].end: must be after start",
        "adspaces/7.yaml:18: error: units[2].colour: unknown field",
        "adspaces/7.yaml:1: error: if_empty: no ad space 'ghost'",
    ]:
        assert any(line.startswith(expected) for line in lines), (expected, lines)


def test_config_errors_do_not_hide_the_rest(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    lines = check_lines(
        make_site,
        capsys,
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(date="2020-09-31"),
            "adspaces/7.yaml": "units:\n" + UNIT + "    weight: -1\n",
        },
        config=MINIMAL_CONFIG.replace("base_url: https://news.test", "base_url: javascript:x") + "bogus: 1\n",
    )
    assert any(line.startswith("config.yaml:3: error: site.base_url:") for line in lines), lines
    assert any(line.startswith("config.yaml:8: error: bogus: unknown field") for line in lines), lines
    assert any(line.startswith("feeds/news/a.md:3: error: front matter.date:") for line in lines), lines
    assert any(line.startswith("adspaces/7.yaml:6: error: units[0].weight:") for line in lines), lines


def test_targeting_unknown_partners_and_feeds(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = MINIMAL_CONFIG + ("partners:\n  - id: acme\n    keys: [acme-key-123456]\n    feeds: [news, sport]\n")
    lines = check_lines(
        make_site,
        capsys,
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(body="[bsa_pro_ad_space id=7]"),
            "adspaces/7.yaml": "units:\n"
            + UNIT
            + "    partners: [acme, acmee, public]\n    feeds: [news, nwes, all]\n",
        },
        config=config,
    )
    assert any(line.startswith("adspaces/7.yaml:6: error: units[0].partners: no partner 'acmee'") for line in lines), (
        lines
    )
    assert any(line.startswith("adspaces/7.yaml:7: error: units[0].feeds: no feed 'nwes'") for line in lines), lines
    assert any(line.startswith("adspaces/7.yaml:7: error: units[0].feeds: no feed 'all'") for line in lines), lines
    assert any(line.startswith("config.yaml:11: error: partners[0].feeds: no feed 'sport'") for line in lines), lines
    assert not any("'acme'" in line or "'public'" in line or "'news'" in line for line in lines), lines
