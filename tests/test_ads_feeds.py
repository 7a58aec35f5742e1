"""Ads in served feeds: per partner, per attribute, never raw, always valid."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import orjson
import pytest

from syndicate.cli import main
from syndicate.config import Rotation
from syndicate.formats import FORMATS
from syndicate.publish import PageRequest, ad_resolver, feed_view
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SAMPLE_CONFIG, AppClient, SiteFactory, article
from tests.feedcheck import check_any

AD_LINK = re.compile(r'<a href="([^"]+)" rel="sponsored noopener">')
KEYS = {"public": None, "partner-a": "partner-a-demo-key", "partner-b": "partner-b-demo-key"}
MOMENT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


def rendered(snapshot: Snapshot, feed: str, fmt: str, audience_id: str = "public", moment: dt.datetime = MOMENT) -> str:
    audience = snapshot.audience(audience_id)
    assert audience is not None
    view = feed_view(snapshot, PageRequest(feed, fmt), ad_resolver(snapshot, audience, fmt, moment))
    return FORMATS[fmt].render(view).decode("utf-8")


SPACE = """\
label: Advertisement
units:
  - id: img
    type: image
    url: https://ad.test/img
    src: https://ad.test/img.png
    width: 600
    height: 300
    alt: An ad
  - id: txt
    type: text
    url: https://ad.test/txt
    title: Text ad
    house: true
"""


def ad_site(make_site: SiteFactory, body: str, config_extra: str = "", space: str = SPACE) -> Snapshot:
    return build_snapshot(
        make_site(
            {
                "feeds/news/_feed.yaml": FEED_YAML,
                "feeds/news/a.md": article(body=body),
                "adspaces/4.yaml": space,
                "adspaces/5.yaml": "units:\n  - {id: five, type: text, url: 'https://ad.test/5', title: Five}\n",
            },
            config=MINIMAL_CONFIG + config_extra,
        )
    )


@pytest.mark.parametrize("audience", list(KEYS))
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_sample_feeds_valid_for_every_audience(sample: Snapshot, audience: str, fmt: str) -> None:
    for feed in ("world", "business", "all"):
        text = rendered(sample, feed, fmt, audience)
        check_any(fmt, text.encode("utf-8"))
        assert "[bsa_pro_ad_space" not in text


def test_audiences_get_their_own_ads(sample: Snapshot) -> None:
    public = rendered(sample, "world", "json")
    partner_a = rendered(sample, "world", "json", "partner-a")
    partner_b = rendered(sample, "world", "json", "partner-b")
    assert "Advertisement" in public and "sponsored" in public
    assert "https://partner-a.example.com/subscribe?utm_source=partner-a&amp;utm_medium=feed" in partner_a
    assert "sponsored" not in partner_b and "<small>" not in partner_b


def rotating(snapshot: Snapshot, rotation: Rotation) -> Snapshot:
    config = snapshot.config
    return dataclasses.replace(
        snapshot, config=dataclasses.replace(config, ads=dataclasses.replace(config.ads, rotation=rotation))
    )


def test_per_item_ads_never_change_across_windows(sample: Snapshot) -> None:
    assert sample.config.ads.rotation is Rotation.PER_ITEM  # the default
    windows = {rendered(sample, "all", "json", moment=MOMENT + dt.timedelta(hours=h)) for h in range(24)}
    assert len(windows) == 1
    items = orjson.loads(windows.pop())["items"]
    assert any(AD_LINK.findall(item["content_html"]) for item in items), "the sample feed carries ads"


def test_same_window_same_bytes_and_dates_never_move(sample: Snapshot) -> None:
    sample = rotating(sample, Rotation.WINDOW)
    first = rendered(sample, "all", "atom")
    assert first == rendered(sample, "all", "atom", moment=MOMENT + dt.timedelta(minutes=59))
    windows = {rendered(sample, "all", "json", moment=MOMENT + dt.timedelta(hours=h)) for h in range(24)}
    assert len(windows) > 1, "ads rotate between windows"
    dates = {tuple((i["date_published"], i["date_modified"]) for i in orjson.loads(w)["items"]) for w in windows}
    assert len(dates) == 1


def test_markup_is_feed_safe(make_site: SiteFactory) -> None:
    body = "Intro.\n\n[bsa_pro_ad_space id=4 max_width=300]\n\nInline [bsa_pro_ad_space id=4] x."
    snapshot = ad_site(make_site, body)
    html = rendered(snapshot, "news", "json")
    content = orjson.loads(html)["items"][0]["content_html"]
    for href in AD_LINK.findall(content):
        assert href.startswith("https://")
    assert "<p><small>Advertisement</small><br>" in content  # block slot: own paragraph with its label
    assert "<p>Inline <small>Advertisement</small> <a " in content  # inline slot: stays inline
    assert 'width="300" height="150"' in content or "Text ad</a>" in content
    for bad in ("<script", "<iframe", "style=", " on", "target="):
        assert bad not in content


def test_enclosed_text_becomes_link_text(make_site: SiteFactory) -> None:
    snapshot = ad_site(make_site, "[bsa_pro_ad_space id=4 show_ids=txt]Read *this*[/bsa_pro_ad_space]")
    content = orjson.loads(rendered(snapshot, "news", "json"))["items"][0]["content_html"]
    assert '<a href="https://ad.test/txt" rel="sponsored noopener">Read this</a>' in content


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("[bsa_pro_ad_space id=99]", None),  # unknown space: nothing
        ("[bsa_pro_ad_space]", None),  # no id: nothing
        ("[bsa_pro_ad_space id=abc]", None),
        ("[bsa_pro_ad_space id=99 if_empty=5]", "https://ad.test/5"),
        ("[bsa_pro_ad_space id=4 show_ids=none if_empty=5]", "https://ad.test/5"),
        ("[ads_pro_ad_space id=5]", "https://ad.test/5"),
        ("[bsa_pro_ajax_ad_space id=5 crop=yes delay=3 link=same]", "https://ad.test/5"),
        ('[bsa_pro_ad_space id="99,5"]', "https://ad.test/5"),
    ],
)
def test_attributes(make_site: SiteFactory, body: str, expect: str | None) -> None:
    snapshot = ad_site(make_site, body)
    text = rendered(snapshot, "news", "rss")
    check_any("rss", text.encode())
    links = AD_LINK.findall(orjson.loads(rendered(snapshot, "news", "json"))["items"][0]["content_html"])
    assert links == ([expect] if expect else [])
    assert "_ad_space" not in text


def test_comma_list_picks_one_space_deterministically(make_site: SiteFactory) -> None:
    snapshot = ad_site(make_site, '[bsa_pro_ad_space id="4,5"]', "ads:\n  rotation: window\n")
    seen = set()
    for hour in range(30):
        text = rendered(snapshot, "news", "json", moment=MOMENT + dt.timedelta(hours=hour))
        links = set(AD_LINK.findall(orjson.loads(text)["items"][0]["content_html"]))
        assert len(links) == 1  # one ad (an image ad links twice: the image and its text line)
        seen.add(links.pop())
    assert "https://ad.test/5" in seen and len(seen) >= 2


def test_other_plugins_shortcodes_map_by_config(make_site: SiteFactory) -> None:
    extra = "ads:\n  aliases:\n    the_ad: {attribute: id, spaces: {'12': '5'}}\n    quads: {default: '5'}\n"
    snapshot = ad_site(make_site, "[the_ad id=12] [the_ad id=13] [quads id=1] [adrotate banner=1]", extra)
    content = orjson.loads(rendered(snapshot, "news", "json"))["items"][0]["content_html"]
    assert AD_LINK.findall(content) == ["https://ad.test/5", "https://ad.test/5"]
    assert "[the_ad" not in content and "[quads" not in content
    assert "[adrotate banner=1]" in content  # not configured: an unknown tag passes through, as in WordPress
    warnings = [p.format(snapshot.config.root) for p in snapshot.problems]
    assert any("[the_ad]: no space mapped for id='13'" in w for w in warnings)


def test_strip_tags_removes_other_shortcodes(make_site: SiteFactory) -> None:
    snapshot = ad_site(make_site, "Keep [gallery ids=1,2] this.", "ads:\n  strip_tags: [gallery]\n")
    content = orjson.loads(rendered(snapshot, "news", "json"))["items"][0]["content_html"]
    assert content == "<p>Keep  this.</p>\n"


def test_check_reports_ad_problems(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/a.md": article(body="Hi.\n\n[bsa_pro_ad_space id=42 colour=red]\n"),
            "adspaces/4.yaml": SPACE,
        },
        config=MINIMAL_CONFIG + "partners:\n  - id: p\n    keys: [long-enough-key]\n    overrides:\n"
        "      '7': {hide: true}\n",
    )
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "feeds/news/a.md:7: warning: [bsa_pro_ad_space]: no ad space '42'" in out
    assert "feeds/news/a.md:7: warning: [bsa_pro_ad_space]: unknown attribute 'colour' ignored" in out
    assert "config.yaml:12: error: p: override names unknown ad space '7'" in out


def test_partner_config_errors(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site(
        config=MINIMAL_CONFIG + "partners:\n  - id: p\n    keys: [short]\n    ads: all\n"
        "  - id: q\n    keys: ['sha256:abc']\n"
    )
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "config.yaml:10: error: partners[0].keys: keys must be at least 12 characters long" in out
    assert "config.yaml:11: error: partners[0].ads: expected one of resolve, house, strip, got 'all'" in out
    assert "config.yaml:13: error: partners[1].keys: a sha256: key must be followed by 64" in out


def test_hashed_keys_work(make_site: SiteFactory) -> None:
    digest = "sha256:" + __import__("hashlib").sha256(b"a-very-secret-key").hexdigest()
    snapshot = build_snapshot(make_site(config=MINIMAL_CONFIG + f"partners:\n  - id: p\n    keys: ['{digest}']\n"))
    partner = snapshot.partner_for_key("a-very-secret-key")
    assert partner is not None and partner.id == "p"
    assert snapshot.partner_for_key("a-very-secret-kez") is None


def test_render_cli_shows_the_partners_ad(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "world", "--format", "rss", "--partner", "partner-a", "--config", str(SAMPLE_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "partner-a.example.com/subscribe" in out and "[bsa_pro_ad_space" not in out


# --- over HTTP ---------------------------------------------------------------------------


async def test_key_in_header_or_query(client: AppClient) -> None:
    by_header = await client.get("/feeds/world.json", headers={"Authorization": "Bearer partner-a-demo-key"})
    by_query = await client.get("/feeds/world.json?key=partner-a-demo-key")
    assert by_header.status == by_query.status == 200
    assert "partner-a.example.com" in await by_header.text()
    assert "partner-a.example.com" in await by_query.text()


async def test_unknown_key_is_401(client: AppClient) -> None:
    response = await client.get("/feeds/world.json", headers={"Authorization": "Bearer nope-nope-nope"})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "nope-nope-nope" not in await response.text()


async def test_format_not_allowed_is_403(client: AppClient) -> None:
    response = await client.get("/feeds/world.rss?key=partner-b-demo-key")
    assert response.status == 403
    assert (await client.get("/feeds/world.atom?key=partner-b-demo-key")).status == 200


async def test_a_403_names_the_feed_that_was_asked_for(client: AppClient) -> None:
    response = await client.get("/feeds/world/tags/belarus.rss?key=partner-b-demo-key")
    assert response.status == 403
    assert "world/tags/belarus.rss" in await response.text()
