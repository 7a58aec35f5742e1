"""No raw ad shortcode, ever, and no article text lost, for every audience policy and format."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import textwrap
from pathlib import Path

import lxml.html
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.cli import main
from syndicate.formats import FORMATS
from syndicate.publish import PageRequest, ad_resolver, feed_view
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article
from tests.feedcheck import NS, check_any, xpath

RAW_AD = re.compile(r"\[\s*/?\s*(?:bsa_pro_ad_space|bsa_pro_ajax_ad_space|ads_pro_ad_space)", re.IGNORECASE)
MOMENT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
AUDIENCES = ("public", "house", "strip", "html")

PARTNERS = """\
partners:
  - {id: house, keys: [house-key-0123456], ads: house}
  - {id: strip, keys: [strip-key-0123456], ads: strip}
  - {id: html, keys: [html-key-01234567], ads: resolve, allow_html: true}
"""

SPACES = {
    "adspaces/4.yaml": "units:\n  - {id: img, type: image, url: 'https://ad.test/img', src: 'https://ad.test/i.png',"
    " width: 300, height: 250, alt: Picture ad}\n",
    "adspaces/3.yaml": "units:\n  - {id: txt, type: text, url: 'https://ad.test/txt', title: Text ad, house: true}\n",
    "adspaces/6.yaml": "units:\n  - id: htm\n    type: html\n    url: https://ad.test/htm\n"
    "    html: '<div><p>Sponsored <b>offer</b></p><div><a href=\"https://x.test/\">Go</a></div></div>'\n",
}


def files(body: str, name: str = "a.md", extra: str = "") -> dict[str, str]:
    return {"feeds/news/_feed.yaml": FEED_YAML, f"feeds/news/{name}": article(body=body, extra=extra), **SPACES}


def rendered(snapshot: Snapshot, fmt: str, audience_id: str) -> str:
    audience = snapshot.audience(audience_id)
    assert audience is not None
    view = feed_view(snapshot, PageRequest("news", fmt), ad_resolver(snapshot, audience, fmt, MOMENT))
    return FORMATS[fmt].render(view).decode("utf-8")


def contents(fmt: str, feed: str) -> list[str]:
    """Each item's body HTML, as a reader gets it out of the feed."""
    data = feed.encode("utf-8")
    check_any(fmt, data)
    if fmt == "json":
        found = [item.get("content_html", "") for item in orjson.loads(data)["items"]]
    else:
        # feedgen puts an RSS item's content in <description> when it has no summary
        path = "//item/content:encoded | //item[not(content:encoded)]/description" if fmt == "rss" else "//atom:content"
        found = [node.text or "" for node in xpath(etree.fromstring(data), path, NS)]
    return found or [""]  # an item whose body was only an ad carries no content


def words_of(html: str) -> list[str]:
    """The words a reader sees: text nodes are apart (a <br> between two is a break)."""
    text = " ".join(lxml.html.fragment_fromstring(html, create_parent="div").itertext()) if html else ""
    return re.findall(r"[A-Za-z0-9.]+", text)


def assert_words_kept(expected: list[str], html: str) -> None:
    """Every expected word, in order (ads may add words between them)."""
    found = iter(words_of(html))
    missing = [word for word in expected if not any(word == seen for seen in found)]
    assert not missing, f"lost {missing} from {html!r}"


def every_rendering(snapshot: Snapshot) -> list[tuple[str, str, str]]:
    return [(fmt, who, rendered(snapshot, fmt, who)) for fmt in FORMATS for who in AUDIENCES]


ISSUE_BODY = "[bsa_pro_ad_space id=4]\n\nMiddle paragraph stays.\n\n[bsa_pro_ad_space id=3]x[/bsa_pro_ad_space] end\n"


@pytest.mark.parametrize("name", ["a.md", "a.html"])
def test_a_plain_opening_tag_never_swallows_the_text_after_it(make_site: SiteFactory, name: str) -> None:
    snapshot = build_snapshot(make_site(files(ISSUE_BODY, name), config=MINIMAL_CONFIG + PARTNERS))
    for fmt, who, feed in every_rendering(snapshot):
        assert not RAW_AD.search(feed), (fmt, who)
        (html,) = contents(fmt, feed)
        assert_words_kept(["Middle", "paragraph", "stays.", "x", "end"], html)
        if who != "strip":
            assert "https://ad.test/txt" in html, (fmt, who)  # the enclosing call is still an ad
        if who in ("public", "html"):
            assert "https://ad.test/img" in html


def test_check_warns_about_a_plain_opening_tag_closed_later(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(files("Intro.\n\n" + ISSUE_BODY), config=MINIMAL_CONFIG + PARTNERS)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert (
        "feeds/news/a.md:7: warning: [bsa_pro_ad_space] has no closing tag of its own, "
        "but a [/bsa_pro_ad_space] follows"
    ) in out
    assert "a.md:11:" not in out  # the enclosing call on line 11 is fine


def test_an_ad_inside_link_text_goes_after_the_link(make_site: SiteFactory) -> None:
    body = "See [the [bsa_pro_ad_space id=4] site](https://a.test/) and [x [bsa_pro_ad_space id=3] y](/b) now."
    snapshot = build_snapshot(make_site(files(body), config=MINIMAL_CONFIG + PARTNERS))
    for fmt, who, feed in every_rendering(snapshot):
        (html,) = contents(fmt, feed)
        root = lxml.html.fragment_fromstring(html, create_parent="div")
        assert not xpath(root, "//a//a"), (fmt, who, html)
        links = {a.get("href"): a.text_content() for a in root.iter("a")}
        assert links["https://a.test/"] == "the  site"
        assert links["https://news.test/b"] == "x  y"
        assert_words_kept(["See", "the", "site", "and", "x", "y", "now."], html)


def test_escaped_and_uppercase_ad_shortcodes_leave_nothing(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = "summary: 'Sum [[bsa_pro_ad_space id=4]] up [BSA_PRO_AD_SPACE id=4]'\n"
    body = "Body [[bsa_pro_ad_space id=4]] one.\n\nTwo [BSA_Pro_Ad_Space id=3]in[/BSA_PRO_AD_SPACE] three."
    text = article(title="'Title [[bsa_pro_ad_space id=4]] end'", body=body, extra=extra)
    config = make_site({**files(""), "feeds/news/a.md": text}, config=MINIMAL_CONFIG + PARTNERS)
    snapshot = build_snapshot(config)
    (found,) = snapshot.feeds["news"].articles
    assert found.title.split() == ["Title", "end"] and found.summary.split() == ["Sum", "up"]
    for fmt, who, feed in every_rendering(snapshot):
        assert not RAW_AD.search(feed) and "[]" not in feed, (fmt, who)
        (html,) = contents(fmt, feed)
        assert_words_kept(["Body", "one.", "Two", "in", "three."], html)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "feeds/news/a.md:8: warning: [BSA_Pro_Ad_Space] is not an ad shortcode: names are case-sensitive" in out
    assert "feeds/news/a.md:8: warning: [BSA_PRO_AD_SPACE] is not an ad shortcode" in out


# --- property: whatever mix of text and ad shortcodes, every word outside the tags survives --------------------

_word = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).map(lambda w: "w" + w)
_name = st.sampled_from(
    ["bsa_pro_ad_space", "ads_pro_ad_space", "bsa_pro_ajax_ad_space", "BSA_PRO_AD_SPACE", "Bsa_Pro_Ad_Space"]
)
_space = st.sampled_from(["3", "4", "6", "99", '"3,4"'])


@st.composite
def _piece(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One piece of body source and the words it must leave in the output."""
    name, space, word = draw(_name), draw(_space), draw(_word)
    form = draw(
        st.sampled_from(
            ["self", "slash", "enclosing", "escaped", "closer", "open-only", "text", "para", "link", "bold"]
        )
    )
    return {
        "self": (f"[{name} id={space}]", []),
        "slash": (f"[{name} id={space} /]", []),
        "enclosing": (f"[{name} id={space}]{word}[/{name}]", [word]),
        "escaped": (f"[[{name} id={space}]]", []),
        "closer": (f"[/{name}]", []),
        "open-only": (f"[{name} id={space}", []),  # no "]": whatever follows up to the next "]" is its attributes
        "text": (word, [word]),
        "para": (f"\n\n{word}\n\n", [word]),
        "link": (f"[{word} [{name} id={space}]]({'https://l.test/'})", [word]),
        "bold": (f"**{word}**", [word]),
    }[form]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_piece(), min_size=1, max_size=12), st.sampled_from(["a.md", "a.html"]))
def test_every_word_outside_the_tags_survives_everywhere(pieces: list[tuple[str, list[str]]], name: str) -> None:
    source, expected = "", []
    for index, (text, words) in enumerate(pieces):
        if text.startswith("[") and "id=" in text and not text.endswith("]") and not text.endswith(")"):
            # an unclosed tag takes the text up to the next "]" as attributes: end it at a line the words avoid
            text += "\n\n" if index == len(pieces) - 1 else "]"
        source += text + " "
        expected += words
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "config.yaml").write_text(textwrap.dedent(MINIMAL_CONFIG + PARTNERS), encoding="utf-8")
        for path, text in files(source, name).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        snapshot = build_snapshot(root / "config.yaml")
        assert not [p for p in snapshot.problems if p.level == "error"], snapshot.problems
        for fmt, who, feed in every_rendering(snapshot):
            assert not RAW_AD.search(feed), (fmt, who, source)
            (html,) = contents(fmt, feed)
            assert_words_kept(expected, html)


def test_removing_a_shortcode_from_a_title_keeps_the_other_spaces(make_site: SiteFactory) -> None:
    """Only the spaces a removed shortcode leaves behind close up; runs elsewhere stay byte for byte."""
    title = '"Big  news\\u00a0 [bsa_pro_ad_space id=4]  today   late [[bsa_pro_ad_space id=4]]"'
    extra = 'summary: "One  two [BSA_PRO_AD_SPACE id=4] three   four"\n'
    config = make_site(
        {**files("Body."), "feeds/news/a.md": article(title=title, body="Body.", extra=extra)},
        config=MINIMAL_CONFIG + PARTNERS,
    )
    snapshot = build_snapshot(config)
    (found,) = snapshot.feeds["news"].articles
    assert found.title == "Big  news\xa0 today   late"
    assert found.summary == "One  two three   four"
    channel = etree.fromstring(rendered(snapshot, "rss", "public").encode("utf-8")).find("channel")
    assert channel is not None and channel.findtext("item/title") == "Big  news\xa0 today   late"
