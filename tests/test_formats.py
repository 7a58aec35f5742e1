"""Each format, rendered from the bundled sample site and parsed back as readers do."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from syndicate.formats import FORMATS
from syndicate.publish import PageRequest, feed_view
from syndicate.snapshot import Snapshot
from tests.feedcheck import NS, check_any, strict_xml

SAMPLE_ARTICLE = Path(__file__).resolve().parent.parent / "feeds/world/2020-09-14-putin-lukashenko-sochi.md"
SAMPLE_UID = "tag:news.example.com,2020-09-01:world/2020-09-14-putin-lukashenko-sochi"


def rendered(sample: Snapshot, feed: str, fmt: str) -> bytes:
    return FORMATS[fmt].render(feed_view(sample, PageRequest(feed, fmt)))


def sample_body_lines() -> list[str]:
    """The article's prose lines, as written (list markers removed)."""
    text = SAMPLE_ARTICLE.read_text(encoding="utf-8").split("---\n", 2)[2]
    lines = []
    for line in text.splitlines():
        line = line.removeprefix("- ")
        if line[:2] in {f"{n}." for n in range(1, 10)}:
            line = line[3:]
        if line and not line.startswith("["):
            lines.append(line)
    return lines


@pytest.mark.parametrize("feed", ["world", "business", "all"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_feed_parses_cleanly(sample: Snapshot, feed: str, fmt: str) -> None:
    check_any(fmt, rendered(sample, feed, fmt))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_sample_text_survives_byte_for_byte(sample: Snapshot, fmt: str) -> None:
    data = rendered(sample, "world", fmt)
    if fmt == "json":
        item = next(i for i in orjson.loads(data)["items"] if i["id"] == SAMPLE_UID)
        html, title = item["content_html"], item["title"]
    else:
        root = strict_xml(data)
        if fmt == "rss":
            node = next(i for i in root.iter("item") if i.findtext("guid") == SAMPLE_UID)
            html, title = node.findtext("content:encoded", namespaces=NS), node.findtext("title")
        else:
            entries = root.iterfind("atom:entry", NS)
            node = next(e for e in entries if e.findtext("atom:id", namespaces=NS) == SAMPLE_UID)
            html, title = node.findtext("atom:content", namespaces=NS), node.findtext("atom:title", namespaces=NS)
    assert title == "Recapping Putin & Lukashenko’s Big Meeting in Sochi"
    assert html is not None
    for line in sample_body_lines():
        assert line in html, line
    assert "\u00a0" in html and "’" in html
    assert "[bsa_pro_ad_space" not in data.decode("utf-8")


def test_rss_fields(sample: Snapshot) -> None:
    root = strict_xml(rendered(sample, "world", "rss"))
    channel = root.find("channel")
    assert channel is not None
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link is not None and self_link.get("href") == "http://127.0.0.1:8080/feeds/world.rss"
    assert channel.findtext("lastBuildDate") is not None
    item = next(i for i in channel.iter("item") if i.findtext("guid") == SAMPLE_UID)
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert item.findtext("pubDate") == "Mon, 14 Sep 2020 21:30:00 +0300"
    assert item.findtext("dc:creator", namespaces=NS) == "Christina Kitova"
    assert item.findtext("link") == "https://news.example.com/world/2020-09-14-putin-lukashenko-sochi/"
    assert "Putin and Lukashenko met" in (item.findtext("description") or "")
    assert [c.text for c in item.findall("category")][:2] == ["Russia", "Belarus"]
    media = item.find("media:content", NS)
    assert media is not None and media.get("url") == "https://news.example.com/images/2020/09/sochi-meeting.jpg"
    assert media.get("medium") == "image" and media.get("width") == "1200"


def test_atom_fields(sample: Snapshot) -> None:
    parsed = check_any("atom", rendered(sample, "world", "atom"))
    assert parsed.version == "atom10"
    entry = next(e for e in parsed.entries if e.id == SAMPLE_UID)
    assert entry.published == "2020-09-14T21:30:00+03:00"
    assert entry.author == "Christina Kitova"
    assert entry.content[0].type == "text/html"
    assert entry.link == "https://news.example.com/world/2020-09-14-putin-lukashenko-sochi/"
    assert parsed.feed.id == "tag:news.example.com,2020-09-01:feeds/world"
    assert {link.rel for link in parsed.feed.links} >= {"self", "alternate"}


def test_atom_carries_the_article_image(sample: Snapshot) -> None:
    """As media:content (Media RSS, like the RSS item) and as an RFC 4287 enclosure link with its type."""
    data = rendered(sample, "world", "atom")
    root = strict_xml(data)
    entry = next(e for e in root.iterfind("atom:entry", NS) if e.findtext("atom:id", namespaces=NS) == SAMPLE_UID)
    url = "https://news.example.com/images/2020/09/sochi-meeting.jpg"
    media = entry.find("media:content", NS)
    assert media is not None
    assert dict(media.attrib.items()) == {"url": url, "medium": "image", "width": "1200", "height": "675"}
    (enclosure,) = entry.findall("atom:link[@rel='enclosure']", NS)
    assert dict(enclosure.attrib.items()) == {"href": url, "rel": "enclosure", "type": "image/jpeg"}
    parsed = check_any("atom", data)
    seen = next(e for e in parsed.entries if e.id == SAMPLE_UID)
    assert seen.media_content[0]["url"] == url and seen.enclosures[0]["href"] == url
    others = [e for e in root.iterfind("atom:entry", NS) if e.findtext("atom:id", namespaces=NS) != SAMPLE_UID]
    assert others and all(e.find("media:content", NS) is None for e in others)  # no image, no element


def test_json_feed_fields(sample: Snapshot) -> None:
    feed = orjson.loads(rendered(sample, "world", "json"))
    assert feed["feed_url"] == "http://127.0.0.1:8080/feeds/world.json"
    assert feed["home_page_url"] == "https://news.example.com/world/"
    item = next(i for i in feed["items"] if i["id"] == SAMPLE_UID)
    assert item["date_published"] == "2020-09-14T21:30:00+03:00"
    assert item["authors"] == [{"name": "Christina Kitova"}]
    assert item["tags"][0] == "Russia"
    assert item["image"] == "https://news.example.com/images/2020/09/sochi-meeting.jpg"


def test_output_is_byte_stable(sample: Snapshot) -> None:
    for fmt in FORMATS:
        assert rendered(sample, "all", fmt) == rendered(sample, "all", fmt)


def test_same_ids_in_every_format(sample: Snapshot) -> None:
    rss = [i.findtext("guid") for i in strict_xml(rendered(sample, "all", "rss")).iter("item")]
    atom = [
        e.findtext("atom:id", namespaces=NS)
        for e in strict_xml(rendered(sample, "all", "atom")).iterfind("atom:entry", NS)
    ]
    json_ids = [i["id"] for i in orjson.loads(rendered(sample, "all", "json"))["items"]]
    assert rss == atom == json_ids and len(rss) == 3
