"""A real WordPress's export imported and served: compared with WordPress's own data, ads resolved per partner."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from syndicate.cli import main
from syndicate.problems import Level
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from tests.conftest import MINIMAL_CONFIG, AppClient, SiteFactory
from tests.feedcheck import check_any
from tests.wordpress_site import WordPressSite

ACME_KEY = "acme-key-123456"
QUIET_KEY = "quiet-key-1234567"
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
    keys: [{ACME_KEY}]
    overrides:
      "4": {{use: acme-4}}
  - id: quiet
    name: Quiet
    keys: [{QUIET_KEY}]
    ads: strip
"""
)
_SHORTCODE = re.compile(r"\[/?[a-z][a-z0-9_-]*(?:\s[^\[\]]*)?\]")


def _space(title: str) -> str:
    return f"name: Top\nunits:\n  - id: u1\n    type: text\n    url: https://ad.test/u1\n    title: {title}\n"


@pytest.fixture
def imported(wordpress: WordPressSite, make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    config = make_site(
        {"adspaces/4.yaml": _space("Public ad"), "adspaces/acme-4.yaml": _space("Acme ad")}, config=CONFIG
    )
    assert main(["import", "wordpress", str(wordpress.export), "--config", str(config)]) == 0
    return config, capsys.readouterr().out


def _imported_keys(wordpress: WordPressSite) -> list[str]:
    return [k for k, t in wordpress.truth.items() if t["type"] == "post" and t["status"] in ("publish", "future")]


def test_report_counts_what_wordpress_holds(imported: tuple[Path, str], wordpress: WordPressSite) -> None:
    _, out = imported
    posts = _imported_keys(wordpress)
    assert out.splitlines()[0] == f"{len(posts) + 1} imported, 0 updated, 0 unchanged"  # + WordPress's Hello world
    skipped = out.splitlines()[1]
    for reason in (
        "status draft",
        "status pending",
        "status private",
        "status trash",
        "attachment",
        "menu item",
        "page (use --pages)",
    ):
        assert reason in skipped, skipped
    assert re.search(r"^shortcode \[bsa_pro_ad_space\]: \d+$", out, re.MULTILINE)
    assert re.search(r"^shortcode \[caption\]: 1$", out, re.MULTILINE)
    assert re.search(r"^shortcode \[gallery\]: 1  \(not handled", out, re.MULTILINE)
    assert re.search(r"^shortcode \[contact-form-7\]: 1  \(not handled", out, re.MULTILINE)
    assert "[sic]" not in out


def test_fifty_posts_import_with_no_check_error(imported: tuple[Path, str]) -> None:
    config, _ = imported
    assert main(["check", "--config", str(config)]) == 0
    snapshot = build_snapshot(config)
    assert [p for p in snapshot.problems if p.level is Level.ERROR] == []
    assert len(snapshot.feeds["wordpress"].articles) >= 50


def _text(fragment: str) -> str:
    """Visible text without any shortcode, whitespace collapsed: what both sides must agree on."""
    text = lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div").text_content()
    return " ".join(_SHORTCODE.sub(" ", html.unescape(text)).split())


def _instant(gmt: str) -> dt.datetime:
    return dt.datetime.strptime(gmt, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


async def _get(client: AppClient, path: str, key: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await client.get(path, headers=headers)
    assert response.status == 200, (path, await response.text())
    return await response.read()


async def test_served_items_match_wordpress_own_data(
    imported: tuple[Path, str], wordpress: WordPressSite, aiohttp_client: Callable[..., Any]
) -> None:
    config, _ = imported
    client = await aiohttp_client(create_app(config))
    served = check_any("json", await _get(client, "/feeds/wordpress.json?page=1", QUIET_KEY))
    items = {item["url"]: item for item in served["items"]}
    page = 1
    while "next_url" in served:
        page += 1
        served = check_any("json", await _get(client, f"/feeds/wordpress.json?page={page}", QUIET_KEY))
        items.update({item["url"]: item for item in served["items"]})
    now = dt.datetime.now(dt.UTC)
    for key in _imported_keys(wordpress):
        truth = wordpress.truth[key]
        item = items.get(truth["permalink"])
        if item is None:
            assert _instant(truth["date_gmt"]) > now, f"{key} is missing from the feed"  # held back until its time
            continue
        assert item["title"] == html.unescape(truth["title"]), key  # WordPress stores titles as HTML
        assert dt.datetime.fromisoformat(item["date_published"]) == _instant(truth["date_gmt"]), key
        assert dt.datetime.fromisoformat(item["date_modified"]) == max(
            _instant(truth["modified_gmt"]), _instant(truth["date_gmt"])
        ), key
        assert [a["name"] for a in item["authors"]] == [truth["author"]], key
        assert item["tags"] == truth["categories"] + truth["tags"], key
        assert _text(item["content_html"]) == _text(truth["content"]), key
        assert "Public ad" not in item["content_html"]
    sample = items[wordpress.truth["sample"]["permalink"]]
    assert sample["image"] == wordpress.url + "/wp-content/uploads/sochi.jpg"  # relative in the export
    assert sample["summary"] == "Putin and Lukashenko met for almost five hours in Sochi."
    caption = items[wordpress.truth["caption"]["permalink"]]["content_html"]
    assert "<figure>" in caption and "<figcaption>The harbour at dawn</figcaption>" in caption
    classic = items[wordpress.truth["classic"]["permalink"]]["content_html"]
    assert "<pre>code\n\n  stays</pre>" in classic and "<br>" in classic
    blocks = items[wordpress.truth["blocks"]["permalink"]]["content_html"]
    assert "<!--" not in blocks and "“quoted” and non\u00a0breaking" in blocks


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_every_shortcode_resolved_per_partner_in_every_format(
    fmt: str, imported: tuple[Path, str], aiohttp_client: Callable[..., Any]
) -> None:
    config, _ = imported
    client = await aiohttp_client(create_app(config))
    public, acme, quiet = [await _get(client, f"/feeds/wordpress.{fmt}", key) for key in (None, ACME_KEY, QUIET_KEY)]
    for body in (public, acme, quiet):
        check_any(fmt, body)
        assert b"bsa_pro_ad_space" not in body
    assert b"Public ad" in public and b"Acme ad" not in public
    assert b"Acme ad" in acme and b"Public ad" not in acme
    assert b"Public ad" not in quiet and b"Acme ad" not in quiet


def test_reimport_changes_no_byte(
    imported: tuple[Path, str], wordpress: WordPressSite, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = imported
    feeds = config.parent / "feeds"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in feeds.rglob("*") if p.is_file()}
    assert main(["import", "wordpress", str(wordpress.export), "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("0 imported, 0 updated, ")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in feeds.rglob("*") if p.is_file()} == before


def test_feed_by_category_and_pages(
    wordpress: WordPressSite, make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site()
    assert (
        main(
            ["import", "wordpress", str(wordpress.export), "--config", str(config), "--feed-by", "category", "--pages"]
        )
        == 0
    )
    capsys.readouterr()
    feeds = config.parent / "feeds"
    assert {"world", "economie", "sports", "uncategorized"} <= {p.name for p in feeds.iterdir()}
    assert (feeds / "economie" / "_feed.yaml").read_text(encoding="utf-8").startswith("title: Économie\n")
    assert list(feeds.glob(f"*/wp-{wordpress.truth['page']['id']}-*.html"))
    assert [p for p in build_snapshot(config).problems if p.level is Level.ERROR] == []
    shutil.rmtree(feeds / "world")
