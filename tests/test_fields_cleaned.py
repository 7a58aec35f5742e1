"""Every field, not only bodies: URL fields take http(s) only, text fields lose what XML forbids,
and whatever front matter, _feed.yaml and ad units hold, every format parses strictly and links nowhere unsafe."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lxml.html
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.formats import FORMATS
from syndicate.publish import PageRequest, ad_resolver, feed_view
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.feedcheck import NS, strict_xml
from tests.test_hostile_content import active_content, content_htmls

TEXT_UNIT = "units:\n  - {id: t, type: text, url: 'https://ad.test/', title: Ad}\n"


def q(value: str) -> str:
    """``value`` as a YAML double-quoted scalar: JSON's escapes are YAML's (\\u0001, \\ud800, ...)."""
    return json.dumps(value)


def errors(snapshot: Snapshot) -> list[str]:
    return [p.format(snapshot.config.root) for p in snapshot.problems if p.level == "error"]


def rendered(snapshot: Snapshot, feed: str = "all") -> dict[str, bytes]:
    out = {}
    for fmt in FORMATS:
        view = feed_view(snapshot, PageRequest(feed, fmt), ad_resolver(snapshot, snapshot.config.public, fmt))
        out[fmt] = FORMATS[fmt].render(view)
    return out


BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>x</script>",
    "vbscript:x",
    "https://x.test/a\x01b",
    "https://x.test/a b",
    "ftp://x.test/",
    "mailto:a@x.test",
    "http://[::1",
    "https://x.test:99999/",
]


@pytest.mark.parametrize("bad", BAD_URLS)
@pytest.mark.parametrize(
    ("where", "extra", "line", "field"),
    [
        ("a.md", "canonical_url: {}\n", 4, "front matter.canonical_url"),
        ("a.md", "image: {}\n", 4, "front matter.image"),
        ("a.md", "image:\n  url: {}\n", 5, "front matter.image.url"),
        ("a.md", "author:\n  name: Ann\n  url: {}\n", 6, "front matter.author.url"),
        ("_feed.yaml", "link: {}\n", 3, "link"),
        ("_feed.yaml", "image: {}\n", 3, "image"),
        ("4.yaml", "url", 4, "units[0].url"),
        ("4.yaml", "src", 5, "units[0].src"),
    ],
)
def test_url_fields_take_http_only(
    make_site: SiteFactory, bad: str, where: str, extra: str, line: int, field: str
) -> None:
    files = {
        "feeds/news/_feed.yaml": FEED_YAML,
        "feeds/news/a.md": article(body="[bsa_pro_ad_space id=4]"),
        "adspaces/4.yaml": TEXT_UNIT,
    }
    if where == "a.md":
        files["feeds/news/a.md"] = article(extra=extra.format(q(bad)), body="[bsa_pro_ad_space id=4]")
        shown = "feeds/news/a.md"
    elif where == "_feed.yaml":
        files["feeds/news/_feed.yaml"] = FEED_YAML + extra.format(q(bad))
        shown = "feeds/news/_feed.yaml"
    else:
        other = {"url": "https://ad.test/", "src": "https://ad.test/a.png"}
        other[extra] = bad
        files["adspaces/4.yaml"] = (
            f"units:\n  - id: i\n    type: image\n    url: {q(other['url'])}\n    src: {q(other['src'])}\n"
        )
        shown = "adspaces/4.yaml"
    snapshot = build_snapshot(make_site(files))
    assert any(e.startswith(f"{shown}:{line}: error: {field}: expected ") for e in errors(snapshot)), errors(snapshot)
    for data in rendered(snapshot).values():
        assert b"javascript:" not in data.lower() and b"vbscript:" not in data and b"ftp://" not in data


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "javascript:alert(1)"),
        ("base_url", "https://x.test/\x01"),
        ("language", "en\x01"),
        ("language", "<en>"),
    ],
)
def test_site_urls_and_language_are_checked(make_site: SiteFactory, key: str, value: str) -> None:
    from syndicate.config import load_config
    from syndicate.problems import LoadError
    from tests.conftest import MINIMAL_CONFIG

    text = re.sub(rf"  {key}: .*\n", lambda _: f"  {key}: {q(value)}\n", MINIMAL_CONFIG)
    with pytest.raises(LoadError) as caught:
        load_config(make_site(config=text))
    assert any(p.message.startswith(f"site.{key}: expected ") and p.line > 0 for p in caught.value.problems)


def test_control_characters_from_yaml_escapes_never_reach_a_feed(make_site: SiteFactory) -> None:
    controls = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ufffe\uffff"
    snapshot = build_snapshot(
        make_site(
            {
                "feeds/news/_feed.yaml": f"title: {q('News' + controls)}\ndescription: {q('D' + controls)}\n",
                "feeds/news/a.md": article(
                    title=q("T" + controls),
                    body="[bsa_pro_ad_space id=4]",
                    extra=f"summary: {q('S' + controls)}\ntags: [{q('x' + controls)}]\n"
                    f"author: {{name: {q('Ann' + controls)}, bio: {q('B' + controls)}}}\n"
                    f"image: {{url: 'https://i.test/a.png', alt: {q('A' + controls)}}}\n",
                ),
                "adspaces/4.yaml": f"name: {q('N' + controls)}\nlabel: {q('L' + controls)}\nunits:\n"
                f"  - {{id: t, type: text, url: 'https://ad.test/', title: {q('Ad' + controls)}, "
                f"body: {q('Body' + controls)}}}\n",
            }
        )
    )
    assert errors(snapshot) == []
    found = snapshot.feeds["news"].articles[0]
    assert (found.title, found.summary, found.tags, found.author.name if found.author else "") == (
        "T",
        "S",
        ("x",),
        "Ann",
    )
    for fmt, data in rendered(snapshot, "news").items():
        if fmt == "json":
            assert "\\u0001" not in data.decode()
        (html,) = content_htmls(fmt, data)  # parses strictly
        assert ">L<" in html and ">Ad<" in html and "Body" in html  # the label, the link text, the body


def test_rss_description_is_text_not_markup(make_site: SiteFactory) -> None:
    hostile = "a <img src=x onerror=alert(1)> b & <b>c</b>"
    snapshot = build_snapshot(
        make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/a.md": article(extra=f"summary: {q(hostile)}\n")})
    )
    assert snapshot.feeds["news"].articles[0].summary == hostile
    item = strict_xml(rendered(snapshot, "news")["rss"]).find("channel/item")
    assert item is not None
    description = item.findtext("description") or ""
    # A reader treats <description> as HTML: parsed as such, it must be the summary as plain text.
    shown = lxml.html.fragment_fromstring(description, create_parent="div")
    assert [e.tag for e in shown.iter()] == ["div"]
    assert shown.text_content() == hostile


def test_titles_summaries_names_and_tags_keep_their_spaces(make_site: SiteFactory) -> None:
    spaced = "Kyiv\u00a0—  a  title\u00a0 with\u2009spaces"
    nbsp_tag, name = q("New\u00a0York"), q("Jean\u00a0 Dupont")
    snapshot = build_snapshot(
        make_site(
            {
                "feeds/news/_feed.yaml": FEED_YAML,
                "feeds/news/a.md": article(
                    title=q(spaced),
                    extra=f"summary: {q('Sum  ' + spaced)}\ntags: [{nbsp_tag}, {q('New  York')}]\nauthor: {name}\n",
                ),
            }
        )
    )
    found = snapshot.feeds["news"].articles[0]
    assert found.title == spaced
    assert found.summary == "Sum  " + spaced
    assert found.tags == ("New\u00a0York", "New  York")
    assert found.author is not None and found.author.name == "Jean\u00a0 Dupont"
    assert ("news", "tags", "new-york") in snapshot.filtered  # the slug is still normalised
    for fmt, data in rendered(snapshot, "news").items():
        text = data.decode("utf-8")
        if fmt == "json":
            item = orjson.loads(data)["items"][0]
            assert (item["title"], item["summary"], item["tags"], item["authors"][0]["name"]) == (
                spaced,
                "Sum  " + spaced,
                ["New\u00a0York", "New  York"],
                "Jean\u00a0 Dupont",
            )
        else:
            assert spaced in text and "Jean\u00a0 Dupont" in text and "New\u00a0York" in text


# --- one property test over every field -------------------------------------------------------------------------

HOSTILE_PIECES = [
    "javascript:alert(1)",
    "JAVASCRIPT:",
    "data:text/html,x",
    "vbscript:",
    "https://ok.test/",
    "//evil.test/x",
    "/rel/a.png",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "]]>",
    "&",
    "&amp;",
    "&#0;",
    '"',
    "'",
    " ",
    "  ",
    "\u00a0",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x01",
    "\x08",
    "\x0b",
    "\x1f",
    "\x7f",
    "\x85",
    "\ufffe",
    "\u202e",
    "[bsa_pro_ad_space id=4]",
    "[[bsa_pro_ad_space id=4]]",
    "a",
    "Z",
    "0",
    "é",
    "—",
    "🧨",
]
HOSTILE = st.lists(st.sampled_from(HOSTILE_PIECES), max_size=6).map("".join)
URL_KEYS = {"url", "src", "href", "link", "image", "home_page_url", "feed_url", "external_url", "icon", "favicon"}
BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|file|ftp):", re.IGNORECASE)


def _urls_in_json(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in URL_KEYS and isinstance(value, str):
                found.append(value)
            found += _urls_in_json(value)
    elif isinstance(node, list):
        for value in node:
            found += _urls_in_json(value)
    return found


def _urls_in_xml(data: bytes) -> tuple[list[str], list[str]]:
    root = strict_xml(data)
    urls, htmls = [], []
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in ("href", "url", "src", "uri"):
                urls.append(str(value))
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("link", "url", f"{{{NS['atom']}}}uri", f"{{{NS['atom']}}}icon", f"{{{NS['atom']}}}logo"):
            urls.append(element.text or "")
        if tag in (f"{{{NS['content']}}}encoded", f"{{{NS['atom']}}}content", "description"):
            htmls.append(element.text or "")
    return urls, htmls


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    st.fixed_dictionaries(
        {
            key: HOSTILE
            for key in (
                "title",
                "summary",
                "canonical_url",
                "tag",
                "author_name",
                "author_url",
                "author_bio",
                "image_url",
                "image_alt",
                "feed_title",
                "feed_description",
                "feed_language",
                "feed_link",
                "feed_image",
                "unit_url",
                "unit_src",
                "unit_alt",
                "unit_title",
                "unit_body",
                "space_name",
                "space_label",
            )
        }
    )
)
def test_hostile_values_in_every_field_give_strict_safe_feeds(make_site: SiteFactory, v: dict[str, str]) -> None:
    config = make_site(
        {
            "feeds/news/_feed.yaml": f"title: {q(v['feed_title'] or 'N')}\ndescription: {q(v['feed_description'])}\n"
            f"language: {q(v['feed_language'])}\nlink: {q(v['feed_link'])}\n"
            f"image: {q(v['feed_image'])}\n",
            "feeds/news/a.md": article(
                title=q(v["title"] or "T"),
                body="Text [bsa_pro_ad_space id=4] more.",
                extra=f"summary: {q(v['summary'])}\ncanonical_url: {q(v['canonical_url'])}\n"
                f"tags: [{q(v['tag'])}]\nauthor: {{name: {q(v['author_name'] or 'A')}, "
                f"url: {q(v['author_url'])}, bio: {q(v['author_bio'])}}}\n"
                f"image: {{url: {q(v['image_url'])}, alt: {q(v['image_alt'])}}}\n",
            ),
            "feeds/news/b.md": article(title="B", body="[bsa_pro_ad_space id=4]"),
            "adspaces/4.yaml": f"name: {q(v['space_name'])}\nlabel: {q(v['space_label'])}\nunits:\n"
            f"  - {{id: i, type: image, url: {q(v['unit_url'])}, src: {q(v['unit_src'])}, "
            f"alt: {q(v['unit_alt'])}}}\n"
            f"  - {{id: t, type: text, url: {q(v['unit_url'])}, title: {q(v['unit_title'] or 'X')}, "
            f"body: {q(v['unit_body'])}}}\n",
        }
    )
    snapshot = build_snapshot(config)  # never raises: bad fields are located errors
    assert all(p.path.is_relative_to(config.parent) for p in snapshot.problems)
    for fmt, data in rendered(snapshot).items():
        if fmt == "json":
            feed = orjson.loads(data)
            urls = _urls_in_json(feed)
            htmls = [item.get("content_html", "") for item in feed["items"]]
        else:
            urls, htmls = _urls_in_xml(data)
        for url in urls:
            assert re.match(r"^(?:https?://|tag:)", url), (fmt, url)
            assert not re.search(r"[\x00-\x20\x7f-\x9f]", url), (fmt, url)
        for html in htmls:
            assert active_content(html) == [], (fmt, html)


def test_every_url_check_is_the_one_in_urls() -> None:
    """One home for "is this a URL we may link to": no module keeps its own scheme test."""
    root = Path(__file__).resolve().parent.parent / "syndicate"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name not in ("urls.py", "bodies.py")
        and re.search(r"""scheme\s+(?:not\s+)?in\s+\(?["']http""", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_derived_summary_keeps_non_breaking_spaces(make_site: SiteFactory) -> None:
    """HTML collapses runs of ASCII white space, never U+00A0: neither does the summary made from a body."""
    snapshot = build_snapshot(
        make_site(
            {
                "feeds/news/_feed.yaml": FEED_YAML,
                "feeds/news/a.md": article(body="Price:\u00a010\u00a0€,  then\n\nmore."),
            }
        )
    )
    assert snapshot.feeds["news"].articles[0].summary == "Price:\u00a010\u00a0€, then more."


async def test_admin_put_with_control_characters_and_bad_urls(
    aiohttp_client: Any, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the admin API too: a javascript: URL is a 422 naming the field; control characters in
    texts are removed, and every format still parses strictly after the write goes live."""
    from syndicate.web.app import create_app
    from tests.opsite import AUTH, TOKEN, ad_site

    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client = await aiohttp_client(create_app(ad_site(make_site)))
    unit = {"id": "u1", "type": "text", "url": "javascript:alert(1)", "title": "Ad\u0001\u0008"}
    refused = await client.put("/admin/adspaces/top", json={"units": [unit]}, headers=AUTH)
    assert refused.status == 422
    assert [(p["line"], p["message"][:20]) for p in (await refused.json())["problems"]] == [(4, "units[0].url: expect")]
    unit["url"] = "https://ad.test/\u0001"
    assert (await client.put("/admin/adspaces/top", json={"units": [unit]}, headers=AUTH)).status == 422
    unit["url"] = "https://ad.test/ok"
    live = await client.put("/admin/adspaces/top", json={"label": "Ad\u000b\u001f", "units": [unit]}, headers=AUTH)
    assert live.status == 200, await live.text()
    for fmt in FORMATS:
        response = await client.get(f"/feeds/news.{fmt}")
        assert response.status == 200
        data = await response.read()
        htmls = content_htmls(fmt, data)  # parses strictly
        assert any('href="https://ad.test/ok"' in h or "/c/" in h for h in htmls)
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", data.decode("utf-8"))


def test_url_fields_are_valid_uris_in_every_format(make_site: SiteFactory) -> None:
    """Characters a URI may not hold (``<`` ``>`` ``"`` ``{`` ``|`` non-ASCII) are percent-encoded, as a browser
    would send them, so the link is the one written and every feed's URLs are valid RFC 3986 references."""
    written = 'https://x.test/Рига/a{b}|c?q=<2>&r="s"#f^g'
    encoded = "https://x.test/%D0%A0%D0%B8%D0%B3%D0%B0/a%7Bb%7D%7Cc?q=%3C2%3E&r=%22s%22#f%5Eg"
    unit = "units:\n  - {id: t, type: image, url: " + q(written) + ", src: " + q(written) + ", alt: A}\n"
    extra = f"canonical_url: {q(written)}\nimage: {q(written)}\nauthor: {{name: Ann, url: {q(written)}}}\n"
    snapshot = build_snapshot(
        make_site(
            {
                "feeds/news/_feed.yaml": FEED_YAML + f"link: {q(written)}\n",
                "feeds/news/a.md": article(body="Text [bsa_pro_ad_space id=4]", extra=extra),
                "adspaces/4.yaml": unit,
            }
        )
    )
    assert errors(snapshot) == []
    (found,) = snapshot.feeds["news"].articles
    assert found.url == encoded and found.image is not None and found.image.url == encoded
    assert found.author is not None and found.author.url == encoded
    assert snapshot.feeds["news"].link == encoded
    (unit_found,) = snapshot.spaces["4"].units
    assert (unit_found.url, unit_found.src) == (encoded, encoded)
